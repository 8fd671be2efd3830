//! What an operator sees of the authorize path: the counters and histograms
//! of the `metrics` feature ([`Metrics`], [`IssuerMetrics`]: one method per
//! event, empty without the feature, so call sites carry no `cfg`) and the
//! `tracing` spans of an authorization and of a key-set refresh. Every front
//! end and every token kind reports through here, the same way.
//!
//! Labels and span fields come from the program and its configuration only:
//! outcomes and error codes (`&'static str`), `#[requires]` handler paths,
//! configured issuer URLs. Never a token, a subject, a client or an
//! organization id: they are unbounded and personal.
//!
//! Handles are registered when the validator is built, with the recorder
//! installed then, so the cache-hit path only increments them (no lookup, no
//! allocation) and a key refresh on another task counts where the requests
//! do. Refusals register their bounded label set as they happen.

#[cfg(not(feature = "metrics"))]
mod off;
#[cfg(feature = "metrics")]
mod recorded;

#[cfg(not(feature = "metrics"))]
pub(crate) use off::{IssuerMetrics, Metrics};
#[cfg(feature = "metrics")]
pub(crate) use recorded::{IssuerMetrics, Metrics};

use tracing::Span;
use tracing::field::Empty;

use crate::declaration::declared;
use crate::error::{ConfigError, Error};
use crate::policy::Policy;

/// The metric names, each documented in the operating guide.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) mod names {
    pub const DECISIONS: &str = "bearer_policy_decisions_total";
    pub const TOKEN_CACHE: &str = "bearer_policy_token_cache_lookups_total";
    pub const VERIFICATION: &str = "bearer_policy_verification_duration_seconds";
    pub const KEY_FETCHES: &str = "bearer_policy_key_fetches_total";
    pub const KEY_FETCH_DURATION: &str = "bearer_policy_key_fetch_duration_seconds";
    pub const KEYS_CHANGED: &str = "bearer_policy_keys_changed_total";
    pub const KEYS_REFUSED: &str = "bearer_policy_keys_refused_total";
    pub const KEY_SETS_REFUSED: &str = "bearer_policy_key_sets_refused_total";
    pub const KEYS_LOADED: &str = "bearer_policy_keys_loaded";
    pub const INTROSPECTIONS: &str = "bearer_policy_introspections_total";
}

/// The `#[requires]` declaration a route's requirements come from: the
/// bounded `policy` label of its decisions. Run-time policies have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolicyLabel {
    /// Its position in [`declared()`], where the validator keeps its handle.
    pub index: usize,
    /// The handler's path, e.g. `my_api::routes::org_data`.
    pub name: &'static str,
}

impl PolicyLabel {
    /// The declaration whose policies `policies` are (the same static, not
    /// equal ones), if any. Once per route, never per request.
    pub fn of(policies: &[Policy]) -> Option<PolicyLabel> {
        if policies.is_empty() {
            return None;
        }
        declared()
            .into_iter()
            .enumerate()
            .find(|(_, d)| {
                std::ptr::eq(d.policies().as_ptr(), policies.as_ptr())
                    && d.policies().len() == policies.len()
            })
            .map(|(index, d)| PolicyLabel {
                index,
                name: d.function(),
            })
    }

    /// The label's value: the handler path, or empty.
    pub fn name(label: Option<PolicyLabel>) -> &'static str {
        label.map_or("", |l| l.name)
    }
}

/// A decision's `outcome` and `code` labels: `allowed`/`ok`, `refused` with
/// the error's code (400, 401, 403), `unavailable` with it (503: a server we
/// depend on failed).
pub(crate) fn outcome(result: Result<(), &Error>) -> (&'static str, &'static str) {
    match result {
        Ok(()) => ("allowed", "ok"),
        Err(e) if e.status() == http::StatusCode::SERVICE_UNAVAILABLE => ("unavailable", e.code()),
        Err(e) => ("refused", e.code()),
    }
}

/// How a key-set fetch ended: `ok`; `failed` when the issuer did not answer
/// (connection, timeout, HTTP status); `refused` when it answered with a
/// document we refuse (the old keys stay), with why.
pub(crate) fn fetch_outcome(
    result: Result<usize, &ConfigError>,
) -> (&'static str, Option<&'static str>) {
    match result {
        Ok(_) => ("ok", None),
        Err(ConfigError::Fetch { .. }) => ("failed", None),
        Err(e) => ("refused", Some(refusal_reason(e))),
    }
}

/// The `reason` label of a refused key set.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) fn refusal_reason(error: &ConfigError) -> &'static str {
    match error {
        ConfigError::InvalidDocument { .. } => "invalid_document",
        ConfigError::IssuerMismatch { .. } => "issuer_mismatch",
        ConfigError::InvalidUrl { .. } => "insecure_url",
        ConfigError::InvalidKeys { .. } => "invalid_keys",
        _ => "other",
    }
}

/// How a token introspection call (RFC 7662) ended: the `outcome` label of
/// `bearer_policy_introspections_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // reported by the introspection verifier, when it lands
pub(crate) enum Introspection {
    /// The server answered `"active": true`.
    Active,
    /// The server answered `"active": false`: the token is refused.
    Inactive,
    /// No usable answer (connection, timeout, status, document).
    Failed,
}

impl Introspection {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) const ALL: [Introspection; 3] = [
        Introspection::Active,
        Introspection::Inactive,
        Introspection::Failed,
    ];

    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Introspection::Active => "active",
            Introspection::Inactive => "inactive",
            Introspection::Failed => "failed",
        }
    }
}

/// The span of one authorization, at `debug` (quiet by default): the
/// route's `policy` now; `decision`, `code` and `issuer` once decided.
pub(crate) fn authorize_span(policy: Option<PolicyLabel>) -> Span {
    tracing::debug_span!(
        "authorize",
        policy = PolicyLabel::name(policy),
        decision = Empty,
        code = Empty,
        issuer = Empty,
    )
}

/// Records the decision on `span`: labels only, never the token or a claim.
pub(crate) fn record_decision(span: &Span, result: Result<(), &Error>) {
    if span.is_disabled() {
        return;
    }
    let (decision, code) = outcome(result);
    span.record("decision", decision);
    span.record("code", code);
}

/// Records the configured issuer whose keys verified the token.
pub(crate) fn record_issuer(span: &Span, configured: Option<&str>) {
    if let Some(issuer) = configured {
        span.record("issuer", issuer);
    }
}

/// The span of one key-set fetch of `issuer` (its configured URL), at
/// `debug`: its own root, as the fetch is shared by every request waiting.
pub(crate) fn key_refresh_span(issuer: &str) -> Span {
    tracing::debug_span!(parent: None, "key_set_refresh", issuer, outcome = Empty, keys = Empty)
}

/// Records how a key-set fetch ended on its span.
pub(crate) fn record_refresh(span: &Span, result: &Result<usize, ConfigError>) {
    span.record("outcome", fetch_outcome(result.as_ref().copied()).0);
    if let Ok(keys) = result {
        span.record("keys", keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Denied, RequestError, TokenError};
    use crate::policy::Model;

    #[test]
    fn outcomes_follow_the_status_and_codes_are_the_errors() {
        assert_eq!(outcome(Ok(())), ("allowed", "ok"));
        let refused = [
            (Error::MissingAuthorization, "missing_authorization"),
            (RequestError::EmptyToken.into(), "empty_token"),
            (TokenError::InvalidSignature.into(), "invalid_signature"),
            (Denied::WrongAudience.into(), "wrong_audience"),
        ];
        for (error, code) in refused {
            assert_eq!(outcome(Err(&error)), ("refused", code));
        }
        let unavailable = Error::KeysUnavailable {
            reason: "down".into(),
            retry_after: std::time::Duration::from_secs(1),
        };
        assert_eq!(
            outcome(Err(&unavailable)),
            ("unavailable", "keys_unavailable")
        );
    }

    #[test]
    fn fetch_outcomes_tell_an_issuer_down_from_a_document_refused() {
        let fetch = ConfigError::Fetch {
            url: "https://issuer.example/jwks".into(),
            reason: "HTTP status 500".into(),
        };
        assert_eq!(fetch_outcome(Ok(2)), ("ok", None));
        assert_eq!(fetch_outcome(Err(&fetch)), ("failed", None));
        let document = ConfigError::InvalidDocument {
            url: "https://issuer.example/jwks".into(),
            reason: "no usable signing key".into(),
        };
        assert_eq!(
            fetch_outcome(Err(&document)),
            ("refused", Some("invalid_document"))
        );
    }

    #[test]
    fn only_a_declarations_own_policies_carry_its_name() {
        // Equal policies are not the declaration's: a label names code, so
        // it must come from the static the declaration registered.
        let policy = [Policy::new(Model::GlobalApi).scopes(["api:read"])];
        assert_eq!(PolicyLabel::of(&policy), None);
        assert_eq!(PolicyLabel::of(&[]), None);
        assert_eq!(PolicyLabel::name(None), "");
    }
}
