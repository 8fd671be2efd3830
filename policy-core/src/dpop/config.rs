//! DPoP's settings: the builder's methods ([`ValidatorBuilder::dpop`] and
//! the others named `dpop_…`), each with its default, and the rules a built
//! validator checks proofs with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::DpopMode;
use super::challenge::DpopChallenge;
use super::htu::PublicUrls;
use super::nonce::NonceIssuer;
use super::replay::{InMemoryReplayStore, ReplayGuard, ReplayStore};
use crate::algorithm::Algorithm;
use crate::error::ConfigError;
use crate::validator::ValidatorBuilder;

/// The DPoP settings as the builder collects them.
#[derive(Clone, Default)]
pub(crate) struct DpopConfig {
    mode: DpopMode,
    public_urls: Vec<String>,
    algorithms: Option<Vec<Algorithm>>,
    max_age: Option<Duration>,
    max_ahead: Option<Duration>,
    replay: Option<Arc<dyn ReplayStore>>,
    replay_capacity: Option<usize>,
    nonce: Option<(Arc<[u8]>, Duration)>,
}

impl fmt::Debug for DpopConfig {
    // The nonce secret stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopConfig")
            .field("mode", &self.mode)
            .field("public_urls", &self.public_urls)
            .field("algorithms", &self.algorithms)
            .field("nonce", &self.nonce.is_some())
            .finish_non_exhaustive()
    }
}

/// What a built validator checks proofs with.
pub(crate) struct DpopRules {
    pub mode: DpopMode,
    /// Whether the `DPoP` scheme may be accepted at all: the validator's
    /// mode or an issuer's allows it.
    pub accepts_dpop: bool,
    /// Whether the `Bearer` scheme may be accepted: for the challenge.
    pub accepts_bearer: bool,
    pub public_urls: PublicUrls,
    pub algorithms: Vec<Algorithm>,
    /// `algs="…"` of the challenge.
    pub algs: Arc<str>,
    /// The oldest a proof may be, and the furthest ahead, in seconds.
    pub max_age: i64,
    pub max_ahead: i64,
    pub replay: ReplayGuard,
    pub nonce: Option<NonceIssuer>,
}

impl DpopRules {
    /// What a refusal of a request needs for its challenge, if the `DPoP`
    /// scheme is offered; `dpop_request`: the request used it.
    pub fn challenge(&self, dpop_request: bool, nonce: bool) -> Option<DpopChallenge> {
        self.accepts_dpop.then(|| DpopChallenge {
            algs: Arc::clone(&self.algs),
            accepts_bearer: self.accepts_bearer,
            dpop_request,
            nonce: match (nonce, &self.nonce) {
                (true, Some(nonces)) => Some(nonces.current(crate::validator::verify::now())),
                _ => None,
            },
        })
    }
}

impl DpopConfig {
    /// The rules, judged once: `algorithms` and `leeway` are the
    /// validator's; `issuer_modes` the issuers' own modes.
    pub fn build(
        self,
        algorithms: &[Algorithm],
        leeway: Duration,
        issuer_modes: &[Option<DpopMode>],
    ) -> Result<DpopRules, ConfigError> {
        let algorithms = self.algorithms.unwrap_or_else(|| algorithms.to_vec());
        if algorithms.is_empty() || algorithms.iter().any(|a| a.is_hmac()) {
            return Err(ConfigError::InvalidDpop(
                "the proof algorithms must be asymmetric, and at least one".into(),
            ));
        }
        let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let nonce = match self.nonce {
            Some((secret, _)) if secret.len() < NonceIssuer::MIN_SECRET_LEN => {
                return Err(ConfigError::InvalidDpop(format!(
                    "the nonce secret must have at least {} bytes",
                    NonceIssuer::MIN_SECRET_LEN
                )));
            }
            Some((secret, window)) => Some(NonceIssuer::new(&secret, window)),
            None => None,
        };
        let modes = || {
            std::iter::once(self.mode).chain(issuer_modes.iter().map(|m| m.unwrap_or(self.mode)))
        };
        let public_urls = PublicUrls::parse(&self.public_urls)?;
        if public_urls.is_empty() && modes().any(|mode| mode == DpopMode::Required) {
            return Err(ConfigError::InvalidDpop(
                "DPoP is required but no public URL is configured (`dpop_public_url`): no \
                 proof could be checked"
                    .into(),
            ));
        }
        // Without a public URL no proof's `htu` can be checked: the `DPoP`
        // scheme is then not offered (bound tokens are still refused as bearer).
        let accepts_dpop =
            !public_urls.is_empty() && modes().any(|mode| mode != DpopMode::Disabled);
        let accepts_bearer = modes().any(|mode| mode != DpopMode::Required);
        let algs = algorithms
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(DpopRules {
            mode: self.mode,
            accepts_dpop,
            accepts_bearer,
            public_urls,
            algs: Arc::from(algs),
            algorithms,
            max_age: seconds(self.max_age.unwrap_or(Duration::from_secs(300))),
            max_ahead: seconds(self.max_ahead.unwrap_or(leeway)),
            replay: match self.replay {
                Some(store) => ReplayGuard::Shared(store),
                None => ReplayGuard::Memory(Arc::new(InMemoryReplayStore::new(
                    self.replay_capacity
                        .unwrap_or(InMemoryReplayStore::DEFAULT_CAPACITY),
                ))),
            },
            nonce,
        })
    }
}

impl ValidatorBuilder {
    /// Which schemes are accepted: [`DpopMode::Allowed`] (the default)
    /// accepts bound tokens under `DPoP` with a proof and unbound ones as
    /// `Bearer`; [`DpopMode::Required`] only the former;
    /// [`DpopMode::Disabled`] refuses the `DPoP` scheme. A bound token is
    /// never accepted as `Bearer`. An issuer may have its own
    /// ([`Issuer::dpop`](crate::Issuer::dpop)), and a route may require
    /// DPoP ([`Policy::dpop`](crate::Policy::dpop)).
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.dpop.mode = mode;
        self
    }

    /// A public base URL of this service, as clients call it (repeat for
    /// several): a proof's `htu` must be this base followed by the
    /// request's path, after RFC 3986 normalisation. A base may carry a
    /// path prefix that a proxy in front strips (`https://example.com/api`).
    /// The request's `Host` and `X-Forwarded-*` headers are never used.
    /// Default: none, and then the `DPoP` scheme is not offered (refused as
    /// `unsupported_scheme`; `required` is a build error).
    pub fn dpop_public_url(mut self, url: impl Into<String>) -> Self {
        self.dpop.public_urls.push(url.into());
        self
    }

    /// The algorithms a proof may be signed with. Default: the validator's
    /// [`algorithms`](Self::algorithms) (every asymmetric one unless
    /// narrowed); HMAC is refused at build time.
    pub fn dpop_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.dpop.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// How old (by its `iat`) a proof may be, and how far ahead of the
    /// clock. Default: 5 minutes old, and the validator's
    /// [`leeway`](Self::leeway) (60 s) ahead. Accepted proofs are
    /// remembered for as long as they could be accepted.
    pub fn dpop_proof_lifetime(mut self, max_age: Duration, max_ahead: Duration) -> Self {
        self.dpop.max_age = Some(max_age);
        self.dpop.max_ahead = Some(max_ahead);
        self
    }

    /// Where the `jti`s of accepted proofs are remembered: share one store
    /// between replicas (`RedisReplayStore`, feature `redis`) so that a proof
    /// replayed to another replica is refused. Default: an
    /// [`InMemoryReplayStore`] of this process.
    pub fn dpop_replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.dpop.replay = Some(store);
        self
    }

    /// The capacity of the default in-process replay store; when it is full
    /// of unexpired proofs, new proofs are refused with 503. Default: 100,000.
    pub fn dpop_replay_capacity(mut self, proofs: usize) -> Self {
        self.dpop.replay_capacity = Some(proofs);
        self
    }

    /// Requires server nonces (RFC 9449 §8): a proof must carry a `nonce`
    /// issued in the current `window` or the one before, else the answer is
    /// 401 `use_dpop_nonce` with a fresh one in `DPoP-Nonce`. Nonces are an
    /// HMAC of the window under `secret` (at least 32 random bytes): replicas
    /// given the same secret agree without sharing state. Default: no nonce.
    pub fn dpop_nonce(mut self, secret: impl AsRef<[u8]>, window: Duration) -> Self {
        self.dpop.nonce = Some((Arc::from(secret.as_ref()), window));
        self
    }
}
