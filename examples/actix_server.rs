//! The example API server on actix-web: the routes, bodies and statuses of
//! the warp example (`examples/server.rs`), protected with `#[requires]` on
//! the handlers and, for `GET /billing`, with the macro-free
//! `BearerMiddleware`.
//!
//! ```text
//! cargo run --example actix_server            # embedded development issuer, prints curl commands
//! POLICY_ISSUER=https://<tenant>.logto.app/oidc \
//! POLICY_AUDIENCE=https://api.example.com \
//!     cargo run --example actix_server        # real tokens from your Logto tenant
//! cargo run --example actix_server -- --print-policies
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
//! `RUST_LOG`. `GET /metrics` (Prometheus text) and `GET /ready` (the
//! issuers' readiness) are public.
//!
//! `#[requires]` gives each handler's `auth` the type `handler::Authorized`,
//! an actix extractor that holds the request body back until it has decided:
//! a caller without permission gets 401/403 and the body is never read. The
//! attribute refuses to compile a body extractor written before `auth`.
//!
//! Each handler carries `#[utoipa::path]` for `GET /openapi.json`; its
//! security requirements come from `#[requires]` alone.
//!
//! What does not depend on the framework is shared with the other examples
//! in `examples/common/`. The routers differ only where the frameworks do:
//! actix does not answer HEAD on a GET route (405, as warp), names the
//! allowed methods in a 405's `Allow` header (as axum), matches no trailing
//! slash (`/health/` is 404, as axum), hands `web::Path` the percent-decoded
//! segment (as axum), which is also the organization the policy checks, and
//! matches no empty segment (`/orgs//data` is 404, as warp).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::web::{self, Json, ServiceConfig};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use bearer_policy::actix::{BearerMiddleware, Rejected, resource_metadata};
use bearer_policy::{AuthInfo, Validator, requires};
use common::{Caller, MAX_BODY, billing_policy, invalid_body, parse_json_object};
use futures_util::StreamExt as _;
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
// The policy reads the route's `{org_id}`, the value of `org_id` here.
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
    org_id: web::Path<String>,
    auth: AuthInfo,
    JsonObject(_invitation): JsonObject,
) -> Result<Json<Caller>, Rejected> {
    tracing::info!(org_id = %org_id, "member invited");
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
async fn org_data(org_id: web::Path<String>, auth: AuthInfo) -> Result<Json<Caller>, Rejected> {
    tracing::debug!(org_id = %org_id, "organization data read");
    Ok(Json(Caller { auth }))
}

/// `GET /billing`: an organization permission, organization from a header.
// No attribute: the route's `BearerMiddleware` authorized the request, and
// this `AuthInfo` is the one it left in the request; `common::openapi` names
// this operation for `billing_policy()`.
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
async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(common::operating::PROMETHEUS_TEXT)
        .body(common::operating::render())
}

/// An optional JSON object body: empty means `{}`; anything but an object, or
/// more than [`MAX_BODY`] bytes, is 400. Like the warp example, it does not
/// insist on a `Content-Type` (`curl -d` sends a form type).
struct JsonObject(Map<String, Value>);

impl FromRequest for JsonObject {
    type Error = BadBody;
    type Future = Pin<Box<dyn Future<Output = Result<Self, BadBody>>>>;

    fn from_request(_: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        Box::pin(async move {
            // Stops reading once past the limit, whatever `Content-Length` says.
            let mut bytes = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| BadBody)?;
                if bytes.len() + chunk.len() > MAX_BODY {
                    return Err(BadBody);
                }
                bytes.extend_from_slice(&chunk);
            }
            parse_json_object(&bytes).map(JsonObject).ok_or(BadBody)
        })
    }
}

/// The body was not a JSON object of at most [`MAX_BODY`] bytes.
#[derive(Debug)]
struct BadBody;

impl std::fmt::Display for BadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid body")
    }
}

impl ResponseError for BadBody {
    fn error_response(&self) -> HttpResponse {
        HttpResponse::BadRequest().json(invalid_body())
    }
}

fn routes(
    config: &mut ServiceConfig,
    validator: &Validator,
    openapi: Arc<utoipa::openapi::OpenApi>,
) {
    // The same protection as `#[requires]`, without the macro. On the route,
    // after its method guard: an unknown path stays 404, a wrong method 405,
    // whatever the credentials.
    let billing_route = web::get()
        .to(billing)
        .wrap(BearerMiddleware::new(validator.clone()).require(billing_policy()));
    // actix-web tries resources in order: the API's before the operator's
    // (`/health` stays first, the baseline of the load test).
    config
        .app_data(validator.clone())
        .service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/api/ping").route(web::get().to(ping)))
        .service(web::resource("/api/protected").route(web::get().to(protected)))
        .service(web::resource("/api/products").route(web::post().to(create_product)))
        .service(
            web::resource("/orgs/{org_id}/members/invite").route(web::post().to(invite_member)),
        )
        .service(web::resource("/orgs/{org_id}/data").route(web::get().to(org_data)))
        .service(web::resource("/billing").route(billing_route))
        .service(web::resource("/metrics").route(web::get().to(metrics)))
        .service({
            let validator = validator.clone();
            web::resource("/ready").route(web::get().to(move || {
                let (status, report) = common::operating::readiness(&validator);
                let status = actix_web::http::StatusCode::from_u16(status)
                    .unwrap_or(actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
                async move { HttpResponse::build(status).json(report) }
            }))
        })
        .service(web::resource("/openapi.json").route(web::get().to(move || {
            let openapi = Arc::clone(&openapi);
            async move { HttpResponse::Ok().json(&*openapi) }
        })))
        .service(resource_metadata(common::metadata(validator)));
}

#[actix_web::main]
async fn main() -> ExitCode {
    common::run(|validator, listener| async move {
        let openapi = common::openapi::document(ApiDoc::openapi(), &validator);
        let listener = listener.into_std()?;
        actix_web::HttpServer::new(move || {
            let (validator, openapi) = (validator.clone(), Arc::clone(&openapi));
            actix_web::App::new().configure(move |config| routes(config, &validator, openapi))
        })
        .listen(listener)?
        .run()
        .await
    })
    .await
}
