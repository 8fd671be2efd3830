use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

// Each mistake is reported once, by the outermost attribute, and the
// function and its module still exist, so the route below adds no error.
#[requires(model = global_api, scopes("api:read"))]
#[requires(model = org_resource, scopes("api:write"))]
#[bearer_policy::requires(model = global_api, scopes("admin", "admin"))]
async fn update(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {
    let _ = &update::POLICY;
}
