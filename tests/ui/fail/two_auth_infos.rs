use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = global_api, scopes("api:read"))]
async fn list(auth: AuthInfo, again: bearer_policy::AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
