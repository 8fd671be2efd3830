//! Fault injection against the issuer (TestIssuer faults and a deliberately
//! broken loopback server): for each fault, the status the caller gets,
//! that cached keys keep serving, and that no request waits longer than the
//! configured timeout (with a generous margin for a loaded machine).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bearer_policy::testing::{Fault, TestIssuer};
use bearer_policy::{Algorithm, ConfigError, Error, TokenError, Validator, ValidatorBuilder};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, start_issuer};

use crate::common::issuer::TIMEOUT;
/// The most any request may take while the issuer misbehaves.
const BOUND: Duration = Duration::from_millis(2500);
/// What a request served from cached keys may take.
const FAST: Duration = Duration::from_millis(500);

/// The fast timings, an unknown `kid` refetched after 200 ms.
fn fast(issuer: &TestIssuer) -> ValidatorBuilder {
    common::fast(issuer).unknown_kid_refetch_interval(Duration::from_millis(200))
}

/// Validates and measures.
async fn timed(validator: &Validator, token: &str) -> (Result<(), Error>, Duration) {
    let started = Instant::now();
    let outcome = validator.validate(token).await.map(drop);
    (outcome, started.elapsed())
}

/// A 503 with a Retry-After, within the bound.
fn assert_unavailable(outcome: &(Result<(), Error>, Duration), what: &str) {
    let (result, elapsed) = outcome;
    let error = result.as_ref().expect_err(what);
    assert_eq!(error.status(), 503, "{what}: {error:?}");
    assert_eq!(error.code(), "keys_unavailable", "{what}");
    assert!(error.retry_after().unwrap() >= Duration::from_secs(1));
    assert!(error.www_authenticate(None).is_none());
    assert!(*elapsed <= BOUND, "{what}: took {elapsed:?}");
}

fn assert_fast_ok(outcome: &(Result<(), Error>, Duration), what: &str) {
    let (result, elapsed) = outcome;
    assert!(result.is_ok(), "{what}: {result:?}");
    assert!(*elapsed <= FAST, "{what}: took {elapsed:?}");
}

/// Loads the keys, then makes the issuer publish a second key (not yet
/// seen by the validator) and returns a token signed by it: validating it
/// forces a refetch under whatever fault is set next.
async fn warm(issuer: &TestIssuer, validator: &Validator) -> (String, String) {
    validator.ready().await.unwrap();
    let known = issuer.token().sign();
    let new_kid = issuer.add_key(Algorithm::ES256);
    let unseen = issuer.token().kid(new_kid).sign();
    (known, unseen)
}

#[tokio::test]
async fn jwks_slower_than_the_timeout_is_503_within_the_timeout() {
    // Cold: nothing cached, every request fails by the deadline, sharing one fetch.
    let issuer = start_issuer().await;
    issuer.set_fault(Fault::Delay(Duration::from_secs(6)));
    let validator = fast(&issuer).build().unwrap();
    let token = issuer.token().sign();
    let mut requests = Vec::new();
    for _ in 0..10 {
        let (validator, token) = (validator.clone(), token.clone());
        requests.push(tokio::spawn(async move { timed(&validator, &token).await }));
    }
    for request in requests {
        assert_unavailable(&request.await.unwrap(), "cold, slow issuer");
    }
    assert!(
        issuer.discovery_requests() + issuer.jwks_requests() <= 2,
        "one shared fetch, got {} + {}",
        issuer.discovery_requests(),
        issuer.jwks_requests()
    );

    // Warm: cached keys answer at once while a refetch hangs.
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    let (known, unseen) = warm(&issuer, &validator).await;
    issuer.set_fault(Fault::Delay(Duration::from_secs(6)));
    let slow = {
        let (validator, unseen) = (validator.clone(), unseen.clone());
        tokio::spawn(async move { timed(&validator, &unseen).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..20 {
        assert_fast_ok(
            &timed(&validator, &known).await,
            "known kid during a slow refetch",
        );
    }
    assert_unavailable(&slow.await.unwrap(), "unknown kid, slow issuer");
}

#[tokio::test]
async fn jwks_answering_500_or_404_is_503_and_cached_keys_keep_serving() {
    for status in [500, 404, 502, 429] {
        let issuer = start_issuer().await;
        issuer.set_fault(Fault::Status(status));
        let validator = fast(&issuer).build().unwrap();
        let token = issuer.token().sign();
        let outcome = timed(&validator, &token).await;
        assert_unavailable(&outcome, &format!("cold, {status}"));
        assert!(outcome.1 < TIMEOUT, "an error status fails fast");
        assert!(matches!(
            validator.ready().await,
            Err(ConfigError::Fetch { .. })
        ));

        let issuer = start_issuer().await;
        let validator = fast(&issuer).build().unwrap();
        let (known, unseen) = warm(&issuer, &validator).await;
        issuer.set_fault(Fault::Status(status));
        assert_unavailable(&timed(&validator, &unseen).await, "unknown kid");
        for _ in 0..5 {
            assert_fast_ok(&timed(&validator, &known).await, "known kid");
        }
        // Recovery: the next refetch after the interval succeeds.
        issuer.set_fault(Fault::None);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_fast_ok(&timed(&validator, &unseen).await, "after recovery");
    }
}

#[tokio::test]
async fn jwks_that_is_not_json_is_503_and_cached_keys_keep_serving() {
    let bodies: [(&str, &[u8]); 4] = [
        ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
        ("application/json", b"{\"keys\":"),
        ("application/json", b"[]"),
        ("application/json", b""),
    ];
    for (content_type, body) in bodies {
        let fault = Fault::Body {
            content_type: content_type.into(),
            body: body.to_vec(),
        };
        let issuer = start_issuer().await;
        issuer.set_fault(fault.clone());
        let validator = fast(&issuer).build().unwrap();
        assert_unavailable(
            &timed(&validator, &issuer.token().sign()).await,
            &format!("cold, {}", String::from_utf8_lossy(body)),
        );
        assert!(matches!(
            validator.ready().await,
            Err(ConfigError::InvalidDocument { .. })
        ));

        let issuer = start_issuer().await;
        let validator = fast(&issuer).build().unwrap();
        let (known, unseen) = warm(&issuer, &validator).await;
        issuer.set_fault(fault);
        assert_unavailable(&timed(&validator, &unseen).await, "unknown kid");
        assert_fast_ok(&timed(&validator, &known).await, "known kid");
    }
}

#[tokio::test]
async fn jwks_larger_than_the_size_limit_is_503() {
    let issuer = start_issuer().await;
    let mut keys = vec![issuer.jwk(&issuer.current_kid()).unwrap()];
    keys.extend((0..5000).map(|i| json!({"kty": "oct", "kid": format!("pad-{i}"), "k": "AAAA"})));
    let gigantic = json!({ "keys": keys }).to_string().into_bytes();
    assert!(gigantic.len() > 64 * 1024);
    let fault = Fault::Body {
        content_type: "application/json".into(),
        body: gigantic,
    };
    issuer.set_fault(fault.clone());
    let validator = fast(&issuer).max_response_bytes(64 * 1024).build().unwrap();
    let outcome = timed(&validator, &issuer.token().sign()).await;
    assert_unavailable(&outcome, "cold, gigantic JWKS");
    match validator.ready().await {
        Err(ConfigError::Fetch { reason, .. }) => assert!(reason.contains("larger"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The same document is fine under the default 1 MiB limit.
    let roomy = fast(&issuer).build().unwrap();
    roomy.validate(&issuer.token().sign()).await.unwrap();

    // Warm: a gigantic answer to a refetch leaves the cached keys in place.
    let issuer = start_issuer().await;
    let validator = fast(&issuer).max_response_bytes(64 * 1024).build().unwrap();
    let (known, unseen) = warm(&issuer, &validator).await;
    issuer.set_fault(fault);
    assert_unavailable(&timed(&validator, &unseen).await, "unknown kid");
    assert_fast_ok(&timed(&validator, &known).await, "known kid");
}

#[tokio::test]
async fn empty_key_set_is_503_and_never_replaces_cached_keys() {
    let empty = Fault::Body {
        content_type: "application/jwk-set+json".into(),
        body: br#"{"keys":[]}"#.to_vec(),
    };
    let issuer = start_issuer().await;
    issuer.set_fault(empty.clone());
    let validator = fast(&issuer).build().unwrap();
    assert_unavailable(&timed(&validator, &issuer.token().sign()).await, "cold");

    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    let (known, unseen) = warm(&issuer, &validator).await;
    issuer.set_fault(empty);
    assert_unavailable(&timed(&validator, &unseen).await, "unknown kid");
    for _ in 0..3 {
        assert_fast_ok(&timed(&validator, &known).await, "known kid");
    }
}

#[tokio::test]
async fn keys_of_unsupported_types_are_skipped_and_alone_are_503() {
    let issuer = start_issuer().await;
    let unsupported = vec![
        json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0"}),
        json!({"kty": "OKP", "crv": "X25519", "kid": "x", "x": "AAAA"}),
        json!({"kty": "EC", "crv": "secp256k1", "kid": "k", "x": "AAAA", "y": "AAAA"}),
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AAAA", "e": "AQAB"}),
        json!({"kty": "PQC", "kid": "future"}),
        json!(42),
    ];
    let only_unsupported = json!({ "keys": unsupported }).to_string().into_bytes();
    issuer.set_fault(Fault::Body {
        content_type: "application/json".into(),
        body: only_unsupported,
    });
    let validator = fast(&issuer).build().unwrap();
    assert_unavailable(&timed(&validator, &issuer.token().sign()).await, "cold");
    match validator.ready().await {
        Err(ConfigError::InvalidDocument { reason, .. }) => {
            assert!(reason.contains("no usable"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // With one usable key among them, that key serves.
    let mut mixed = unsupported.clone();
    mixed.push(issuer.jwk(&issuer.current_kid()).unwrap());
    issuer.set_fault(Fault::Body {
        content_type: "application/json".into(),
        body: json!({ "keys": mixed }).to_string().into_bytes(),
    });
    let validator = fast(&issuer).build().unwrap();
    validator.validate(&issuer.token().sign()).await.unwrap();
    // And an HS256 token naming the `oct` key is refused, not verified with it.
    let hs = issuer.sign_raw(
        &issuer.current_kid(),
        br#"{"alg":"HS256","kid":"h"}"#,
        issuer.token().payload().to_string().as_bytes(),
    );
    assert_eq!(
        validator.validate(&hs).await.unwrap_err(),
        Error::InvalidToken(TokenError::AlgorithmNotAllowed)
    );
}

/// Two different keys published under one `kid`: a `kid` must name one key,
/// so a token naming it is refused whichever key signed it (RFC 7517 §4.5),
/// and no signature is tried.
#[tokio::test]
async fn a_kid_naming_two_published_keys_is_refused_as_ambiguous() {
    let issuer = start_issuer().await;
    let first = issuer.current_kid();
    let second = issuer.add_key(Algorithm::ES256);
    let outsider = issuer.add_key(Algorithm::ES256);
    let shared = |kid: &str| {
        let mut jwk = issuer.jwk(kid).unwrap();
        jwk["kid"] = json!("shared");
        jwk
    };
    issuer.set_fault(Fault::Body {
        content_type: "application/json".into(),
        body: json!({ "keys": [shared(&first), shared(&second)] })
            .to_string()
            .into_bytes(),
    });
    let validator = fast(&issuer).build().unwrap();
    let payload = issuer.token().payload().to_string();
    let header = br#"{"alg":"ES256","kid":"shared"}"#;
    for signer in [&first, &second, &outsider] {
        let token = issuer.sign_raw(signer, header, payload.as_bytes());
        assert_eq!(
            validator.validate(&token).await.unwrap_err(),
            Error::InvalidToken(TokenError::AmbiguousKey),
            "signed by {signer}"
        );
    }
    // Their own kids are not published: unknown.
    let own = issuer.token().kid(first).sign();
    assert_eq!(
        validator.validate(&own).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_503_and_no_keys_are_fetched() {
    let issuer = start_issuer().await;
    issuer.set_discovery_issuer(Some("https://evil.example/oidc".into()));
    let validator = fast(&issuer).build().unwrap();
    let outcome = timed(&validator, &issuer.token().sign()).await;
    assert_unavailable(&outcome, "issuer mismatch");
    assert!(outcome.1 < TIMEOUT);
    assert!(matches!(
        validator.ready().await,
        Err(ConfigError::IssuerMismatch { .. })
    ));
    // A trailing slash is another issuer too (exact comparison).
    issuer.set_discovery_issuer(Some(format!("{}/", issuer.issuer())));
    let validator = fast(&issuer).build().unwrap();
    assert!(matches!(
        validator.ready().await,
        Err(ConfigError::IssuerMismatch { .. })
    ));
    assert_eq!(issuer.jwks_requests(), 0, "the JWKS of a mismatched issuer");
}

#[tokio::test]
async fn issuer_going_down_and_coming_back() {
    // Cold start while down: 503 at once, then 200 after the back-off once it is up.
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    issuer.stop().await;
    let token = issuer.token().sign();
    let outcome = timed(&validator, &token).await;
    assert_unavailable(&outcome, "cold, issuer down");
    assert!(outcome.1 < TIMEOUT, "a refused connection fails fast");
    issuer.restart().await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let started = Instant::now();
    validator.validate(&token).await.unwrap();
    assert!(started.elapsed() < BOUND);

    // Warm, with refreshes due every 100 ms: while down, cached keys keep
    // serving without delay; once back, a rotated key is picked up.
    let issuer = start_issuer().await;
    let validator = fast(&issuer)
        .refresh_bounds(Duration::from_millis(100), Duration::from_millis(100))
        .build()
        .unwrap();
    validator.ready().await.unwrap();
    let known = issuer.token().sign();
    issuer.stop().await;
    let until = Instant::now() + Duration::from_millis(800);
    let mut served = 0;
    while Instant::now() < until {
        assert_fast_ok(&timed(&validator, &known).await, "known kid, issuer down");
        served += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served > 10);
    let rotated = issuer.rotate();
    let fresh = issuer.token().kid(rotated).sign();
    assert_unavailable(&timed(&validator, &fresh).await, "new kid, issuer down");
    issuer.restart().await;
    let deadline = Instant::now() + BOUND;
    loop {
        match validator.validate(&fresh).await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert!(matches!(e.status().as_u16(), 401 | 503), "{e:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the rotated key was not picked up: {e:?}"),
        }
    }
}

/// What a deliberately broken server does with each connection.
#[derive(Clone, Copy, Debug)]
enum Broken {
    /// Reads the request and never answers.
    Hang,
    /// Sends headers, then one byte of a chunked body every 200 ms, forever.
    Drip,
    /// Streams a chunked body as fast as it can, forever.
    Endless,
    /// Announces a 100 MB body.
    HugeContentLength,
    /// Closes the connection without a word.
    Close,
    /// Answers something that is not HTTP.
    Garbage,
}

/// Serves `mode` on loopback; returns the JWKS URL and a connection counter.
async fn broken_server(mode: Broken) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let chunked = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                match mode {
                    Broken::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
                    Broken::Drip => {
                        let _ = socket.write_all(chunked).await;
                        let _ = socket.write_all(b"1\r\n{\r\n").await;
                        for _ in 0..150 {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            if socket.write_all(b"1\r\n \r\n").await.is_err() {
                                return;
                            }
                        }
                    }
                    Broken::Endless => {
                        let _ = socket.write_all(chunked).await;
                        let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
                        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                    }
                    Broken::HugeContentLength => {
                        let _ = socket
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 100000000\r\n\r\n{\"keys\":[",
                            )
                            .await;
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                    Broken::Close => {}
                    Broken::Garbage => {
                        let _ = socket.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff").await;
                    }
                }
            });
        }
    });
    (url, connections)
}

#[tokio::test]
async fn broken_jwks_servers_are_503_within_the_timeout() {
    let issuer = start_issuer().await;
    let token = issuer.token().sign();
    for mode in [
        Broken::Hang,
        Broken::Drip,
        Broken::Endless,
        Broken::HugeContentLength,
        Broken::Close,
        Broken::Garbage,
    ] {
        let (jwks_uri, connections) = broken_server(mode).await;
        let validator = fast(&issuer)
            .jwks_uri(jwks_uri)
            .max_response_bytes(256 * 1024)
            .build()
            .unwrap();
        // Several requests at once share the one fetch and all fail by the deadline.
        let mut requests = Vec::new();
        for _ in 0..5 {
            let (validator, token) = (validator.clone(), token.clone());
            requests.push(tokio::spawn(async move { timed(&validator, &token).await }));
        }
        for request in requests {
            assert_unavailable(&request.await.unwrap(), &format!("{mode:?}"));
        }
        assert!(
            connections.load(Ordering::SeqCst) <= 2,
            "{mode:?}: {} connections",
            connections.load(Ordering::SeqCst)
        );
    }
}

/// Concurrent validations while the issuer adds and rotates keys: no 503,
/// no wrong answer, refetches bounded by the unknown-kid interval, and every
/// new key accepted shortly after it is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_during_traffic_keeps_serving() {
    let issuer = start_issuer().await;
    let interval = Duration::from_millis(150);
    let validator = fast(&issuer)
        .unknown_kid_refetch_interval(interval)
        .build()
        .unwrap();
    validator.ready().await.unwrap();
    issuer.reset_counters();
    let started = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..6 {
        let (issuer, validator, stop) = (issuer.clone(), validator.clone(), Arc::clone(&stop));
        clients.push(tokio::spawn(async move {
            let (mut ok, mut unknown) = (0usize, 0usize);
            while !stop.load(Ordering::SeqCst) {
                let token = issuer.token().sign();
                let started = Instant::now();
                match validator.validate(&token).await {
                    Ok(_) => ok += 1,
                    Err(Error::InvalidToken(TokenError::UnknownKey)) => unknown += 1,
                    Err(other) => panic!("{other:?}"),
                }
                assert!(started.elapsed() <= BOUND);
                tokio::task::yield_now().await;
            }
            (ok, unknown)
        }));
    }
    let mut kids = Vec::new();
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let kid = if round % 3 == 2 {
            issuer.rotate()
        } else {
            issuer.add_key(Algorithm::ES256)
        };
        kids.push(kid);
    }
    // The last key is accepted within the interval plus a fetch.
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    let last = issuer.token().kid(kids.last().unwrap().clone()).sign();
    validator.validate(&last).await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let (mut ok, mut unknown) = (0, 0);
    for client in clients {
        let (o, u) = client.await.unwrap();
        ok += o;
        unknown += u;
    }
    let elapsed = started.elapsed();
    assert!(ok > 100, "{ok} ok, {unknown} unknown");
    assert!(
        unknown * 5 < ok,
        "too many refusals: {ok} ok, {unknown} unknown"
    );
    let budget = (elapsed.as_millis() / interval.as_millis()) as usize + 2;
    assert!(
        issuer.jwks_requests() <= budget,
        "{} JWKS requests in {elapsed:?}",
        issuer.jwks_requests()
    );
}
