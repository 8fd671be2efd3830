use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = global_api, scopes("api:read"))]
async fn list(_: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
