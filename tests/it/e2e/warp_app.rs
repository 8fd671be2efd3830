//! The end-to-end server on warp: `#[requires]` handlers behind `authorize`
//! and `authorize_path`, the macro-free `/audit` behind `authorize` with a
//! run-time policy, our rejections answered by `recover`, and the public
//! `/openapi.json` that documents them. `axum_app` serves the same routes and
//! bodies.

use bearer_policy::warp::{authorize, authorize_path, protected_resource_metadata, recover};
use bearer_policy::{AuthInfo, Validator, requires};
use serde_json::{Value, json};
use utoipa::OpenApi;
use warp::{Filter, Rejection, Reply};

use super::audit_policy;
use super::openapi::document as openapi_document;

super::api_doc!();

/// `GET /api/protected`: a global API permission.
#[utoipa::path(get, path = "/api/protected")]
#[requires(model = global_api, scopes("api:read"))]
async fn read_api(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `POST /api/products`: echoes the JSON body it was sent.
#[utoipa::path(post, path = "/api/products", request_body = Value)]
#[requires(model = global_api, scopes("api:write"))]
async fn create_product(auth: AuthInfo, product: Value) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(
        &json!({ "auth": auth, "product": product }),
    ))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission.
#[utoipa::path(post, path = "/orgs/{org_id}/members/invite", request_body = Value, params(("org_id" = String, Path)))]
#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn invite_member(
    org_id: String,
    auth: AuthInfo,
    _invitation: Value,
) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth, "org": org_id })))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[utoipa::path(get, path = "/orgs/{org_id}/data", params(("org_id" = String, Path)))]
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth, "org": org_id })))
}

/// `GET /billing`: an organization permission, organization from a header.
#[utoipa::path(get, path = "/billing", params(("X-Organization-Id" = String, Header)))]
#[requires(model = org_permission, scopes("manage:billing"), org_from = header("X-Organization-Id"))]
async fn billing(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `GET /reports`: an API resource within an organization, organization from
/// the query string.
#[utoipa::path(get, path = "/reports", params(("organization_id" = String, Query)))]
#[requires(model = org_resource, scopes("reports:read"), org_from = query("organization_id"))]
async fn reports(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `GET /audit`: no attribute; `authorize` checked `audit_policy`.
#[utoipa::path(get, path = "/audit", params(("X-Tenant-Id" = String, Header)))]
fn audit(auth: AuthInfo) -> impl Reply {
    warp::reply::json(&json!({ "auth": auth }))
}

pub fn routes(v: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    // Path first, then method: an unknown path is 404 rather than 405.
    let protected = warp::path!("api" / "protected")
        .and(warp::get())
        .and(authorize(v.clone(), &read_api::POLICY))
        .and_then(read_api);
    // Authorize before the body is read.
    let products = warp::path!("api" / "products")
        .and(warp::post())
        .and(authorize(v.clone(), &create_product::POLICY))
        .and(warp::body::json())
        .and_then(create_product);
    let invite = authorize_path(
        warp::path!("orgs" / String / "members" / "invite").and(warp::post()),
        v.clone(),
        &invite_member::POLICY,
    )
    .and(warp::body::json())
    .and_then(invite_member);
    let data = authorize_path(
        warp::path!("orgs" / String / "data").and(warp::get()),
        v.clone(),
        &org_data::POLICY,
    )
    .and_then(org_data);
    let billing_route = warp::path!("billing")
        .and(warp::get())
        .and(authorize(v.clone(), &billing::POLICY))
        .and_then(billing);
    let reports_route = warp::path!("reports")
        .and(warp::get())
        .and(authorize(v.clone(), &reports::POLICY))
        .and_then(reports);
    let audit = warp::path!("audit")
        .and(warp::get())
        .and(authorize(v.clone(), audit_policy()))
        .map(audit);
    let document = openapi_document(ApiDoc::openapi(), &v, MODULE);
    let openapi = warp::path!("openapi.json")
        .and(warp::get())
        .map(move || warp::reply::json(&*document));
    protected
        .or(products)
        .or(invite)
        .or(data)
        .or(billing_route)
        .or(reports_route)
        .or(audit)
        .or(openapi)
        .or(protected_resource_metadata(&v))
        .recover(recover)
}
