use bearer_policy::{AuthInfo, requires};
use warp::Reply;

#[requires(model = global_api, scopes("api:read"))]
async fn list(auth: AuthInfo) -> impl Reply {
    ""
}

#[requires(model = global_api, scopes("api:read"))]
fn count(auth: AuthInfo) -> Option<usize> {
    None
}

fn main() {}
