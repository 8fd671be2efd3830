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
use bearer_policy::testing::TestIssuer;
use bearer_policy::{Algorithm, AuthInfo, Validator, requires};
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

const API: &str = "https://api.example.com";

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

async fn serve(validator: Validator) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(validator)).await });
    format!("http://{addr}")
}

struct Case {
    name: &'static str,
    request: reqwest::RequestBuilder,
    status: u16,
    code: Option<&'static str>,
    json: Option<(&'static str, Value)>,
}

async fn run(cases: Vec<Case>) {
    for case in cases {
        let response = case.request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
        assert_eq!(status, case.status, "{}: {body}", case.name);
        if let Some(code) = case.code {
            assert_eq!(body["code"], code, "{}: {body}", case.name);
        }
        if let Some((pointer, value)) = case.json {
            assert_eq!(body.pointer(pointer), Some(&value), "{}: {body}", case.name);
        }
    }
}

fn case(name: &'static str, request: reqwest::RequestBuilder, status: u16) -> Case {
    Case {
        name,
        request,
        status,
        code: None,
        json: None,
    }
}

impl Case {
    fn code(mut self, code: &'static str) -> Case {
        self.code = Some(code);
        self
    }

    fn json(mut self, pointer: &'static str, value: Value) -> Case {
        self.json = Some((pointer, value));
        self
    }
}

#[tokio::test]
async fn requires_on_an_axum_handler_is_the_whole_protection() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let base = serve(issuer.validator(API)).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str, token: &str| {
        client
            .get(format!("{base}{path}"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
    };
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
    run(vec![
        case("global, allowed", get("/read", &reader), 200).json("/sub", json!("user-1")),
        case("no token", client.get(format!("{base}/read")), 401).code("missing_authorization"),
        case("bad token", get("/read", "not.a.token"), 401).code("malformed_token"),
        case(
            "organization token on a global route",
            get("/read", &acme),
            403,
        )
        .code("organization_token_not_allowed"),
        case(
            "path binding, own organization",
            get("/orgs/acme/data", &acme),
            200,
        )
        .json("/org", json!("acme")),
        case(
            "path binding, other organization",
            get("/orgs/globex/data", &acme),
            403,
        )
        .code("organization_mismatch"),
        case("tuple binding", get("/orgs/acme/items/7", &acme), 200).json("/item", json!(7)),
        case(
            "tuple binding, other organization",
            get("/orgs/globex/items/7", &acme),
            403,
        )
        .code("organization_mismatch"),
        case("struct binding", get("/orgs/acme/teams/red", &members), 200)
            .json("/team", json!("red")),
        case(
            "struct binding, other organization",
            get("/orgs/globex/teams/red", &members),
            403,
        )
        .code("organization_mismatch"),
        case(
            "an empty organization segment",
            get("/orgs//data", &acme),
            403,
        )
        .code("missing_organization"),
        case(
            "a route without the capture fails closed",
            get("/unwired/acme", &acme),
            403,
        )
        .code("missing_organization"),
        case(
            "header source",
            get("/billing", &members).header("X-Organization-Id", "acme"),
            200,
        ),
        case(
            "header source, other organization",
            get("/billing", &members).header("X-Organization-Id", "globex"),
            403,
        )
        .code("organization_mismatch"),
        case(
            "header source, empty",
            get("/billing", &members).header("X-Organization-Id", ""),
            403,
        )
        .code("missing_organization"),
        case(
            "optional, no header",
            client.get(format!("{base}/maybe")),
            200,
        )
        .json("/sub", Value::Null),
        case("optional, a token", get("/maybe", &reader), 200).json("/sub", json!("user-1")),
        case(
            "optional, a bad token is still refused",
            get("/maybe", "not.a.token"),
            401,
        )
        .code("malformed_token"),
    ])
    .await;
}

#[tokio::test]
async fn a_refused_caller_never_reaches_the_body_extractor() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let base = serve(issuer.validator(API)).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |token: Option<&str>, body: &'static str| {
        let request = client.post(format!("{base}/write")).body(body);
        match token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
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
    run(vec![
        case("no token, malformed body", post(None, "{not json"), 401)
            .code("missing_authorization"),
        case(
            "wrong scope, malformed body",
            post(Some(&reader), "{not json"),
            403,
        )
        .code("insufficient_scope"),
    ])
    .await;
    assert!(
        !BODY_READ.load(Ordering::SeqCst),
        "a refused request's body was read"
    );
    run(vec![
        case(
            "allowed: the body is read and echoed",
            post(Some(&writer), r#"{"name":"lamp"}"#).header("content-type", "application/json"),
            200,
        )
        .json("/product/name", json!("lamp")),
    ])
    .await;
    assert!(BODY_READ.load(Ordering::SeqCst));
}
