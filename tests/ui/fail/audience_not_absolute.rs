use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = global_api, audience = "api.example.com")]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = org_resource, audience = "https://api.example.com/v1 ", org_from = path)]
async fn read(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
