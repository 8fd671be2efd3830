use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn read(id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
