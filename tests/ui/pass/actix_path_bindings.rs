// `org_from = path` on actix: the organization as `web::Path<String>` under
// its own name, or inside a tuple or a struct that `web::Path` deserialises
// (its field is private: the route's extractor decides by the parameter's
// name); the body after `auth`.
use actix_web::{App, web};
use bearer_policy::actix::Rejected;
use bearer_policy::{AuthInfo, requires};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn one(org_id: web::Path<String>, auth: AuthInfo) -> Result<String, Rejected> {
    Ok(format!("{org_id} {:?}", auth.sub()))
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn tuple(path: web::Path<(String, u32)>, auth: AuthInfo) -> Result<String, Rejected> {
    let (org_id, item) = path.into_inner();
    Ok(format!("{org_id}/{item} {:?}", auth.sub()))
}

#[derive(serde::Deserialize)]
struct Params {
    tenant: String,
    item: u32,
}

#[requires(model = org_resource, scopes("api:write"), org_from = path(tenant))]
async fn fields(
    params: web::Path<Params>,
    auth: AuthInfo,
    body: web::Json<serde_json::Value>,
) -> Result<String, Rejected> {
    Ok(format!("{}/{} {:?} {}", params.tenant, params.item, auth.sub(), body.into_inner()))
}

fn main() {
    let _app = App::new()
        .route("/orgs/{org_id}", web::get().to(one))
        .route("/orgs/{org_id}/items/{item}", web::get().to(tuple))
        .route("/tenants/{tenant}/items/{item}", web::post().to(fields));
}
