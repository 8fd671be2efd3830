//! `OrgFields`: the header and query fields that policies read an
//! organization id from, captured from a request together with its token, so
//! that a policy decides without a second look at the request.

use std::sync::{Arc, OnceLock};

use http::HeaderMap;

use crate::auth_info::RequestContext;
use crate::declaration::declared;
use crate::policy::{OrgSource, Policy};

/// The header and query names whose values a request's [`AuthInfo`]
/// carries (as its [`RequestContext`]) for header and query
/// [`OrgSource`]s: computed once per route, never per request.
///
/// [`AuthInfo`]: crate::AuthInfo
#[derive(Clone, Default)]
pub(crate) struct OrgFields {
    headers: Arc<[String]>,
    query: Arc<[String]>,
}

impl OrgFields {
    fn from_sources<'a>(sources: impl Iterator<Item = &'a OrgSource>) -> Self {
        let (mut headers, mut query) = (Vec::new(), Vec::new());
        for source in sources {
            match source {
                OrgSource::Header(name)
                    if !headers
                        .iter()
                        .any(|h: &String| h.eq_ignore_ascii_case(name)) =>
                {
                    headers.push(name.to_string())
                }
                OrgSource::Query(name) if !query.contains(&name.to_string()) => {
                    query.push(name.to_string())
                }
                _ => {}
            }
        }
        OrgFields {
            headers: headers.into(),
            query: query.into(),
        }
    }

    /// What the program's `#[requires]` declarations read, computed once: a
    /// route that only authenticates captures these, for the handler's own
    /// check.
    pub(crate) fn declared() -> &'static OrgFields {
        static DECLARED: OnceLock<OrgFields> = OnceLock::new();
        DECLARED.get_or_init(|| OrgFields::declared_and([]))
    }

    /// What the declared policies and these `extra` ones read.
    pub(crate) fn declared_and<'p>(extra: impl IntoIterator<Item = &'p Policy>) -> Self {
        Self::from_sources(
            declared()
                .into_iter()
                .flat_map(|d| d.policies())
                .chain(extra)
                .filter_map(Policy::organization_source),
        )
    }

    /// What these `policies` alone read.
    pub(crate) fn of(policies: &[Policy]) -> Self {
        Self::from_sources(policies.iter().filter_map(Policy::organization_source))
    }

    /// Whether a policy reads a query parameter: the front end looks at the
    /// query string only then.
    pub(crate) fn reads_query(&self) -> bool {
        !self.query.is_empty()
    }

    /// Whether a policy reads its organization from header `name` (any case).
    pub(crate) fn reads_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// The captured values, or `None` when no field is read (most routes).
    ///
    /// Every value of a header is kept, so that a request naming two
    /// organizations is refused rather than decided by whichever comes first.
    /// A header value that is not visible ASCII, or query bytes that are not
    /// UTF-8, become U+FFFD: such a value matches no organization id.
    pub(crate) fn capture(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Option<RequestContext> {
        if self.headers.is_empty() && self.query.is_empty() {
            return None;
        }
        let mut context = RequestContext::new();
        for name in self.headers.iter() {
            for value in headers.get_all(name.as_str()) {
                let value = value.to_str().unwrap_or("\u{fffd}");
                context = context.with_header(name.clone(), value);
            }
        }
        if let Some(query) = query {
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                if self.query.iter().any(|q| *q == key) {
                    context = context.with_query(key, value);
                }
            }
        }
        Some(context)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn query_values_are_decoded_lossily_not_skipped() {
        let fields = OrgFields {
            headers: Arc::new([]),
            query: Arc::new(["organization_id".to_owned(), "org".to_owned()]),
        };
        let context = fields
            .capture(
                &HeaderMap::new(),
                Some("organization_id=%FF%FEacme&page=2&org=a+b%20c"),
            )
            .unwrap();
        assert_eq!(
            context.queries("organization_id").collect::<Vec<_>>(),
            ["\u{fffd}\u{fffd}acme"]
        );
        assert_eq!(context.queries("org").collect::<Vec<_>>(), ["a b c"]);
        assert_eq!(context.queries("page").count(), 0, "not captured");
    }

    #[test]
    fn every_value_of_a_captured_header_is_kept() {
        let fields = OrgFields {
            headers: Arc::new(["X-Org".to_owned()]),
            query: Arc::new([]),
        };
        let mut headers = HeaderMap::new();
        headers.append("x-org", HeaderValue::from_static("a"));
        headers.append("x-org", HeaderValue::from_static("b"));
        headers.append("x-org", HeaderValue::from_bytes(b"\xff").unwrap());
        let context = fields.capture(&headers, None).unwrap();
        assert_eq!(
            context.headers("X-Org").collect::<Vec<_>>(),
            ["a", "b", "\u{fffd}"]
        );
        assert!(OrgFields::default().capture(&headers, None).is_none());
    }
}
