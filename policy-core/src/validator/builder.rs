//! [`ValidatorBuilder`]: every setting of a [`Validator`], its default
//! stated on its method, checked once by [`build`](ValidatorBuilder::build).

use std::sync::Arc;
use std::time::Duration;

use super::verify::TokenRules;
use super::{Inner, Validator};
use crate::algorithm::Algorithm;
use crate::bearer::BearerConfig;
use crate::dpop::DpopConfig;
use crate::error::ConfigError;
use crate::fetch;
use crate::introspection::{self, Introspection, OpaqueIssuerRule, OpaqueTokens};
use crate::issuers::{Issuer, StoreSettings, TrustedIssuers};
use crate::jwks::DEFAULT_ALGORITHMS;
use crate::key_store::KeyStoreConfig;
use crate::observe::Metrics;
use crate::static_keys::StaticKeys;
use crate::token_cache::TokenCache;

/// Configures a [`Validator`]. Every setting has a safe default, stated on its method.
#[derive(Debug, Clone)]
pub struct ValidatorBuilder {
    /// The issuer that [`issuer`](Self::issuer), [`jwks_uri`](Self::jwks_uri)
    /// and [`keys`](Self::keys) configure, trusted first.
    first: Option<FirstIssuer>,
    more_issuers: Vec<Issuer>,
    audience: Option<String>,
    leeway: Duration,
    required_type: Option<String>,
    bearer: BearerConfig,
    resource_metadata: Option<String>,
    connect_timeout: Duration,
    /// The settings of every issuer's key store, the algorithm allow-list
    /// and the fetch timeout among them.
    store: KeyStoreConfig,
    cache_capacity: usize,
    http_client: Option<reqwest::Client>,
    /// DPoP's settings, set by the `dpop…` methods (`dpop/config.rs`).
    pub(crate) dpop: DpopConfig,
    opaque_token_issuer: Option<OpaqueIssuerRule>,
}

/// The builder's own issuer, as [`add_issuer`](ValidatorBuilder::add_issuer)
/// would take it; `named` once [`issuer`](ValidatorBuilder::issuer) gave its URL.
#[derive(Debug, Clone)]
struct FirstIssuer {
    issuer: Issuer,
    named: bool,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        ValidatorBuilder {
            first: None,
            more_issuers: Vec::new(),
            audience: None,
            leeway: Duration::from_secs(60),
            required_type: None,
            bearer: BearerConfig::default(),
            resource_metadata: None,
            connect_timeout: Duration::from_secs(3),
            store: KeyStoreConfig {
                algorithms: DEFAULT_ALGORITHMS.to_vec(),
                unknown_kid_refetch_interval: Duration::from_secs(30),
                default_refresh: Duration::from_secs(600),
                min_refresh: Duration::from_secs(60),
                max_refresh: Duration::from_secs(24 * 3600),
                retry_after_failure: Duration::from_secs(5),
                max_response_bytes: 1024 * 1024,
                fetch_timeout: Duration::from_secs(5),
            },
            cache_capacity: 10_000,
            http_client: None,
            dpop: DpopConfig::default(),
            opaque_token_issuer: None,
        }
    }
}

impl ValidatorBuilder {
    /// The issuer URL, e.g. `https://<tenant>.logto.app/oidc`. Tokens' `iss`
    /// must equal it exactly. Without [`jwks_uri`](Self::jwks_uri), keys are
    /// found through OpenID discovery at `{issuer}/.well-known/openid-configuration`,
    /// whose `issuer` must equal this value. Required.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        let url = issuer.into();
        self.with_first(true, |first| first.with_url(url))
    }

    /// The JWKS URL of the [`issuer`](Self::issuer), skipping discovery.
    /// Default: discovered.
    pub fn jwks_uri(self, uri: impl Into<String>) -> Self {
        self.with_first(false, |first| first.jwks_uri(uri))
    }

    /// Keys of the [`issuer`](Self::issuer) given up front: a JWKS document
    /// or PEM public keys, read and judged by [`build`](Self::build), never
    /// fetched (no network at all), replaced only by
    /// [`Validator::reload_keys`]. The issuer string need not be a URL then.
    /// A key in them that could never verify a token is a
    /// [`ConfigError::InvalidKeys`] naming it (see [`StaticKeys`]).
    /// Default: fetched.
    pub fn keys(self, keys: StaticKeys) -> Self {
        self.with_first(false, |first| first.keys(keys))
    }

    /// Introspects the [`issuer`](Self::issuer)'s opaque access tokens
    /// (RFC 7662): see [`Introspection`]. Default: opaque tokens are refused
    /// (401 `invalid_token`) without any request.
    pub fn introspection(self, introspection: Introspection) -> Self {
        self.with_first(false, |first| first.introspection(introspection))
    }

    /// The rule that picks, for an opaque token, the issuer to introspect it
    /// with (its URL; `None`: refused as `wrong_issuer` without any request),
    /// needed when more than one issuer introspects: an opaque token names
    /// no issuer, and sent to the wrong one it leaks. It sees the token: a
    /// prefix the issuers put on their tokens is the usual clue. Default:
    /// none (at most one issuer may introspect).
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{Introspection, Issuer, Validator};
    ///
    /// let validator = Validator::builder()
    ///     .issuer("https://a.example.com")
    ///     .introspection(Introspection::new("api", "secret-a"))
    ///     .add_issuer(
    ///         Issuer::new("https://b.example.com")
    ///             .introspection(Introspection::new("api", "secret-b")),
    ///     )
    ///     .opaque_token_issuer(|token| {
    ///         let issuer = if token.starts_with("b_") { "https://b.example.com" } else { "https://a.example.com" };
    ///         Some(issuer.to_owned())
    ///     })
    ///     .build()?;
    /// # let _ = validator;
    /// # Ok::<(), bearer_policy::ConfigError>(())
    /// ```
    pub fn opaque_token_issuer(
        mut self,
        rule: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.opaque_token_issuer = Some(OpaqueIssuerRule(Arc::new(rule)));
        self
    }

    /// Applies one of [`Issuer`]'s settings to the builder's own issuer.
    fn with_first(mut self, names: bool, set: impl FnOnce(Issuer) -> Issuer) -> Self {
        let FirstIssuer { issuer, named } = self.first.take().unwrap_or(FirstIssuer {
            issuer: Issuer::new(String::new()),
            named: false,
        });
        self.first = Some(FirstIssuer {
            issuer: set(issuer),
            named: named || names,
        });
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
        self.store.algorithms = algorithms.into_iter().collect();
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
    /// then the JWKS; or one token introspection): a request that waits for
    /// keys waits at most this long (plus scheduling), then gets a 503.
    /// Default: 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.store.fetch_timeout = timeout;
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
    /// client's redirect policy decides which redirects are followed; an
    /// https discovery document naming an http `jwks_uri` is refused). Its
    /// connect timeout, proxies and TLS settings are yours, and
    /// [`connect_timeout`](Self::connect_timeout) does not apply.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// let client = reqwest::Client::builder()
    ///     // .add_root_certificate(my_private_ca)
    ///     .build()?;
    /// let validator = bearer_policy::Validator::builder()
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
        self.store.max_response_bytes = bytes;
        self
    }

    /// Minimum time between two refetches caused by tokens with an unknown
    /// `kid`, so that a flood of random `kid`s cannot hammer the issuer. The
    /// start-up fetch and periodic refreshes do not count. Default: 30 s.
    pub fn unknown_kid_refetch_interval(mut self, interval: Duration) -> Self {
        self.store.unknown_kid_refetch_interval = interval;
        self
    }

    /// Refresh period when the JWKS response has no `Cache-Control: max-age`.
    /// Default: 10 minutes.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.store.default_refresh = interval;
        self
    }

    /// Bounds applied to the refresh period (from `max-age` or the default).
    /// Default: 1 minute to 24 hours.
    pub fn refresh_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.store.min_refresh = min;
        self.store.max_refresh = max.max(min);
        self
    }

    /// After a failed fetch (or a failed token introspection), how long
    /// before the next attempt, and the `Retry-After` of the resulting 503s.
    /// Default: 5 s.
    pub fn retry_after_failure(mut self, delay: Duration) -> Self {
        self.store.retry_after_failure = delay;
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
        let algorithms = &self.store.algorithms;
        if algorithms.is_empty() {
            return Err(ConfigError::InvalidAlgorithms("no algorithm allowed"));
        }
        if algorithms.iter().any(|a| a.is_hmac()) {
            return Err(ConfigError::InvalidAlgorithms(
                "HMAC algorithms cannot be used with keys from a JWKS",
            ));
        }
        let first = match self.first {
            // Keys or a JWKS URI for an issuer never named: a mistake, not a default.
            Some(FirstIssuer { named: false, .. }) => return Err(ConfigError::MissingIssuer),
            Some(FirstIssuer { issuer, .. }) => Some(issuer),
            None => None,
        };
        let issuers: Vec<Issuer> = first.into_iter().chain(self.more_issuers).collect();
        let issuer_modes: Vec<_> = issuers.iter().map(Issuer::dpop_mode).collect();
        let dpop = self
            .dpop
            .build(&self.store.algorithms, self.leeway, &issuer_modes)?;
        if self.audience.is_some() {
            warn_inherited_audience(issuers.iter().skip(1));
        }
        let client = match self.http_client {
            Some(client) => client,
            None => fetch::default_client(self.connect_timeout, self.store.fetch_timeout).map_err(
                |_| ConfigError::Fetch {
                    url: issuers
                        .first()
                        .map(|i| i.url().to_owned())
                        .unwrap_or_default(),
                    reason: "the HTTP client could not be initialised".into(),
                },
            )?,
        };
        let cache =
            (self.cache_capacity > 0).then(|| Arc::new(TokenCache::new(self.cache_capacity)));
        let audience: Option<Arc<str>> = self.audience.map(Arc::from);
        let rules = TokenRules {
            algorithms: self.store.algorithms.clone(),
            leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
            required_type: self.required_type,
        };
        let introspecting: Vec<(usize, Introspection)> = issuers
            .iter()
            .enumerate()
            .filter_map(|(index, issuer)| Some((index, issuer.introspection_config()?.clone())))
            .collect();
        let introspection_settings = introspection::Settings {
            client: client.clone(),
            timeout: self.store.fetch_timeout,
            max_response_bytes: self.store.max_response_bytes,
            retry_after_failure: self.store.retry_after_failure,
            leeway: rules.leeway,
        };
        let issuers = TrustedIssuers::build(
            issuers,
            &StoreSettings {
                keys: self.store,
                client,
                cache: cache.clone(),
                audience: audience.clone(),
            },
        )?;
        let opaque = OpaqueTokens::build(
            introspecting,
            &issuers,
            self.opaque_token_issuer,
            &introspection_settings,
        )?;
        Ok(Validator {
            inner: Arc::new(Inner {
                issuers,
                rules,
                audience,
                bearer: self.bearer,
                resource_metadata: self.resource_metadata.map(Arc::from),
                cache,
                dpop,
                opaque,
                metrics: Metrics::new(),
            }),
        })
    }
}

/// Warns once per added issuer that has no audience of its own: it inherits
/// the validator's, so it can mint tokens that every policy without an
/// audience override accepts. Often meant (one tenant behind two domains),
/// but a trust decision the operator should see at start-up.
fn warn_inherited_audience<'a>(added: impl Iterator<Item = &'a Issuer>) {
    for issuer in added.filter(|issuer| issuer.own_audience().is_none()) {
        tracing::warn!(
            issuer = issuer.url(),
            "an added issuer has no audience of its own and inherits the validator's: its \
             tokens pass every policy without an audience or issuers of its own; give it \
             `Issuer::audience`, or name the issuers a policy accepts (`Policy::issuers`, \
             `issuers(...)` in `#[requires]`)"
        );
    }
}
