//! [`Validator`], the public API that turns a bearer token into an
//! [`AuthInfo`]: the verified-token cache in front of the verification
//! pipeline ([`verify`]), readiness, key reloads, and what the issuers
//! publish. Its configuration is [`builder`]'s.

mod builder;
#[cfg(test)]
mod tests;
pub(crate) mod verify;

use std::sync::Arc;

use crate::auth_info::AuthInfo;
use crate::bearer::{BearerConfig, check_token, extract_bearer};
use crate::dpop::{self, DpopMode, DpopRules};
use crate::error::{ConfigError, Error};
use crate::introspection::{self, OpaqueTokens};
use crate::issuers::TrustedIssuers;
use crate::observe::Metrics;
use crate::readiness::ReadinessReport;
use crate::static_keys::StaticKeys;
use crate::token_cache::{PresentedToken, TokenCache};

pub use builder::ValidatorBuilder;
use verify::TokenRules;

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
/// # extern crate bearer_policy_core as bearer_policy;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use bearer_policy::Validator;
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
    rules: TokenRules,
    audience: Option<Arc<str>>,
    bearer: BearerConfig,
    resource_metadata: Option<Arc<str>>,
    cache: Option<Arc<TokenCache>>,
    dpop: DpopRules,
    /// Token introspection for tokens that are not JWTs, if configured.
    opaque: Option<OpaqueTokens>,
    metrics: Metrics,
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
            .filter(|t| t.store.fetches_keys())
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
                    keys_fetched: trusted.store.fetches_keys(),
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

    /// Each issuer's readiness now, without any I/O: whether it has keys,
    /// when they were last fetched, the latest error, the next refresh.
    /// [`ReadinessReport::ready`] is whether every issuer has keys (a server
    /// that started with [`ready_each`](Validator::ready_each) may serve the
    /// issuers that are up while another is not).
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// let validator = bearer_policy::Validator::builder()
    ///     .issuer("https://my-tenant.logto.app/oidc")
    ///     .build()?;
    /// let report = validator.readiness();
    /// assert!(!report.ready, "nothing fetched yet");
    /// assert_eq!(report.issuers[0].issuer, "https://my-tenant.logto.app/oidc");
    /// # Ok::<(), bearer_policy::ConfigError>(())
    /// ```
    pub fn readiness(&self) -> ReadinessReport {
        ReadinessReport::new(
            self.inner
                .issuers
                .iter()
                .map(|trusted| trusted.store.readiness(&trusted.url))
                .collect(),
        )
    }

    /// The handles the authorize path reports through.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The configured issuer that `iss` names, as configured (for spans).
    pub(crate) fn configured_issuer(&self, iss: &str) -> Option<&str> {
        self.inner.issuers.route(iss).map(|(_, t)| t.url.as_str())
    }

    /// Replaces the [`StaticKeys`] of `issuer` (configured with
    /// [`ValidatorBuilder::keys`] or [`Issuer::keys`](crate::Issuer::keys)), for instance after a
    /// key file changed: the new keys are read and judged first (as by
    /// [`ValidatorBuilder::build`](crate::ValidatorBuilder::build): a key that
    /// could never verify is an error naming it), and on any error the old
    /// ones stay. Cached tokens whose key is gone are
    /// verified afresh. Keys that are fetched cannot be replaced.
    pub fn reload_keys(&self, issuer: &str, keys: StaticKeys) -> Result<(), ConfigError> {
        let (_, trusted) = self
            .inner
            .issuers
            .route(issuer)
            .ok_or_else(|| ConfigError::UnknownIssuer(issuer.to_owned()))?;
        trusted.store.reload(issuer, &keys)
    }

    /// Extracts the bearer token from all of a request's `Authorization`
    /// header values and validates it.
    pub async fn authenticate<'a, I>(&self, authorization: I) -> Result<AuthInfo, Error>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        // Fused: a second value is looked for after the first may be `None`.
        let mut values = authorization.into_iter().fuse();
        let (first, second) = (values.next(), values.next());
        if let (Some(value), None) = (first, second)
            && let Some(auth) = self.cached(value)
        {
            return dpop::as_bearer(self, auth);
        }
        // `extract_bearer` checks the token's length and characters.
        let values = first.into_iter().chain(second).chain(values);
        let token = extract_bearer(values, &self.inner.bearer)?;
        // Boxed: the way past the cache (a signature, perhaps a key fetch or
        // an introspection call) is a large future, which every request's
        // future would otherwise carry and copy; a cache hit never gets here.
        let auth = Box::pin(self.validate_checked(token)).await?;
        dpop::as_bearer(self, auth)
    }

    /// The DPoP settings.
    pub(crate) fn dpop_rules(&self) -> &DpopRules {
        &self.inner.dpop
    }

    /// The DPoP mode for the issuer of `auth`: its own, else the validator's.
    pub(crate) fn dpop_mode_of(&self, auth: &AuthInfo) -> DpopMode {
        self.inner
            .issuers
            .get(auth.issuer_index())
            .and_then(|trusted| trusted.dpop)
            .unwrap_or(self.inner.dpop.mode)
    }

    /// A token presented under the `DPoP` scheme: validated as any token
    /// (the cache included), its binding left to the proof's check.
    pub(crate) async fn validate_bound(&self, token: &str) -> Result<AuthInfo, Error> {
        self.validate_checked(token).await
    }

    /// The `AuthInfo` of a lone `Bearer` value whose token the cache holds
    /// and still accepts: the hot path, which skips `extract_bearer`'s pass
    /// over the token. Only the cache's byte-identical match makes it safe: a
    /// cached token passed every check of `extract_bearer` (token68, the
    /// length limit) when it was verified. Anything else (another value, a
    /// miss, a token the clock or the key set now refuses) is `None`, and
    /// goes the whole way.
    fn cached(&self, value: &[u8]) -> Option<AuthInfo> {
        let Inner {
            issuers,
            rules,
            cache,
            ..
        } = &*self.inner;
        let scheme = value.get(..7)?;
        if !scheme.eq_ignore_ascii_case(b"bearer ") {
            return None;
        }
        // Runs of spaces, as `extract_bearer` allows them; nothing else.
        let rest = value.get(7..)?;
        let token = rest.get(rest.iter().position(|&b| b != b' ')?..)?;
        // The JWT cache first: it holds only verified JWS tokens, so a hit
        // needs no count of the token's dots.
        let Some(claims) = cache.as_ref().and_then(|c| c.get(PresentedToken(token))) else {
            let opaque = self.inner.opaque.as_ref()?;
            if introspection::is_compact_jws(token) {
                return None;
            }
            // A fresh introspection result for the same digest: the same token.
            return opaque.cached(token).map(AuthInfo::new);
        };
        match rules.recheck(&claims, issuers) {
            Ok(true) => {
                self.inner.metrics.cache_hit();
                Some(AuthInfo::new(claims))
            }
            // Counted where the whole way decides it.
            _ => None,
        }
    }

    /// Validates a compact JWS access token taken from anywhere (a cookie, a
    /// WebSocket message, another framework): first the limits that
    /// [`authenticate`](Validator::authenticate) applies to a header's token
    /// (at most [`BearerConfig::max_token_len`] bytes of the token68
    /// alphabet, else [`Error::InvalidRequest`]), then the signature by a key
    /// of the issuer's JWKS under an allowed algorithm, `iss`, `exp`, `nbf`,
    /// the header's `crit` and (if configured) `typ`. The audience, scopes and
    /// organization are the [`Policy`](crate::Policy)'s to check. A token
    /// that is not a JWS goes to token introspection when it is configured
    /// ([`Introspection`](crate::Introspection)), and is refused otherwise.
    ///
    /// The token is taken as a bearer token: one bound to a key (DPoP's
    /// `cnf.jkt`) is refused, as is any token where DPoP is required.
    pub async fn validate(&self, token: &str) -> Result<AuthInfo, Error> {
        if let Err(e) = check_token(token, &self.inner.bearer) {
            tracing::debug!(code = e.code(), reason = %e, "token rejected");
            return Err(e.into());
        }
        let auth = self.validate_checked(token).await?;
        dpop::as_bearer(self, auth)
    }

    async fn validate_checked(&self, token: &str) -> Result<AuthInfo, Error> {
        let outcome = self.validate_inner(token).await;
        if let Err(e) = &outcome {
            tracing::debug!(code = e.code(), reason = %e, "token rejected");
        }
        outcome
    }

    async fn validate_inner(&self, token: &str) -> Result<AuthInfo, Error> {
        let Inner {
            issuers,
            rules,
            cache,
            opaque,
            metrics,
            ..
        } = &*self.inner;
        // Only a token that is not a JWS goes to introspection: a JWT,
        // forged or not, is judged here and never sent anywhere.
        if let Some(opaque) = opaque
            && !introspection::is_compact_jws(token.as_bytes())
        {
            return opaque.authenticate(token, metrics).await.map(AuthInfo::new);
        }
        let Some(cache) = cache else {
            return self.verify(token).await.map(AuthInfo::new);
        };
        let key = PresentedToken(token.as_bytes());
        if let Some(claims) = cache.get(key) {
            match rules.recheck(&claims, issuers) {
                Ok(true) => {
                    metrics.cache_hit();
                    return Ok(AuthInfo::new(claims));
                }
                Ok(false) => cache.remove(key), // its key left the set: verify afresh
                Err(e) => {
                    // Decided by the cache: a hit that the clock refuses.
                    metrics.cache_hit();
                    cache.remove(key);
                    return Err(e.into());
                }
            }
        }
        metrics.cache_miss();
        let claims = self.verify(token).await?;
        cache.insert(key, Arc::clone(&claims));
        Ok(AuthInfo::new(claims))
    }

    /// The full verification, timed.
    async fn verify(&self, token: &str) -> Result<Arc<crate::claims::VerifiedClaims>, Error> {
        let Inner {
            issuers,
            rules,
            metrics,
            ..
        } = &*self.inner;
        let timer = metrics.timer();
        let outcome = rules.verify(token, issuers).await;
        metrics.verification(timer, outcome.is_ok());
        outcome
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
    /// The audience that policies without their own require of this issuer's
    /// tokens: its own ([`Issuer::audience`](crate::Issuer::audience)), else
    /// the validator's.
    pub audience: Option<String>,
    /// Whether its keys are fetched (discovery or a `jwks_uri`), so that its
    /// name is a URL clients reach, rather than given as
    /// [`StaticKeys`](crate::StaticKeys), whose issuer may be an internal name.
    pub keys_fetched: bool,
}
