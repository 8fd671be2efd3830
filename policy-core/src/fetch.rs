//! Everything that reaches the issuer over HTTP: the client, OpenID
//! discovery and the JWKS download ([`KeyFetcher`]), the exchange token
//! introspection's calls go through ([`send`]), with timeouts, a
//! response size limit, `Cache-Control: max-age`, and no way back from https
//! to http (neither by a redirect nor by an https discovery document naming
//! an http `jwks_uri`), decided on parsed URL schemes, never on URL text. When to fetch is the key store's decision, not this module's.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::Url;

use crate::algorithm::Algorithm;
use crate::error::ConfigError;
use crate::jwks::KeySet;

/// The reason given for a fetch that outlived its deadline.
pub(crate) const TIMED_OUT: &str = "timed out";

/// Where an issuer publishes its key set.
#[derive(Debug, Clone)]
pub(crate) enum JwksLocation {
    /// Found through OpenID discovery from the issuer URL.
    Discovery { issuer: String },
    /// Configured, so discovery is skipped.
    Uri(String),
}

/// Downloads one issuer's key set: discovery (once, when the JWKS URI is not
/// configured), then the JWKS document, judged as a [`KeySet`].
pub(crate) struct KeyFetcher {
    client: reqwest::Client,
    location: JwksLocation,
    max_bytes: usize,
    discovered: OnceLock<Discovery>,
}

/// A key set as downloaded, with where it came from and how long the issuer
/// says it may be cached.
pub(crate) struct DownloadedKeys {
    pub uri: String,
    pub keys: KeySet,
    pub max_age: Option<Duration>,
}

impl KeyFetcher {
    /// A fetcher that reads at most `max_bytes` per response.
    pub fn new(client: reqwest::Client, location: JwksLocation, max_bytes: usize) -> Self {
        KeyFetcher {
            client,
            location,
            max_bytes,
            discovered: OnceLock::new(),
        }
    }

    /// The URL a fetch starts from (discovery or the JWKS URI), for messages.
    pub fn describe(&self) -> String {
        match &self.location {
            JwksLocation::Discovery { issuer } => discovery_url(issuer),
            JwksLocation::Uri(uri) => uri.clone(),
        }
    }

    /// A failed fetch from this issuer.
    pub fn error(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError::Fetch {
            url: self.describe(),
            reason: reason.into(),
        }
    }

    /// The issuer's discovery document, once fetched.
    pub fn discovery(&self) -> Option<&Discovery> {
        self.discovered.get()
    }

    /// Discovery (once) and the key set document, parsed under `algorithms`.
    /// No deadline of its own: the caller bounds the whole download.
    pub async fn download(&self, algorithms: &[Algorithm]) -> Result<DownloadedKeys, ConfigError> {
        let uri = self.jwks_uri().await?;
        let fetched = get(&self.client, &uri, self.max_bytes).await?;
        let keys =
            KeySet::parse(&fetched.body, algorithms).map_err(|e| ConfigError::InvalidDocument {
                url: uri.clone(),
                reason: e.to_string(),
            })?;
        Ok(DownloadedKeys {
            uri,
            keys,
            max_age: fetched.max_age,
        })
    }

    async fn jwks_uri(&self) -> Result<String, ConfigError> {
        let issuer = match &self.location {
            JwksLocation::Uri(uri) => return Ok(uri.clone()),
            JwksLocation::Discovery { issuer } => issuer,
        };
        if let Some(discovery) = self.discovered.get() {
            return Ok(discovery.jwks_uri.clone());
        }
        let url = discovery_url(issuer);
        let fetched = get(&self.client, &url, self.max_bytes).await?;
        let discovery = parse_discovery(&fetched.body, issuer, &url)?;
        if fetched.over_https && !is_https(&discovery.jwks_uri) {
            return Err(ConfigError::InvalidDocument {
                url,
                reason: HTTP_JWKS_URI.to_owned(),
            });
        }
        tracing::info!(url = %url, jwks_uri = %discovery.jwks_uri, "discovered issuer configuration");
        Ok(self.discovered.get_or_init(|| discovery).jwks_uri.clone())
    }
}

/// A fetched document and how long the issuer says it may be cached.
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    pub max_age: Option<Duration>,
    /// Whether it came over https (the URL of the final answer).
    pub over_https: bool,
}

/// Why an https discovery document's http `jwks_uri` is refused: keys
/// fetched in the clear let anyone on the path sign tokens.
const HTTP_JWKS_URI: &str =
    "the https discovery document names an http `jwks_uri`: keys must come over https";

/// Whether `url` is an https URL: decided on the parsed scheme (`url`
/// lowercases it), never on the text, which may say `HTTPS://`.
pub(crate) fn is_https(url: &str) -> bool {
    Url::parse(url).is_ok_and(|url| url.scheme() == "https")
}

/// Redirects the default client follows from one discovery or JWKS URL.
const MAX_REDIRECTS: usize = 5;

/// The reason for refusing a fetch that went from https to http.
const DOWNGRADE: &str = "redirected from https to http";

/// Whether a fetch that has visited `previous` (the configured URL first)
/// may follow a redirect to `next`: not from https to http, and at most
/// [`MAX_REDIRECTS`] times.
fn may_follow(previous: &[Url], next: &Url) -> Result<(), &'static str> {
    if previous.len() > MAX_REDIRECTS {
        return Err("too many redirects");
    }
    if next.scheme() != "https" && previous.iter().any(|url| url.scheme() == "https") {
        return Err(DOWNGRADE);
    }
    Ok(())
}

/// A redirect refused by [`may_follow`], as reqwest carries it.
#[derive(Debug)]
struct RefusedRedirect(&'static str);

impl std::fmt::Display for RefusedRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RefusedRedirect {}

/// The client the crate builds when the user gives none: `timeout` per
/// request, and the redirect policy of [`may_follow`].
pub(crate) fn default_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(redirect_policy())
        .build()
}

/// The redirect policy of the client the crate builds: [`may_follow`].
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        match may_follow(attempt.previous(), attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(reason) => attempt.error(RefusedRedirect(reason)),
        }
    })
}

/// GETs `url`, refusing non-2xx answers, bodies over `max_bytes`, and an
/// answer from an http URL to a request made to an https one (whatever the
/// client's redirect policy: the user's own client may follow such a
/// redirect). The caller's deadline bounds the whole exchange.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Fetched, ConfigError> {
    let request = client.get(url).header(
        reqwest::header::ACCEPT,
        "application/json, application/jwk-set+json",
    );
    send(request, url, max_bytes)
        .await?
        .map_err(|status| ConfigError::Fetch {
            url: url.to_owned(),
            reason: format!("HTTP status {status}"),
        })
}

/// Sends `request` (to `url`) under [`get`]'s rules: bodies over
/// `max_bytes` and an https-to-http answer are refused; a non-2xx answer is
/// `Ok(Err(status))`, its body unread, for the caller to judge (token
/// introspection tells a refused credential from an outage).
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    url: &str,
    max_bytes: usize,
) -> Result<Result<Fetched, u16>, ConfigError> {
    let fail = |reason: String| ConfigError::Fetch {
        url: url.to_owned(),
        reason,
    };
    let too_large = || fail(format!("response larger than {max_bytes} bytes"));
    let requested_https = is_https(url);
    let mut response = request.send().await.map_err(|e| fail(describe(&e)))?;
    let over_https = response.url().scheme() == "https";
    if requested_https && !over_https {
        return Err(fail(DOWNGRADE.to_owned()));
    }
    let status = response.status();
    if !status.is_success() {
        return Ok(Err(status.as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(too_large());
    }
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(describe(&e)))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(Fetched {
        body,
        max_age,
        over_https,
    }))
}

/// A short description of a transport error, without the URL (the caller adds it).
fn describe(e: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RefusedRedirect>() {
            return refused.0.to_owned();
        }
        source = cause.source();
    }
    if e.is_timeout() {
        TIMED_OUT.to_owned()
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Discovery {
    pub jwks_uri: String,
    /// Where clients send users to authorize (kept for API documents).
    pub authorization_endpoint: Option<String>,
    /// Where clients obtain tokens (kept for API documents).
    pub token_endpoint: Option<String>,
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
        authorization_endpoint: Option<serde_json::Value>,
        token_endpoint: Option<serde_json::Value>,
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
    // Optional and only informative: an endpoint that is not a valid URL is dropped.
    let endpoint = |value: Option<serde_json::Value>| match value {
        Some(serde_json::Value::String(url)) if check_url(&url, "endpoint").is_ok() => Some(url),
        _ => None,
    };
    Ok(Discovery {
        jwks_uri: doc.jwks_uri,
        authorization_endpoint: endpoint(doc.authorization_endpoint),
        token_endpoint: endpoint(doc.token_endpoint),
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
    fn discovery_keeps_valid_oauth_endpoints_only() {
        let doc = br#"{"issuer":"https://t/oidc","jwks_uri":"https://t/oidc/jwks",
            "authorization_endpoint":"https://t/oidc/auth","token_endpoint":"javascript:alert(1)"}"#;
        let discovery = parse_discovery(doc, "https://t/oidc", "u").unwrap();
        assert_eq!(
            discovery.authorization_endpoint.as_deref(),
            Some("https://t/oidc/auth")
        );
        assert_eq!(discovery.token_endpoint, None);
        let numbers =
            br#"{"issuer":"https://t/oidc","jwks_uri":"https://t/oidc/jwks","token_endpoint":7}"#;
        assert_eq!(
            parse_discovery(numbers, "https://t/oidc", "u")
                .unwrap()
                .token_endpoint,
            None
        );
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(check_url("https://tenant.logto.app/oidc", "issuer").is_ok());
        assert!(check_url("http://127.0.0.1:3001/oidc", "issuer").is_ok());
        assert!(check_url("tenant.logto.app/oidc", "issuer").is_err());
        assert!(check_url("ftp://x/y", "issuer").is_err());
    }

    #[test]
    fn redirects_never_go_from_https_to_http() {
        let url = |u: &str| Url::parse(u).unwrap();
        let https = url("https://issuer.example/oidc/jwks");
        let http = url("http://issuer.example/oidc/jwks");
        assert_eq!(
            may_follow(std::slice::from_ref(&https), &http),
            Err(DOWNGRADE)
        );
        // Not even after a detour through another https host.
        assert_eq!(
            may_follow(&[https.clone(), url("https://cdn.example/jwks")], &http),
            Err(DOWNGRADE)
        );
        assert_eq!(
            may_follow(
                std::slice::from_ref(&https),
                &url("https://cdn.example/jwks")
            ),
            Ok(())
        );
        // Plain http configured (a loopback issuer in tests): http is allowed, upgrades too.
        assert_eq!(may_follow(std::slice::from_ref(&http), &http), Ok(()));
        assert_eq!(may_follow(std::slice::from_ref(&http), &https), Ok(()));
        let hops = vec![https.clone(); MAX_REDIRECTS + 1];
        assert_eq!(may_follow(&hops, &https), Err("too many redirects"));
        assert_eq!(may_follow(&hops[..MAX_REDIRECTS], &https), Ok(()));
    }

    #[test]
    fn https_is_the_parsed_scheme_whatever_its_case() {
        assert!(is_https("HTTPS://issuer.example/jwks"));
        assert!(is_https("hTtPs://issuer.example/jwks"));
        assert!(!is_https("http://127.0.0.1:3001/jwks"));
        assert!(!is_https("https-not://x"));
    }

    #[tokio::test]
    async fn the_default_client_refuses_a_downgrade_redirect_with_a_clear_reason() {
        // A loopback server answering every request with a redirect to http.
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = [0u8; 1024];
                let _ = socket.read(&mut buffer).await;
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: http://{addr}/next\r\ncontent-length: 0\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        // The policy sees the previous URLs; an https start is simulated by
        // asking the policy directly with an https origin, and the whole
        // client with an http one (which may then follow http: no downgrade).
        let client = reqwest::Client::builder()
            .redirect(redirect_policy())
            .build()
            .unwrap();
        let error = get(&client, &format!("http://{addr}/start"), 1024)
            .await
            .err()
            .unwrap();
        // http to http loops until the redirect limit: refused as such.
        assert_eq!(
            error,
            ConfigError::Fetch {
                url: format!("http://{addr}/start"),
                reason: "too many redirects".into()
            }
        );
    }

    #[test]
    fn discovery_url_appends_the_well_known_path() {
        assert_eq!(
            discovery_url("https://t.logto.app/oidc/"),
            "https://t.logto.app/oidc/.well-known/openid-configuration"
        );
    }
}
