//! Shared set-up of the benches: one `TestIssuer` with an RS256, an ES256 and
//! an EdDSA key, tokens signed by each, and the validators to check them.

#![allow(dead_code)] // each bench binary uses its own subset

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bearer_policy_core::testing::TestIssuer;
use bearer_policy_core::{Algorithm, Model, Policy, Validator};
use jsonwebtoken::{DecodingKey, Validation};

/// The API resource indicator the tokens are issued for.
pub const AUDIENCE: &str = "https://api.example.com";

/// The algorithms measured, in report order.
pub const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// The claims a typical `jsonwebtoken` user decodes into.
#[derive(Debug, serde::Deserialize)]
pub struct RawClaims {
    pub sub: String,
    pub client_id: String,
    pub scope: String,
    pub exp: i64,
}

/// Everything a bench needs for one algorithm.
pub struct Case {
    pub alg: Algorithm,
    pub token: String,
    pub decoding_key: DecodingKey,
    pub validation: Validation,
}

/// The issuer, a runtime to serve it, one case per algorithm, and validators.
pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub issuer: TestIssuer,
    pub cases: Vec<Case>,
    /// `cache_capacity(0)`.
    pub uncached: Validator,
    /// The default cache.
    pub cached: Validator,
    /// The policy of the protected route: global API, `api:read`.
    pub policy: Policy,
}

impl Fixture {
    pub fn new() -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let issuer = runtime.block_on(TestIssuer::with_algorithms(&ALGORITHMS));
        let kids = issuer.kids();
        let cases = ALGORITHMS
            .iter()
            .zip(&kids)
            .map(|(&alg, kid)| {
                let token = issuer
                    .token()
                    .kid(kid)
                    .for_global_api(AUDIENCE)
                    .scopes(["api:read", "api:write"])
                    .sign();
                // The baseline: jsonwebtoken with its own name for the same algorithm.
                let mut validation = Validation::new(alg.as_str().parse().expect("a JWS name"));
                validation.set_issuer(&[issuer.issuer()]);
                validation.set_audience(&[AUDIENCE]);
                Case {
                    alg,
                    token,
                    decoding_key: issuer.decoding_key(kid).expect("the issuer's own key"),
                    validation,
                }
            })
            .collect();
        let uncached = issuer
            .validator_builder(AUDIENCE)
            .cache_capacity(0)
            .build()
            .expect("valid configuration");
        let cached = issuer.validator(AUDIENCE);
        runtime.block_on(async {
            uncached.ready().await.expect("keys fetched");
            cached.ready().await.expect("keys fetched");
        });
        Fixture {
            runtime,
            issuer,
            cases,
            uncached,
            cached,
            policy: Policy::new(Model::GlobalApi).scopes(["api:read"]),
        }
    }

    /// The case for `alg`.
    pub fn case(&self, alg: Algorithm) -> &Case {
        self.cases
            .iter()
            .find(|c| c.alg == alg)
            .expect("every measured algorithm has a case")
    }
}

/// Runs a future that does not wait for I/O (validation with the keys
/// loaded) on the calling thread, with no executor in between; falls back to
/// the runtime if it ever has to wait.
pub fn run_now<F: Future>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output {
    let _context = runtime.enter();
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => runtime.block_on(future),
    }
}

/// Our full check: validate the token, then the route's policy.
pub fn validate_and_check(fixture: &Fixture, validator: &Validator, token: &str) {
    let auth = run_now(&fixture.runtime, validator.validate(token)).expect("a valid token");
    fixture
        .policy
        .decide(&auth, None)
        .expect("the token has the scope");
}

/// The baseline: `jsonwebtoken::decode` into a typical claims struct.
pub fn raw_decode(case: &Case) -> RawClaims {
    jsonwebtoken::decode::<RawClaims>(&case.token, &case.decoding_key, &case.validation)
        .expect("a valid token")
        .claims
}
