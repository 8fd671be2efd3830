//! Token introspection, each row beside its baseline in the same run:
//!
//! - `introspection/jwt_cache_hit` against `introspection/opaque_cache_hit`:
//!   one `Authorization` value through `Validator::authenticate` and the
//!   policy check, an ES256 JWT in the verified-token cache against an opaque
//!   token whose introspection result is cached (target: at most 1.2×);
//! - the flood: distinct random opaque tokens sent as fast as 64 tasks can,
//!   against an issuer whose introspection answers in 20 ms and a bound of 4
//!   calls in flight; printed as introspection calls per second against the
//!   bound's ceiling (4 / 20 ms = 200/s), with the 503 `introspection_busy`
//!   answers per second.
//!
//! `cargo bench -p bearer-policy-core --bench introspection -- --warm-up-time 1 --measurement-time 3`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// benchmark set-up, not library code
#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bearer_policy_core::testing::{Fault, TestIssuer};
use bearer_policy_core::{Algorithm, Error, Model, Policy};
use criterion::Criterion;

use common::{AUDIENCE, run_now};

fn cached(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::with_algorithms(&[Algorithm::ES256]));
    let validator = issuer
        .validator_builder(AUDIENCE)
        .introspection(issuer.introspection())
        .build()
        .unwrap();
    let policy = Policy::new(Model::GlobalApi).scopes(["api:read"]);
    let token = |builder: bearer_policy_core::testing::TokenBuilder| {
        builder
            .for_global_api(AUDIENCE)
            .scopes(["api:read", "api:write"])
    };
    let jwt = format!("Bearer {}", token(issuer.token()).sign());
    let opaque = format!("Bearer {}", token(issuer.token()).opaque());
    let check = |header: &str| {
        let auth = run_now(&runtime, validator.authenticate([header.as_bytes()])).unwrap();
        policy.decide(&auth, None).unwrap();
    };
    // Fill both caches (the first calls fetch keys and introspect).
    runtime.block_on(async {
        validator.authenticate([jwt.as_bytes()]).await.unwrap();
        validator.authenticate([opaque.as_bytes()]).await.unwrap();
    });
    check(&jwt);
    check(&opaque);
    assert_eq!(issuer.introspection_requests(), 1);

    let mut group = c.benchmark_group("introspection");
    group.bench_function("jwt_cache_hit", |b| b.iter(|| check(black_box(&jwt))));
    group.bench_function("opaque_cache_hit", |b| b.iter(|| check(black_box(&opaque))));
    group.finish();
    assert_eq!(
        issuer.introspection_requests(),
        1,
        "every opaque request was a hit"
    );
}

/// Distinct random opaque tokens, as fast as `TASKS` tasks can send them,
/// for `DURATION`: the introspection calls they cause per second.
fn flood() {
    const TASKS: usize = 64;
    const MAX_IN_FLIGHT: usize = 4;
    const LATENCY: Duration = Duration::from_millis(20);
    const DURATION: Duration = Duration::from_secs(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::with_algorithms(&[Algorithm::ES256]));
    issuer.set_introspection_fault(Fault::Delay(LATENCY));
    let validator = issuer
        .validator_builder(AUDIENCE)
        .introspection(issuer.introspection().max_in_flight(MAX_IN_FLIGHT))
        .build()
        .unwrap();
    let (requests, busy) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..TASKS {
            let (validator, requests, busy) = (validator.clone(), requests.clone(), busy.clone());
            tasks.spawn(async move {
                let mut n = 0u64;
                while started.elapsed() < DURATION {
                    n += 1;
                    // Never issued: each is a cache miss, then `active: false`.
                    let token = format!("flood-{task}-{n}-{}", started.elapsed().as_nanos());
                    let outcome = validator.validate(&token).await;
                    requests.fetch_add(1, Ordering::Relaxed);
                    match outcome {
                        Err(Error::IntrospectionBusy { .. }) => {
                            busy.fetch_add(1, Ordering::Relaxed);
                            // A client honouring nothing: retry at once, briefly yielding.
                            tokio::task::yield_now().await;
                        }
                        Err(e) => assert_eq!(e.code(), "token_inactive"),
                        Ok(_) => panic!("a random token was accepted"),
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    let seconds = started.elapsed().as_secs_f64();
    let calls = issuer.introspection_requests() as f64 / seconds;
    let ceiling = MAX_IN_FLIGHT as f64 / LATENCY.as_secs_f64();
    println!(
        "introspection flood: {TASKS} tasks, distinct random tokens for {seconds:.1} s, \
         max_in_flight {MAX_IN_FLIGHT}, endpoint latency {LATENCY:?}: {:.0} requests/s, \
         {calls:.0} introspection calls/s (bound's ceiling {ceiling:.0}/s, {:.2}×), \
         {:.0} answered 503 introspection_busy/s",
        requests.load(Ordering::Relaxed) as f64 / seconds,
        calls / ceiling,
        busy.load(Ordering::Relaxed) as f64 / seconds,
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    cached(&mut criterion);
    criterion.final_summary();
    if std::env::args().all(|arg| arg != "--list") {
        flood();
    }
}
