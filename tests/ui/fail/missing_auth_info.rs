use bearer_policy::requires;
use warp::{Rejection, Reply};

#[requires(model = global_api, scopes("api:read"))]
async fn list(page: u32) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
