//! The end-to-end server on axum: the routes and JSON bodies of `warp_app`,
//! each `#[requires]` handler protected by its signature alone (its
//! `Authorized` extractor, run before the body's `Json`), the macro-free
//! `/audit` by a `BearerLayer` on its route, its handler taking the
//! `AuthInfo` the layer left in the request; and the public `/openapi.json`
//! that documents them.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use bearer_policy::axum::{Rejected, protected_resource_metadata};
use bearer_policy::tower::BearerLayer;
use bearer_policy::{AuthInfo, Validator, requires};
use serde_json::{Value, json};
use utoipa::OpenApi;

use super::audit_policy;
use super::openapi::document as openapi_document;

super::api_doc!();

/// `GET /api/protected`: a global API permission.
#[utoipa::path(get, path = "/api/protected")]
#[requires(model = global_api, scopes("api:read"))]
async fn read_api(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth })))
}

/// `POST /api/products`: echoes the JSON body it was sent.
#[utoipa::path(post, path = "/api/products", request_body = Value)]
#[requires(model = global_api, scopes("api:write"))]
async fn create_product(
    auth: AuthInfo,
    Json(product): Json<Value>,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth, "product": product })))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission.
#[utoipa::path(post, path = "/orgs/{org_id}/members/invite", request_body = Value, params(("org_id" = String, Path)))]
#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn invite_member(
    Path(org_id): Path<String>,
    auth: AuthInfo,
    Json(_invitation): Json<Value>,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth, "org": org_id })))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[utoipa::path(get, path = "/orgs/{org_id}/data", params(("org_id" = String, Path)))]
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(Path(org_id): Path<String>, auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth, "org": org_id })))
}

/// `GET /billing`: an organization permission, organization from a header.
#[utoipa::path(get, path = "/billing", params(("X-Organization-Id" = String, Header)))]
#[requires(model = org_permission, scopes("manage:billing"), org_from = header("X-Organization-Id"))]
async fn billing(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth })))
}

/// `GET /reports`: an API resource within an organization, organization from
/// the query string.
#[utoipa::path(get, path = "/reports", params(("organization_id" = String, Query)))]
#[requires(model = org_resource, scopes("reports:read"), org_from = query("organization_id"))]
async fn reports(auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth })))
}

/// `GET /audit`: no attribute; the route's layer checked `audit_policy`.
#[utoipa::path(get, path = "/audit", params(("X-Tenant-Id" = String, Header)))]
async fn audit(auth: AuthInfo) -> Json<Value> {
    Json(json!({ "auth": auth }))
}

pub fn app(v: Validator) -> Router {
    // `route_layer` on the method router: only a request that matched the
    // route and its method meets the layer, so a wrong method stays 405.
    let audit_layer = BearerLayer::new(v.clone()).require(audit_policy());
    let document = openapi_document(ApiDoc::openapi(), &v, MODULE);
    Router::new()
        .route("/api/protected", get(read_api))
        .route("/api/products", post(create_product))
        .route("/orgs/{org_id}/members/invite", post(invite_member))
        .route("/orgs/{org_id}/data", get(org_data))
        .route("/billing", get(billing))
        .route("/reports", get(reports))
        .route("/audit", get(audit).route_layer(audit_layer))
        .route("/openapi.json", get(move || async move { Json(document) }))
        .merge(protected_resource_metadata(&v))
        .with_state(v)
}
