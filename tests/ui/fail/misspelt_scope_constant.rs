use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

bearer_policy::scopes! {
    pub Api { READ = "api:read", WRITE = "api:write" }
}

#[requires(model = global_api, scopes(Api::RAED))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
