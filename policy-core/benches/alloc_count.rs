//! Counts heap allocations per request on each validation path with a
//! counting global allocator, and fails if the cache-hit path (validate +
//! `Policy::decide`, handing out the cached `AuthInfo`) allocates at all.
//!
//! `cargo bench -p policy-core --bench alloc_count`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benchmark set-up, not library code

mod common;

use std::alloc::System;
use std::hint::black_box;
use std::process::ExitCode;

use bearer_policy_core::{BearerConfig, extract_bearer};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use common::{ALGORITHMS, Fixture, raw_decode, run_now, validate_and_check};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ROUNDS: usize = 1_000;

/// Allocations and allocated bytes per call of `f`, after two warm-up calls
/// (first-use lazies such as thread-local arc-swap debt slots).
fn per_call(mut f: impl FnMut()) -> (f64, f64) {
    f();
    f();
    let region = Region::new(GLOBAL);
    for _ in 0..ROUNDS {
        f();
    }
    let change = region.change();
    (
        (change.allocations + change.reallocations) as f64 / ROUNDS as f64,
        change.bytes_allocated as f64 / ROUNDS as f64,
    )
}

fn main() -> ExitCode {
    let fixture = Fixture::new();
    let mut hit_allocations = 0.0;
    println!("{:<34} {:>12} {:>14}", "path", "allocations", "bytes");
    let report = |name: &str, (allocations, bytes): (f64, f64)| {
        println!("{name:<34} {allocations:>12.2} {bytes:>14.1}");
    };
    for alg in ALGORITHMS {
        let case = fixture.case(alg);
        report(
            &format!("{alg:?} raw jsonwebtoken::decode"),
            per_call(|| {
                black_box(raw_decode(case));
            }),
        );
        report(
            &format!("{alg:?} validate+check, cache off"),
            per_call(|| validate_and_check(&fixture, &fixture.uncached, &case.token)),
        );
        let hit = per_call(|| validate_and_check(&fixture, &fixture.cached, &case.token));
        hit_allocations += hit.0;
        report(&format!("{alg:?} validate+check, cache hit"), hit);
    }
    let token = &fixture.cases[0].token;
    let header = format!("Bearer {token}");
    let auth = run_now(&fixture.runtime, fixture.cached.validate(token)).unwrap();
    let config = BearerConfig::default();
    report(
        "bearer extraction + check",
        per_call(|| {
            black_box(extract_bearer([header.as_bytes()], &config).unwrap());
            fixture.policy.decide(&auth, None).unwrap();
        }),
    );
    report(
        "AuthInfo clone",
        per_call(|| {
            black_box(auth.clone());
        }),
    );
    if hit_allocations > 0.0 {
        eprintln!("FAIL: the cache-hit path allocates");
        return ExitCode::FAILURE;
    }
    println!("ok: the cache-hit path makes no heap allocation");
    ExitCode::SUCCESS
}
