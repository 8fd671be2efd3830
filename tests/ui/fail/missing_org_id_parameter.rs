use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn read(id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

// The route naming the handler's module adds no error of its own.
#[allow(dead_code)]
fn typed(auth: read::Authorized) -> bearer_policy::AuthInfo {
    auth.into()
}

fn main() {}
