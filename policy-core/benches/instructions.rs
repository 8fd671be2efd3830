//! Runs a fixed number of checks on each path, each path in its own
//! never-inlined function, so that `valgrind --tool=callgrind` can report the
//! instructions per check (inclusive cost of the function ÷ checks), a figure
//! that noise on the machine does not move. `scripts/instructions.sh` runs it
//! under callgrind; under `cargo bench` it only prints wall-clock times.
//!
//! `POLICY_BENCH_CHECKS` sets the checks per path (default 200).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benchmark set-up, not library code

mod common;

use std::hint::black_box;
use std::time::Instant;

use bearer_policy_core::Algorithm;

use common::{Fixture, raw_decode, validate_and_check};

macro_rules! measured {
    ($($name:ident => $alg:expr, $path:ident;)+) => {
        $(
            #[inline(never)]
            fn $name(fixture: &Fixture, checks: usize) {
                let case = fixture.case($alg);
                for _ in 0..checks {
                    measured!(@path $path fixture case);
                }
            }
        )+
        const MEASURED: &[(&str, fn(&Fixture, usize))] = &[$((stringify!($name), $name)),+];
    };
    (@path raw $fixture:ident $case:ident) => { black_box(raw_decode(black_box($case))); };
    (@path cache_off $fixture:ident $case:ident) => {
        validate_and_check($fixture, &$fixture.uncached, black_box(&$case.token))
    };
    (@path cache_hit $fixture:ident $case:ident) => {
        validate_and_check($fixture, &$fixture.cached, black_box(&$case.token))
    };
}

measured! {
    measure_rs256_raw_decode => Algorithm::RS256, raw;
    measure_rs256_cache_off => Algorithm::RS256, cache_off;
    measure_rs256_cache_hit => Algorithm::RS256, cache_hit;
    measure_es256_raw_decode => Algorithm::ES256, raw;
    measure_es256_cache_off => Algorithm::ES256, cache_off;
    measure_es256_cache_hit => Algorithm::ES256, cache_hit;
    measure_eddsa_raw_decode => Algorithm::EdDSA, raw;
    measure_eddsa_cache_off => Algorithm::EdDSA, cache_off;
    measure_eddsa_cache_hit => Algorithm::EdDSA, cache_hit;
}

/// `GET /api/protected` in process through `warp::test`, without auth or
/// authenticated with a cached token.
#[inline(never)]
fn measure_warp(
    runtime: &tokio::runtime::Runtime,
    route: &(
         impl warp::Filter<Extract = (impl warp::Reply,), Error = warp::Rejection>
         + Clone
         + Send
         + Sync
         + 'static
     ),
    authorization: Option<&str>,
    checks: usize,
) {
    for _ in 0..checks {
        let mut request = warp::test::request().path("/api/protected");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        black_box(runtime.block_on(request.reply(route)));
    }
}

#[inline(never)]
fn measure_warp_no_auth(fixture: &Fixture, runtime: &tokio::runtime::Runtime, checks: usize) {
    use warp::Filter as _;
    let open = warp::get()
        .and(warp::path!("api" / "protected"))
        .map(|| warp::reply::json(&common::AUDIENCE))
        .recover(bearer_policy_core::warp::recover);
    let _ = fixture;
    measure_warp(runtime, &open, None, 1);
    measure_warp_no_auth_loop(runtime, &open, checks);
}

#[inline(never)]
fn measure_warp_no_auth_loop(
    runtime: &tokio::runtime::Runtime,
    route: &(
         impl warp::Filter<Extract = (impl warp::Reply,), Error = warp::Rejection>
         + Clone
         + Send
         + Sync
         + 'static
     ),
    checks: usize,
) {
    measure_warp(runtime, route, None, checks);
}

#[inline(never)]
fn measure_warp_authenticated(fixture: &Fixture, runtime: &tokio::runtime::Runtime, checks: usize) {
    use warp::Filter as _;
    let protected = warp::get()
        .and(warp::path!("api" / "protected"))
        .and(bearer_policy_core::warp::authorize(
            fixture.cached.clone(),
            fixture.policy.clone(),
        ))
        .map(|_auth: bearer_policy_core::AuthInfo| warp::reply::json(&common::AUDIENCE))
        .recover(bearer_policy_core::warp::recover);
    let bearer = format!("Bearer {}", fixture.cases[0].token);
    measure_warp(runtime, &protected, Some(&bearer), 1);
    measure_warp_authenticated_loop(runtime, &protected, &bearer, checks);
}

#[inline(never)]
fn measure_warp_authenticated_loop(
    runtime: &tokio::runtime::Runtime,
    route: &(
         impl warp::Filter<Extract = (impl warp::Reply,), Error = warp::Rejection>
         + Clone
         + Send
         + Sync
         + 'static
     ),
    bearer: &str,
    checks: usize,
) {
    measure_warp(runtime, route, Some(bearer), checks);
}

fn main() {
    let checks = std::env::var("POLICY_BENCH_CHECKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let fixture = Fixture::new();
    // Warm up every path (fills the cache, first-use lazies) outside the measured functions.
    for case in &fixture.cases {
        raw_decode(case);
        validate_and_check(&fixture, &fixture.uncached, &case.token);
        validate_and_check(&fixture, &fixture.cached, &case.token);
    }
    println!("checks per path: {checks}");
    for (name, measure) in MEASURED {
        let start = Instant::now();
        measure(&fixture, checks);
        let per_check = start.elapsed() / u32::try_from(checks.max(1)).unwrap_or(u32::MAX);
        println!("{name:<28} {per_check:>10.2?} per check");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a Tokio runtime");
    for (name, measure) in [
        (
            "measure_warp_no_auth",
            measure_warp_no_auth as fn(&Fixture, &_, usize),
        ),
        ("measure_warp_authenticated", measure_warp_authenticated),
    ] {
        let start = Instant::now();
        measure(&fixture, &runtime, checks);
        let per_check = start.elapsed() / u32::try_from(checks.max(1)).unwrap_or(u32::MAX);
        println!("{name:<28} {per_check:>10.2?} per check");
    }
}
