//! The issuer side of a test: the audience of the API under test, a
//! `TestIssuer` that starts quickly, and validator timings short enough that
//! failure paths do not slow the suite.

use std::time::Duration;

use bearer_policy::testing::TestIssuer;
use bearer_policy::{Algorithm, ValidatorBuilder};

/// The audience (resource indicator) of the API every test protects.
pub const API: &str = "https://api.example.com";

/// The request timeout of [`fast_timings`]: a test bounding how long a
/// misbehaving issuer may hold a request measures against it.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// How long a validator built with [`fast_timings`] leaves an issuer alone
/// after a failed fetch: a test that waits for the next attempt sleeps past it.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(300);

/// A `TestIssuer` with one ES256 key: much faster to generate than RSA in
/// unoptimised builds.
pub async fn start_issuer() -> TestIssuer {
    TestIssuer::with_algorithms(&[Algorithm::ES256]).await
}

/// A validator trusting `issuer` for [`API`], with [`fast_timings`].
pub fn fast(issuer: &TestIssuer) -> ValidatorBuilder {
    fast_timings(issuer.validator_builder(API))
}

/// Short connect and request timeouts and a short back-off after a failed
/// fetch, so that an unreachable or broken issuer answers within a second.
pub fn fast_timings(builder: ValidatorBuilder) -> ValidatorBuilder {
    builder
        .connect_timeout(Duration::from_millis(500))
        .timeout(TIMEOUT)
        .retry_after_failure(RETRY_AFTER_FAILURE)
}

/// Requests an issuer has served: discovery and JWKS.
pub fn issuer_requests(issuer: &TestIssuer) -> usize {
    issuer.discovery_requests() + issuer.jwks_requests()
}
