//! Without the `metrics` feature: the same calls, empty, so that call sites
//! carry no `cfg` and nothing of the metrics is compiled.

use super::{Introspection, PolicyLabel};
use crate::error::{ConfigError, Error};
use crate::jwks::KeySet;

/// Nothing is timed.
#[derive(Clone, Copy)]
pub(crate) struct Timer;

/// No handles.
pub(crate) struct Metrics;

#[allow(clippy::unused_self)]
impl Metrics {
    pub fn new() -> Self {
        Metrics
    }

    pub fn decision(&self, _policy: Option<PolicyLabel>, _result: Result<(), &Error>) {}

    pub fn cache_hit(&self) {}

    pub fn cache_miss(&self) {}

    pub fn timer(&self) -> Timer {
        Timer
    }

    pub fn verification(&self, _timer: Timer, _verified: bool) {}

    pub fn introspection(&self, _outcome: Introspection) {}
}

/// No handles.
pub(crate) struct IssuerMetrics;

#[allow(clippy::unused_self)]
impl IssuerMetrics {
    pub fn new(_issuer: &str) -> Self {
        IssuerMetrics
    }

    pub fn timer(&self) -> Timer {
        Timer
    }

    pub fn fetch(&self, _timer: Timer, _result: Result<usize, &ConfigError>) {}

    pub fn reload_refused(&self, _error: &ConfigError) {}

    pub fn published(&self, _previous: &KeySet, _next: &KeySet) {}

    pub fn loaded(&self, _keys: &KeySet) {}
}
