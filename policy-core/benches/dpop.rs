//! Criterion benches of DPoP (BENCHMARKS.md, item 9 of issue 32), each beside
//! its baseline in the same run: a DPoP request with the token already
//! cached against the raw cost of verifying the proof's signature with
//! `jsonwebtoken` and against a cached bearer request; and the in-process
//! replay store's record against a token-cache hit.
//!
//! `cargo bench -p bearer-policy-core --bench dpop`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use bearer_policy_core::testing::{DpopKey, dpop_proof};
use bearer_policy_core::{InMemoryReplayStore, RequestHead, Requirements, Validator};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

use common::{AUDIENCE, Fixture, run_now};

const PUBLIC: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/orders";

fn head(authorization: String, proof: Option<String>) -> http::request::Parts {
    let mut request = http::Request::get("/orders").header("authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.body(()).unwrap().into_parts().0
}

/// The baseline a proof's check cannot go below: `jsonwebtoken` reading the
/// header, building the key from its `jwk`, verifying the ES256 signature.
fn raw_proof_signature(proof: &str) -> serde_json::Value {
    let header = decode_header(proof).unwrap();
    let key = DecodingKey::from_jwk(header.jwk.as_ref().unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    decode::<serde_json::Value>(proof, &key, &validation)
        .unwrap()
        .claims
}

fn dpop_request(c: &mut Criterion) {
    let fixture = Fixture::new();
    let validator: Validator = fixture
        .issuer
        .validator_builder(AUDIENCE)
        .dpop_public_url(PUBLIC)
        .dpop_replay_capacity(10_000_000)
        .build()
        .unwrap();
    let key = DpopKey::generate();
    let bound = fixture
        .issuer
        .token()
        .for_global_api(AUDIENCE)
        .bound_to(&key)
        .sign();
    let unbound = fixture.issuer.token().for_global_api(AUDIENCE).sign();
    let requirements = Requirements::authenticated();
    let authorize = |parts: &http::request::Parts| {
        run_now(
            &fixture.runtime,
            requirements.authorize(&validator, &RequestHead::from_parts(parts)),
        )
    };
    // Fill the cache with both tokens, and check that both paths accept.
    let proof = || dpop_proof(&key, "GET", URL, &bound, None);
    authorize(&head(format!("DPoP {bound}"), Some(proof()))).unwrap();
    let bearer = head(format!("Bearer {unbound}"), None);
    authorize(&bearer).unwrap();
    let sample = proof();
    raw_proof_signature(&sample);

    let mut group = c.benchmark_group("dpop");
    group.bench_function("raw_proof_signature", |b| {
        b.iter(|| raw_proof_signature(black_box(&sample)))
    });
    // The baseline under the DPoP row's own conditions: a fresh proof per
    // iteration, signed in the set-up between timings (which leaves the
    // caches cold for what is timed next).
    group.bench_function("raw_proof_signature_fresh", |b| {
        b.iter_batched(
            proof,
            |proof| raw_proof_signature(&proof),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("bearer_cache_hit", |b| {
        b.iter(|| authorize(black_box(&bearer)).unwrap())
    });
    group.bench_function("dpop_cache_hit", |b| {
        // A fresh proof per request (signing it is set-up, not measured).
        b.iter_batched(
            || head(format!("DPoP {bound}"), Some(proof())),
            |parts| authorize(&parts).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn replay_store(c: &mut Criterion) {
    let fixture = Fixture::new();
    let validator = fixture.issuer.validator_builder(AUDIENCE).build().unwrap();
    let token = fixture.issuer.token().for_global_api(AUDIENCE).sign();
    run_now(&fixture.runtime, validator.validate(&token)).unwrap();
    // Entries expire at once, so the store purges when full, as it must.
    let store = InMemoryReplayStore::new(100_000);
    let mut serial = 0u64;
    let mut group = c.benchmark_group("dpop_replay");
    group.bench_function("token_cache_hit", |b| {
        b.iter(|| run_now(&fixture.runtime, validator.validate(black_box(&token))).unwrap())
    });
    group.bench_function("in_memory_record", |b| {
        b.iter_batched(
            || {
                serial += 1;
                format!("{serial:022}")
            },
            |jti| store.record_now(&jti, Duration::ZERO).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, dpop_request, replay_store);
criterion_main!(benches);
