//! Bounded HTTP fetches from the issuer: OpenID discovery and the JWKS
//! document, with timeouts, a response size limit and `Cache-Control: max-age`.

use std::time::Duration;

use crate::error::ConfigError;

/// A fetched document and how long the issuer says it may be cached.
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    pub max_age: Option<Duration>,
}

/// GETs `url`, refusing non-2xx answers and bodies over `max_bytes`. The
/// client's own timeouts bound the whole exchange.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Fetched, ConfigError> {
    let fail = |reason: String| ConfigError::Fetch {
        url: url.to_owned(),
        reason,
    };
    let mut response = client
        .get(url)
        .header(
            reqwest::header::ACCEPT,
            "application/json, application/jwk-set+json",
        )
        .send()
        .await
        .map_err(|e| fail(describe(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP status {}", status.as_u16())));
    }
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(fail(format!("response larger than {max_bytes} bytes")));
    }
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(describe(&e)))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(fail(format!("response larger than {max_bytes} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, max_age })
}

/// A short description of a transport error, without the URL (the caller adds it).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// `max-age=N` from a `Cache-Control` value (`no-store`/`no-cache` mean 0).
pub(crate) fn parse_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            max_age = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

/// What we read from an OpenID Provider Configuration document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Discovery {
    pub jwks_uri: String,
}

/// Parses a discovery document, requiring its `issuer` to equal `expected`
/// exactly (OpenID Connect Discovery §4.3) and a valid `jwks_uri`.
pub(crate) fn parse_discovery(
    body: &[u8],
    expected: &str,
    url: &str,
) -> Result<Discovery, ConfigError> {
    #[derive(serde::Deserialize)]
    struct Document {
        issuer: String,
        jwks_uri: String,
    }
    let doc: Document = serde_json::from_slice(body).map_err(|_| ConfigError::InvalidDocument {
        url: url.to_owned(),
        reason: "not a discovery document with string `issuer` and `jwks_uri`".to_owned(),
    })?;
    if doc.issuer != expected {
        return Err(ConfigError::IssuerMismatch {
            expected: expected.to_owned(),
            found: doc.issuer,
        });
    }
    check_url(&doc.jwks_uri, "JWKS")?;
    Ok(Discovery {
        jwks_uri: doc.jwks_uri,
    })
}

/// Requires an absolute `http` or `https` URL with a host.
pub(crate) fn check_url(url: &str, what: &'static str) -> Result<(), ConfigError> {
    let invalid = || ConfigError::InvalidUrl {
        what,
        url: url.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid());
    }
    Ok(())
}

/// The discovery URL of an issuer: `{issuer}/.well-known/openid-configuration`.
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }

    #[test]
    fn discovery_requires_the_configured_issuer() {
        let doc =
            br#"{"issuer":"https://t.logto.app/oidc","jwks_uri":"https://t.logto.app/oidc/jwks"}"#;
        assert_eq!(
            parse_discovery(doc, "https://t.logto.app/oidc", "u")
                .unwrap()
                .jwks_uri,
            "https://t.logto.app/oidc/jwks"
        );
        assert!(matches!(
            parse_discovery(doc, "https://other/oidc", "u"),
            Err(ConfigError::IssuerMismatch { .. })
        ));
        assert!(matches!(
            parse_discovery(
                br#"{"issuer":"https://t.logto.app/oidc","jwks_uri":"file:///etc/passwd"}"#,
                "https://t.logto.app/oidc",
                "u"
            ),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse_discovery(b"[]", "x", "u"),
            Err(ConfigError::InvalidDocument { .. })
        ));
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(check_url("https://tenant.logto.app/oidc", "issuer").is_ok());
        assert!(check_url("http://127.0.0.1:3001/oidc", "issuer").is_ok());
        assert!(check_url("tenant.logto.app/oidc", "issuer").is_err());
        assert!(check_url("ftp://x/y", "issuer").is_err());
    }

    #[test]
    fn discovery_url_appends_the_well_known_path() {
        assert_eq!(
            discovery_url("https://t.logto.app/oidc/"),
            "https://t.logto.app/oidc/.well-known/openid-configuration"
        );
    }
}
