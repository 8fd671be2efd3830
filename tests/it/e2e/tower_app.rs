//! The end-to-end server on tower alone, served by hyper: the routes and
//! JSON bodies of `warp_app`, behind the hand-written router of
//! `common::tower_router`, each route behind its own `BearerLayer`.
//!
//! The layer decides the routes whose organization comes from a header or
//! the query, with the handler's `POLICY`, before any body is read. It has no
//! path parameters, so on `/orgs/{org_id}/…` it only authenticates: the
//! router passes the raw segment to the `#[requires]` handler, which decides
//! its own policy, and only then is the body read.

// A `#[requires]` handler's `auth` parameter is `<handler>::Authorized` or
// a plain `AuthInfo`, depending on its signature: `.into()` serves both.
#![allow(clippy::useless_conversion)]

use bearer_policy::tower::BearerLayer;
use bearer_policy::{AuthInfo, Denied, ResourceMetadata, Validator, requires};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use utoipa::OpenApi;

use super::audit_policy;
use super::openapi::document as openapi_document;
use crate::common::front_ends::TowerService;
use crate::common::tower_router::{
    auth_of, decided, json_body, json_response, org_of, public, route, router,
};

super::api_doc!();

/// `GET /api/protected`: a global API permission.
#[utoipa::path(get, path = "/api/protected")]
#[requires(model = global_api, scopes("api:read"))]
fn read_api(auth: AuthInfo) -> Result<Value, Denied> {
    Ok(json!({ "auth": auth }))
}

/// `POST /api/products`: echoes the JSON body it was sent.
#[utoipa::path(post, path = "/api/products", request_body = Value)]
#[requires(model = global_api, scopes("api:write"))]
fn create_product(auth: AuthInfo, product: Value) -> Result<Value, Denied> {
    Ok(json!({ "auth": auth, "product": product }))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission. The
/// body is read once this has allowed the caller.
#[utoipa::path(post, path = "/orgs/{org_id}/members/invite", request_body = Value, params(("org_id" = String, Path)))]
#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
fn invite_member(org_id: String, auth: AuthInfo) -> Result<Value, Denied> {
    Ok(json!({ "auth": auth, "org": org_id }))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[utoipa::path(get, path = "/orgs/{org_id}/data", params(("org_id" = String, Path)))]
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
fn org_data(org_id: String, auth: AuthInfo) -> Result<Value, Denied> {
    Ok(json!({ "auth": auth, "org": org_id }))
}

/// `GET /billing`: an organization permission, organization from a header.
#[utoipa::path(get, path = "/billing", params(("X-Organization-Id" = String, Header)))]
#[requires(model = org_permission, scopes("manage:billing"), org_from = header("X-Organization-Id"))]
fn billing(auth: AuthInfo) -> Result<Value, Denied> {
    Ok(json!({ "auth": auth }))
}

/// `GET /reports`: an API resource within an organization, organization from
/// the query string.
#[utoipa::path(get, path = "/reports", params(("organization_id" = String, Query)))]
#[requires(model = org_resource, scopes("reports:read"), org_from = query("organization_id"))]
fn reports(auth: AuthInfo) -> Result<Value, Denied> {
    Ok(json!({ "auth": auth }))
}

/// `GET /audit`: no attribute; the route's layer checked `audit_policy`.
#[utoipa::path(get, path = "/audit", params(("X-Tenant-Id" = String, Header)))]
fn audit(auth: AuthInfo) -> Value {
    json!({ "auth": auth })
}

pub fn service(v: Validator) -> TowerService {
    let authenticate = BearerLayer::new(v.clone());
    let document = openapi_document(ApiDoc::openapi(), &v, MODULE);
    let routes = vec![
        (
            Method::GET,
            "/api/protected",
            route(
                BearerLayer::new(v.clone()).require(&read_api::POLICY),
                |request| async move { decided(read_api(auth_of(&request).into())) },
            ),
        ),
        (
            Method::POST,
            "/api/products",
            route(
                BearerLayer::new(v.clone()).require(&create_product::POLICY),
                |request| async move {
                    let auth = auth_of(&request);
                    match json_body(request).await {
                        Ok(product) => decided(create_product(auth.into(), product)),
                        Err(bad_body) => bad_body,
                    }
                },
            ),
        ),
        (
            Method::POST,
            "/orgs/{org_id}/members/invite",
            route(authenticate.clone(), |request| async move {
                let decision = invite_member(org_of(&request), auth_of(&request).into());
                if decision.is_err() {
                    return decided(decision);
                }
                match json_body(request).await {
                    Ok(_invitation) => decided(decision),
                    Err(bad_body) => bad_body,
                }
            }),
        ),
        (
            Method::GET,
            "/orgs/{org_id}/data",
            route(authenticate, |request| async move {
                decided(org_data(org_of(&request), auth_of(&request).into()))
            }),
        ),
        (
            Method::GET,
            "/billing",
            route(
                BearerLayer::new(v.clone()).require(&billing::POLICY),
                |request| async move { decided(billing(auth_of(&request).into())) },
            ),
        ),
        (
            Method::GET,
            "/reports",
            route(
                BearerLayer::new(v.clone()).require(&reports::POLICY),
                |request| async move { decided(reports(auth_of(&request).into())) },
            ),
        ),
        (
            Method::GET,
            "/audit",
            route(
                BearerLayer::new(v.clone()).require(audit_policy()),
                |request| async move { json_response(StatusCode::OK, &audit(auth_of(&request))) },
            ),
        ),
        (Method::GET, "/openapi.json", public(&*document)),
        (
            Method::GET,
            bearer_policy::PROTECTED_RESOURCE_METADATA_PATH,
            public(&ResourceMetadata::from_declared(&v)),
        ),
    ];
    router(routes)
}
