//! The `htu` check (RFC 9449 §4.3 item 9): the proof's URI, without query
//! and fragment, against the request's path under one of the service's
//! configured public URLs, both normalised as RFC 3986 §6.2.2–6.2.3 says
//! (case of scheme and host, default port, dot segments, percent-encoding).
//! Never against the request's `Host` or `X-Forwarded-*` headers: a client
//! chooses those, and a proof for another service would pass.

use std::borrow::Cow;

use url::Url;

use crate::error::ConfigError;

/// The service's public base URLs, normalised, without a trailing slash:
/// `https://api.example.com` or, behind a proxy that strips a prefix,
/// `https://example.com/api`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PublicUrls(Vec<String>);

impl PublicUrls {
    pub fn parse(urls: &[String]) -> Result<Self, ConfigError> {
        let mut bases = Vec::with_capacity(urls.len());
        for given in urls {
            let invalid =
                |why: &str| ConfigError::InvalidDpop(format!("public URL {given:?} {why}"));
            let url = Url::parse(given).map_err(|_| invalid("is not an absolute URL"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(invalid("is not an http or https URL with a host"));
            }
            if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
                return Err(invalid("has a query, a fragment or user information"));
            }
            let normal = normalise_percent(url.as_str()).into_owned();
            bases.push(normal.trim_end_matches('/').to_owned());
        }
        Ok(PublicUrls(bases))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `htu` is the URI of a request for `path` under one of the
    /// bases; its query and fragment are ignored.
    pub fn matches(&self, htu: &str, path: &str) -> bool {
        let Some(proof) = normalise(htu) else {
            return false;
        };
        if !path.starts_with('/') {
            return false;
        }
        self.0.iter().any(|base| {
            // Cheap refusal first: the proof must begin with this base.
            proof.starts_with(base.as_str())
                && normalise(&format!("{base}{path}")).is_some_and(|expected| expected == proof)
        })
    }
}

/// `uri` normalised, without query and fragment; `None` if it is not an
/// absolute http(s) URL with a host.
fn normalise(uri: &str) -> Option<String> {
    let mut url = Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(normalise_percent(url.as_str()).into_owned())
}

/// RFC 3986 §6.2.2.1–2: percent-encoded unreserved characters decoded,
/// other percent-encodings in upper case.
fn normalise_percent(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|h| (*h as char).to_digit(16));
        if let (b'%', Some(high), Some(low)) = (b, hex(i + 1), hex(i + 2)) {
            let decoded = u8::try_from(high * 16 + low).unwrap_or(0);
            if decoded.is_ascii_alphanumeric() || b"-._~".contains(&decoded) {
                out.push(char::from(decoded));
            } else {
                out.push('%');
                out.push_str(&format!("{decoded:02X}"));
            }
            i += 3;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bases(urls: &[&str]) -> PublicUrls {
        PublicUrls::parse(&urls.iter().map(|u| u.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn equivalent_spellings_of_the_request_uri_match() {
        let urls = bases(&["https://api.example.com/"]);
        for htu in [
            "https://api.example.com/orders/1",
            "HTTPS://API.Example.COM/orders/1",
            "https://api.example.com:443/orders/1",
            "https://api.example.com/orders/./1",
            "https://api.example.com/orders/%31",
            "https://api.example.com/orders/1?page=2#top",
        ] {
            assert!(urls.matches(htu, "/orders/1"), "{htu}");
        }
    }

    #[test]
    fn another_origin_path_or_scheme_does_not_match() {
        let urls = bases(&["https://api.example.com"]);
        for htu in [
            "http://api.example.com/orders/1",
            "https://api.example.com:8443/orders/1",
            "https://evil.example.com/orders/1",
            "https://api.example.com/orders/2",
            "https://api.example.com/orders/1/",
            "https://user@api.example.com/orders/1",
            "/orders/1",
            "not a url",
        ] {
            assert!(!urls.matches(htu, "/orders/1"), "{htu}");
        }
    }

    #[test]
    fn a_base_with_a_path_prefix_stands_for_a_proxy_that_strips_it() {
        let urls = bases(&["https://example.com/api", "http://127.0.0.1:8080"]);
        assert!(urls.matches("https://example.com/api/orders", "/orders"));
        assert!(urls.matches("http://127.0.0.1:8080/orders", "/orders"));
        assert!(!urls.matches("https://example.com/orders", "/orders"));
        assert!(!urls.matches("https://example.com/apiorders", "orders"));
    }

    #[test]
    fn bad_public_urls_are_configuration_errors() {
        for bad in [
            "api.example.com",
            "ftp://x.example",
            "https://x.example/?q=1",
            "https://u@x.example",
        ] {
            assert!(PublicUrls::parse(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
