#![deny(warnings)]

use bearer_policy::{AuthInfo, Model, Policy, requires};
use warp::{Rejection, Reply};

/// Lists products.
#[requires(model = global_api, scopes("products:read"))]
pub async fn list_products(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(format!("products for {:?}", auth.sub()))
}

#[requires(
    model = global_api,
    scopes("products:write"),
    any_scopes("admin", "catalog:editor"),
    audience = "https://api.example.com",
)]
pub(crate) async fn create_product(_auth: AuthInfo, body: String) -> Result<impl Reply, Rejection> {
    Ok(body)
}

fn main() {
    let policy: &'static Policy = &list_products::POLICY;
    assert_eq!(policy.model(), Model::GlobalApi);
    assert_eq!(
        create_product::POLICY.audience_override(),
        Some("https://api.example.com")
    );
    assert_eq!(create_product::POLICY.any_of_scopes().len(), 2);
}
