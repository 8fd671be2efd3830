//! The axum front end, over real HTTP on loopback: `#[requires]` on axum
//! handlers is the whole protection (decided before any body extractor, the
//! body never read for a refused caller), the path bindings axum users write,
//! `Option<AuthInfo>`, and routes that cannot name an organization. The
//! allocation count of a cache hit through the extractor is in `tests/alloc.rs`.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequest, Path, Request};
use axum::routing::{get, post};
use axum::{Json, Router};
use bearer_policy::axum::Rejected;
use bearer_policy::{AuthInfo, Validator, requires};
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

use crate::common::table::{case, run};
use crate::common::{API, App, Expect, Server, bearer, start_issuer};

#[requires(model = global_api, scopes("api:read"))]
async fn read(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "sub": auth.sub() })))
}

/// Set when the body extractor runs: a refused caller must never get there.
static BODY_READ: AtomicBool = AtomicBool::new(false);

/// A JSON body whose extraction is recorded.
struct RecordedJson(Value);

impl<S: Send + Sync> FromRequest<S> for RecordedJson {
    type Rejection = (axum::http::StatusCode, &'static str);

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        BODY_READ.store(true, Ordering::SeqCst);
        let Json(value) = Json::<Value>::from_request(request, state)
            .await
            .map_err(|_| (axum::http::StatusCode::BAD_REQUEST, "bad body"))?;
        Ok(RecordedJson(value))
    }
}

#[requires(model = global_api, scopes("api:write"))]
async fn write(
    auth: AuthInfo,
    RecordedJson(product): RecordedJson,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "sub": auth.sub(), "product": product })))
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(Path(org_id): Path<String>, auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "org": org_id, "sub": auth.sub() })))
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_item(
    Path((org_id, item)): Path<(String, u64)>,
    auth: AuthInfo,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(
        json!({ "org": org_id, "item": item, "sub": auth.sub() }),
    ))
}

#[derive(serde::Deserialize)]
struct TeamPath {
    org_id: String,
    team: String,
}

#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn team(
    Path(TeamPath { org_id, team }): Path<TeamPath>,
    auth: AuthInfo,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(
        json!({ "org": org_id, "team": team, "sub": auth.sub() }),
    ))
}

/// Mounted on a route without `{org_id}`: the policy can never be met.
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn unwired(auth: AuthInfo, Path(org_id): Path<String>) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "org": org_id, "sub": auth.sub() })))
}

#[requires(model = org_permission, scopes("manage:billing"), org_from = header("X-Organization-Id"))]
async fn billing(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "sub": auth.sub() })))
}

async fn maybe(auth: Option<AuthInfo>) -> Json<Value> {
    Json(json!({ "sub": auth.as_ref().and_then(AuthInfo::sub) }))
}

fn app(validator: Validator) -> Router {
    Router::new()
        .route("/read", get(read))
        .route("/write", post(write))
        .route("/orgs/{org_id}/data", get(org_data))
        .route("/orgs/{org_id}/items/{item}", get(org_item))
        .route("/orgs/{org_id}/teams/{team}", get(team))
        .route("/unwired/{other}", get(unwired))
        .route("/billing", get(billing))
        .route("/maybe", get(maybe))
        .with_state(validator)
}

#[tokio::test]
async fn requires_on_an_axum_handler_is_the_whole_protection() {
    let issuer = start_issuer().await;
    let server = Server::start(App::Axum(app(issuer.validator(API)))).await;
    let get = |path: &str, token: &str| server.get(path).header(AUTHORIZATION, bearer(token));
    let reader = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let acme = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["api:read"])
        .sign();
    let members = issuer
        .token()
        .for_organization("acme")
        .scopes(["invite:member", "manage:billing"])
        .sign();
    run(
        &server,
        vec![
            case(
                "global, allowed",
                get("/read", &reader),
                Expect::status(200).json("/sub", json!("user-1")),
            ),
            case(
                "no token",
                server.get("/read"),
                Expect::status(401).code("missing_authorization"),
            ),
            case(
                "bad token",
                get("/read", "not.a.token"),
                Expect::status(401).code("malformed_token"),
            ),
            case(
                "organization token on a global route",
                get("/read", &acme),
                Expect::status(403).code("organization_token_not_allowed"),
            ),
            case(
                "path binding, own organization",
                get("/orgs/acme/data", &acme),
                Expect::status(200).json("/org", json!("acme")),
            ),
            case(
                "path binding, other organization",
                get("/orgs/globex/data", &acme),
                Expect::status(403).code("organization_mismatch"),
            ),
            case(
                "tuple binding",
                get("/orgs/acme/items/7", &acme),
                Expect::status(200).json("/item", json!(7)),
            ),
            case(
                "tuple binding, other organization",
                get("/orgs/globex/items/7", &acme),
                Expect::status(403).code("organization_mismatch"),
            ),
            case(
                "struct binding",
                get("/orgs/acme/teams/red", &members),
                Expect::status(200).json("/team", json!("red")),
            ),
            case(
                "struct binding, other organization",
                get("/orgs/globex/teams/red", &members),
                Expect::status(403).code("organization_mismatch"),
            ),
            case(
                "an empty organization segment",
                get("/orgs//data", &acme),
                Expect::status(403).code("missing_organization"),
            ),
            case(
                "a route without the capture fails closed",
                get("/unwired/acme", &acme),
                Expect::status(403).code("missing_organization"),
            ),
            case(
                "header source",
                get("/billing", &members).header("X-Organization-Id", "acme"),
                Expect::status(200),
            ),
            case(
                "header source, other organization",
                get("/billing", &members).header("X-Organization-Id", "globex"),
                Expect::status(403).code("organization_mismatch"),
            ),
            case(
                "header source, empty",
                get("/billing", &members).header("X-Organization-Id", ""),
                Expect::status(403).code("missing_organization"),
            ),
            case(
                "optional, no header",
                server.get("/maybe"),
                Expect::status(200).json("/sub", Value::Null),
            ),
            case(
                "optional, a token",
                get("/maybe", &reader),
                Expect::status(200).json("/sub", json!("user-1")),
            ),
            case(
                "optional, a bad token is still refused",
                get("/maybe", "not.a.token"),
                Expect::status(401).code("malformed_token"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_refused_caller_never_reaches_the_body_extractor() {
    let issuer = start_issuer().await;
    let server = Server::start(App::Axum(app(issuer.validator(API)))).await;
    let post = |token: Option<&str>, body: &'static str| {
        let request = server.post("/write").body(body);
        match token {
            Some(token) => request.header(AUTHORIZATION, bearer(token)),
            None => request,
        }
    };
    let reader = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let writer = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:write"])
        .sign();
    run(
        &server,
        vec![
            case(
                "no token, malformed body",
                post(None, "{not json"),
                Expect::status(401).code("missing_authorization"),
            ),
            case(
                "wrong scope, malformed body",
                post(Some(&reader), "{not json"),
                Expect::status(403).code("insufficient_scope"),
            ),
        ],
    )
    .await;
    assert!(
        !BODY_READ.load(Ordering::SeqCst),
        "a refused request's body was read"
    );
    run(
        &server,
        vec![case(
            "allowed: the body is read and echoed",
            post(Some(&writer), r#"{"name":"lamp"}"#).header("content-type", "application/json"),
            Expect::status(200).json("/product/name", json!("lamp")),
        )],
    )
    .await;
    assert!(BODY_READ.load(Ordering::SeqCst));
}
