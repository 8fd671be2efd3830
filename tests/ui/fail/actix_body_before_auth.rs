// An actix handler that takes its JSON body before `auth`: actix extracts in
// order, so the body would be read before the policy is decided. The
// attribute says where to put it.
use actix_web::web;
use bearer_policy::actix::Rejected;
use bearer_policy::{AuthInfo, requires};

#[requires(model = global_api, scopes("api:write"))]
async fn create(product: web::Json<serde_json::Value>, auth: AuthInfo) -> Result<String, Rejected> {
    Ok(format!("{} by {:?}", product.into_inner(), auth.sub()))
}

#[requires(model = global_api, scopes("api:write"))]
async fn upload(data: web::Bytes, form: web::Form<Vec<(String, String)>>, auth: AuthInfo) -> Result<String, Rejected> {
    Ok(format!("{} bytes, {} fields, by {:?}", data.len(), form.len(), auth.sub()))
}

fn main() {}
