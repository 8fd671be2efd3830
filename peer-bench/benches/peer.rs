//! `bearer-policy` against jwt-authorizer (axum), on the same tokens and keys from
//! one `TestIssuer`, in one run:
//!
//! - `check/<alg>/…`: the validation call of each (jwt-authorizer's
//!   `Authorizer::check_auth` with issuer, audience and a scope checker;
//!   our `Validator::validate` + `Policy::decide`, cache off and cache hit);
//! - `route/…`: a `GET /api/protected` route called in process, axum through
//!   tower's `oneshot`, warp through `warp::test`, each without auth and
//!   authenticated.
//!
//! jwt-authorizer has no verified-token cache: every request pays the
//! signature, which our cache-off figures match.
//!
//! `cd peer-bench && cargo bench`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use jwt_authorizer::{Authorizer, IntoLayer as _, JwtAuthorizer, JwtClaims, Validation};
use policy_core::testing::TestIssuer;
use policy_core::warp::{authorize, recover};
use policy_core::{Algorithm, Model, Policy, Validator};
use tower::ServiceExt as _;
use warp::Filter as _;

const AUDIENCE: &str = "https://api.example.com";
const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// What the peer deserialises: the scope, to check it as our policy does.
#[derive(Debug, Clone, serde::Deserialize)]
struct PeerClaims {
    #[allow(dead_code)]
    sub: Option<String>,
    scope: Option<String>,
}

fn has_read_scope(claims: &PeerClaims) -> bool {
    claims
        .scope
        .as_deref()
        .is_some_and(|s| s.split(' ').any(|s| s == "api:read"))
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    _issuer: TestIssuer,
    tokens: Vec<(Algorithm, String)>,
    peer: Authorizer<PeerClaims>,
    peer_router: Router,
    uncached: Validator,
    cached: Validator,
    policy: Policy,
}

async fn peer_authorizer(issuer: &str) -> Authorizer<PeerClaims> {
    JwtAuthorizer::<PeerClaims>::from_oidc(issuer)
        .validation(Validation::new().iss(&[issuer]).aud(&[AUDIENCE]))
        .check(has_read_scope)
        .build()
        .await
        .expect("jwt-authorizer discovers the test issuer")
}

async fn peer_handler(JwtClaims(_claims): JwtClaims<PeerClaims>) -> axum::Json<&'static str> {
    axum::Json(AUDIENCE)
}

impl Fixture {
    fn new() -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let issuer = runtime.block_on(TestIssuer::with_algorithms(&ALGORITHMS));
        let tokens = ALGORITHMS
            .iter()
            .zip(issuer.kids())
            .map(|(&alg, kid)| {
                let token = issuer
                    .token()
                    .kid(kid)
                    .for_global_api(AUDIENCE)
                    .scopes(["api:read", "api:write"])
                    .sign();
                (alg, token)
            })
            .collect();
        let (peer, peer_layer) = runtime.block_on(async {
            let url = issuer.issuer();
            (
                peer_authorizer(&url).await,
                peer_authorizer(&url).await.into_layer(),
            )
        });
        let peer_router = Router::new()
            .route("/api/protected", get(peer_handler))
            .layer(peer_layer);
        let uncached = issuer
            .validator_builder(AUDIENCE)
            .cache_capacity(0)
            .build()
            .unwrap();
        let cached = issuer.validator(AUDIENCE);
        runtime.block_on(async {
            uncached.ready().await.unwrap();
            cached.ready().await.unwrap();
        });
        Fixture {
            runtime,
            _issuer: issuer,
            tokens,
            peer,
            peer_router,
            uncached,
            cached,
            policy: Policy::new(Model::GlobalApi).scopes(["api:read"]),
        }
    }

    fn ours(&self, validator: &Validator, token: &str) {
        self.runtime.block_on(async {
            let auth = validator.validate(token).await.unwrap();
            self.policy.decide(&auth, None).unwrap();
        })
    }

    fn peer(&self, token: &str) {
        self.runtime.block_on(async {
            black_box(self.peer.check_auth(token).await.unwrap());
        })
    }
}

fn check(c: &mut Criterion) {
    let fixture = Fixture::new();
    for (alg, token) in &fixture.tokens {
        fixture.peer(token);
        fixture.ours(&fixture.uncached, token);
        fixture.ours(&fixture.cached, token);
        let mut group = c.benchmark_group(format!("check/{alg:?}"));
        group.bench_function("jwt_authorizer", |b| {
            b.iter(|| fixture.peer(black_box(token)))
        });
        group.bench_function("policy_cache_off", |b| {
            b.iter(|| fixture.ours(&fixture.uncached, black_box(token)))
        });
        group.bench_function("policy_cache_hit", |b| {
            b.iter(|| fixture.ours(&fixture.cached, black_box(token)))
        });
        group.finish();
    }
}

fn route(c: &mut Criterion) {
    let fixture = Fixture::new();
    let bearer = format!("Bearer {}", fixture.tokens[0].1);
    let axum_open = Router::new().route("/api/protected", get(|| async { axum::Json(AUDIENCE) }));
    let axum_request = |authorization: Option<&str>| {
        let mut request = Request::builder().uri("/api/protected");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(Body::empty()).unwrap()
    };
    let warp_route = |validator: Option<Validator>| {
        let open = warp::get()
            .and(warp::path!("api" / "protected"))
            .map(|| warp::reply::json(&AUDIENCE));
        let protected = warp::get()
            .and(warp::path!("api" / "protected"))
            .and(authorize(
                validator.clone().unwrap_or_else(|| fixture.cached.clone()),
                fixture.policy.clone(),
            ))
            .map(|_: policy_core::AuthInfo| warp::reply::json(&AUDIENCE));
        (open.recover(recover), protected.recover(recover))
    };
    let (warp_open, warp_cached) = warp_route(None);
    let (_, warp_uncached) = warp_route(Some(fixture.uncached.clone()));
    let warp_request = |authorization: Option<&str>| {
        let mut request = warp::test::request().path("/api/protected");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request
    };
    let rt = &fixture.runtime;
    rt.block_on(async {
        let ok = |status: u16| assert_eq!(status, 200);
        ok(fixture
            .peer_router
            .clone()
            .oneshot(axum_request(Some(&bearer)))
            .await
            .unwrap()
            .status()
            .as_u16());
        ok(warp_request(Some(&bearer))
            .reply(&warp_cached)
            .await
            .status()
            .as_u16());
        ok(warp_request(Some(&bearer))
            .reply(&warp_uncached)
            .await
            .status()
            .as_u16());
    });

    let mut group = c.benchmark_group("route");
    group.bench_function("axum_no_auth", |b| {
        b.iter(|| rt.block_on(axum_open.clone().oneshot(axum_request(None))))
    });
    group.bench_function("axum_jwt_authorizer", |b| {
        b.iter(|| {
            rt.block_on(
                fixture
                    .peer_router
                    .clone()
                    .oneshot(axum_request(Some(&bearer))),
            )
        })
    });
    group.bench_function("warp_no_auth", |b| {
        b.iter(|| rt.block_on(warp_request(None).reply(&warp_open)))
    });
    group.bench_function("warp_policy_cache_off", |b| {
        b.iter(|| rt.block_on(warp_request(Some(&bearer)).reply(&warp_uncached)))
    });
    group.bench_function("warp_policy_cache_hit", |b| {
        b.iter(|| rt.block_on(warp_request(Some(&bearer)).reply(&warp_cached)))
    });
    group.finish();
}

criterion_group!(benches, check, route);
criterion_main!(benches);
