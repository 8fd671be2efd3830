use bearer_policy::requires;
use warp::{Rejection, Reply};

#[requires(modle = global_api, scopes(""), audience = "example")]
async fn list(page: u32) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
