#![deny(warnings)]

use bearer_policy::{AuthInfo, Model, requires};
use warp::{Rejection, Reply};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
pub async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(format!("data of {org_id}"))
}

#[requires(model = org_resource, scopes("api:write"), org_from = header("X-Organization-Id"))]
pub async fn write_data(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok("written")
}

fn main() {
    assert_eq!(org_data::POLICY.model(), Model::OrgResource);
    assert_eq!(write_data::POLICY.model(), Model::OrgResource);
}
