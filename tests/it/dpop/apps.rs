//! The DPoP suite's routes on each front end: `GET /orders` under a
//! run-time policy (`orders:read`) and `POST /payments` under one that
//! requires DPoP whatever the validator's mode, and `POST /transfers`, a
//! `#[requires(.., dpop = required)]` handler (one per framework's response
//! type); each answers `{"sub": …}`.

use bearer_policy::tower::BearerLayer;
use bearer_policy::{AuthInfo, DpopMode, Model, Policy, Validator, requires};
use http::{Method, StatusCode};
use serde_json::json;
use warp::Filter as _;

use crate::common::tower_router::{auth_of, json_response, route, router};
use crate::common::{API, App, FrontEnd};

fn orders_policy() -> Policy {
    Policy::new(Model::GlobalApi)
        .scopes(["orders:read"])
        .audience(API)
}

fn payments_policy() -> Policy {
    Policy::new(Model::GlobalApi)
        .scopes(["payments:write"])
        .audience(API)
        .dpop(DpopMode::Required)
}

/// `POST /transfers`: DPoP required by the attribute.
#[requires(model = global_api, scopes("payments:write"), audience = "https://api.example.com", dpop = required)]
async fn transfer(
    auth: AuthInfo,
) -> Result<axum::Json<serde_json::Value>, bearer_policy::axum::Rejected> {
    Ok(axum::Json(answer(&auth)))
}

/// `POST /transfers` on actix: the same declaration, actix's rejection.
#[requires(model = global_api, scopes("payments:write"), audience = "https://api.example.com", dpop = required)]
async fn transfer_actix(
    auth: AuthInfo,
) -> Result<actix_web::HttpResponse, bearer_policy::actix::Rejected> {
    Ok(actix_web::HttpResponse::Ok().json(answer(&auth)))
}

fn answer(auth: &AuthInfo) -> serde_json::Value {
    json!({ "sub": auth.sub() })
}

/// The suite's routes on `front_end`.
pub fn app(front_end: FrontEnd, v: Validator) -> App {
    match front_end {
        FrontEnd::Warp => {
            use bearer_policy::warp::{authorize, recover};
            let orders = warp::path!("orders")
                .and(warp::get())
                .and(authorize(v.clone(), orders_policy()))
                .map(|auth: AuthInfo| warp::reply::json(&answer(&auth)));
            let payments = warp::path!("payments")
                .and(warp::post())
                .and(authorize(v.clone(), payments_policy()))
                .map(|auth: AuthInfo| warp::reply::json(&answer(&auth)));
            let transfers = warp::path!("transfers")
                .and(warp::post())
                .and(authorize(v, &transfer::POLICY))
                .map(|auth: AuthInfo| warp::reply::json(&answer(&auth)));
            App::warp(orders.or(payments).or(transfers).recover(recover))
        }
        FrontEnd::Axum => {
            use axum::routing::{get, post};
            let orders = BearerLayer::new(v.clone()).require(orders_policy());
            let payments = BearerLayer::new(v.clone()).require(payments_policy());
            let handler = |axum::Extension(auth): axum::Extension<AuthInfo>| async move {
                axum::Json(answer(&auth))
            };
            App::Axum(
                axum::Router::new()
                    .route("/orders", get(handler).route_layer(orders))
                    .route("/payments", post(handler).route_layer(payments))
                    // The attribute's policy, decided by the handler's own extractor.
                    .route("/transfers", post(transfer))
                    .with_state(v),
            )
        }
        FrontEnd::Tower => {
            let respond = |request: http::Request<hyper::body::Incoming>| async move {
                json_response(StatusCode::OK, &answer(&auth_of(&request)))
            };
            App::Tower(router(vec![
                (
                    Method::GET,
                    "/orders",
                    route(
                        BearerLayer::new(v.clone()).require(orders_policy()),
                        respond,
                    ),
                ),
                (
                    Method::POST,
                    "/payments",
                    route(
                        BearerLayer::new(v.clone()).require(payments_policy()),
                        respond,
                    ),
                ),
                (
                    Method::POST,
                    "/transfers",
                    route(BearerLayer::new(v).require(&transfer::POLICY), respond),
                ),
            ]))
        }
        FrontEnd::Actix => App::actix(move |config| {
            use actix_web::web;
            use bearer_policy::actix::BearerMiddleware;
            // Behind the middleware, the `AuthInfo` extractor reuses its decision.
            async fn respond(auth: AuthInfo) -> actix_web::HttpResponse {
                actix_web::HttpResponse::Ok().json(answer(&auth))
            }
            config
                .app_data(v.clone())
                .service(
                    web::resource("/orders")
                        .wrap(BearerMiddleware::new(v.clone()).require(orders_policy()))
                        .route(web::get().to(respond)),
                )
                .service(
                    web::resource("/payments")
                        .wrap(BearerMiddleware::new(v.clone()).require(payments_policy()))
                        .route(web::post().to(respond)),
                )
                .route("/transfers", web::post().to(transfer_actix));
        }),
    }
}

/// `POST /transfers` as a warp handler: the same declaration.
#[requires(model = global_api, scopes("payments:write"), audience = "https://api.example.com", dpop = required)]
async fn transfer_warp(auth: AuthInfo) -> Result<impl warp::Reply, warp::Rejection> {
    Ok(warp::reply::json(&answer(&auth)))
}

/// `dpop = required` holds wherever the handler's policy is decided: a
/// bearer token that reached the handler through a route that did not
/// decide it (a direct call, warp's `authorize` given another policy) is
/// refused by the handler's own decision, 403 `dpop_binding_required`. A
/// route that decides the policy, warp's `authenticate` before this handler
/// included, answers 401 `dpop_required` first, with the DPoP challenge
/// (`required_mode_refuses_bearer_tokens_…`). A token bound to a key, with
/// its proof, passes.
#[tokio::test]
async fn a_handler_requiring_dpop_refuses_a_bearer_token_its_route_let_through() {
    use bearer_policy::testing::TestIssuer;
    use bearer_policy::warp::{authenticate, authorize, recover};
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let token = issuer
        .token()
        .for_global_api(API)
        .scopes(["payments:write"])
        .sign();

    let auth = validator.validate(&token).await.unwrap();
    let refused = transfer(auth.into()).await.expect_err("refused");
    assert_eq!(refused.error().code(), "dpop_binding_required");
    assert_eq!(refused.response::<String>().status(), StatusCode::FORBIDDEN);

    let weaker = Policy::new(Model::GlobalApi).scopes(["payments:write"]);
    let route = warp::path!("transfers")
        .and(authorize(validator.clone(), weaker))
        .and_then(transfer_warp)
        .recover(recover);
    let post = || {
        warp::test::request()
            .method("POST")
            .path("/transfers")
            .header("authorization", format!("Bearer {token}"))
    };
    let response = post().reply(&route).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["code"], "dpop_binding_required");

    // A validator that offers DPoP (a public URL), as a DPoP client meets it.
    let validator = super::validator(issuer.validator_builder(API));
    let route = warp::path!("transfers")
        .and(authenticate(validator))
        .and_then(transfer_warp)
        .recover(recover);
    let response = post().reply(&route).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["code"], "dpop_required");
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("DPoP algs=\""), "{challenge}");

    // A token bound to a key, with its proof, passes the same route, which
    // decides the handler's policy.
    let key = bearer_policy::testing::DpopKey::generate();
    let bound = super::token_from_endpoint(&issuer, Some(&key), "payments:write").await;
    let proof = key
        .proof("POST", &super::public("/transfers"))
        .token(&bound)
        .sign();
    let response = warp::test::request()
        .method("POST")
        .path("/transfers")
        .header("authorization", super::dpop(&bound))
        .header("dpop", proof)
        .reply(&route)
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.body());
}
