//! The end-to-end server on actix-web: the routes and JSON bodies of
//! `warp_app`, each `#[requires]` handler protected by its signature alone
//! (its `Authorized` extractor, which holds the body back until it has
//! decided), the macro-free `/audit` behind a `BearerMiddleware` on its
//! route, its handler taking the `AuthInfo` the middleware left in the
//! request; and the public `/openapi.json` that documents them.

use actix_web::web::{self, Json, ServiceConfig};
use actix_web::{HttpResponse, Responder};
use bearer_policy::actix::{BearerMiddleware, Rejected, protected_resource_metadata};
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
    org_id: web::Path<String>,
    auth: AuthInfo,
    Json(_invitation): Json<Value>,
) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth, "org": org_id.as_str() })))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[utoipa::path(get, path = "/orgs/{org_id}/data", params(("org_id" = String, Path)))]
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(org_id: web::Path<String>, auth: AuthInfo) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "auth": auth, "org": org_id.as_str() })))
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

/// `GET /audit`: no attribute; the route's middleware checked `audit_policy`.
#[utoipa::path(get, path = "/audit", params(("X-Tenant-Id" = String, Header)))]
async fn audit(auth: AuthInfo) -> impl Responder {
    Json(json!({ "auth": auth }))
}

pub fn app(v: Validator) -> impl Fn(&mut ServiceConfig) + Send + Sync + 'static {
    let document = openapi_document(ApiDoc::openapi(), &v, MODULE);
    move |config| {
        let document = document.clone();
        // On the route, after its method guard: a wrong method stays 405.
        let audit_route = web::get()
            .to(audit)
            .wrap(BearerMiddleware::new(v.clone()).require(audit_policy()));
        config
            .app_data(v.clone())
            .service(web::resource("/api/protected").route(web::get().to(read_api)))
            .service(web::resource("/api/products").route(web::post().to(create_product)))
            .service(
                web::resource("/orgs/{org_id}/members/invite").route(web::post().to(invite_member)),
            )
            .service(web::resource("/orgs/{org_id}/data").route(web::get().to(org_data)))
            .service(web::resource("/billing").route(web::get().to(billing)))
            .service(web::resource("/reports").route(web::get().to(reports)))
            .service(web::resource("/audit").route(audit_route))
            .service(web::resource("/openapi.json").route(web::get().to(move || {
                let document = document.clone();
                async move { HttpResponse::Ok().json(&*document) }
            })))
            .service(protected_resource_metadata(&v));
    }
}
