//! The key store seen from outside: refetch on an unknown `kid` after a
//! rotation, single flight, the unknown-`kid` rate limit, failing closed with
//! 503 when the issuer is unreachable or serves a broken key set, and keeping
//! known keys when it does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bearer_policy::{Algorithm, Error, TokenError, Validator, ValidatorBuilder};
use policy_core::testing::{Fault, TestIssuer};
use serde_json::json;

use crate::common::{API, fast, start_issuer};

/// A pseudo-random kid, unique within the process.
fn random_kid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // xorshift64*
    let mut x = seed | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    format!(
        "kid-{:016x}-{}",
        x.wrapping_mul(0x2545_F491_4F6C_DD1D),
        COUNTER.load(Ordering::Relaxed)
    )
}

fn assert_unavailable(error: &Error) {
    assert!(
        matches!(error, Error::KeysUnavailable { .. }),
        "expected 503, got {error:?}"
    );
    assert_eq!(error.status().as_u16(), 503);
    let retry_after = error.retry_after().expect("a 503 carries Retry-After");
    assert!(retry_after >= Duration::from_secs(1), "{retry_after:?}");
    assert_eq!(error.www_authenticate(None), None);
}

// ===== rotation =====

#[tokio::test]
async fn token_with_a_new_kid_is_accepted_after_rotation_through_one_refetch() {
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let old_kid = issuer.current_kid();
    validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.jwks_requests(), 1);

    let new_kid = issuer.rotate();
    assert_ne!(new_kid, old_kid);
    let auth = validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(auth.key_id(), Some(new_kid.as_str()));
    assert_eq!(issuer.jwks_requests(), 2);
    // Further tokens with the new key need no fetch.
    validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.jwks_requests(), 2);
    assert_eq!(issuer.discovery_requests(), 1);
}

#[tokio::test]
async fn rotation_right_after_start_up_is_accepted_at_once() {
    let issuer = start_issuer().await;
    // A window long enough that, if the start-up fetch opened it, the rotated
    // key could not be fetched during this test.
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
    let new_kid = issuer.rotate();
    let auth = validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(auth.key_id(), Some(new_kid.as_str()));
    assert_eq!(issuer.jwks_requests(), 2);
}

#[tokio::test]
async fn rotation_right_after_ready_is_accepted_at_once() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    validator.ready().await.unwrap();
    issuer.rotate();
    validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.jwks_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_validations_of_a_new_kid_share_one_refetch() {
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    validator.validate(&issuer.token().sign()).await.unwrap();
    let new_kid = issuer.rotate();
    let token = Arc::new(issuer.token().sign());
    let before = issuer.jwks_requests();

    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (validator, token, barrier) =
            (validator.clone(), Arc::clone(&token), Arc::clone(&barrier));
        tasks.spawn(async move {
            barrier.wait().await;
            validator.validate(&token).await
        });
    }
    let mut accepted = 0;
    while let Some(outcome) = tasks.join_next().await {
        let auth = outcome
            .unwrap()
            .unwrap_or_else(|e| panic!("a concurrent validation failed: {e:?}"));
        assert_eq!(auth.key_id(), Some(new_kid.as_str()));
        accepted += 1;
    }
    assert_eq!(accepted, 100);
    assert_eq!(
        issuer.jwks_requests() - before,
        1,
        "exactly one refetch for 100 concurrent requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_validations_of_a_new_kid_without_a_barrier_all_succeed() {
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    validator.validate(&issuer.token().sign()).await.unwrap();
    issuer.rotate();
    let token = Arc::new(issuer.token().sign());
    let before = issuer.jwks_requests();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (validator, token) = (validator.clone(), Arc::clone(&token));
        tasks.spawn(async move { validator.validate(&token).await });
    }
    while let Some(outcome) = tasks.join_next().await {
        outcome
            .unwrap()
            .unwrap_or_else(|e| panic!("a concurrent validation failed: {e:?}"));
    }
    assert_eq!(issuer.jwks_requests() - before, 1);
}

/// Requests for a newly rotated kid that arrive while the refetch for it is
/// finishing: each either joins that refetch or sees its keys, so every one is
/// accepted. Several rounds, each with a fresh validator (the default 30 s
/// unknown-kid window is open after each round's refetch).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_racing_the_end_of_a_refetch_are_all_accepted() {
    use std::sync::atomic::AtomicBool;

    let issuer = start_issuer().await;
    let mut rejected = Vec::new();
    for round in 0..40 {
        let validator = issuer.validator(API);
        validator.validate(&issuer.token().sign()).await.unwrap();
        issuer.rotate();
        let token = Arc::new(issuer.token().sign());
        let before = issuer.jwks_requests();
        let stop = Arc::new(AtomicBool::new(false));
        let mut spawners = Vec::new();
        for _ in 0..2 {
            let (validator, token, stop) =
                (validator.clone(), Arc::clone(&token), Arc::clone(&stop));
            spawners.push(tokio::spawn(async move {
                let mut handles = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (validator, token) = (validator.clone(), Arc::clone(&token));
                    handles.push(tokio::spawn(
                        async move { validator.validate(&token).await },
                    ));
                    tokio::task::yield_now().await;
                }
                handles
            }));
        }
        // Keep requests coming until shortly after the refetch has completed.
        let deadline = Instant::now() + Duration::from_secs(2);
        while issuer.jwks_requests() == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
        stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        for spawner in spawners {
            for handle in spawner.await.unwrap() {
                total += 1;
                if let Err(e) = handle.await.unwrap() {
                    rejected.push((round, e));
                }
            }
        }
        assert!(total > 0);
        assert_eq!(
            issuer.jwks_requests() - before,
            1,
            "round {round}: one refetch"
        );
    }
    assert!(
        rejected.is_empty(),
        "{} requests for the new kid were rejected: {:?}",
        rejected.len(),
        &rejected[..rejected.len().min(5)]
    );
}

#[tokio::test]
async fn removed_key_stops_being_accepted_after_a_refetch() {
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    let old_kid = issuer.current_kid();
    let old_token = issuer.token().sign();
    validator.validate(&old_token).await.unwrap();

    let new_kid = issuer.rotate();
    assert_eq!(issuer.kids(), [new_kid.as_str()]);
    // Until the validator learns of the rotation, its cached key still verifies.
    validator.validate(&old_token).await.unwrap();
    // A token with the new kid makes it refetch...
    validator.validate(&issuer.token().sign()).await.unwrap();
    // ...after which the removed key is gone.
    let error = validator.validate(&old_token).await.unwrap_err();
    assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
    assert_eq!(error.status().as_u16(), 401);
    let fresh_old = issuer.token().kid(old_kid).sign();
    assert_eq!(
        validator.validate(&fresh_old).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn key_removed_with_remove_key_is_refused_once_refetched() {
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    let first = issuer.current_kid();
    let second = issuer.add_key(Algorithm::EdDSA);
    let first_token = issuer.token().kid(first.clone()).sign();
    validator.validate(&first_token).await.unwrap();
    validator
        .validate(&issuer.token().kid(second.clone()).sign())
        .await
        .unwrap();
    issuer.remove_key(&first);
    let third = issuer.add_key(Algorithm::ES384);
    validator
        .validate(&issuer.token().kid(third).sign())
        .await
        .unwrap();
    assert_eq!(
        validator.validate(&first_token).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
    validator
        .validate(&issuer.token().kid(second).sign())
        .await
        .unwrap();
}

// ===== issuer down =====

#[tokio::test]
async fn known_keys_keep_validating_while_the_issuer_is_down() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
    issuer.stop().await;
    for _ in 0..5 {
        let token = issuer.token().scopes(["read"]).sign();
        let auth = validator.validate(&token).await.unwrap();
        assert_eq!(auth.scopes(), ["read"]);
    }
}

#[tokio::test]
async fn cold_cache_with_the_issuer_down_is_503_with_retry_after() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    issuer.stop().await;
    let started = Instant::now();
    let error = validator
        .validate(&issuer.token().sign())
        .await
        .unwrap_err();
    assert_unavailable(&error);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Within the back-off it keeps failing closed.
    assert_unavailable(
        &validator
            .validate(&issuer.token().sign())
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn unknown_kid_with_the_issuer_down_after_a_warm_start_is_503() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    let old_token = issuer.token().sign();
    validator.validate(&old_token).await.unwrap();
    issuer.stop().await;
    let new_kid = issuer.rotate();
    let error = validator
        .validate(&issuer.token().kid(new_kid).sign())
        .await
        .unwrap_err();
    assert_unavailable(&error);
    // The failed refetch left the known key in place.
    validator.validate(&old_token).await.unwrap();
}

#[tokio::test]
async fn issuer_coming_back_is_used_after_the_failure_back_off() {
    let issuer = start_issuer().await;
    let back_off = Duration::from_millis(500);
    let validator = fast(&issuer).retry_after_failure(back_off).build().unwrap();
    let token = issuer.token().sign();
    issuer.stop().await;
    let error = validator.validate(&token).await.unwrap_err();
    let failed_at = Instant::now();
    assert_unavailable(&error);

    issuer.restart().await;
    if failed_at.elapsed() < back_off - Duration::from_millis(100) {
        // Still inside the back-off: no request to the issuer, still 503.
        assert_unavailable(&validator.validate(&token).await.unwrap_err());
        assert_eq!(issuer.discovery_requests() + issuer.jwks_requests(), 0);
    }
    tokio::time::sleep(back_off.saturating_sub(failed_at.elapsed()) + Duration::from_millis(50))
        .await;
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.sub(), Some("user-1"));
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn ready_succeeds_once_the_issuer_is_back() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .retry_after_failure(Duration::from_millis(200))
        .build()
        .unwrap();
    issuer.stop().await;
    validator.ready().await.unwrap_err();
    issuer.restart().await;
    validator.ready().await.unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
}

// ===== the unknown-kid rate limit =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_random_kids_refetches_at_most_once() {
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    let good = issuer.token().sign();
    validator.validate(&good).await.unwrap();
    let (jwks_before, discovery_before) = (issuer.jwks_requests(), issuer.discovery_requests());

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let token = issuer.token().kid(random_kid()).sign();
        let validator = validator.clone();
        tasks.spawn(async move { validator.validate(&token).await });
    }
    let mut count = 0;
    while let Some(outcome) = tasks.join_next().await {
        let error = outcome.unwrap().unwrap_err();
        // The issuer is up, so no refetch fails: every answer is 401 unknown key.
        assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
        assert_eq!(error.status().as_u16(), 401);
        count += 1;
    }
    assert_eq!(count, 1000);
    assert!(
        issuer.jwks_requests() - jwks_before <= 1,
        "{} refetches",
        issuer.jwks_requests() - jwks_before
    );
    assert_eq!(issuer.discovery_requests(), discovery_before);
    validator.validate(&good).await.unwrap();
}

#[tokio::test]
async fn unknown_kid_refetches_again_after_the_rate_limit_window() {
    let issuer = start_issuer().await;
    let window = Duration::from_millis(300);
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(window)
        .build()
        .unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.jwks_requests(), 1);

    let unknown = || issuer.token().kid(random_kid()).sign();
    let error = validator.validate(&unknown()).await.unwrap_err();
    assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
    let opened = Instant::now();
    assert_eq!(issuer.jwks_requests(), 2, "the first unknown kid refetches");
    let error = validator.validate(&unknown()).await.unwrap_err();
    assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
    if opened.elapsed() < window {
        assert_eq!(issuer.jwks_requests(), 2, "inside the window: no refetch");
    }

    tokio::time::sleep(window.saturating_sub(opened.elapsed()) + Duration::from_millis(50)).await;
    let error = validator.validate(&unknown()).await.unwrap_err();
    assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
    assert_eq!(
        issuer.jwks_requests(),
        3,
        "after the window: another refetch"
    );

    // And a key rotated in meanwhile is found by the next allowed refetch.
    tokio::time::sleep(window + Duration::from_millis(50)).await;
    issuer.rotate();
    validator.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.jwks_requests(), 4);
}

#[tokio::test]
async fn unknown_kid_inside_the_window_is_401_without_a_fetch() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
    // Opens the window.
    validator
        .validate(&issuer.token().kid(random_kid()).sign())
        .await
        .unwrap_err();
    let before = issuer.jwks_requests();
    // A rotation now is not seen until the window passes: 401, not a fetch.
    issuer.rotate();
    let error = validator
        .validate(&issuer.token().sign())
        .await
        .unwrap_err();
    assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
    assert_eq!(issuer.jwks_requests(), before);
}

// ===== JWKS faults =====

/// With `fault` injected: a cold validator answers 503 (having asked the
/// issuer), and a warm one keeps validating tokens of known keys while a
/// refetch for an unknown kid answers 503.
pub(crate) async fn assert_fault_fails_closed(
    issuer: &TestIssuer,
    builder: impl Fn() -> ValidatorBuilder,
    fault: Fault,
) {
    let token = issuer.token().scopes(["read"]).sign();
    let warm = builder().build().unwrap();
    warm.validate(&token).await.unwrap();

    issuer.set_fault(fault.clone());
    let cold = builder().build().unwrap();
    let requests = issuer.jwks_requests() + issuer.discovery_requests();
    let error = cold.validate(&token).await.unwrap_err();
    assert_unavailable(&error);
    assert!(
        issuer.jwks_requests() + issuer.discovery_requests() > requests,
        "{fault:?}: the issuer was not asked"
    );
    assert!(cold.ready().await.is_err(), "{fault:?}");

    let jwks = issuer.jwks_requests();
    let error = warm
        .validate(&issuer.token().kid(random_kid()).sign())
        .await
        .unwrap_err();
    assert_unavailable(&error);
    assert_eq!(
        issuer.jwks_requests(),
        jwks + 1,
        "{fault:?}: the warm validator refetched"
    );
    let auth = warm
        .validate(&token)
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: known key lost: {e:?}"));
    assert_eq!(auth.scopes(), ["read"]);
    // A fresh token of the known key too.
    warm.validate(&issuer.token().sign()).await.unwrap();

    // Once the fault is gone, the cold validator recovers after its back-off.
    issuer.set_fault(Fault::None);
    tokio::time::sleep(Duration::from_millis(350)).await;
    cold.validate(&token)
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: no recovery: {e:?}"));
}

#[tokio::test]
async fn jwks_http_500_fails_closed_when_cold_and_keeps_known_keys_when_warm() {
    let issuer = start_issuer().await;
    assert_fault_fails_closed(&issuer, || fast(&issuer), Fault::Status(500)).await;
}

#[tokio::test]
async fn jwks_non_json_body_fails_closed_when_cold_and_keeps_known_keys_when_warm() {
    let issuer = start_issuer().await;
    let fault = Fault::Body {
        content_type: "text/html".into(),
        body: b"<html>maintenance</html>".to_vec(),
    };
    assert_fault_fails_closed(&issuer, || fast(&issuer), fault).await;
}

#[tokio::test]
async fn jwks_empty_key_set_fails_closed_when_cold_and_keeps_known_keys_when_warm() {
    let issuer = start_issuer().await;
    let fault = Fault::Body {
        content_type: "application/jwk-set+json".into(),
        body: br#"{"keys":[]}"#.to_vec(),
    };
    assert_fault_fails_closed(&issuer, || fast(&issuer), fault).await;
}

#[tokio::test]
async fn jwks_with_only_unsupported_key_types_fails_closed_when_cold_and_keeps_known_keys_when_warm()
 {
    let issuer = start_issuer().await;
    let kid = issuer.current_kid();
    // The issuer's own key, marked for encryption; a symmetric key under the
    // same kid; curves we do not support.
    let mut encryption = issuer.jwk(&kid).unwrap();
    encryption["use"] = json!("enc");
    let body = json!({"keys": [
        encryption,
        {"kty": "oct", "kid": kid, "alg": "HS256", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},
        {"kty": "EC", "crv": "P-521", "kid": "p521",
         "x": "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
         "y": "ADSmRA43Z1DSNKg4uP0Sf0nYTYEhpYzhzGuHsmaEXtDaIjh1PJo6sFxNNHeIn9EbNYDNmfkU-BYoXTCWh9pcS9i-"},
        {"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},
        {"kty": "RSA", "kid": "broken"},
    ]});
    let fault = Fault::Body {
        content_type: "application/jwk-set+json".into(),
        body: body.to_string().into_bytes(),
    };
    assert_fault_fails_closed(&issuer, || fast(&issuer), fault).await;
}

#[tokio::test]
async fn jwks_larger_than_max_response_bytes_fails_closed_when_cold_and_keeps_known_keys_when_warm()
{
    let issuer = start_issuer().await;
    let limit = 4096;
    // The real key set, padded with whitespace: valid, but too large.
    let mut body = issuer.jwks_json().to_string().into_bytes();
    body.extend(std::iter::repeat_n(b' ', 2 * limit));
    let fault = Fault::Body {
        content_type: "application/jwk-set+json".into(),
        body,
    };
    assert_fault_fails_closed(&issuer, || fast(&issuer).max_response_bytes(limit), fault).await;
}

#[tokio::test]
async fn jwks_slower_than_the_timeout_fails_closed_within_the_timeout() {
    let issuer = start_issuer().await;
    let timeout = Duration::from_millis(300);
    let builder = || fast(&issuer).timeout(timeout);
    let token = issuer.token().sign();
    let warm = builder().build().unwrap();
    warm.validate(&token).await.unwrap();

    issuer.set_fault(Fault::Delay(Duration::from_secs(5)));
    // Cold, through discovery (also delayed).
    let cold = builder().build().unwrap();
    let started = Instant::now();
    assert_unavailable(&cold.validate(&token).await.unwrap_err());
    assert!(
        started.elapsed() < timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Cold, with the JWKS URI given.
    let cold_jwks = builder().jwks_uri(issuer.jwks_uri()).build().unwrap();
    let started = Instant::now();
    assert_unavailable(&cold_jwks.validate(&token).await.unwrap_err());
    assert!(
        started.elapsed() < timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // Warm: the unknown-kid refetch times out; known keys keep validating,
    // even while that refetch is in flight.
    let slow = {
        let (warm, token) = (warm.clone(), issuer.token().kid(random_kid()).sign());
        tokio::spawn(async move {
            let started = Instant::now();
            (warm.validate(&token).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    warm.validate(&token).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    let (outcome, elapsed) = slow.await.unwrap();
    assert_unavailable(&outcome.unwrap_err());
    assert!(elapsed < timeout + Duration::from_secs(1), "{elapsed:?}");
    warm.validate(&token).await.unwrap();
}

#[tokio::test]
async fn jwks_faults_do_not_affect_a_validator_with_a_warm_cache_for_known_tokens() {
    let issuer = start_issuer().await;
    let validator: Validator = fast(&issuer).build().unwrap();
    let token = issuer.token().sign();
    validator.validate(&token).await.unwrap();
    for fault in [
        Fault::Status(503),
        Fault::Status(404),
        Fault::Body {
            content_type: "application/json".into(),
            body: b"{\"keys\": 1}".to_vec(),
        },
    ] {
        issuer.set_fault(fault);
        validator.validate(&token).await.unwrap();
    }
    // No request reached the issuer: known keys need none.
    assert_eq!(issuer.jwks_requests(), 1);
}

// ===== slow issuer, cancellation, background refresh =====

/// A cold fetch goes through discovery and then the JWKS, each allowed
/// `timeout`. A request that waits for that fetch must not be told its
/// token is bad (401 unknown key) just because the keys are not loaded yet:
/// it gets the keys (200) or 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_waiting_on_a_slow_cold_fetch_is_never_401() {
    let issuer = start_issuer().await;
    let timeout = Duration::from_millis(2500);
    let validator = fast(&issuer).timeout(timeout).build().unwrap();
    // Each of discovery and JWKS answers within the timeout (0.5 s to spare),
    // but both together take longer than `timeout` + 1 s.
    issuer.set_fault(Fault::Delay(Duration::from_millis(2000)));
    let token = issuer.token().sign();
    let first = {
        let (validator, token) = (validator.clone(), token.clone());
        tokio::spawn(async move { validator.validate(&token).await })
    };
    while issuer.discovery_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let waiting = validator.validate(&token).await;
    let elapsed = started.elapsed();
    // Discovery plus JWKS take 4 s, past the 2.5 s deadline of the whole fetch:
    // both the fetching and the waiting request answer 503, never 401.
    for (who, outcome) in [("fetching", first.await.unwrap()), ("waiting", waiting)] {
        if let Err(error) = outcome {
            assert!(
                matches!(error, Error::KeysUnavailable { .. }),
                "the {who} request got {error:?} after {elapsed:?}"
            );
        }
    }
    assert!(
        elapsed < timeout + Duration::from_secs(1),
        "waited {elapsed:?}"
    );
}

/// `timeout` "bounds how long a request that waits for keys can wait": the
/// request that runs a cold fetch (discovery, then JWKS) answers within
/// `timeout` + 1 s too.
#[tokio::test]
async fn cold_fetch_through_slow_discovery_and_jwks_answers_within_the_timeout() {
    let issuer = start_issuer().await;
    let timeout = Duration::from_millis(2500);
    let validator = fast(&issuer).timeout(timeout).build().unwrap();
    issuer.set_fault(Fault::Delay(Duration::from_millis(2000)));
    let started = Instant::now();
    let outcome = validator.validate(&issuer.token().sign()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < timeout + Duration::from_secs(1),
        "validate took {elapsed:?} (timeout {timeout:?}), outcome {outcome:?}"
    );
}

/// A refetch outlives the request that started it: a client that disconnects
/// neither cancels it (the next request for the new kid joins it) nor frees
/// the rate-limit window (clients that connect, send a random kid and hang up
/// cannot make us fetch again and again).
#[tokio::test]
async fn a_refetch_outlives_a_cancelled_request_and_keeps_the_window() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .timeout(Duration::from_secs(3))
        .unknown_kid_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
    issuer.rotate();
    let token = issuer.token().sign();
    issuer.set_fault(Fault::Delay(Duration::from_millis(800)));
    let before = issuer.jwks_requests();
    let cancelled = {
        let (validator, token) = (validator.clone(), token.clone());
        tokio::spawn(async move { validator.validate(&token).await })
    };
    while issuer.jwks_requests() == before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled());
    // Hang-ups with random kids while the fetch runs: none starts another.
    for i in 0..10 {
        let (validator, token) = (
            validator.clone(),
            issuer.token().kid(format!("random-{i}")).sign(),
        );
        let request = tokio::spawn(async move { validator.validate(&token).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        request.abort();
    }
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.key_id(), Some(issuer.current_kid().as_str()));
    assert_eq!(issuer.jwks_requests(), before + 1);
    // And after it, random kids find the window closed: 401, no fetch.
    let random = issuer.token().kid("random-after").sign();
    assert_eq!(
        validator.validate(&random).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
    assert_eq!(issuer.jwks_requests(), before + 1);
}

/// Keys are refreshed in the background once the (bounded) `max-age` has
/// passed: a key removed by the issuer stops validating without any
/// unknown-kid refetch.
#[tokio::test]
async fn keys_are_refreshed_in_the_background_after_max_age() {
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .refresh_bounds(Duration::from_millis(100), Duration::from_millis(200))
        .unknown_kid_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let old_token = issuer.token().sign();
    validator.validate(&old_token).await.unwrap();
    // Use up the unknown-kid window, so only a background refresh can fetch.
    validator
        .validate(&issuer.token().kid(random_kid()).sign())
        .await
        .unwrap_err();
    let after_warm_up = issuer.jwks_requests();
    issuer.rotate();
    tokio::time::sleep(Duration::from_millis(250)).await;
    // This request sees the old keys and starts the refresh.
    validator.validate(&old_token).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while issuer.jwks_requests() == after_warm_up && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        issuer.jwks_requests(),
        after_warm_up + 1,
        "one background refresh"
    );
    // Let it finish, then the new key is known and the old one is gone.
    let new_token = issuer.token().sign();
    let deadline = Instant::now() + Duration::from_secs(2);
    while validator.validate(&new_token).await.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    validator.validate(&new_token).await.unwrap();
    assert_eq!(
        validator.validate(&old_token).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
}
