//! Allocation counts, in a test binary of their own: they need a counting
//! global allocator, which would slow every other test and be disturbed by
//! the ones running beside it.
//!
//! A cache hit through the axum extractor of a `#[requires]` handler
//! (authentication, the policy check, the handler's `AuthInfo`) allocates
//! nothing, with a metrics recorder installed too (feature `metrics`).

use std::alloc::System;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::extract::FromRequestParts;
use bearer_policy::{AuthInfo, requires};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use common::{API, bearer, start_issuer};

/// The fixtures of the `it` binary, of which this one uses a few; helpers
/// outside `#[test]` functions may unwrap and panic, as there.
#[allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#[path = "it/common/mod.rs"]
mod common;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Only its extractor is measured; the handler itself is never called.
#[allow(dead_code)]
#[requires(model = global_api, scopes("api:read"))]
async fn read(auth: AuthInfo) -> Result<String, bearer_policy::axum::Rejected> {
    Ok(auth.sub().unwrap_or_default().to_owned())
}

/// Polls `future` once; a cache hit completes without waiting.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

// One test: a test beside it would allocate while this one counts.
#[tokio::test(flavor = "current_thread")]
async fn a_cache_hit_through_the_axum_extractor_allocates_nothing() {
    let issuer = start_issuer().await;
    hits_allocate_nothing(&issuer, "no recorder").await;

    // With a recorder installed before the validator is built: the hit path
    // increments the handles the validator registered, and allocates nothing.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    hits_allocate_nothing(&issuer, "a recorder").await;
    // One snapshot: taking one resets the counters.
    let snapshot = snapshotter.snapshot().into_vec();
    let counted = |name: &str, label: (&str, &str)| -> u64 {
        snapshot
            .iter()
            .filter(|(key, ..)| key.key().name() == name)
            .filter(|(key, ..)| key.key().labels().any(|l| (l.key(), l.value()) == label))
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => *n,
                other => panic!("{other:?}"),
            })
            .sum()
    };
    // The fill, the warm-up, 100 hits; then the fresh token.
    assert_eq!(
        counted("bearer_policy_decisions_total", ("policy", "alloc::read")),
        103
    );
    assert_eq!(
        counted("bearer_policy_token_cache_lookups_total", ("result", "hit")),
        101
    );
}

/// Fills the cache, then counts the allocations of 100 hits (none) and of a
/// fresh token (some), with the recorder installed now, if any.
// A helper of the test: it fails the test by panicking, as the test would.
#[allow(clippy::expect_used)]
async fn hits_allocate_nothing(issuer: &bearer_policy::testing::TestIssuer, with: &str) {
    let validator = issuer.validator(API);
    let token = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let (mut parts, ()) = axum::http::Request::builder()
        .uri("/read")
        .header("authorization", bearer(&token))
        .body(())
        .expect("a request")
        .into_parts();
    // Fetch the keys and fill the cache.
    read::Authorized::from_request_parts(&mut parts, &validator)
        .await
        .expect("authorized");
    let mut extract = || {
        let authorized = poll_once(read::Authorized::from_request_parts(&mut parts, &validator))
            .expect("a cache hit completes at once")
            .expect("authorized");
        drop(authorized);
    };
    extract();
    let region = Region::new(GLOBAL);
    for _ in 0..100 {
        extract();
    }
    let change = region.change();
    assert_eq!(
        change.allocations + change.reallocations,
        0,
        "allocations in 100 cache hits with {with}: {change:?}"
    );
    // And the count is real: a token seen for the first time is verified and
    // cached, which allocates.
    let fresh = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .subject("user-2")
        .sign();
    let (mut first_time, ()) = axum::http::Request::builder()
        .uri("/read")
        .header("authorization", bearer(&fresh))
        .body(())
        .expect("a request")
        .into_parts();
    let region = Region::new(GLOBAL);
    let verified = poll_once(read::Authorized::from_request_parts(
        &mut first_time,
        &validator,
    ));
    assert!(matches!(verified, Some(Ok(_))));
    drop(verified);
    assert!(region.change().allocations > 0);
}
