//! The cost of the `metrics` feature on the hot path: a cache hit through
//! `Requirements::authorize` (the one authorize path every front end takes:
//! bearer, cache, policy, the decision reported), built without the feature,
//! and with it both without a recorder and with the Prometheus recorder
//! installed before the validator is built.
//!
//! Run it twice in one session (the feature is a compile-time switch):
//! `cargo bench -p bearer-policy-core --bench metrics` (`feature_off`), then
//! with `--features metrics` (`feature_on_*`); `scripts/bench-metrics.sh`
//! does both with short timings.

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

use bearer_policy_core::{RequestHead, Requirements, Validator};
use criterion::{Criterion, criterion_group};
use http::{HeaderMap, HeaderValue, Method, Uri};

use common::{AUDIENCE, Fixture, run_now};

/// One authorization of `headers` on `/api/read`, which must be allowed.
fn authorize(
    fixture: &Fixture,
    requirements: &Requirements,
    validator: &Validator,
    headers: &HeaderMap,
) {
    let (method, uri) = (Method::GET, Uri::from_static("/api/read"));
    let head = RequestHead::new(&method, &uri, headers);
    run_now(&fixture.runtime, requirements.authorize(validator, &head)).expect("allowed");
}

fn cache_hit(c: &mut Criterion) {
    let fixture = Fixture::new();
    let requirements = Requirements::new(fixture.policy.clone());
    let token = fixture
        .issuer
        .token()
        .kid(fixture.issuer.current_kid())
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .sign();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let mut group = c.benchmark_group("metrics_cache_hit");
    let mut measure = |name: &str, validator: &Validator| {
        run_now(&fixture.runtime, validator.ready()).expect("keys fetched");
        // Fill the cache.
        authorize(&fixture, &requirements, validator, &headers);
        group.bench_function(name, |b| {
            b.iter(|| authorize(&fixture, &requirements, validator, black_box(&headers)))
        });
    };
    let validator = fixture.issuer.validator(AUDIENCE);
    if cfg!(feature = "metrics") {
        measure("feature_on_no_recorder", &validator);
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).expect("the first recorder");
        // Built after the recorder: its handles are the recorder's.
        let recorded = fixture.issuer.validator(AUDIENCE);
        measure("feature_on_prometheus", &recorded);
        // The counters are real: the hits were counted.
        let text = handle.render();
        assert!(
            text.contains("bearer_policy_token_cache_lookups_total{result=\"hit\"}"),
            "{text}"
        );
    } else {
        measure("feature_off", &validator);
    }
    group.finish();
}

/// `n` cache hits, never inlined, so that `valgrind --tool=callgrind
/// --toggle-collect='*measured_hits*'` counts their instructions alone.
#[inline(never)]
fn measured_hits(
    fixture: &Fixture,
    requirements: &Requirements,
    validator: &Validator,
    headers: &HeaderMap,
    n: usize,
) {
    for _ in 0..n {
        authorize(fixture, requirements, validator, black_box(headers));
    }
}

/// Under `POLICY_BENCH_CHECKS=n`: `n` hits on the path `POLICY_BENCH_PATH`
/// (`off`, `no_recorder`, `prometheus`) for callgrind, instead of criterion.
fn instructions(n: usize) {
    let fixture = Fixture::new();
    let requirements = Requirements::new(fixture.policy.clone());
    let token = fixture
        .issuer
        .token()
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .sign();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    if std::env::var("POLICY_BENCH_PATH").as_deref() == Ok("prometheus") {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::set_global_recorder(recorder).expect("the first recorder");
    }
    let validator = fixture.issuer.validator(AUDIENCE);
    run_now(&fixture.runtime, validator.ready()).expect("keys fetched");
    measured_hits(&fixture, &requirements, &validator, &headers, 2);
    measured_hits(&fixture, &requirements, &validator, &headers, n);
}

criterion_group!(benches, cache_hit);

fn main() {
    if let Some(n) = std::env::var("POLICY_BENCH_CHECKS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        return instructions(n);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
