use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = global_api, scopes("api:read"), scopes("api:write"))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, model = org_resource)]
async fn read(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
