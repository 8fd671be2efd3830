//! The example API server: every permission model, protected with `#[requires]`
//! and with the macro-free filters.
//!
//! ```text
//! cargo run --example server                  # embedded development issuer, prints curl commands
//! POLICY_ISSUER=https://<tenant>.logto.app/oidc \
//! POLICY_AUDIENCE=https://api.example.com \
//!     cargo run --example server              # real tokens from your Logto tenant
//! cargo run --example server -- --print-policies
//! curl http://127.0.0.1:3000/openapi.json     # every route, with the scopes its handler requires
//! ```
//!
//! Environment: `PORT` (default 3000; 0 picks a free port), `POLICY_ISSUER`
//! (one issuer URL, or several separated by commas: the server starts when at
//! least one is ready, and the others' tokens get 503 until they answer),
//! `POLICY_AUDIENCE` (for every issuer), `POLICY_JWKS_URI` (optional, with a
//! single issuer: skips discovery), `POLICY_DPOP` (`allowed` by default,
//! `required`, `disabled`), `POLICY_PUBLIC_URL` (the base URL DPoP proofs
//! name; default `http://127.0.0.1:$PORT`), `POLICY_DPOP_REPLAY`
//! (`redis://host:port`: a replay store shared by replicas; default in
//! process), `POLICY_INTROSPECTION_CLIENT_ID` and
//! `POLICY_INTROSPECTION_CLIENT_SECRET` (together: opaque tokens are
//! introspected at the first issuer, RFC 7662), `POLICY_INTROSPECTION_TTL`
//! (the longest an introspection result is used, in seconds; default 60),
//! `RUST_LOG`.
//!
//! The same API on axum is `examples/axum_server.rs`; what does not depend on
//! the framework (configuration, the development issuer and its printed
//! `curl` commands, `--print-policies`, the OpenAPI document) is in
//! `examples/common/`.
//!
//! Each handler carries `#[utoipa::path]` for `GET /openapi.json`; its
//! security requirements come from `#[requires]` alone (`PolicySecurity`
//! matches them by operation id, the function's name).

mod common;

use std::process::ExitCode;
use std::sync::Arc;

use bearer_policy::warp::{authorize, authorize_path, recover, resource_metadata};
use bearer_policy::{AuthInfo, Validator, requires};
use common::{Caller, MAX_BODY, billing_policy, invalid_body, parse_json_object};
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use warp::{Filter, Rejection, Reply};

/// The operations of `GET /openapi.json`; `common::openapi` adds the rest.
#[derive(OpenApi)]
#[openapi(paths(
    health,
    ping,
    protected,
    create_product,
    invite_member,
    org_data,
    billing
))]
struct ApiDoc;

/// `GET /health`: public.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The server is up")))]
fn health() -> impl Reply {
    warp::reply::json(&json!({ "status": "ok" }))
}

/// `GET /api/ping`: `/health`'s answer, for a caller with `api:read`. The
/// load test compares the two to price authorization alone, apart from what
/// `/api/protected` spends on writing the caller into its body.
#[utoipa::path(get, path = "/api/ping", responses(
    (status = 200, description = "The server is up, and the token grants the permission"),
    (status = 401, description = "No valid bearer token"),
    (status = 403, description = "The token does not grant the permission"),
))]
#[requires(model = global_api, scopes("api:read"))]
async fn ping(_auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(health())
}

/// `GET /api/protected`: a global API permission.
#[utoipa::path(get, path = "/api/protected", responses(
    (status = 200, description = "The caller, as its token says"),
    (status = 401, description = "No valid bearer token"),
    (status = 403, description = "The token does not grant the permission"),
))]
#[requires(model = global_api, scopes("api:read"))]
async fn protected(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&Caller { auth }))
}

/// `POST /api/products`: echoes the product it was sent.
#[utoipa::path(post, path = "/api/products", request_body(content = Option<Value>, description = "A JSON object (empty: `{}`)"), responses(
    (status = 200, description = "The caller and the product"),
    (status = 400, description = "The body is not a JSON object of at most 64 KiB"),
    (status = 401, description = "No valid bearer token"),
    (status = 403, description = "The token does not grant the permission"),
))]
#[requires(model = global_api, scopes("api:write"))]
async fn create_product(
    auth: AuthInfo,
    product: Map<String, Value>,
) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(
        &json!({ "auth": auth, "product": product }),
    ))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission.
#[utoipa::path(post, path = "/orgs/{org_id}/members/invite", request_body(content = Option<Value>, description = "A JSON object (empty: `{}`)"),
    params(("org_id" = String, Path, description = "The organization")),
    responses(
        (status = 200, description = "The member was invited"),
        (status = 400, description = "The body is not a JSON object of at most 64 KiB"),
        (status = 401, description = "No valid bearer token"),
        (status = 403, description = "The token does not grant the permission in this organization"),
    ),
)]
#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn invite_member(
    org_id: String,
    auth: AuthInfo,
    _invitation: Map<String, Value>,
) -> Result<impl Reply, Rejection> {
    tracing::info!(%org_id, "member invited");
    Ok(warp::reply::json(&Caller { auth }))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[utoipa::path(get, path = "/orgs/{org_id}/data",
    params(("org_id" = String, Path, description = "The organization")),
    responses(
        (status = 200, description = "The organization's data"),
        (status = 401, description = "No valid bearer token"),
        (status = 403, description = "The token does not grant the permission in this organization"),
    ),
)]
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    tracing::debug!(%org_id, "organization data read");
    Ok(warp::reply::json(&Caller { auth }))
}

/// `GET /billing`: an organization permission, organization from a header.
// Protected without the macro, by `authorize` with `billing_policy()`;
// `common::openapi` names this operation for it.
#[utoipa::path(get, path = "/billing",
    params(("X-Organization-Id" = String, Header, description = "The organization")),
    responses(
        (status = 200, description = "The organization's billing"),
        (status = 401, description = "No valid bearer token"),
        (status = 403, description = "The token does not grant the permission in this organization"),
    ),
)]
fn billing(auth: AuthInfo) -> impl Reply {
    warp::reply::json(&Caller { auth })
}

/// An optional JSON object body: empty means `{}`; anything but an object, or
/// more than [`MAX_BODY`] bytes, is 400.
fn json_object_body() -> impl Filter<Extract = (Map<String, Value>,), Error = Rejection> + Clone {
    warp::body::stream().and_then(read_json_object)
}

async fn read_json_object<S, B>(body: S) -> Result<Map<String, Value>, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| warp::reject::custom(BadBody))?;
        if bytes.len() + chunk.remaining() > MAX_BODY {
            return Err(warp::reject::custom(BadBody));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            bytes.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    parse_json_object(&bytes).ok_or_else(|| warp::reject::custom(BadBody))
}

#[derive(Debug)]
struct BadBody;
impl warp::reject::Reject for BadBody {}

/// Our rejections first, then the body error, then warp's own.
async fn handle_rejection(rejection: Rejection) -> Result<warp::reply::Response, Rejection> {
    let rejection = match recover(rejection).await {
        Ok(response) => return Ok(response),
        Err(other) => other,
    };
    if rejection.find::<BadBody>().is_some() {
        return Ok(warp::reply::with_status(
            warp::reply::json(&invalid_body()),
            warp::http::StatusCode::BAD_REQUEST,
        )
        .into_response());
    }
    Err(rejection)
}

fn routes(
    validator: Validator,
    openapi: Arc<utoipa::openapi::OpenApi>,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let v = validator;
    // Path before method in every route: an unknown path stays 404, not 405.
    let health = warp::path!("health").and(warp::get()).map(health);
    let openapi = warp::path!("openapi.json")
        .and(warp::get())
        .map(move || warp::reply::json(&*openapi));
    let ping = warp::path!("api" / "ping")
        .and(warp::get())
        .and(authorize(v.clone(), &ping::POLICY))
        .and_then(ping);
    let protected = warp::path!("api" / "protected")
        .and(warp::get())
        .and(authorize(v.clone(), &protected::POLICY))
        .and_then(protected);
    // Authorize before the body is read: no permission means 403, whatever the body.
    let products = warp::path!("api" / "products")
        .and(warp::post())
        .and(authorize(v.clone(), &create_product::POLICY))
        .and(json_object_body())
        .and_then(create_product);
    let invite = authorize_path(
        warp::path!("orgs" / String / "members" / "invite").and(warp::post()),
        v.clone(),
        &invite_member::POLICY,
    )
    .and(json_object_body())
    .and_then(invite_member);
    let data = authorize_path(
        warp::path!("orgs" / String / "data").and(warp::get()),
        v.clone(),
        &org_data::POLICY,
    )
    .and_then(org_data);
    // The same protection without the macro.
    let billing = warp::path!("billing")
        .and(warp::get())
        .and(authorize(v.clone(), billing_policy()))
        .map(billing);
    // Public: what an operator's dashboard and probes read.
    let metrics = warp::path!("metrics").and(warp::get()).map(|| {
        let body = common::operating::render();
        warp::reply::with_header(body, "content-type", common::operating::PROMETHEUS_TEXT)
    });
    let ready_validator = v.clone();
    let ready = warp::path!("ready").and(warp::get()).map(move || {
        let (status, report) = common::operating::readiness(&ready_validator);
        let status = warp::http::StatusCode::from_u16(status)
            .unwrap_or(warp::http::StatusCode::SERVICE_UNAVAILABLE);
        warp::reply::with_status(warp::reply::json(&report), status)
    });
    // warp tries routes in order, each miss costing a path match: the
    // API's routes before the operator's (`/health` stays first, the
    // baseline of the load test).
    health
        .or(ping)
        .or(protected)
        .or(products)
        .or(invite)
        .or(data)
        .or(billing)
        .or(openapi)
        .or(metrics)
        .or(ready)
        .or(resource_metadata(common::metadata(&v)))
        .recover(handle_rejection)
}

#[tokio::main]
async fn main() -> ExitCode {
    common::run(|validator, listener| async move {
        let openapi = common::openapi::document(ApiDoc::openapi(), &validator);
        warp::serve(routes(validator, openapi))
            .incoming(listener)
            .run()
            .await;
        Ok(())
    })
    .await
}
