//! The readiness report: for each trusted issuer, whether its keys are
//! loaded, when they were last fetched, the latest error and the next
//! refresh. Framework-neutral and serializable, for a `/ready` route or a
//! health check; [`Validator::ready`](crate::Validator::ready) is the
//! start-up check that fetches, [`Validator::readiness`](crate::Validator::readiness)
//! reports without any I/O.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Every trusted issuer's readiness, in configured order
/// ([`Validator::readiness`](crate::Validator::readiness)).
///
/// Serialises as `{"ready": true, "issuers": [{"issuer": "https://…", …}]}`.
/// It names each issuer by its configured URL and, in `last_error`, the URL
/// and the reason of the latest failed fetch: serve it where those may be
/// seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReadinessReport {
    /// Whether every issuer has keys: requests for each of them can be
    /// decided now.
    pub ready: bool,
    /// Each issuer, in the order configured.
    pub issuers: Vec<IssuerReadiness>,
}

impl ReadinessReport {
    pub(crate) fn new(issuers: Vec<IssuerReadiness>) -> Self {
        ReadinessReport {
            ready: issuers.iter().all(|issuer| issuer.ready),
            issuers,
        }
    }
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeysSource {
    /// Fetched from the issuer (discovery or a JWKS URI), and refreshed.
    Fetched,
    /// Given to the builder ([`StaticKeys`](crate::StaticKeys)): never fetched.
    Static,
}

/// One issuer's readiness. Times are Unix times in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IssuerReadiness {
    /// The issuer, as configured.
    pub issuer: String,
    /// Where its keys come from.
    pub keys_source: KeysSource,
    /// Whether it has keys: its tokens can be verified now.
    pub ready: bool,
    /// How many usable keys it has.
    pub keys: usize,
    /// When its keys were last fetched successfully (fetched keys).
    pub last_success_at: Option<u64>,
    /// When a fetch last failed, if one ever did (fetched keys).
    pub last_error_at: Option<u64>,
    /// Why that fetch failed: the URL and the reason, never a token.
    pub last_error: Option<String>,
    /// When its keys are refreshed next (fetched keys, once loaded; an
    /// unknown `kid` may refetch them earlier).
    pub next_refresh_at: Option<u64>,
}

impl IssuerReadiness {
    pub(crate) fn new(issuer: &str, ready: bool, keys: usize) -> Self {
        IssuerReadiness {
            issuer: issuer.to_owned(),
            keys_source: KeysSource::Static,
            ready,
            keys,
            last_success_at: None,
            last_error_at: None,
            last_error: None,
            next_refresh_at: None,
        }
    }
}

/// `at` as a Unix time in whole seconds (0 before 1970).
pub(crate) fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
