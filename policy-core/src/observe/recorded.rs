//! The `metrics` feature: handles registered once, incremented per event.

use std::sync::Arc;
use std::time::Instant;

use metrics::{Counter, Gauge, Histogram, Unit};

use super::names::*;
use super::{Introspection, PolicyLabel, fetch_outcome, outcome, refusal_reason};
use crate::declaration::declared;
use crate::error::{ConfigError, Error};
use crate::jwks::KeySet;

/// When a timed step began.
#[derive(Clone, Copy)]
pub(crate) struct Timer(Instant);

impl Timer {
    fn seconds(self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// The validator's handles: decisions allowed (by declaration), the token
/// cache, verification time, introspection calls.
pub(crate) struct Metrics {
    /// By position in [`declared()`]: the allowed decisions of each
    /// `#[requires]` declaration.
    allowed: Box<[Counter]>,
    /// Allowed decisions of run-time policies and authentication alone.
    allowed_unnamed: Counter,
    cache_hit: Counter,
    cache_miss: Counter,
    verified: Histogram,
    verification_refused: Histogram,
    introspections: [Counter; 3],
}

impl Metrics {
    /// Describes every metric and registers the handles, with the recorder
    /// installed now.
    pub fn new() -> Self {
        describe();
        let allowed = |policy: &'static str| metrics::counter!(DECISIONS, "outcome" => "allowed", "code" => "ok", "policy" => policy);
        Metrics {
            allowed: declared().iter().map(|d| allowed(d.function())).collect(),
            allowed_unnamed: allowed(""),
            cache_hit: metrics::counter!(TOKEN_CACHE, "result" => "hit"),
            cache_miss: metrics::counter!(TOKEN_CACHE, "result" => "miss"),
            verified: metrics::histogram!(VERIFICATION, "outcome" => "verified"),
            verification_refused: metrics::histogram!(VERIFICATION, "outcome" => "refused"),
            introspections: Introspection::ALL
                .map(|o| metrics::counter!(INTROSPECTIONS, "outcome" => o.label())),
        }
    }

    /// One decision of [`Requirements::authorize`](crate::Requirements::authorize).
    pub fn decision(&self, policy: Option<PolicyLabel>, result: Result<(), &Error>) {
        if result.is_ok() {
            let named = policy.and_then(|label| self.allowed.get(label.index));
            named.unwrap_or(&self.allowed_unnamed).increment(1);
            return;
        }
        let (outcome, code) = outcome(result);
        metrics::counter!(
            DECISIONS,
            "outcome" => outcome,
            "code" => code,
            "policy" => PolicyLabel::name(policy),
        )
        .increment(1);
    }

    /// A token the cache decided (its signature not checked again).
    pub fn cache_hit(&self) {
        self.cache_hit.increment(1);
    }

    /// A token the cache did not hold: fully verified.
    pub fn cache_miss(&self) {
        self.cache_miss.increment(1);
    }

    /// Starts timing a step.
    pub fn timer(&self) -> Timer {
        Timer(Instant::now())
    }

    /// A full verification (a cache miss) ended, `verified` or refused.
    pub fn verification(&self, timer: Timer, verified: bool) {
        let histogram = match verified {
            true => &self.verified,
            false => &self.verification_refused,
        };
        histogram.record(timer.seconds());
    }

    /// A token introspection call ended.
    pub fn introspection(&self, outcome: Introspection) {
        let index = Introspection::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        if let Some(counter) = self.introspections.get(index) {
            counter.increment(1);
        }
    }
}

/// One issuer's handles, labelled with its configured URL.
pub(crate) struct IssuerMetrics {
    issuer: Arc<str>,
    fetches: [Counter; 3],
    fetch_duration: Histogram,
    added: Counter,
    removed: Counter,
    loaded: Gauge,
}

const FETCH_OUTCOMES: [&str; 3] = ["ok", "failed", "refused"];

impl IssuerMetrics {
    /// The handles of `issuer`, as configured.
    pub fn new(issuer: &str) -> Self {
        // Shared by every label of this issuer: no copy per refusal.
        let issuer: Arc<str> = Arc::from(issuer);
        let label = || Arc::clone(&issuer);
        IssuerMetrics {
            fetches: FETCH_OUTCOMES
                .map(|o| metrics::counter!(KEY_FETCHES, "issuer" => label(), "outcome" => o)),
            fetch_duration: metrics::histogram!(KEY_FETCH_DURATION, "issuer" => label()),
            added: metrics::counter!(KEYS_CHANGED, "issuer" => label(), "change" => "added"),
            removed: metrics::counter!(KEYS_CHANGED, "issuer" => label(), "change" => "removed"),
            loaded: metrics::gauge!(KEYS_LOADED, "issuer" => label()),
            issuer,
        }
    }

    /// Starts timing a fetch.
    pub fn timer(&self) -> Timer {
        Timer(Instant::now())
    }

    /// A key-set fetch ended: its outcome, its duration, and why a document
    /// was refused.
    pub fn fetch(&self, timer: Timer, result: Result<usize, &ConfigError>) {
        self.fetch_duration.record(timer.seconds());
        let (outcome, refused) = fetch_outcome(result);
        let index = FETCH_OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        if let Some(counter) = self.fetches.get(index) {
            counter.increment(1);
        }
        if let Some(reason) = refused {
            self.key_set_refused(reason);
        }
    }

    /// A key set was refused whole (the old keys stay): a fetched document,
    /// or given keys that a reload refused.
    fn key_set_refused(&self, reason: &'static str) {
        metrics::counter!(KEY_SETS_REFUSED, "issuer" => Arc::clone(&self.issuer), "reason" => reason)
            .increment(1);
    }

    /// Given keys that a reload refused.
    pub fn reload_refused(&self, error: &ConfigError) {
        self.key_set_refused(refusal_reason(error));
    }

    /// `next` replaces `previous`: keys added and removed (by key material),
    /// keys of `next`'s document dropped and why, and the keys loaded now.
    pub fn published(&self, previous: &KeySet, next: &KeySet) {
        let (old, new): (Vec<_>, Vec<_>) = (
            previous.thumbprints().collect(),
            next.thumbprints().collect(),
        );
        let count = |of: &[[u8; 32]], missing_from: &[[u8; 32]]| {
            of.iter().filter(|t| !missing_from.contains(t)).count() as u64
        };
        self.added.increment(count(&new, &old));
        self.removed.increment(count(&old, &new));
        self.loaded.set(next.len() as f64);
        for (reason, keys) in next.report.reasons() {
            if keys > 0 {
                metrics::counter!(KEYS_REFUSED, "issuer" => Arc::clone(&self.issuer), "reason" => reason)
                    .increment(keys as u64);
            }
        }
    }

    /// The keys loaded when the store was built (given keys).
    pub fn loaded(&self, keys: &KeySet) {
        self.loaded.set(keys.len() as f64);
    }
}

/// Names, units and meanings, as the exporter shows them.
fn describe() {
    metrics::describe_counter!(
        DECISIONS,
        "Authorization decisions, by outcome (allowed, refused, unavailable), error code and policy"
    );
    metrics::describe_counter!(
        TOKEN_CACHE,
        "Verified-token cache lookups: hit (signature not checked again) or miss (verified)"
    );
    metrics::describe_histogram!(
        VERIFICATION,
        Unit::Seconds,
        "Time to verify a token the cache did not hold, by outcome"
    );
    metrics::describe_counter!(
        KEY_FETCHES,
        "Key-set fetches, by issuer and outcome (ok, failed, refused)"
    );
    metrics::describe_histogram!(
        KEY_FETCH_DURATION,
        Unit::Seconds,
        "Key-set fetch time, by issuer"
    );
    metrics::describe_counter!(
        KEYS_CHANGED,
        "Keys added to or removed from an issuer's set"
    );
    metrics::describe_counter!(
        KEYS_REFUSED,
        "Keys dropped from an accepted key set, by issuer and reason"
    );
    metrics::describe_counter!(
        KEY_SETS_REFUSED,
        "Key sets refused whole (the previous keys stay), by issuer and reason"
    );
    metrics::describe_gauge!(KEYS_LOADED, "Keys an issuer's set holds now");
    metrics::describe_counter!(INTROSPECTIONS, "Token introspection calls, by outcome");
}
