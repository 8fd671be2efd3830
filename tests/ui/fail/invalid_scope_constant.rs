use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

const READ_AND_WRITE: &str = "api:read api:write";

#[requires(model = global_api, scopes(READ_AND_WRITE))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
