use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

const AUDIENCE: &str = "https://api.example.com";

#[requires(model = global_api, audience = AUDIENCE)]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
