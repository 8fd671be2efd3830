//! Criterion benches of the request path, each beside its baseline in the
//! same run: raw `jsonwebtoken::decode` per algorithm against our validate +
//! policy check with the cache off and with a cache hit; bearer extraction +
//! policy check alone; and a warp route without and with authentication.
//!
//! `cargo bench -p policy-core --bench validate`; `scripts/bench.sh` runs it
//! with short timings and prints the ratios.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// benchmark set-up, not library code
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use policy_core::warp::{authorize, recover};
use policy_core::{BearerConfig, extract_bearer};
use warp::Filter as _;

use common::{ALGORITHMS, AUDIENCE, Fixture, raw_decode, run_now, validate_and_check};

fn per_algorithm(c: &mut Criterion) {
    let fixture = Fixture::new();
    for alg in ALGORITHMS {
        let case = fixture.case(alg);
        // Fill the cache (and check that both paths accept the token).
        validate_and_check(&fixture, &fixture.cached, &case.token);
        validate_and_check(&fixture, &fixture.uncached, &case.token);
        raw_decode(case);

        let mut group = c.benchmark_group(format!("{alg:?}"));
        group.bench_function("raw_decode", |b| b.iter(|| raw_decode(black_box(case))));
        group.bench_function("cache_off", |b| {
            b.iter(|| validate_and_check(&fixture, &fixture.uncached, black_box(&case.token)))
        });
        group.bench_function("cache_hit", |b| {
            b.iter(|| validate_and_check(&fixture, &fixture.cached, black_box(&case.token)))
        });
        group.finish();
    }
}

fn bearer_and_check(c: &mut Criterion) {
    let fixture = Fixture::new();
    let token = &fixture.cases[0].token;
    let auth = run_now(&fixture.runtime, fixture.cached.validate(token)).unwrap();
    let header = format!("Bearer {token}");
    let config = BearerConfig::default();
    c.bench_function("bearer_and_check", |b| {
        b.iter(|| {
            let token = extract_bearer([black_box(header.as_bytes())], &config).unwrap();
            black_box(token);
            fixture.policy.check(black_box(&auth), None).unwrap();
        })
    });
}

fn warp_route(c: &mut Criterion) {
    let fixture = Fixture::new();
    let bearer = format!("Bearer {}", fixture.cases[0].token);
    let open = warp::get()
        .and(warp::path!("api" / "protected"))
        .map(|| warp::reply::json(&AUDIENCE))
        .recover(recover);
    let protected = warp::get()
        .and(warp::path!("api" / "protected"))
        .and(authorize(fixture.cached.clone(), fixture.policy.clone()))
        .map(|_auth| warp::reply::json(&AUDIENCE))
        .recover(recover);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let call = |authorization: Option<&str>| {
        let mut request = warp::test::request().path("/api/protected");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request
    };
    // Fill the cache and check both routes answer 200.
    runtime.block_on(async {
        assert_eq!(call(None).reply(&open).await.status(), 200);
        assert_eq!(call(Some(&bearer)).reply(&protected).await.status(), 200);
        assert_eq!(call(None).reply(&protected).await.status(), 401);
    });

    let mut group = c.benchmark_group("warp_in_process");
    group.bench_function("no_auth", |b| {
        b.iter(|| runtime.block_on(call(None).reply(&open)))
    });
    group.bench_function("authenticated_cache_hit", |b| {
        b.iter(|| runtime.block_on(call(Some(&bearer)).reply(&protected)))
    });
    group.finish();
}

criterion_group!(benches, per_algorithm, bearer_and_check, warp_route);
criterion_main!(benches);
