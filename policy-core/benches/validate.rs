//! Criterion benches of the request path, each beside its baseline in the
//! same run: raw `jsonwebtoken::decode` per algorithm against our validate +
//! policy check with the cache off and with a cache hit; bearer extraction +
//! policy check alone; a warp route without and with authentication; and a
//! forged token without `kid` beside one with a `kid`, against an issuer that
//! publishes 1,500 keys; and a cache hit with and without deserialising the
//! payload into an application's claims type.
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

use bearer_policy_core::warp::{authorize, recover};
use bearer_policy_core::{BearerConfig, extract_bearer};
use criterion::{Criterion, criterion_group, criterion_main};
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

/// A typical application claims type: what `AuthInfo::claims::<T>()` (and the
/// axum `Claims<T>` extractor) deserialises the payload into.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read by serde only
struct AppClaims {
    sub: String,
    email: String,
    roles: Vec<String>,
    tenant: String,
}

/// The cost of typed custom claims on the cache-hit path: a cache hit alone
/// beside a cache hit plus `claims::<AppClaims>()` on the same token.
fn typed_claims(c: &mut Criterion) {
    let fixture = Fixture::new();
    let token = fixture
        .issuer
        .token()
        .kid(fixture.issuer.current_kid())
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .subject("user-1")
        .claim("email", "ada@example.com")
        .claim("roles", ["billing", "support"])
        .claim("tenant", "acme")
        .sign();
    let validate = || run_now(&fixture.runtime, fixture.cached.validate(&token)).unwrap();
    validate().claims::<AppClaims>().unwrap();
    let mut group = c.benchmark_group("typed_claims");
    group.bench_function("cache_hit", |b| b.iter(|| black_box(validate())));
    group.bench_function("cache_hit_and_claims", |b| {
        b.iter(|| black_box(validate().claims::<AppClaims>().unwrap()))
    });
    group.finish();
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
            fixture.policy.decide(black_box(&auth), None).unwrap();
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
        .map(|_auth: bearer_policy_core::AuthInfo| warp::reply::json(&AUDIENCE))
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

/// An axum router in process (`tower::ServiceExt::oneshot`), without and with
/// authentication (a cache hit through the `AuthInfo` extractor and the
/// policy check), beside the warp route above.
fn axum_route(c: &mut Criterion) {
    use axum::routing::get;
    use tower::ServiceExt as _;

    let fixture = Fixture::new();
    let bearer = format!("Bearer {}", fixture.cases[0].token);
    let policy = fixture.policy.clone();
    let app = axum::Router::new()
        .route("/health", get(|| async { AUDIENCE }))
        .route(
            "/api/protected",
            get(move |auth: bearer_policy_core::AuthInfo| {
                let allowed = bearer_policy_core::PolicySet::decide_request(&policy, &auth, None);
                async move {
                    allowed
                        .map(|()| AUDIENCE)
                        .map_err(bearer_policy_core::axum::Rejected::from)
                }
            }),
        )
        .with_state(fixture.cached.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let call = |path: &str, authorization: Option<&str>| {
        let mut request = axum::http::Request::builder().uri(path);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.body(axum::body::Body::empty()).unwrap()
    };
    let status = |request: axum::http::Request<axum::body::Body>| {
        runtime
            .block_on(app.clone().oneshot(request))
            .unwrap()
            .status()
    };
    assert_eq!(status(call("/health", None)), 200);
    assert_eq!(status(call("/api/protected", Some(&bearer))), 200);
    assert_eq!(status(call("/api/protected", None)), 401);

    let mut group = c.benchmark_group("axum_in_process");
    group.bench_function("no_auth", |b| {
        b.iter(|| runtime.block_on(app.clone().oneshot(call("/health", None))))
    });
    group.bench_function("authenticated_cache_hit", |b| {
        b.iter(|| runtime.block_on(app.clone().oneshot(call("/api/protected", Some(&bearer)))))
    });
    group.finish();
}

/// A published set of 1,500 P-256 keys with kids: a forged token without
/// `kid` costs at most `MAX_KEYS_TRIED_WITHOUT_KID` signature checks, one
/// with a `kid` exactly one, whatever the issuer publishes.
fn large_key_set(c: &mut Criterion) {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use bearer_policy_core::testing::{Fault, TestIssuer};
    use bearer_policy_core::{Algorithm, Error, TokenError};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::with_algorithms(&[Algorithm::ES256]));
    let keys: Vec<serde_json::Value> = (0..1500)
        .map(|i| {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let point = pair.public_key().as_ref();
            serde_json::json!({"kty": "EC", "crv": "P-256", "kid": format!("k{i}"),
                "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..])})
        })
        .collect();
    issuer.set_fault(Fault::Body {
        content_type: "application/jwk-set+json".into(),
        body: serde_json::json!({ "keys": keys }).to_string().into_bytes(),
    });
    let validator = issuer
        .validator_builder(AUDIENCE)
        .cache_capacity(0)
        .build()
        .unwrap();
    runtime.block_on(validator.ready()).unwrap();

    // Signed by a key nobody published: refused either way.
    let forger = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let forged = |header: serde_json::Value| {
        let payload = issuer.token().for_global_api(AUDIENCE).payload();
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(payload.to_string())
        );
        let signature = forger.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(signature.as_ref()))
    };
    let without_kid = forged(serde_json::json!({"alg": "ES256"}));
    let with_kid = forged(serde_json::json!({"alg": "ES256", "kid": "k3"}));
    let refused = |token: &str| {
        let outcome = run_now(&runtime, validator.validate(black_box(token)));
        assert_eq!(
            outcome.unwrap_err(),
            Error::InvalidToken(TokenError::InvalidSignature)
        );
    };

    let mut group = c.benchmark_group("large_key_set");
    group.bench_function("forged_with_kid", |b| b.iter(|| refused(&with_kid)));
    group.bench_function("forged_without_kid", |b| b.iter(|| refused(&without_kid)));
    group.finish();
}

/// Work before the signature check, on payloads built to make it costly
/// (1,400 `scope` and 1,400 `scp` entries, an `aud` of 1,400 entries, a
/// claim repeated 440 times), each beside a plain forged token padded to the
/// same length: all refused for their signature by an issuer's keys.
fn pre_signature(c: &mut Criterion) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use bearer_policy_core::{Error, TokenError};

    let fixture = Fixture::new();
    let iss = fixture.issuer.issuer();
    let exp = 4_102_444_800_i64; // 2100-01-01: only the signature refuses these
    let repeated: String = (0..440).map(|i| format!(r#","x":{i}"#)).collect();
    let costly = [
        (
            "scope_and_scp",
            serde_json::json!({ "iss": iss, "exp": exp, "scope": vec!["a"; 1400].join(" "),
                "scp": vec!["b"; 1400].join(" ") })
            .to_string(),
        ),
        (
            "aud_array",
            serde_json::json!({ "iss": iss, "exp": exp,
                "aud": (0..1400).map(|i| format!("{:x}", i % 16)).collect::<Vec<_>>() })
            .to_string(),
        ),
        (
            "repeated_claim",
            format!(r#"{{"iss":"{iss}","exp":{exp}{repeated}}}"#),
        ),
    ];
    // The RS256 key: the first of `ALGORITHMS`, as the fixture signs them.
    let header = serde_json::json!({ "alg": "RS256", "kid": fixture.issuer.kids()[0] });
    let token = |payload: &str| {
        format!(
            "{}.{}.{}",
            B64.encode(header.to_string()),
            B64.encode(payload),
            B64.encode([7u8; 256])
        )
    };
    let refused = |token: &str| {
        let outcome = run_now(
            &fixture.runtime,
            fixture.uncached.validate(black_box(token)),
        );
        assert_eq!(
            outcome.unwrap_err(),
            Error::InvalidToken(TokenError::InvalidSignature)
        );
    };
    let mut group = c.benchmark_group("pre_signature");
    for (name, payload) in &costly {
        // A plain forged token of the same length: one long custom claim.
        let plain_start = format!(r#"{{"iss":"{iss}","exp":{exp},"pad":""#);
        let pad = "p".repeat(payload.len().saturating_sub(plain_start.len() + 2));
        let plain = token(&format!("{plain_start}{pad}\"}}"));
        let crafted = token(payload);
        assert_eq!(plain.len(), crafted.len(), "{name}");
        refused(&plain);
        refused(&crafted);
        group.bench_function(format!("{name}/plain"), |b| b.iter(|| refused(&plain)));
        group.bench_function(format!("{name}/crafted"), |b| b.iter(|| refused(&crafted)));
    }
    group.finish();
}

criterion_group!(
    benches,
    per_algorithm,
    typed_claims,
    bearer_and_check,
    warp_route,
    axum_route,
    large_key_set,
    pre_signature
);
criterion_main!(benches);
