use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

bearer_policy::scopes! {
    pub Api { READ = "api:read" }
}

#[requires(model = global_api, scopes(Api::READ, "api:read"))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
