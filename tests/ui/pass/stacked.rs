#![deny(warnings)]

use bearer_policy::{AuthInfo, Policy, PolicySet, requires};
use warp::{Rejection, Reply};

#[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
#[requires(model = global_api, any_scopes("admin", "support"))]
pub async fn invite(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok("invited")
}

// Different organization sources on one function, and the path form.
#[requires(model = org_resource, scopes("api:write"), org_from = path)]
#[bearer_policy::requires(model = org_permission, scopes("write:data"), org_from = query("org"))]
#[::bearer_policy::requires(model = global_api, scopes("audit"))]
pub fn write(org_id: &str, auth: AuthInfo) -> Result<(), Rejection> {
    let _ = (org_id, auth);
    Ok(())
}

fn main() {
    let two: &'static [Policy; 2] = &invite::POLICY;
    let three: &'static [Policy; 3] = &write::POLICY;
    assert_eq!(two.policies().len() + three.policies().len(), 5);
}
