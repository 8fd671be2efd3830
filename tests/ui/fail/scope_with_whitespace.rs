use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = global_api, scopes("api:read api:write"))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, any_scopes("admin", " support"))]
async fn support(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
