//! Token introspection (RFC 7662): the second verifier beside
//! [`verify`](crate::validator::verify), for opaque access tokens. A token
//! reaches it only when it is not in JWS compact form and introspection is
//! configured ([`Validator`](crate::Validator) decides). Its answer ends as
//! the same [`VerifiedClaims`] a JWT gives, so policies, check functions,
//! `AuthInfo` and the errors work unchanged on every front end.
//!
//! `config.rs` holds the settings, `client.rs` the HTTP call, `response.rs`
//! the judgement of an answer, `cache.rs` the results; this module the
//! bounded, cached, single-flight way from a token to its claims.

mod cache;
mod client;
mod config;
mod response;
#[cfg(all(test, feature = "testing"))]
mod tests;

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use self::cache::{Entry, ResultCache};
use self::client::{EndpointClient, Fault};
pub(crate) use self::config::OpaqueIssuerRule;
pub use self::config::{ClientAuth, Introspection};
use self::response::Verdict;
use crate::claims::{RawClaims, VerifiedClaims};
use crate::error::{ConfigError, Error, TokenError};
use crate::issuers::TrustedIssuers;
use crate::observe::{self, Metrics};
use crate::validator::verify::{check_time, now};

/// Whether `token` is in JWS compact form: exactly two dots, whatever the
/// segments hold (an empty signature, as in an `alg: none` forgery, too).
/// Such a token is only ever verified locally: sending it to introspection
/// would leak a JWT to an endpoint and let forgeries cost a call.
pub(crate) fn is_compact_jws(token: &[u8]) -> bool {
    token.iter().filter(|&&b| b == b'.').count() == 2
}

/// What every introspector shares with the key stores: the HTTP client and
/// its limits, the clock rules.
pub(crate) struct Settings {
    pub client: reqwest::Client,
    pub timeout: Duration,
    pub max_response_bytes: usize,
    pub retry_after_failure: Duration,
    pub leeway: i64,
}

/// The introspecting issuers, and how an opaque token picks one.
pub(crate) struct OpaqueTokens {
    introspectors: Vec<Introspector>,
    rule: Option<OpaqueIssuerRule>,
}

impl OpaqueTokens {
    /// The introspectors of `configured` (each issuer's position and its
    /// settings), `None` when no issuer introspects. Two or more need a
    /// `rule`: an opaque token names no issuer, and sent to the wrong one it
    /// leaks.
    pub fn build(
        configured: Vec<(usize, Introspection)>,
        issuers: &TrustedIssuers,
        rule: Option<OpaqueIssuerRule>,
        settings: &Settings,
    ) -> Result<Option<Self>, ConfigError> {
        if configured.is_empty() {
            return Ok(None);
        }
        if configured.len() > 1 && rule.is_none() {
            return Err(ConfigError::InvalidIntrospection(
                "more than one issuer introspects opaque tokens: give \
                 `ValidatorBuilder::opaque_token_issuer` a rule that picks one per token",
            ));
        }
        let introspectors = configured
            .into_iter()
            .map(|(index, config)| {
                let trusted = issuers.get(index).ok_or(ConfigError::MissingIssuer)?;
                Introspector::new(
                    index,
                    &trusted.url,
                    trusted.audience.clone(),
                    &config,
                    settings,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(OpaqueTokens {
            introspectors,
            rule,
        }))
    }

    /// The claims of an opaque `token`, from the cache or its issuer's endpoint.
    pub async fn authenticate(
        &self,
        token: &str,
        metrics: &Metrics,
    ) -> Result<Arc<VerifiedClaims>, Error> {
        // The rule named no introspecting issuer: nobody to ask.
        let introspector = self.route(token).ok_or(TokenError::WrongIssuer)?;
        introspector.authenticate(token, metrics).await
    }

    /// The claims of a token whose fresh, active result is cached, still
    /// valid by the clock; `None` for anything else (it then goes the whole
    /// way). The hot path: no extraction pass, no future.
    pub fn cached(&self, token: &[u8]) -> Option<Arc<VerifiedClaims>> {
        let token = std::str::from_utf8(token).ok()?;
        let introspector = self.route(token)?;
        let entry = introspector.cache.get(&cache::digest(token))?;
        if !entry.fresh(Instant::now()) {
            return None;
        }
        introspector.reuse(entry).ok()
    }

    /// The introspector of `token`: the one, or the rule's pick.
    fn route(&self, token: &str) -> Option<&Introspector> {
        match &self.rule {
            None => self.introspectors.first(),
            Some(rule) => {
                let url = (rule.0)(token)?;
                self.introspectors.iter().find(|i| i.issuer == url)
            }
        }
    }
}

/// A call's verdict, and how long it may be cached (`None`: not at all).
type Judged = (Result<Arc<VerifiedClaims>, TokenError>, Option<Duration>);

/// One issuer's introspection: its endpoint, cache, bound and back-off.
struct Introspector {
    issuer: String,
    issuer_index: usize,
    audience: Option<Arc<str>>,
    client: EndpointClient,
    cache: ResultCache,
    in_flight: Semaphore,
    /// Until when calls are not made after a fault.
    backoff_until: Mutex<Option<Instant>>,
    timeout: Duration,
    retry_after_failure: Duration,
    leeway: i64,
    max_age: Duration,
    inactive_max_age: Duration,
}

impl Introspector {
    fn new(
        issuer_index: usize,
        issuer: &str,
        audience: Option<Arc<str>>,
        config: &Introspection,
        settings: &Settings,
    ) -> Result<Self, ConfigError> {
        if config.max_in_flight == 0 {
            return Err(ConfigError::InvalidIntrospection(
                "`max_in_flight` must be at least 1",
            ));
        }
        let client = EndpointClient::new(
            issuer,
            config,
            settings.client.clone(),
            settings.max_response_bytes,
        )?;
        Ok(Introspector {
            issuer: issuer.to_owned(),
            issuer_index,
            audience,
            client,
            cache: cache::new(config.cache_capacity),
            in_flight: Semaphore::new(config.max_in_flight.min(Semaphore::MAX_PERMITS)),
            backoff_until: Mutex::new(None),
            timeout: settings.timeout,
            retry_after_failure: settings.retry_after_failure,
            leeway: settings.leeway,
            max_age: config.max_age,
            inactive_max_age: config.inactive_max_age.min(config.max_age),
        })
    }

    async fn authenticate(
        &self,
        token: &str,
        metrics: &Metrics,
    ) -> Result<Arc<VerifiedClaims>, Error> {
        let key = cache::digest(token);
        // The hot path: a fresh result, no lock beyond the cache's shard.
        if let Some(entry) = self.cache.get(&key)
            && entry.fresh(Instant::now())
        {
            return self.reuse(entry);
        }
        // One loader per token; the others wait for its result. A stale
        // result is dropped first (at most twice: a racing loader's fresh
        // result is then used, or a call made without the guard).
        for _ in 0..2 {
            match self.cache.get_value_or_guard_async(&key).await {
                Ok(entry) if entry.fresh(Instant::now()) => return self.reuse(entry),
                Ok(_) => {
                    self.cache
                        .remove_if(&key, |entry| !entry.fresh(Instant::now()));
                }
                Err(guard) => {
                    let (outcome, keep_for) = self.call(token, metrics).await?;
                    if let Some(keep_for) = keep_for {
                        let entry = Entry {
                            until: Instant::now() + keep_for,
                            outcome: outcome.clone(),
                        };
                        let _ = guard.insert(entry);
                    }
                    return outcome.map_err(Error::from);
                }
            }
        }
        let (outcome, _) = self.call(token, metrics).await?;
        outcome.map_err(Error::from)
    }

    /// A cached result, the clock checked again (`nbf` may have come, the
    /// leeway may have run out).
    fn reuse(&self, entry: Entry) -> Result<Arc<VerifiedClaims>, Error> {
        let claims = entry.outcome?;
        check_time(claims.expires_at, claims.not_before, self.leeway)?;
        Ok(claims)
    }

    /// One introspection call, bounded: the verdict and how long it may be
    /// cached (`None`: not at all), or a 503 (a fault, the back-off, the
    /// bound on calls in flight), never cached.
    async fn call(&self, token: &str, metrics: &Metrics) -> Result<Judged, Error> {
        if let Some(wait) = self.backing_off() {
            return Err(unavailable(
                "the introspection endpoint failed recently",
                wait,
            ));
        }
        let Ok(_permit) = self.in_flight.try_acquire() else {
            return Err(Error::IntrospectionBusy {
                retry_after: Duration::from_secs(1),
            });
        };
        let started = Instant::now();
        let answer = tokio::time::timeout(self.timeout, self.client.introspect(token))
            .await
            .unwrap_or_else(|_| {
                Err(Fault {
                    error: ConfigError::Fetch {
                        url: "the introspection endpoint".to_owned(),
                        reason: crate::fetch::TIMED_OUT.to_owned(),
                    },
                    configuration: false,
                })
            });
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let body = answer.map_err(|fault| {
            metrics.introspection(observe::Introspection::Failed);
            self.failed(&fault.error, fault.configuration)
        })?;
        let verdict = response::parse(&body, &self.issuer).map_err(|reason| {
            metrics.introspection(observe::Introspection::Failed);
            let error = ConfigError::InvalidDocument {
                url: "the introspection endpoint".to_owned(),
                reason: reason.to_owned(),
            };
            self.failed(&error, false)
        })?;
        metrics.introspection(match verdict {
            Verdict::Active(_) => observe::Introspection::Active,
            Verdict::Refused(_) => observe::Introspection::Inactive,
        });
        tracing::debug!(issuer = %self.issuer, duration_ms, "introspected an opaque token");
        Ok(match verdict {
            Verdict::Active(raw) => match self.claims(raw, body) {
                Ok((claims, keep_for)) => (Ok(claims), keep_for),
                Err(e) => (Err(e), Some(self.inactive_max_age)),
            },
            Verdict::Refused(e) => (Err(e), Some(self.inactive_max_age)),
        })
    }

    /// The verified claims of an active answer, and how long to keep them:
    /// until the earlier of `exp` (no leeway) and the maximum age.
    fn claims(
        &self,
        raw: RawClaims,
        payload: Vec<u8>,
    ) -> Result<(Arc<VerifiedClaims>, Option<Duration>), TokenError> {
        let now = now();
        let max_age = i64::try_from(self.max_age.as_secs()).unwrap_or(i64::MAX);
        // Without `exp`, the token is taken to live as long as its result is used.
        let expires_at = raw.exp.unwrap_or_else(|| now.saturating_add(max_age));
        check_time(expires_at, raw.nbf, self.leeway)?;
        let keep_for = match raw.exp {
            Some(exp) => {
                let left = u64::try_from(exp.saturating_sub(now)).unwrap_or(0);
                self.max_age.min(Duration::from_secs(left))
            }
            None => self.max_age,
        };
        let claims = VerifiedClaims {
            issuer: self.issuer.clone(),
            sub: raw.sub,
            client_id: raw.client_id,
            organization_id: raw.organization_id,
            scopes: raw.scopes,
            audience: raw.audience,
            expires_at,
            not_before: raw.nbf,
            // No signing key: these are never compared for an introspected
            // token (only the JWT cache compares keys, and it never holds one).
            key_id: None,
            key_thumbprint: [0; 32],
            key_algorithm: crate::Algorithm::ES256,
            key_generation: 0,
            issuer_index: self.issuer_index,
            payload: payload.into_boxed_slice(),
            configured_audience: self.audience.clone(),
            confirmation: raw.confirmation,
        };
        Ok((Arc::new(claims), (!keep_for.is_zero()).then_some(keep_for)))
    }

    /// The time left in the back-off after a fault, if any.
    fn backing_off(&self) -> Option<Duration> {
        let until = (*lock(&self.backoff_until))?;
        until.checked_duration_since(Instant::now())
    }

    /// A fault: logged (a configuration error as an error an operator must
    /// fix), the back-off started, a 503.
    fn failed(&self, error: &ConfigError, configuration: bool) -> Error {
        if configuration {
            tracing::error!(issuer = %self.issuer, client_id = %self.client.client_id(), error = %error,
                "token introspection is misconfigured: fix the configuration");
        } else {
            tracing::warn!(issuer = %self.issuer, error = %error, "token introspection failed");
        }
        *lock(&self.backoff_until) = Some(Instant::now() + self.retry_after_failure);
        unavailable(error.to_string(), self.retry_after_failure)
    }
}

fn unavailable(reason: impl Into<Cow<'static, str>>, wait: Duration) -> Error {
    Error::IntrospectionUnavailable {
        reason: reason.into(),
        retry_after: client::retry_after(wait),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere mid-update of plain data.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
