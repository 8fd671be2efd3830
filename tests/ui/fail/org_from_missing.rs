use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = org_permission, scopes("invite:member"))]
async fn invite(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = org_resource, scopes("api:read"))]
async fn read(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
