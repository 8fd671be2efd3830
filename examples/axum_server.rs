//! The example API server on axum: the routes, bodies and statuses of the warp
//! example (`examples/server.rs`), protected with `#[requires]` on the handlers
//! and, for `GET /billing`, with the macro-free `BearerLayer`.
//!
//! ```text
//! cargo run --example axum_server             # embedded development issuer, prints curl commands
//! POLICY_ISSUER=https://<tenant>.logto.app/oidc \
//! POLICY_AUDIENCE=https://api.example.com \
//!     cargo run --example axum_server         # real tokens from your Logto tenant
//! cargo run --example axum_server -- --print-policies
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
//! `#[requires]` gives each handler's `auth` the type `handler::Authorized`,
//! a `FromRequestParts` extractor: axum runs it before the body extractor, so
//! a caller without permission gets 401/403 and the body is never read.
//!
//! Each handler carries `#[utoipa::path]` for `GET /openapi.json`; its
//! security requirements come from `#[requires]` alone.
//!
//! What does not depend on the framework is shared with the warp example in
//! `examples/common/` (the OpenAPI document too). The routers differ only where the frameworks do: axum
//! answers HEAD on a GET route (warp: 405), names the allowed methods in a
//! 405's `Allow` header, matches no trailing slash (`/health/` is 404; warp
//! ignores it), and hands `Path` the percent-decoded segment (warp: the raw
//! one), which is also the organization the policy checks; an empty segment
//! (`/orgs//data`) matches and names no organization (403; warp: 404).

mod common;

use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bearer_policy::axum::{Rejected, resource_metadata};
use bearer_policy::tower::BearerLayer;
use bearer_policy::{AuthInfo, Validator, requires};
use common::{Caller, MAX_BODY, billing_policy, invalid_body, parse_json_object};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

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

/// `GET /api/ping`: `/health`'s answer, for a caller with `api:read`. The
/// load test compares the two to price authorization alone, apart from what
/// `/api/protected` spends on writing the caller into its body.
#[utoipa::path(get, path = "/api/ping", responses(
    (status = 200, description = "The server is up, and the token grants the permission"),
    (status = 401, description = "No valid bearer token"),
    (status = 403, description = "The token does not grant the permission"),
))]
#[requires(model = global_api, scopes("api:read"))]
async fn ping(_auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(health().await)
}

/// `GET /api/protected`: a global API permission.
#[utoipa::path(get, path = "/api/protected", responses(
    (status = 200, description = "The caller, as its token says"),
    (status = 401, description = "No valid bearer token"),
    (status = 403, description = "The token does not grant the permission"),
))]
#[requires(model = global_api, scopes("api:read"))]
async fn protected(auth: AuthInfo) -> Result<Json<Caller>, Rejected> {
    Ok(Json(Caller { auth }))
}

/// `POST /api/products`: echoes the product it was sent.
#[utoipa::path(post, path = "/api/products",
    request_body(content = Option<Value>, description = "A JSON object (empty: `{}`)"),
    responses(
        (status = 200, description = "The caller and the product"),
        (status = 400, description = "The body is not a JSON object of at most 64 KiB"),
        (status = 401, description = "No valid bearer token"),
        (status = 403, description = "The token does not grant the permission"),
    ),
)]
#[requires(model = global_api, scopes("api:write"))]
async fn create_product(
    auth: AuthInfo,
    JsonObject(product): JsonObject,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth, "product": product })))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission.
// The policy reads the organization where the handler binds it, `Path(org_id)`.
#[utoipa::path(post, path = "/orgs/{org_id}/members/invite",
    request_body(content = Option<Value>, description = "A JSON object (empty: `{}`)"),
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
    Path(org_id): Path<String>,
    auth: AuthInfo,
    JsonObject(_invitation): JsonObject,
) -> Result<Json<Caller>, Rejected> {
    tracing::info!(%org_id, "member invited");
    Ok(Json(Caller { auth }))
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
async fn org_data(Path(org_id): Path<String>, auth: AuthInfo) -> Result<Json<Caller>, Rejected> {
    tracing::debug!(%org_id, "organization data read");
    Ok(Json(Caller { auth }))
}

/// `GET /billing`: an organization permission, organization from a header.
// No attribute: the route's `BearerLayer` authorized the request, and this
// `AuthInfo` is the one it left in the request; `common::openapi` names this
// operation for `billing_policy()`.
#[utoipa::path(get, path = "/billing",
    params(("X-Organization-Id" = String, Header, description = "The organization")),
    responses(
        (status = 200, description = "The organization's billing"),
        (status = 401, description = "No valid bearer token"),
        (status = 403, description = "The token does not grant the permission in this organization"),
    ),
)]
async fn billing(auth: AuthInfo) -> Json<Caller> {
    Json(Caller { auth })
}

/// `GET /health`: public.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The server is up")))]
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /metrics`: public, the Prometheus text format.
async fn metrics() -> impl IntoResponse {
    let body = common::operating::render();
    ([(CONTENT_TYPE, common::operating::PROMETHEUS_TEXT)], body)
}

/// `GET /ready`: public, 200 when every issuer has keys, else 503.
async fn ready(State(validator): State<Validator>) -> impl IntoResponse {
    let (status, report) = common::operating::readiness(&validator);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, Json(report))
}

/// An optional JSON object body: empty means `{}`; anything but an object, or
/// more than [`MAX_BODY`] bytes, is 400. Like the warp example, it does not
/// insist on a `Content-Type` (`curl -d` sends a form type).
struct JsonObject(Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = BadBody;

    async fn from_request(request: Request, _: &S) -> Result<Self, BadBody> {
        // Stops reading once past the limit, whatever `Content-Length` says.
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
            .await
            .map_err(|_| BadBody)?;
        parse_json_object(&bytes).map(JsonObject).ok_or(BadBody)
    }
}

/// The body was not a JSON object of at most [`MAX_BODY`] bytes.
struct BadBody;

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(invalid_body())).into_response()
    }
}

fn app(validator: Validator, openapi: Arc<utoipa::openapi::OpenApi>) -> Router {
    // The same protection as `#[requires]`, without the macro. `route_layer`
    // runs it only for a matched route and method: an unknown path stays 404,
    // a wrong method 405, whatever the credentials.
    let billing_layer = BearerLayer::new(validator.clone()).require(billing_policy());
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(move || async move { Json(openapi) }))
        .route("/api/ping", get(ping))
        .route("/api/protected", get(protected))
        .route("/api/products", post(create_product))
        .route("/orgs/{org_id}/members/invite", post(invite_member))
        .route("/orgs/{org_id}/data", get(org_data))
        .route("/billing", get(billing).route_layer(billing_layer))
        .route("/metrics", get(metrics))
        .route("/ready", get(ready))
        .merge(resource_metadata(common::metadata(&validator)))
        .with_state(validator)
}

#[tokio::main]
async fn main() -> ExitCode {
    common::run(|validator, listener| async move {
        let openapi = common::openapi::document(ApiDoc::openapi(), &validator);
        axum::serve(listener, app(validator, openapi)).await
    })
    .await
}
