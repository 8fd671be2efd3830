//! What an operator sees (feature `metrics`, and the spans): a recorder
//! (`metrics-util`'s debugging recorder, local to the test's thread) reads
//! back the counters and labels of every decision class on every front end,
//! a key rotation, a refused key set and an issuer outage. That no token,
//! `sub`, client id or organization id reaches a label or a span field is
//! tested in `tests/telemetry_privacy.rs`, a binary of its own: it needs the
//! process's only `tracing` subscriber.
//!
//! Each test builds its validator after installing its recorder: the
//! validator registers its handles then.

use std::collections::BTreeMap;
use std::time::Duration;

use bearer_policy::testing::{Fault, TestIssuer};
use bearer_policy::{Requirements, StaticKeys, Validator};
use http::header::AUTHORIZATION;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use serde_json::json;

use crate::common::telemetry::{Series, authorize, read};
use crate::common::{API, FrontEnd, Server, bearer, fast, start_issuer};
use crate::e2e;

const DECISIONS: &str = "bearer_policy_decisions_total";

/// The sum of the counters `name` whose labels include `labels`.
fn count(series: &[Series], name: &str, labels: &[(&str, &str)]) -> u64 {
    series
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| match s.value {
            DebugValue::Counter(n) => n,
            _ => panic!("{name} is not a counter"),
        })
        .sum()
}

/// The gauge `name` whose labels include `labels`.
fn gauge(series: &[Series], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    series
        .iter()
        .filter(|s| s.name == name)
        .find(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| match &s.value {
            DebugValue::Gauge(g) => g.0,
            _ => panic!("{name} is not a gauge"),
        })
}

/// How many values the histogram `name` whose labels include `labels` took.
fn observations(series: &[Series], name: &str, labels: &[(&str, &str)]) -> usize {
    series
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| match &s.value {
            DebugValue::Histogram(values) => values.len(),
            _ => panic!("{name} is not a histogram"),
        })
        .sum()
}

#[tokio::test]
async fn every_front_end_counts_each_decision_once_with_its_outcome_code_and_policy() {
    for front_end in FrontEnd::ALL {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let _local = metrics::set_default_local_recorder(&recorder);
        let issuer = start_issuer().await;
        let server = Server::start(e2e::app(
            front_end,
            e2e::validator(&issuer).build().unwrap(),
        ))
        .await;
        let policy = format!("{}::read_api", e2e::handlers_module(front_end));
        let signed = |sub: &str| {
            issuer
                .token()
                .for_global_api(API)
                .scopes(["api:read"])
                .subject(sub)
                .sign()
        };
        let good = signed("user-1");
        // One character of the signature changed (not its last: padding bits).
        let mut tampered = signed("user-2").into_bytes();
        let at = tampered.iter().rposition(|&b| b == b'.').unwrap() + 5;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let expired = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .expires_at(1_000_000)
            .sign();
        let no_scope = issuer.token().for_global_api(API).sign();
        let org_token = issuer
            .token()
            .for_org_resource(API, "acme")
            .scopes(["api:read"])
            .sign();
        let stranger = TestIssuer::start().await;
        let foreign = stranger
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .sign();
        let cases: Vec<(Option<String>, u16, &str, &str)> = vec![
            (Some(bearer(&good)), 200, "allowed", "ok"),
            (Some(bearer(&good)), 200, "allowed", "ok"),
            (None, 401, "refused", "missing_authorization"),
            (
                Some("Basic dXNlcjpwYXNz".into()),
                401,
                "refused",
                "unsupported_scheme",
            ),
            (
                Some("Bearer a b".into()),
                400,
                "refused",
                "invalid_token_characters",
            ),
            (
                Some(bearer("not.a.token")),
                401,
                "refused",
                "malformed_token",
            ),
            (Some(bearer(&tampered)), 401, "refused", "invalid_signature"),
            (Some(bearer(&expired)), 401, "refused", "token_expired"),
            (Some(bearer(&foreign)), 401, "refused", "wrong_issuer"),
            (
                Some(bearer(&no_scope)),
                403,
                "refused",
                "insufficient_scope",
            ),
            (
                Some(bearer(&org_token)),
                403,
                "refused",
                "organization_token_not_allowed",
            ),
        ];
        for (authorization, status, _, _) in &cases {
            let mut request = server.get("/api/protected");
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value);
            }
            let response = server.send(request).await;
            assert_eq!(
                response.status, *status,
                "{front_end}: {authorization:?}: {response:?}"
            );
        }
        let series = read(&snapshotter);
        // actix serves on its own system thread, where this test's
        // thread-local recorder is not installed: a refusal's counter,
        // labelled when it happens, goes to that thread's (global) recorder.
        // Allowed decisions use the handles the validator registered when it
        // was built, so they are read back on every front end.
        let counted = |outcome: &str| front_end != FrontEnd::Actix || outcome == "allowed";
        let mut expected: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for (_, _, outcome, code) in cases.iter().filter(|c| counted(c.2)) {
            *expected.entry((outcome, code)).or_default() += 1;
        }
        for ((outcome, code), n) in &expected {
            let labels = [
                ("outcome", *outcome),
                ("code", *code),
                ("policy", policy.as_str()),
            ];
            assert_eq!(
                count(&series, DECISIONS, &labels),
                *n,
                "{front_end}: {outcome} {code}\n{series:#?}"
            );
        }
        // Once per request: no front end counts twice, none skips.
        assert_eq!(
            count(&series, DECISIONS, &[]),
            cases.iter().filter(|c| counted(c.2)).count() as u64,
            "{front_end}\n{series:#?}"
        );
        let cache = "bearer_policy_token_cache_lookups_total";
        assert_eq!(
            count(&series, cache, &[("result", "hit")]),
            1,
            "{front_end}: the repeat of `good`\n{series:#?}"
        );
        assert!(
            count(&series, cache, &[("result", "miss")]) >= 1,
            "{front_end}"
        );
        let verification = "bearer_policy_verification_duration_seconds";
        // `good` once (then from the cache), the 403 tokens: valid, refused by the policy.
        assert_eq!(
            observations(&series, verification, &[("outcome", "verified")]),
            3,
            "{front_end}"
        );
        assert!(
            observations(&series, verification, &[("outcome", "refused")]) >= 4,
            "{front_end}"
        );
    }
}

/// How often `written`'s check ran.
static WRITTEN_CHECKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn counting_check(_: &bearer_policy::AuthInfo) -> bool {
    WRITTEN_CHECKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    true
}

#[bearer_policy::requires(model = global_api, scopes("api:write"), check = counting_check)]
async fn written(
    auth: bearer_policy::AuthInfo,
    body: serde_json::Value,
) -> Result<impl warp::Reply, warp::Rejection> {
    let _ = auth;
    Ok(warp::reply::json(&body))
}

/// warp's `authenticate` before a `#[requires]` handler decides the
/// handler's policies in one reported decision, labelled with the handler,
/// and the handler does not decide them again: a refusal is counted, and
/// the check function runs once per request.
#[tokio::test]
async fn warp_authenticate_reports_a_handlers_decision_once() {
    use warp::Filter;
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    let route = warp::path!("products")
        .and(warp::post())
        .and(bearer_policy::warp::authenticate(validator))
        .and(warp::body::json())
        .and_then(written)
        .recover(bearer_policy::warp::recover);
    let post = |scope: &str| {
        let token = issuer.token().for_global_api(API).scopes([scope]).sign();
        warp::test::request()
            .method("POST")
            .path("/products")
            .header("authorization", bearer(&token))
            .body("{}")
    };
    let checks = || WRITTEN_CHECKS.load(std::sync::atomic::Ordering::SeqCst);
    let before = checks();
    assert_eq!(post("api:write").reply(&route).await.status(), 200);
    assert_eq!(checks() - before, 1, "the check runs once");
    assert_eq!(post("api:read").reply(&route).await.status(), 403);

    let series = read(&snapshotter);
    let policy = format!("{}::written", module_path!());
    let decided = |outcome: &str, code: &str| {
        count(
            &series,
            DECISIONS,
            &[("outcome", outcome), ("code", code), ("policy", &policy)],
        )
    };
    assert_eq!(decided("allowed", "ok"), 1, "{series:#?}");
    assert_eq!(decided("refused", "insufficient_scope"), 1, "{series:#?}");
    assert_eq!(count(&series, DECISIONS, &[]), 2, "{series:#?}");
}

#[tokio::test]
async fn an_issuer_outage_counts_failed_fetches_and_unavailable_decisions() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    let requirements = Requirements::authenticated();
    let token = bearer(&issuer.token().for_global_api(API).sign());
    issuer.set_fault(Fault::Status(500));
    assert_eq!(
        authorize(&requirements, &validator, Some(&token)).await,
        Err(503)
    );
    let series = read(&snapshotter);
    let url = issuer.issuer();
    let at = |outcome| [("issuer", url.as_str()), ("outcome", outcome)];
    assert_eq!(
        count(&series, "bearer_policy_key_fetches_total", &at("failed")),
        1,
        "{series:#?}"
    );
    assert_eq!(
        count(&series, "bearer_policy_key_fetches_total", &at("ok")),
        0
    );
    assert_eq!(
        observations(
            &series,
            "bearer_policy_key_fetch_duration_seconds",
            &[("issuer", &url)]
        ),
        1
    );
    let unavailable = [
        ("outcome", "unavailable"),
        ("code", "keys_unavailable"),
        ("policy", ""),
    ];
    assert_eq!(count(&series, DECISIONS, &unavailable), 1, "{series:#?}");
    assert_eq!(
        gauge(&series, "bearer_policy_keys_loaded", &[("issuer", &url)]),
        Some(0.0)
    );

    let report = validator.readiness();
    assert!(!report.ready);
    let down = &report.issuers[0];
    assert_eq!(
        (down.issuer.as_str(), down.ready, down.keys),
        (url.as_str(), false, 0)
    );
    assert!(
        down.last_success_at.is_none() && down.last_error_at.is_some(),
        "{down:?}"
    );
    assert!(
        down.last_error.as_deref().unwrap().contains("500"),
        "{down:?}"
    );

    // The issuer is back: the next fetch after the back-off succeeds.
    issuer.set_fault(Fault::None);
    tokio::time::sleep(crate::common::issuer::RETRY_AFTER_FAILURE).await;
    assert_eq!(
        authorize(&requirements, &validator, Some(&token)).await,
        Ok(())
    );
    let series = read(&snapshotter);
    assert_eq!(
        count(&series, "bearer_policy_key_fetches_total", &at("ok")),
        1,
        "{series:#?}"
    );
    assert_eq!(
        gauge(&series, "bearer_policy_keys_loaded", &[("issuer", &url)]),
        Some(1.0)
    );
    let report = validator.readiness();
    let up = &report.issuers[0];
    assert!(report.ready && up.ready && up.keys == 1, "{report:?}");
    assert!(
        up.last_success_at.is_some() && up.next_refresh_at >= up.last_success_at,
        "{up:?}"
    );
    assert!(
        up.last_error.is_some(),
        "the latest error is kept after a success: {up:?}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["issuers"][0]["keys_source"], "fetched", "{json}");
}

/// Each introspection call is counted by outcome (active, inactive,
/// failed); a cached result makes no call and counts none.
#[tokio::test]
async fn introspection_calls_are_counted_by_outcome() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .introspection(issuer.introspection())
        .build()
        .unwrap();
    let requirements = Requirements::authenticated();
    let opaque = || issuer.token().for_global_api(API).opaque();
    let (active, revoked, unlucky) = (opaque(), opaque(), opaque());
    issuer.revoke(&revoked);
    let header = |token: &str| bearer(token);
    assert_eq!(
        authorize(&requirements, &validator, Some(&header(&active))).await,
        Ok(())
    );
    assert_eq!(
        authorize(&requirements, &validator, Some(&header(&active))).await,
        Ok(())
    );
    assert_eq!(
        authorize(&requirements, &validator, Some(&header(&revoked))).await,
        Err(401)
    );
    issuer.set_introspection_fault(Fault::Status(500));
    assert_eq!(
        authorize(&requirements, &validator, Some(&header(&unlucky))).await,
        Err(503)
    );
    let series = read(&snapshotter);
    let calls = |outcome| {
        count(
            &series,
            "bearer_policy_introspections_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!(calls("active"), 1, "{series:#?}");
    assert_eq!(calls("inactive"), 1, "{series:#?}");
    assert_eq!(calls("failed"), 1, "{series:#?}");
    assert_eq!(issuer.introspection_requests(), 3);
}

#[tokio::test]
async fn a_key_rotation_counts_the_key_added_and_the_key_removed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(Duration::from_millis(1))
        .build()
        .unwrap();
    let requirements = Requirements::authenticated();
    let token = || bearer(&issuer.token().for_global_api(API).sign());
    assert_eq!(
        authorize(&requirements, &validator, Some(&token())).await,
        Ok(())
    );
    let url = issuer.issuer();
    let change = |change| [("issuer", url.as_str()), ("change", change)];
    let series = read(&snapshotter);
    assert_eq!(
        count(
            &series,
            "bearer_policy_keys_changed_total",
            &change("added")
        ),
        1
    );
    assert_eq!(
        count(
            &series,
            "bearer_policy_keys_changed_total",
            &change("removed")
        ),
        0
    );

    issuer.rotate();
    assert_eq!(
        authorize(&requirements, &validator, Some(&token())).await,
        Ok(())
    );
    let series = read(&snapshotter);
    let fetched = [("issuer", url.as_str()), ("outcome", "ok")];
    assert_eq!(
        count(&series, "bearer_policy_key_fetches_total", &fetched),
        1,
        "{series:#?}"
    );
    assert_eq!(
        count(
            &series,
            "bearer_policy_keys_changed_total",
            &change("added")
        ),
        1
    );
    assert_eq!(
        count(
            &series,
            "bearer_policy_keys_changed_total",
            &change("removed")
        ),
        1
    );
    assert_eq!(
        gauge(&series, "bearer_policy_keys_loaded", &[("issuer", &url)]),
        Some(1.0)
    );
}

#[tokio::test]
async fn a_refused_key_set_is_counted_with_why_and_the_old_keys_stay() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(Duration::from_millis(1))
        .build()
        .unwrap();
    let requirements = Requirements::authenticated();
    let kid = issuer.current_kid();
    let token = bearer(&issuer.token().for_global_api(API).sign());
    assert_eq!(
        authorize(&requirements, &validator, Some(&token)).await,
        Ok(())
    );
    let url = issuer.issuer();
    read(&snapshotter);

    // A document with no usable key: refused whole.
    let body = |keys: serde_json::Value| Fault::Body {
        content_type: "application/json".into(),
        body: serde_json::to_vec(&json!({ "keys": keys })).unwrap(),
    };
    issuer.set_fault(body(json!([])));
    let unknown = bearer(
        &issuer
            .token()
            .for_global_api(API)
            .kid("not-published")
            .sign(),
    );
    assert_eq!(
        authorize(&requirements, &validator, Some(&unknown)).await,
        Err(503)
    );
    let series = read(&snapshotter);
    let refused = [("issuer", url.as_str()), ("reason", "invalid_document")];
    assert_eq!(
        count(&series, "bearer_policy_key_sets_refused_total", &refused),
        1,
        "{series:#?}"
    );
    let outcome = [("issuer", url.as_str()), ("outcome", "refused")];
    assert_eq!(
        count(&series, "bearer_policy_key_fetches_total", &outcome),
        1
    );
    assert_eq!(
        count(&series, "bearer_policy_keys_changed_total", &[]),
        0,
        "nothing changed"
    );
    assert_eq!(
        authorize(&requirements, &validator, Some(&token)).await,
        Ok(()),
        "old keys stay"
    );

    // A set with a private key beside the good one: accepted, the private key dropped.
    let mut private = issuer.jwk(&kid).unwrap();
    private["kid"] = json!("leaked");
    private["d"] = json!("c2VjcmV0");
    issuer.set_fault(body(json!([issuer.jwk(&kid).unwrap(), private])));
    tokio::time::sleep(crate::common::issuer::RETRY_AFTER_FAILURE).await;
    let unknown = bearer(
        &issuer
            .token()
            .for_global_api(API)
            .kid("still-unknown")
            .sign(),
    );
    assert_eq!(
        authorize(&requirements, &validator, Some(&unknown)).await,
        Err(401)
    );
    let series = read(&snapshotter);
    let dropped = [("issuer", url.as_str()), ("reason", "private_key")];
    assert_eq!(
        count(&series, "bearer_policy_keys_refused_total", &dropped),
        1,
        "{series:#?}"
    );

    // Given keys that a reload refuses.
    let given = issuer.public_key_pem(&kid).unwrap();
    let fixed = Validator::builder()
        .issuer("internal")
        .keys(StaticKeys::pem(given))
        .build()
        .unwrap();
    assert!(
        fixed
            .reload_keys("internal", StaticKeys::jwks("{}"))
            .is_err()
    );
    let series = read(&snapshotter);
    let refused = [("issuer", "internal"), ("reason", "invalid_keys")];
    assert_eq!(
        count(&series, "bearer_policy_key_sets_refused_total", &refused),
        1,
        "{series:#?}"
    );
    let report = fixed.readiness();
    assert!(report.ready && report.issuers[0].keys == 1, "{report:?}");
    assert_eq!(
        serde_json::to_value(&report).unwrap()["issuers"][0]["keys_source"],
        "static"
    );
}
