#![deny(warnings)]

use bearer_policy::{AuthInfo, OrgSource, requires};
use warp::{Rejection, Reply};

#[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
pub async fn invite(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&auth))
}

#[requires(model = org_permission, any_scopes("read:member", "admin"), org_from = query("organization_id"))]
pub async fn members(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok("members")
}

#[requires(model = org_permission, scopes("delete:org"), org_from = path)]
pub async fn delete_org(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(org_id)
}

fn main() {
    assert_eq!(
        invite::POLICY.organization_source(),
        Some(&OrgSource::Header("X-Organization-Id".into()))
    );
    assert_eq!(
        members::POLICY.organization_source(),
        Some(&OrgSource::Query("organization_id".into()))
    );
    assert_eq!(
        delete_org::POLICY.organization_source(),
        Some(&OrgSource::PathParam("org_id".into()))
    );
}
