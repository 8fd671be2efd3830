//! The request layer every front end shares, on the `http` crate's types:
//! the bearer token from every `Authorization` value, the organization
//! sources that policies read (headers, query parameters) captured with the
//! token, and the response a refusal deserves. warp, axum and tower only
//! adapt their own request and response types to it.

// Without a front end (the `testing` or no feature), only the response and
// the generated `CaptureCell` use this module.
#![cfg_attr(
    not(any(feature = "warp", feature = "axum", feature = "tower")),
    allow(dead_code)
)]

use std::sync::{Arc, OnceLock};

use http::Response;
use http::header::{self, HeaderMap, HeaderValue};
use serde::Serialize;

use crate::auth_info::{AuthInfo, RequestContext};
use crate::declaration::declared;
use crate::error::Error;
use crate::policy::{OrgSource, Policy};
use crate::validator::Validator;

/// The header and query names that policies read organizations from,
/// captured with the token so that checks need no second look at the request.
#[derive(Clone, Default)]
pub struct Capture {
    headers: Arc<[String]>,
    query: Arc<[String]>,
}

impl Capture {
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
        Capture {
            headers: headers.into(),
            query: query.into(),
        }
    }

    /// What the program's `#[requires]` declarations read, computed once.
    pub fn declared() -> &'static Capture {
        static DECLARED: OnceLock<Capture> = OnceLock::new();
        DECLARED.get_or_init(|| Capture::for_policies(&[]))
    }

    /// What the declared policies and these `extra` ones read.
    pub fn for_policies(extra: &[Policy]) -> Self {
        Self::from_sources(
            declared()
                .into_iter()
                .flat_map(|d| d.policies())
                .chain(extra)
                .filter_map(Policy::organization_source),
        )
    }

    /// What these `policies` alone read.
    pub fn of(policies: &[Policy]) -> Self {
        Self::from_sources(policies.iter().filter_map(Policy::organization_source))
    }

    fn context(&self, headers: &HeaderMap, query: Option<&str>) -> Option<RequestContext> {
        if self.headers.is_empty() && self.query.is_empty() {
            return None;
        }
        let mut context = RequestContext::new();
        for name in self.headers.iter() {
            // Every value, so that a request naming two organizations is refused, not
            // decided by whichever comes first. A value that is not visible ASCII
            // cannot be an organization id, and is kept as such (it matches nothing).
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

/// Extracts the bearer token from every `Authorization` value of `headers`,
/// validates it, and captures what `capture` names from the headers and the
/// `query` string (percent-decoded; bytes that are not UTF-8 become U+FFFD,
/// so such a value matches no organization id).
pub(crate) async fn authenticate(
    validator: &Validator,
    capture: &Capture,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<AuthInfo, Error> {
    let values = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes);
    let auth = validator.authenticate(values).await?;
    Ok(match capture.context(headers, query) {
        Some(context) => auth.with_request(context),
        None => auth,
    })
}

/// A refused request: the reason, and the RFC 9728 metadata URL to advertise
/// in its challenge. Every front end answers it with [`error_response`]:
/// warp finds it in a `Rejection`, axum turns it into a response, the tower
/// layer answers it itself.
#[derive(Debug, Clone)]
pub struct Rejected {
    error: Error,
    resource_metadata: Option<Arc<str>>,
}

impl Rejected {
    /// A refusal by `validator`, whose configuration says which metadata URL to advertise.
    pub(crate) fn by(validator: &Validator, error: Error) -> Self {
        Rejected {
            error,
            resource_metadata: validator.resource_metadata().cloned(),
        }
    }

    /// The reason.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The response this refusal deserves, with any body type that holds a
    /// `String`: see [`error_response`].
    pub fn response<B: From<String>>(&self) -> Response<B> {
        error_response(&self.error, self.resource_metadata.as_deref())
    }
}

impl From<Error> for Rejected {
    /// A refusal without a metadata URL (a handler's own denial).
    fn from(error: Error) -> Self {
        Rejected {
            error,
            resource_metadata: None,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: String,
    code: &'a str,
}

/// The response for an [`Error`]: its status, its RFC 6750 challenge (with
/// `resource_metadata` when given), `Retry-After` on 503, and a JSON body
/// `{"error": "<message>", "code": "<stable code>"}`. The body type is the
/// front end's (warp's, axum's, `http_body_util::Full`…).
///
/// ```
/// use policy_core::{error_response, Error};
/// let response: http::Response<String> = error_response(&Error::MissingAuthorization, None);
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
/// assert_eq!(
///     response.body(),
///     r#"{"error":"Authorization header is missing","code":"missing_authorization"}"#
/// );
/// ```
pub fn error_response<B: From<String>>(
    error: &Error,
    resource_metadata: Option<&str>,
) -> Response<B> {
    let body = ErrorBody {
        error: error.to_string(),
        code: error.code(),
    };
    // Serialising two strings cannot fail; an empty body would still carry the status.
    let json = serde_json::to_string(&body).unwrap_or_default();
    let mut response = Response::new(B::from(json));
    *response.status_mut() = error.status();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let challenge = error.www_authenticate(resource_metadata);
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    if let Some(retry_after) = error.retry_after() {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        );
    }
    response
}

/// A JSON `200 OK` response with any body type that holds a `String`: the
/// RFC 9728 metadata of the front ends that serve it.
#[cfg(any(feature = "axum", feature = "warp"))]
pub(crate) fn json_response<B: From<String>>(value: &impl Serialize) -> Response<B> {
    let json = serde_json::to_string(value).unwrap_or_default();
    // `Response::new` is `200 OK`.
    let mut response = Response::new(B::from(json));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_lossily_not_skipped() {
        let capture = Capture {
            headers: Arc::new([]),
            query: Arc::new(["organization_id".to_owned(), "org".to_owned()]),
        };
        let context = capture
            .context(
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
        let capture = Capture {
            headers: Arc::new(["X-Org".to_owned()]),
            query: Arc::new([]),
        };
        let mut headers = HeaderMap::new();
        headers.append("x-org", HeaderValue::from_static("a"));
        headers.append("x-org", HeaderValue::from_static("b"));
        headers.append("x-org", HeaderValue::from_bytes(b"\xff").unwrap());
        let context = capture.context(&headers, None).unwrap();
        assert_eq!(
            context.headers("X-Org").collect::<Vec<_>>(),
            ["a", "b", "\u{fffd}"]
        );
        assert!(Capture::default().context(&headers, None).is_none());
    }

    #[test]
    fn a_refusal_answers_with_status_challenge_retry_after_and_json() {
        let unavailable = Error::KeysUnavailable {
            reason: "down".into(),
            retry_after: std::time::Duration::from_millis(300),
        };
        let response: Response<String> = error_response(&unavailable, None);
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        assert!(!response.headers().contains_key("www-authenticate"));
        assert_eq!(response.headers()["content-type"], "application/json");
        let denied: Response<String> = error_response(
            &Error::MissingAuthorization,
            Some("https://api.example.com/.well-known/oauth-protected-resource"),
        );
        assert_eq!(
            denied.headers()["www-authenticate"],
            "Bearer resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
        );
    }
}
