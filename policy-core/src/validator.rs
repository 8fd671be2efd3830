//! `Validator`: the issuer configuration and the checks that turn a bearer
//! token into an [`AuthInfo`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::algorithm::Algorithm;
use crate::auth_info::AuthInfo;
use crate::bearer::{BearerConfig, check_token, extract_bearer};
use crate::claims::{self, Claims};
use crate::error::{ConfigError, Error, TokenError};
use crate::fetch;
use crate::issuers::{Issuer, StoreSettings, TrustedIssuers};
use crate::jwks::DEFAULT_ALGORITHMS;
use crate::key_store::KeyStoreConfig;
use crate::static_keys::StaticKeys;
use crate::token_cache::{PresentedToken, TokenCache};

/// Validates access tokens issued by one issuer (or several), with its
/// published keys.
///
/// Build it once at start-up and share it: a clone is cheap (an [`Arc`]).
/// Building does no I/O, so it succeeds while the issuer is down; discovery
/// and the key set are fetched on first use (requests fail closed with 503
/// until the issuer answers), or at once with [`ready`](Validator::ready).
///
/// With several issuers ([`ValidatorBuilder::add_issuer`]), a token is routed
/// by its `iss` to that issuer's keys alone; each issuer has its own key
/// store, refresh schedule and failure state.
///
/// Requires a Tokio runtime for [`validate`](Validator::validate).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use policy_core::Validator;
///
/// let validator = Validator::builder()
///     .issuer("https://my-tenant.logto.app/oidc")
///     .audience("https://api.example.com")
///     .build()?;
/// validator.ready().await?; // optional: fail fast if the issuer is unreachable
/// let auth = validator.validate("eyJhbGciOi...").await?;
/// println!("{:?}", auth.sub());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    issuers: TrustedIssuers,
    audience: Option<Arc<str>>,
    algorithms: Vec<Algorithm>,
    leeway: i64,
    required_type: Option<String>,
    bearer: BearerConfig,
    resource_metadata: Option<Arc<str>>,
    cache: Option<Arc<TokenCache>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self.issuers().collect();
        f.debug_struct("Validator")
            .field("issuers", &issuers)
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// A builder with the defaults stated on each of its methods.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }

    /// The first configured issuer (with one issuer, `iss` must equal it exactly).
    pub fn issuer(&self) -> &str {
        self.issuers().next().unwrap_or_default()
    }

    /// Every trusted issuer, in the order configured: a token's `iss` must
    /// equal one of them exactly.
    pub fn issuers(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.issuers.iter().map(|t| t.url.as_str())
    }

    /// The trusted issuers whose keys are fetched (discovery or a JWKS URI),
    /// not given as [`StaticKeys`]: the authorization servers clients can use.
    pub(crate) fn fetching_issuers(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner
            .issuers
            .iter()
            .filter(|t| !t.store.is_static())
            .map(|t| t.url.as_str())
    }

    /// The configured default audience (API resource indicator), if any.
    pub fn audience(&self) -> Option<&str> {
        self.inner.audience.as_deref()
    }

    /// The RFC 9728 Protected Resource Metadata URL advertised in 401
    /// challenges, if configured.
    pub fn resource_metadata(&self) -> Option<&Arc<str>> {
        self.inner.resource_metadata.as_ref()
    }

    /// The OAuth 2.0 endpoints of each trusted issuer, as its discovery
    /// document published them (both `None` until discovery has run, e.g. after
    /// [`ready`](Validator::ready), and always `None` for an issuer configured
    /// with a `jwks_uri`): for API documents and client configuration.
    pub fn oauth_endpoints(&self) -> Vec<OAuthEndpoints> {
        self.inner
            .issuers
            .iter()
            .map(|trusted| {
                let discovery = trusted.store.discovery();
                OAuthEndpoints {
                    issuer: trusted.url.clone(),
                    authorization_endpoint: discovery
                        .and_then(|d| d.authorization_endpoint.clone()),
                    token_endpoint: discovery.and_then(|d| d.token_endpoint.clone()),
                    audience: trusted.audience.as_deref().map(str::to_owned),
                }
            })
            .collect()
    }

    /// The bearer extraction limits.
    pub fn bearer_config(&self) -> &BearerConfig {
        &self.inner.bearer
    }

    /// Runs discovery and fetches the key set of every issuer now, unless
    /// already done, so a service can refuse to start while an issuer is
    /// unreachable or misconfigured. The first issuer's error, in configured
    /// order; see [`ready_each`](Validator::ready_each) to start with the
    /// issuers that are up.
    pub async fn ready(&self) -> Result<(), ConfigError> {
        self.ready_each()
            .await
            .into_iter()
            .try_for_each(|(_, outcome)| outcome)
    }

    /// [`ready`](Validator::ready) for each issuer, concurrently: each
    /// issuer's URL and outcome, in configured order. An issuer that is down
    /// keeps retrying on demand (its tokens get 503 meanwhile) and never
    /// affects the others.
    pub async fn ready_each(&self) -> Vec<(String, Result<(), ConfigError>)> {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, trusted) in self.inner.issuers.iter().enumerate() {
            let store = Arc::clone(&trusted.store);
            tasks.spawn(async move { (index, store.ready().await) });
        }
        let mut outcomes: Vec<Option<Result<(), ConfigError>>> =
            self.inner.issuers.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, outcome)) = joined
                && let Some(slot) = outcomes.get_mut(index)
            {
                *slot = Some(outcome);
            }
        }
        self.inner
            .issuers
            .iter()
            .zip(outcomes)
            .map(|(trusted, outcome)| {
                let outcome = outcome.unwrap_or_else(|| {
                    Err(ConfigError::Fetch {
                        url: trusted.url.clone(),
                        reason: "the readiness check did not finish".into(),
                    })
                });
                (trusted.url.clone(), outcome)
            })
            .collect()
    }

    /// Replaces the [`StaticKeys`] of `issuer` (configured with
    /// [`ValidatorBuilder::keys`] or [`Issuer::keys`]), for instance after a
    /// key file changed: the new keys are read and judged first, and on any
    /// error the old ones stay. Cached tokens whose key is gone are
    /// verified afresh. Keys that are fetched cannot be replaced.
    pub fn reload_keys(&self, issuer: &str, keys: StaticKeys) -> Result<(), ConfigError> {
        let (_, trusted) = self
            .inner
            .issuers
            .route(issuer)
            .ok_or_else(|| ConfigError::UnknownIssuer(issuer.to_owned()))?;
        if !trusted.store.is_static() {
            return Err(ConfigError::NotStatic(issuer.to_owned()));
        }
        let set = keys.load(
            trusted.store.algorithms(),
            trusted.store.max_response_bytes(),
        )?;
        trusted.store.replace(set);
        Ok(())
    }

    /// Extracts the bearer token from all of a request's `Authorization`
    /// header values and validates it.
    pub async fn authenticate<'a, I>(&self, authorization: I) -> Result<AuthInfo, Error>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        // `extract_bearer` has checked the token's length and characters.
        let token = extract_bearer(authorization, &self.inner.bearer)?;
        self.validate_checked(token).await
    }

    /// Validates a compact JWS access token taken from anywhere (a cookie, a
    /// WebSocket message, another framework): first the limits that
    /// [`authenticate`](Validator::authenticate) applies to a header's token
    /// (at most [`BearerConfig::max_token_len`] bytes of the token68
    /// alphabet, else [`Error::InvalidRequest`]), then the signature by a key
    /// of the issuer's JWKS under an allowed algorithm, `iss`, `exp`, `nbf`,
    /// the header's `crit` and (if configured) `typ`. The audience, scopes and
    /// organization are the [`Policy`](crate::Policy)'s to check.
    pub async fn validate(&self, token: &str) -> Result<AuthInfo, Error> {
        if let Err(e) = check_token(token, &self.inner.bearer) {
            tracing::debug!(code = e.code(), reason = %e, "token rejected");
            return Err(e.into());
        }
        self.validate_checked(token).await
    }

    async fn validate_checked(&self, token: &str) -> Result<AuthInfo, Error> {
        let outcome = self.validate_inner(token).await;
        if let Err(e) = &outcome {
            tracing::debug!(code = e.code(), reason = %e, "token rejected");
        }
        outcome
    }

    async fn validate_inner(&self, token: &str) -> Result<AuthInfo, Error> {
        let Some(cache) = &self.inner.cache else {
            return self.verify_token(token).await.map(AuthInfo::new);
        };
        let key = PresentedToken(token);
        if let Some(claims) = cache.get(key) {
            match self.recheck_cached(&claims) {
                Ok(true) => return Ok(AuthInfo::new(claims)),
                Ok(false) => cache.remove(key), // its key left the set: verify afresh
                Err(e) => {
                    cache.remove(key);
                    return Err(e.into());
                }
            }
        }
        let claims = self.verify_token(token).await?;
        cache.insert(key, Arc::clone(&claims));
        Ok(AuthInfo::new(claims))
    }

    /// The checks a cached token still needs: the clock, and whether its key
    /// is still published and still allows the token's algorithm (`Ok(false)`
    /// if not: it is then verified afresh).
    fn recheck_cached(&self, claims: &Claims) -> Result<bool, TokenError> {
        check_time(claims.expires_at, claims.not_before, self.inner.leeway)?;
        let Some(trusted) = self.inner.issuers.get(claims.issuer_index) else {
            return Ok(false);
        };
        let snapshot = trusted.store.snapshot();
        Ok(snapshot.generation == claims.key_generation
            || snapshot.keys.contains(
                claims.key_id.as_deref(),
                claims.key_algorithm,
                &claims.key_thumbprint,
            ))
    }

    /// The full validation of a token not in the cache.
    async fn verify_token(&self, token: &str) -> Result<Arc<Claims>, Error> {
        let inner = &*self.inner;
        let (signing_input, header_b64, payload_b64, signature_b64) = split(token)?;
        let header =
            claims::parse_header(&decode_segment(header_b64, "the header is not base64url")?)?;
        let alg = allowed_algorithm(&header.alg, &inner.algorithms)?;
        if header.has_crit {
            return Err(TokenError::CriticalHeader.into());
        }
        if let Some(required) = &inner.required_type {
            let typ = header.typ.as_deref().unwrap_or("");
            if !media_type_eq(typ, required) {
                return Err(TokenError::WrongType.into());
            }
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| TokenError::Malformed("the signature is not base64url"))?;

        // Routed by `iss`, read before the signature is checked: only the
        // keys of a configured issuer are ever looked at or fetched.
        let payload = decode_segment(payload_b64, "the payload is not base64url")?;
        let raw = claims::parse_claims(&payload)?;
        let issuer = raw.iss.ok_or(TokenError::MissingClaim("iss"))?;
        let (issuer_index, trusted) = inner
            .issuers
            .route(&issuer)
            .ok_or(TokenError::WrongIssuer)?;
        let store = &trusted.store;

        let kid = header.kid.as_deref();
        let snapshot = store.snapshot();
        let mut generation = snapshot.generation;
        let mut verdict = snapshot.keys.verify(kid, alg, signing_input, &signature);
        drop(snapshot);
        if verdict == Err(TokenError::UnknownKey) {
            // Only a key we do not have justifies asking the issuer again.
            let refreshed = store.fetch_for_missing_key(generation).await?;
            generation = refreshed.generation;
            verdict = refreshed.keys.verify(kid, alg, signing_input, &signature);
        }
        let key_thumbprint = verdict?;

        let expires_at = raw.exp.ok_or(TokenError::MissingClaim("exp"))?;
        check_time(expires_at, raw.nbf, inner.leeway)?;
        Ok(Arc::new(Claims {
            issuer,
            sub: raw.sub,
            client_id: raw.client_id,
            organization_id: raw.organization_id,
            scopes: raw.scopes,
            audience: raw.audience,
            expires_at,
            not_before: raw.nbf,
            key_id: header.kid,
            key_thumbprint,
            key_algorithm: alg,
            key_generation: generation,
            issuer_index,
            payload: payload.into_boxed_slice(),
            configured_audience: trusted.audience.clone(),
        }))
    }
}

/// What an issuer's discovery document says about where clients get tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthEndpoints {
    /// The issuer, as configured.
    pub issuer: String,
    /// `authorization_endpoint`, if discovery published a valid URL.
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`, if discovery published a valid URL.
    pub token_endpoint: Option<String>,
    /// The audience that policies without their own require of this
    /// issuer's tokens: its own ([`Issuer::audience`]), else the validator's.
    pub audience: Option<String>,
}

/// RFC 7515 §4.1.9 `typ`: case-insensitive, `application/` optional on either side.
fn media_type_eq(a: &str, b: &str) -> bool {
    fn short(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => {
                t.get(12..).unwrap_or("")
            }
            _ => t,
        }
    }
    short(a).eq_ignore_ascii_case(short(b))
}

/// Splits a compact JWS into its signing input and three segments.
fn split(token: &str) -> Result<(&[u8], &str, &str, &str), TokenError> {
    let malformed = TokenError::Malformed("a JWT has three dot-separated segments");
    let (signing_input, signature) = token.rsplit_once('.').ok_or(malformed.clone())?;
    let (header, payload) = signing_input.split_once('.').ok_or(malformed.clone())?;
    if header.is_empty() || payload.is_empty() || payload.contains('.') {
        return Err(malformed);
    }
    Ok((signing_input.as_bytes(), header, payload, signature))
}

fn decode_segment(segment: &str, not_base64url: &'static str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed(not_base64url))
}

/// The header's algorithm, if allowed. `none` (any spelling) and HMAC are
/// never allowed with keys from a JWKS.
fn allowed_algorithm(name: &str, allowed: &[Algorithm]) -> Result<Algorithm, TokenError> {
    let alg: Algorithm = name.parse().map_err(|_| TokenError::AlgorithmNotAllowed)?;
    if alg.is_hmac() || !allowed.contains(&alg) {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    Ok(alg)
}

/// `exp` and `nbf` against the clock, with the leeway.
fn check_time(expires_at: i64, not_before: Option<i64>, leeway: i64) -> Result<(), TokenError> {
    let now = now();
    if expires_at.saturating_add(leeway) <= now {
        return Err(TokenError::Expired);
    }
    if not_before.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// The current Unix time in whole seconds (0 if the clock is before 1970).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Configures a [`Validator`]. Every setting has a safe default, stated on its method.
#[derive(Debug, Clone)]
pub struct ValidatorBuilder {
    issuer: Option<String>,
    jwks_uri: Option<String>,
    keys: Option<StaticKeys>,
    more_issuers: Vec<Issuer>,
    audience: Option<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    required_type: Option<String>,
    bearer: BearerConfig,
    resource_metadata: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    unknown_kid_refetch_interval: Duration,
    default_refresh: Duration,
    min_refresh: Duration,
    max_refresh: Duration,
    retry_after_failure: Duration,
    cache_capacity: usize,
    http_client: Option<reqwest::Client>,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        ValidatorBuilder {
            issuer: None,
            jwks_uri: None,
            keys: None,
            more_issuers: Vec::new(),
            audience: None,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: Duration::from_secs(60),
            required_type: None,
            bearer: BearerConfig::default(),
            resource_metadata: None,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            unknown_kid_refetch_interval: Duration::from_secs(30),
            default_refresh: Duration::from_secs(600),
            min_refresh: Duration::from_secs(60),
            max_refresh: Duration::from_secs(24 * 3600),
            retry_after_failure: Duration::from_secs(5),
            cache_capacity: 10_000,
            http_client: None,
        }
    }
}

impl ValidatorBuilder {
    /// The issuer URL, e.g. `https://<tenant>.logto.app/oidc`. Tokens' `iss`
    /// must equal it exactly. Without [`jwks_uri`](Self::jwks_uri), keys are
    /// found through OpenID discovery at `{issuer}/.well-known/openid-configuration`,
    /// whose `issuer` must equal this value. Required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The JWKS URL of the [`issuer`](Self::issuer), skipping discovery.
    /// Default: discovered.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Keys of the [`issuer`](Self::issuer) given up front: a JWKS document
    /// or PEM public keys, read and judged by [`build`](Self::build), never
    /// fetched (no network at all), replaced only by
    /// [`Validator::reload_keys`]. The issuer string need not be a URL then.
    /// Default: fetched.
    pub fn keys(mut self, keys: StaticKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// One more issuer to trust, with its own keys and optionally its own
    /// audience (see [`Issuer`]). A token is routed by its `iss` to the one
    /// issuer that equals it, and verified only with that issuer's keys; a
    /// token from an issuer not configured is refused as `wrong_issuer`
    /// without any request. Trusting an issuer means trusting every token it
    /// signs: list only issuers you control or have vetted.
    pub fn add_issuer(mut self, issuer: Issuer) -> Self {
        self.more_issuers.push(issuer);
        self
    }

    /// The API resource indicator: the audience that [`Policy`](crate::Policy)s
    /// require unless they name their own, for every issuer that does not name
    /// its own ([`Issuer::audience`]). Default: none (such policies deny).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The allowed signing algorithms. Default: RS256/384/512, PS256/384/512,
    /// ES256/384, EdDSA. HMAC algorithms are refused at build time: a JWKS
    /// publishes keys, and an HMAC "key" there would be public.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Clock skew tolerated on `exp` and `nbf`. Default: 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the header `typ` to be this value (compared case-insensitively,
    /// with or without `application/`), e.g. `at+jwt` for RFC 9068 access
    /// tokens. Default: not checked (Logto's tokens carry `at+jwt`, many issuers' carry `JWT`).
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.required_type = Some(typ.into());
        self
    }

    /// The longest accepted bearer token. Default: 8 KiB.
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.bearer.max_token_len = bytes;
        self
    }

    /// The URL of this API's RFC 9728 Protected Resource Metadata (usually
    /// `https://<api host>/.well-known/oauth-protected-resource`), advertised as
    /// `resource_metadata="…"` in the 401 challenge so that OAuth clients can
    /// discover how to get a token. Default: not advertised.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// Timeout to connect to the issuer. Default: 3 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Deadline for one whole fetch from the issuer (discovery when needed,
    /// then the JWKS): a request that waits for keys waits at most this long
    /// (plus scheduling), then gets a 503. Default: 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The HTTP client that reaches the issuer, for private CA roots, a proxy
    /// or mutual TLS. Default: a client of the crate's own, with the
    /// [`connect_timeout`](Self::connect_timeout) and a redirect policy that
    /// follows at most 5 redirects and never from https to http.
    ///
    /// With your client, these still hold: the [`timeout`](Self::timeout)
    /// over each whole fetch, [`max_response_bytes`](Self::max_response_bytes),
    /// and the https rule, checked on the final URL of each response (a fetch
    /// that began on https and was redirected to http is refused, though your
    /// client's redirect policy decides which redirects are followed). Its
    /// connect timeout, proxies and TLS settings are yours, and
    /// [`connect_timeout`](Self::connect_timeout) does not apply.
    ///
    /// ```
    /// let client = reqwest::Client::builder()
    ///     // .add_root_certificate(my_private_ca)
    ///     .build()?;
    /// let validator = policy_core::Validator::builder()
    ///     .issuer("https://auth.internal.example/oidc")
    ///     .http_client(client)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Largest accepted discovery or JWKS response. Default: 1 MiB.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Minimum time between two refetches caused by tokens with an unknown
    /// `kid`, so that a flood of random `kid`s cannot hammer the issuer. The
    /// start-up fetch and periodic refreshes do not count. Default: 30 s.
    pub fn unknown_kid_refetch_interval(mut self, interval: Duration) -> Self {
        self.unknown_kid_refetch_interval = interval;
        self
    }

    /// Refresh period when the JWKS response has no `Cache-Control: max-age`.
    /// Default: 10 minutes.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.default_refresh = interval;
        self
    }

    /// Bounds applied to the refresh period (from `max-age` or the default).
    /// Default: 1 minute to 24 hours.
    pub fn refresh_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_refresh = min;
        self.max_refresh = max.max(min);
        self
    }

    /// After a failed fetch, how long before the next attempt, and the
    /// `Retry-After` of the resulting 503s. Default: 5 s.
    pub fn retry_after_failure(mut self, delay: Duration) -> Self {
        self.retry_after_failure = delay;
        self
    }

    /// Capacity of the verified-token cache, in tokens; 0 turns it off.
    /// Default: 10,000.
    ///
    /// A repeat of a verified token skips the signature check only: the token
    /// must be byte-identical (the cache keeps the token itself and compares it
    /// in full), `exp` and `nbf` are rechecked on every hit, entries whose
    /// signing key left the key set are dropped, and policies are checked on
    /// every request as always. Each entry holds the token and its decoded claims.
    pub fn cache_capacity(mut self, tokens: usize) -> Self {
        self.cache_capacity = tokens;
        self
    }

    /// Checks the configuration and builds the validator. No network I/O
    /// (static keys are read from their files now).
    pub fn build(self) -> Result<Validator, ConfigError> {
        if let Some(url) = &self.resource_metadata {
            fetch::check_url(url, "resource metadata")?;
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::InvalidAlgorithms("no algorithm allowed"));
        }
        if self.algorithms.iter().any(|a| a.is_hmac()) {
            return Err(ConfigError::InvalidAlgorithms(
                "HMAC algorithms cannot be used with keys from a JWKS",
            ));
        }
        let first = match self.issuer {
            Some(url) => {
                let mut first = Issuer::new(url);
                if let Some(uri) = self.jwks_uri {
                    first = first.jwks_uri(uri);
                }
                if let Some(keys) = self.keys {
                    first = first.keys(keys);
                }
                Some(first)
            }
            // Keys or a JWKS URI for an issuer never named: a mistake, not a default.
            None if self.jwks_uri.is_some() || self.keys.is_some() => {
                return Err(ConfigError::MissingIssuer);
            }
            None => None,
        };
        let issuers: Vec<Issuer> = first.into_iter().chain(self.more_issuers).collect();
        let describe = issuers
            .first()
            .map(|i| i.url().to_owned())
            .unwrap_or_default();
        let client = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .timeout(self.timeout)
                .redirect(fetch::redirect_policy())
                .build()
                .map_err(|_| ConfigError::Fetch {
                    url: describe,
                    reason: "the HTTP client could not be initialised".into(),
                })?,
        };
        let cache =
            (self.cache_capacity > 0).then(|| Arc::new(TokenCache::new(self.cache_capacity)));
        let algorithms = self.algorithms.clone();
        let store_config = move |source| KeyStoreConfig {
            source,
            algorithms: algorithms.clone(),
            unknown_kid_refetch_interval: self.unknown_kid_refetch_interval,
            default_refresh: self.default_refresh,
            min_refresh: self.min_refresh,
            max_refresh: self.max_refresh,
            retry_after_failure: self.retry_after_failure,
            max_response_bytes: self.max_response_bytes,
            fetch_timeout: self.timeout,
        };
        let audience: Option<Arc<str>> = self.audience.map(Arc::from);
        let issuers = TrustedIssuers::build(
            issuers,
            &StoreSettings {
                config: Box::new(store_config),
                client,
                cache: cache.clone(),
                audience: audience.clone(),
            },
        )?;
        Ok(Validator {
            inner: Arc::new(Inner {
                issuers,
                audience,
                algorithms: self.algorithms,
                leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
                required_type: self.required_type,
                bearer: self.bearer,
                resource_metadata: self.resource_metadata.map(Arc::from),
                cache,
            }),
        })
    }
}

#[cfg(test)]
mod tests;
