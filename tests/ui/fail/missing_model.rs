use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(scopes("api:read"))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
