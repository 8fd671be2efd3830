//! Check functions over real HTTP on loopback, against a `TestIssuer`: the
//! same routes on every front end, warp (`authorize`, `authorize_path`),
//! axum (the handler's `Authorized` extractor) and a bare tower service (a
//! `BearerLayer` per route; on the path route, the handler's own check), each
//! protected by `#[requires(..., check = path)]`, and a macro-free
//! `Policy::check_with` closure behind warp's `authorize` and the tower
//! `BearerLayer`. A check that says no is 403 `check_failed` (or the denial
//! it returns), never reached by a caller the token, scopes or organization
//! already refuse, and always decided before the request body is read.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bearer_policy::testing::TestIssuer;
use bearer_policy::{AuthInfo, Denied, Model, Policy, Validator};
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

use crate::common::{API, App, FrontEnd, Response, Server, bearer, start_issuer};

const CHECK_FAILED_MESSAGE: &str = "The request does not meet an access rule of this resource";
const UNVERIFIED: &str = "verify your email address first";

// ---- the check functions ----

/// The caller's `role` claim is `staff`.
fn is_staff(auth: &AuthInfo) -> bool {
    auth.claim("role").is_some_and(|role| role == "staff")
}

/// A refusal with a reason of its own.
fn verified_email(auth: &AuthInfo) -> Result<(), Denied> {
    match auth.claim("email_verified") {
        Some(Value::Bool(true)) => Ok(()),
        _ => Err(Denied::check_failed(UNVERIFIED)),
    }
}

/// How often `counted_staff` ran: only `/counted` uses it, and only
/// `a_check_never_runs_for_a_caller_the_policy_already_refuses` calls that.
static STAFF_CHECKS: AtomicUsize = AtomicUsize::new(0);

fn counted_staff(auth: &AuthInfo) -> bool {
    STAFF_CHECKS.fetch_add(1, Ordering::SeqCst);
    is_staff(auth)
}

/// The macro-free rule: an email in `domain`, the domain from configuration.
fn email_domain_policy(domain: &str) -> Policy {
    let domain = domain.to_owned();
    Policy::new(Model::GlobalApi)
        .scopes(["api:read"])
        .check_with("email_domain", move |auth: &AuthInfo| {
            auth.claim("email")
                .and_then(|email| {
                    let email = email.as_str()?.to_owned();
                    let (_, at) = email.rsplit_once('@')?;
                    Some(at.eq_ignore_ascii_case(&domain))
                })
                .unwrap_or(false)
        })
}

// ---- the two servers ----

/// Set when a refused request's body would be read: never.
static WARP_BODY_READ: AtomicBool = AtomicBool::new(false);
static AXUM_BODY_READ: AtomicBool = AtomicBool::new(false);
static TOWER_BODY_READ: AtomicBool = AtomicBool::new(false);
static ACTIX_BODY_READ: AtomicBool = AtomicBool::new(false);

mod warp_app {
    use bearer_policy::warp::{authorize, authorize_path, recover};
    use bearer_policy::{AuthInfo, Validator, requires};
    use serde_json::{Value, json};
    use std::sync::atomic::Ordering;
    use warp::{Filter, Rejection, Reply};

    use super::{email_domain_policy, is_staff, verified_email};

    #[requires(model = global_api, scopes("reports:read"), check = is_staff)]
    async fn reports(auth: AuthInfo) -> Result<impl Reply, Rejection> {
        Ok(warp::reply::json(&json!({ "sub": auth.sub() })))
    }

    #[requires(model = global_api, scopes("api:write"), check = verified_email)]
    async fn create_product(auth: AuthInfo, product: Value) -> Result<impl Reply, Rejection> {
        Ok(warp::reply::json(
            &json!({ "sub": auth.sub(), "product": product }),
        ))
    }

    #[requires(model = org_resource, scopes("api:read"), org_from = path, check = is_staff)]
    async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
        Ok(warp::reply::json(
            &json!({ "org": org_id, "sub": auth.sub() }),
        ))
    }

    #[requires(model = global_api, check = is_staff)]
    #[requires(model = global_api, scopes("admin"))]
    async fn stacked(auth: AuthInfo) -> Result<impl Reply, Rejection> {
        Ok(warp::reply::json(&json!({ "sub": auth.sub() })))
    }

    #[requires(model = global_api, scopes("api:read"), check = super::counted_staff)]
    async fn counted(auth: AuthInfo) -> Result<impl Reply, Rejection> {
        Ok(warp::reply::json(&json!({ "sub": auth.sub() })))
    }

    pub fn routes(v: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
        let reports = warp::path!("reports")
            .and(warp::get())
            .and(authorize(v.clone(), &reports::POLICY))
            .and_then(reports);
        // Reaching the body filter is recorded: a refused caller never does.
        let body_read = warp::any()
            .map(|| super::WARP_BODY_READ.store(true, Ordering::SeqCst))
            .untuple_one();
        let products = warp::path!("products")
            .and(warp::post())
            .and(authorize(v.clone(), &create_product::POLICY))
            .and(body_read)
            .and(warp::body::json())
            .and_then(create_product);
        let data = authorize_path(
            warp::path!("orgs" / String / "data").and(warp::get()),
            v.clone(),
            &org_data::POLICY,
        )
        .and_then(org_data);
        let stacked = warp::path!("stacked")
            .and(warp::get())
            .and(authorize(v.clone(), &stacked::POLICY))
            .and_then(stacked);
        let counted = warp::path!("counted")
            .and(warp::get())
            .and(authorize(v.clone(), &counted::POLICY))
            .and_then(counted);
        let domain = warp::path!("domain")
            .and(warp::get())
            .and(authorize(v, email_domain_policy("example.com")))
            .map(|auth: AuthInfo| warp::reply::json(&json!({ "sub": auth.sub() })));
        reports
            .or(products)
            .or(data)
            .or(stacked)
            .or(counted)
            .or(domain)
            .recover(recover)
    }
}

mod axum_app {
    use axum::extract::{FromRequest, Path, Request};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use bearer_policy::axum::Rejected;
    use bearer_policy::tower::BearerLayer;
    use bearer_policy::{AuthInfo, Validator, requires};
    use serde_json::{Value, json};
    use std::sync::atomic::Ordering;

    use super::{email_domain_policy, is_staff, verified_email};

    /// A JSON body whose extraction is recorded.
    struct RecordedJson(Value);

    impl<S: Send + Sync> FromRequest<S> for RecordedJson {
        type Rejection = (axum::http::StatusCode, &'static str);

        async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
            super::AXUM_BODY_READ.store(true, Ordering::SeqCst);
            let Json(value) = Json::<Value>::from_request(request, state)
                .await
                .map_err(|_| (axum::http::StatusCode::BAD_REQUEST, "bad body"))?;
            Ok(RecordedJson(value))
        }
    }

    #[requires(model = global_api, scopes("reports:read"), check = is_staff)]
    async fn reports(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub() })))
    }

    #[requires(model = global_api, scopes("api:write"), check = verified_email)]
    async fn create_product(
        auth: AuthInfo,
        RecordedJson(product): RecordedJson,
    ) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub(), "product": product })))
    }

    #[requires(model = org_resource, scopes("api:read"), org_from = path, check = is_staff)]
    async fn org_data(Path(org_id): Path<String>, auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "org": org_id, "sub": auth.sub() })))
    }

    #[requires(model = global_api, check = is_staff)]
    #[requires(model = global_api, scopes("admin"))]
    async fn stacked(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub() })))
    }

    #[requires(model = global_api, scopes("api:read"), check = super::counted_staff)]
    async fn counted(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub() })))
    }

    /// No attribute: the route's `BearerLayer` checked the macro-free policy.
    async fn domain(auth: AuthInfo) -> Json<Value> {
        Json(json!({ "sub": auth.sub() }))
    }

    pub fn app(v: Validator) -> Router {
        let domain_layer = BearerLayer::new(v.clone()).require(email_domain_policy("example.com"));
        Router::new()
            .route("/reports", get(reports))
            .route("/products", post(create_product))
            .route("/orgs/{org_id}/data", get(org_data))
            .route("/stacked", get(stacked))
            .route("/counted", get(counted))
            .route("/domain", get(domain).route_layer(domain_layer))
            .with_state(v)
    }
}

mod actix_app {
    use std::future::Future;
    use std::pin::Pin;

    use actix_web::dev::Payload;
    use actix_web::web::{self, Json, ServiceConfig};
    use actix_web::{FromRequest, HttpRequest};
    use bearer_policy::actix::{BearerMiddleware, Rejected};
    use bearer_policy::{AuthInfo, Validator, requires};
    use serde_json::{Value, json};

    use super::{email_domain_policy, is_staff, verified_email};
    use crate::common::actix_body::record_reads;

    /// A JSON body whose bytes, once read, are recorded.
    struct RecordedJson(Value);

    impl FromRequest for RecordedJson {
        type Error = actix_web::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

        fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
            let mut recorded = record_reads(payload, &super::ACTIX_BODY_READ);
            let json = Json::<Value>::from_request(request, &mut recorded);
            Box::pin(async move { Ok(RecordedJson(json.await?.into_inner())) })
        }
    }

    #[requires(model = global_api, scopes("reports:read"), check = is_staff)]
    async fn reports(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub() })))
    }

    #[requires(model = global_api, scopes("api:write"), check = verified_email)]
    async fn create_product(
        auth: AuthInfo,
        RecordedJson(product): RecordedJson,
    ) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub(), "product": product })))
    }

    #[requires(model = org_resource, scopes("api:read"), org_from = path, check = is_staff)]
    async fn org_data(org_id: web::Path<String>, auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "org": org_id.as_str(), "sub": auth.sub() })))
    }

    #[requires(model = global_api, check = is_staff)]
    #[requires(model = global_api, scopes("admin"))]
    async fn stacked(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub() })))
    }

    #[requires(model = global_api, scopes("api:read"), check = super::counted_staff)]
    async fn counted(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
        Ok(Json(json!({ "sub": auth.sub() })))
    }

    /// No attribute: the route's `BearerMiddleware` checked the macro-free policy.
    async fn domain(auth: AuthInfo) -> Json<Value> {
        Json(json!({ "sub": auth.sub() }))
    }

    pub fn app(v: Validator) -> impl Fn(&mut ServiceConfig) + Send + Sync + 'static {
        move |config| {
            let domain_route = web::get()
                .to(domain)
                .wrap(BearerMiddleware::new(v.clone()).require(email_domain_policy("example.com")));
            config
                .app_data(v.clone())
                .route("/reports", web::get().to(reports))
                .route("/products", web::post().to(create_product))
                .route("/orgs/{org_id}/data", web::get().to(org_data))
                .route("/stacked", web::get().to(stacked))
                .route("/counted", web::get().to(counted))
                .route("/domain", domain_route);
        }
    }
}

mod tower_app {
    // A `#[requires]` handler's `auth` parameter is `<handler>::Authorized`
    // or a plain `AuthInfo`, depending on its signature: `.into()` serves both.
    #![allow(clippy::useless_conversion)]

    use bearer_policy::tower::BearerLayer;
    use bearer_policy::{AuthInfo, Denied, Validator, requires};
    use http::Method;
    use serde_json::{Value, json};
    use std::sync::atomic::Ordering;

    use super::{email_domain_policy, is_staff, verified_email};
    use crate::common::front_ends::TowerService;
    use crate::common::tower_router::{auth_of, decided, json_body, org_of, route, router};

    #[requires(model = global_api, scopes("reports:read"), check = is_staff)]
    fn reports(auth: AuthInfo) -> Result<Value, Denied> {
        Ok(json!({ "sub": auth.sub() }))
    }

    #[requires(model = global_api, scopes("api:write"), check = verified_email)]
    fn create_product(auth: AuthInfo, product: Value) -> Result<Value, Denied> {
        Ok(json!({ "sub": auth.sub(), "product": product }))
    }

    #[requires(model = org_resource, scopes("api:read"), org_from = path, check = is_staff)]
    fn org_data(org_id: String, auth: AuthInfo) -> Result<Value, Denied> {
        Ok(json!({ "org": org_id, "sub": auth.sub() }))
    }

    #[requires(model = global_api, check = is_staff)]
    #[requires(model = global_api, scopes("admin"))]
    fn stacked(auth: AuthInfo) -> Result<Value, Denied> {
        Ok(json!({ "sub": auth.sub() }))
    }

    #[requires(model = global_api, scopes("api:read"), check = super::counted_staff)]
    fn counted(auth: AuthInfo) -> Result<Value, Denied> {
        Ok(json!({ "sub": auth.sub() }))
    }

    /// Each route behind its layer; `/orgs/{org_id}/data` behind one that
    /// only authenticates, its handler deciding with the path's organization.
    pub fn service(v: Validator) -> TowerService {
        let requiring = || BearerLayer::new(v.clone());
        router(vec![
            (
                Method::GET,
                "/reports",
                route(
                    requiring().require(&reports::POLICY),
                    |request| async move { decided(reports(auth_of(&request).into())) },
                ),
            ),
            (
                Method::POST,
                "/products",
                route(
                    requiring().require(&create_product::POLICY),
                    |request| async move {
                        let auth = auth_of(&request);
                        // Reaching the body is recorded: a refused caller never does.
                        super::TOWER_BODY_READ.store(true, Ordering::SeqCst);
                        match json_body(request).await {
                            Ok(product) => decided(create_product(auth.into(), product)),
                            Err(bad_body) => bad_body,
                        }
                    },
                ),
            ),
            (
                Method::GET,
                "/orgs/{org_id}/data",
                route(requiring(), |request| async move {
                    decided(org_data(org_of(&request), auth_of(&request).into()))
                }),
            ),
            (
                Method::GET,
                "/stacked",
                route(
                    requiring().require(&stacked::POLICY),
                    |request| async move { decided(stacked(auth_of(&request).into())) },
                ),
            ),
            (
                Method::GET,
                "/counted",
                route(
                    requiring().require(&counted::POLICY),
                    |request| async move { decided(counted(auth_of(&request).into())) },
                ),
            ),
            (
                Method::GET,
                "/domain",
                route(
                    requiring().require(email_domain_policy("example.com")),
                    |request| async move { decided(Ok(json!({ "sub": auth_of(&request).sub() }))) },
                ),
            ),
        ])
    }
}

/// This suite's routes on `front_end`: a new front end is one arm here.
fn app(front_end: FrontEnd, validator: Validator) -> App {
    match front_end {
        FrontEnd::Warp => App::warp(warp_app::routes(validator)),
        FrontEnd::Axum => App::Axum(axum_app::app(validator)),
        FrontEnd::Tower => App::Tower(tower_app::service(validator)),
        FrontEnd::Actix => App::actix(actix_app::app(validator)),
    }
}

/// Whether `front_end` has read a request body since the suite started.
fn body_read(front_end: FrontEnd) -> &'static AtomicBool {
    match front_end {
        FrontEnd::Warp => &WARP_BODY_READ,
        FrontEnd::Axum => &AXUM_BODY_READ,
        FrontEnd::Tower => &TOWER_BODY_READ,
        FrontEnd::Actix => &ACTIX_BODY_READ,
    }
}

/// `front_end` serving the routes on 127.0.0.1, trusting `issuer`.
async fn start(front_end: FrontEnd, issuer: &TestIssuer) -> Server {
    Server::start(app(front_end, issuer.validator(API))).await
}

async fn get(server: &Server, path: &str, token: &str) -> Response {
    server
        .send(server.get(path).header(AUTHORIZATION, bearer(token)))
        .await
}

async fn post(server: &Server, path: &str, token: &str, body: &'static str) -> Response {
    let request = server
        .post(path)
        .header(AUTHORIZATION, bearer(token))
        .header("content-type", "application/json")
        .body(body);
    server.send(request).await
}

/// Asserts a 403 `check_failed` with `message`, and the challenge of the
/// other denials that no scope would fix.
fn assert_check_failed(case: &str, answer: &Response, message: &str) {
    assert_eq!(answer.status, 403, "{case}: {answer:?}");
    assert_eq!(answer.code(), "check_failed", "{case}: {answer:?}");
    assert_eq!(answer.error_message(), message, "{case}: {answer:?}");
    let challenge = format!("Bearer error=\"insufficient_scope\", error_description=\"{message}\"");
    assert_eq!(answer.challenge(), challenge, "{case}");
}

fn assert_allowed(case: &str, answer: &Response, sub: &str) {
    assert_eq!(answer.status, 200, "{case}: {answer:?}");
    assert_eq!(answer.json()["sub"], sub, "{case}: {answer:?}");
}

// ---- the tests ----

#[tokio::test]
async fn a_check_that_says_no_is_403_check_failed_on_every_front_end() {
    let issuer = start_issuer().await;
    let token = |role: &str, scopes: &[&str]| {
        issuer
            .token()
            .for_global_api(API)
            .subject(role)
            .scopes(scopes.iter().copied())
            .claim("role", role)
            .sign()
    };
    let staff = token("staff", &["reports:read"]);
    let guest = token("guest", &["reports:read"]);
    let staff_without_scope = token("staff", &[]);
    let no_role = issuer
        .token()
        .for_global_api(API)
        .scopes(["reports:read"])
        .sign();
    for front_end in FrontEnd::ALL {
        let server = start(front_end, &issuer).await;
        let case = |name: &str| format!("{front_end:?}: {name}");
        assert_allowed(
            &case("staff"),
            &get(&server, "/reports", &staff).await,
            "staff",
        );
        assert_check_failed(
            &case("another role"),
            &get(&server, "/reports", &guest).await,
            CHECK_FAILED_MESSAGE,
        );
        assert_check_failed(
            &case("no role claim"),
            &get(&server, "/reports", &no_role).await,
            CHECK_FAILED_MESSAGE,
        );
        let answer = get(&server, "/reports", &staff_without_scope).await;
        assert_eq!(answer.status, 403, "{}", case("missing scope"));
        assert_eq!(answer.code(), "insufficient_scope", "{answer:?}");
        assert_eq!(
            answer.challenge(),
            "Bearer error=\"insufficient_scope\", scope=\"reports:read\"",
            "{}",
            case("missing scope: the scope is what is missing")
        );
    }
}

#[tokio::test]
async fn a_check_returning_its_own_denial_answers_with_it_before_the_body_is_read() {
    let issuer = start_issuer().await;
    let writer = |verified: bool| {
        issuer
            .token()
            .for_global_api(API)
            .scopes(["api:write"])
            .claim("email_verified", verified)
            .sign()
    };
    let (verified, unverified) = (writer(true), writer(false));
    for front_end in FrontEnd::ALL {
        let server = start(front_end, &issuer).await;
        let case = |name: &str| format!("{front_end:?}: {name}");
        for body in ["{not json", r#"{"name":"lamp"}"#] {
            assert_check_failed(
                &case(&format!("unverified, body {body}")),
                &post(&server, "/products", &unverified, body).await,
                UNVERIFIED,
            );
        }
        assert!(
            !body_read(front_end).load(Ordering::SeqCst),
            "{}",
            case("a refused request's body was read")
        );
        let answer = post(&server, "/products", &verified, r#"{"name":"lamp"}"#).await;
        assert_eq!(answer.status, 200, "{}: {answer:?}", case("verified"));
        assert_eq!(answer.json()["product"], json!({ "name": "lamp" }));
        assert!(body_read(front_end).load(Ordering::SeqCst));
    }
}

#[tokio::test]
async fn a_check_never_runs_for_a_caller_the_policy_already_refuses() {
    let issuer = start_issuer().await;
    let staff = |scopes: &[&str]| {
        issuer
            .token()
            .for_global_api(API)
            .subject("staff")
            .scopes(scopes.iter().copied())
            .claim("role", "staff")
            .sign()
    };
    let other_api = issuer
        .token()
        .for_global_api("https://other.example.com")
        .scopes(["api:read"])
        .claim("role", "staff")
        .sign();
    let org_token = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["api:read"])
        .claim("role", "staff")
        .sign();
    for front_end in FrontEnd::ALL {
        let server = start(front_end, &issuer).await;
        let case = |name: &str| format!("{front_end:?}: {name}");
        let before = STAFF_CHECKS.load(Ordering::SeqCst);
        for (name, token, code) in [
            (
                "missing scope",
                staff(&["api:write"]).as_str(),
                "insufficient_scope",
            ),
            ("another API", other_api.as_str(), "wrong_audience"),
            (
                "organization token",
                org_token.as_str(),
                "organization_token_not_allowed",
            ),
            ("bad token", "not.a.token", "malformed_token"),
        ] {
            let answer = get(&server, "/counted", token).await;
            assert_eq!(answer.code(), code, "{}: {answer:?}", case(name));
        }
        assert_eq!(
            STAFF_CHECKS.load(Ordering::SeqCst),
            before,
            "{}",
            case("the check ran for a refused request")
        );
        assert_allowed(
            &case("allowed"),
            &get(&server, "/counted", &staff(&["api:read"])).await,
            "staff",
        );
        // The route's check; where the route hands the handler no proof
        // that it decided the handler's own policies (the tower layer's
        // `AuthInfo`), the handler's own as a safety net too. warp's
        // `authorize` was given the handler's own `POLICY`, and says so.
        let runs = match front_end {
            FrontEnd::Axum | FrontEnd::Actix | FrontEnd::Warp => 1,
            FrontEnd::Tower => 2,
        };
        assert_eq!(
            STAFF_CHECKS.load(Ordering::SeqCst),
            before + runs,
            "{}",
            case("allowed")
        );
    }
}

#[tokio::test]
async fn organization_and_stacked_policies_are_decided_before_the_check() {
    let issuer = start_issuer().await;
    let member = |org: &str, role: &str| {
        issuer
            .token()
            .for_org_resource(API, org)
            .subject(role)
            .scopes(["api:read"])
            .claim("role", role)
            .sign()
    };
    let global = |role: &str, scopes: &[&str]| {
        issuer
            .token()
            .for_global_api(API)
            .subject(role)
            .scopes(scopes.iter().copied())
            .claim("role", role)
            .sign()
    };
    for front_end in FrontEnd::ALL {
        let server = start(front_end, &issuer).await;
        let case = |name: &str| format!("{front_end:?}: {name}");
        assert_allowed(
            &case("staff of acme"),
            &get(&server, "/orgs/acme/data", &member("acme", "staff")).await,
            "staff",
        );
        let answer = get(&server, "/orgs/globex/data", &member("acme", "guest")).await;
        assert_eq!(
            answer.code(),
            "organization_mismatch",
            "{}: {answer:?}",
            case("another organization, and not staff")
        );
        assert_check_failed(
            &case("a guest of acme"),
            &get(&server, "/orgs/acme/data", &member("acme", "guest")).await,
            CHECK_FAILED_MESSAGE,
        );
        // The check is on the first policy, the scope on the second: the
        // scope is reported, whatever the order of the attributes.
        let answer = get(&server, "/stacked", &global("guest", &[])).await;
        assert_eq!(
            answer.code(),
            "insufficient_scope",
            "{}: {answer:?}",
            case("stacked")
        );
        assert_check_failed(
            &case("stacked, not staff"),
            &get(&server, "/stacked", &global("guest", &["admin"])).await,
            CHECK_FAILED_MESSAGE,
        );
        assert_allowed(
            &case("stacked, staff admin"),
            &get(&server, "/stacked", &global("staff", &["admin"])).await,
            "staff",
        );
    }
}

#[tokio::test]
async fn a_macro_free_check_with_closure_protects_warp_authorize_and_the_tower_layer() {
    let issuer = start_issuer().await;
    let reader = |sub: &str, email: &str| {
        issuer
            .token()
            .for_global_api(API)
            .subject(sub)
            .scopes(["api:read"])
            .claim("email", email)
            .sign()
    };
    for front_end in FrontEnd::ALL {
        let server = start(front_end, &issuer).await;
        let case = |name: &str| format!("{front_end:?} (macro-free): {name}");
        assert_allowed(
            &case("in the domain"),
            &get(&server, "/domain", &reader("ann", "ann@Example.com")).await,
            "ann",
        );
        for (name, email) in [
            ("another domain", "bob@example.org"),
            ("a look-alike domain", "eve@notexample.com"),
            ("a subdomain", "eve@evil.example.com"),
        ] {
            assert_check_failed(
                &case(name),
                &get(&server, "/domain", &reader("x", email)).await,
                CHECK_FAILED_MESSAGE,
            );
        }
        let unscoped = issuer
            .token()
            .for_global_api(API)
            .claim("email", "ann@example.com")
            .sign();
        let answer = get(&server, "/domain", &unscoped).await;
        assert_eq!(
            answer.code(),
            "insufficient_scope",
            "{}: {answer:?}",
            case("no scope")
        );
    }
}

#[test]
fn declared_names_each_check_function_by_its_path() {
    let declared = bearer_policy::declared();
    let policies = |function: &str| {
        let declaration = declared
            .iter()
            .find(|d| d.function() == function)
            .unwrap_or_else(|| panic!("{function} is not declared"));
        serde_json::to_value(declaration.policies()).unwrap()
    };
    for app in ["warp_app", "axum_app", "tower_app"] {
        let path = |name: &str| format!("it::check_fn::{app}::{name}");
        assert_eq!(
            policies(&path("reports")),
            json!([{
                "model": "global_api",
                "scopes": ["reports:read"],
                "anyScopes": [],
                "check": "it::check_fn::is_staff",
            }])
        );
        assert_eq!(
            policies(&path("create_product"))[0]["check"],
            "it::check_fn::verified_email"
        );
        // Written `super::counted_staff`, named where it is defined.
        assert_eq!(
            policies(&path("counted"))[0]["check"],
            "it::check_fn::counted_staff"
        );
        let stacked = policies(&path("stacked"));
        assert_eq!(stacked[0]["check"], "it::check_fn::is_staff");
        assert!(stacked[1].get("check").is_none(), "{stacked}");
    }
    assert_eq!(
        email_domain_policy("example.com").check_name(),
        Some("email_domain")
    );
}
