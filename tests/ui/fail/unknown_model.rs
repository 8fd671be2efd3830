use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = organization, scopes("api:read"))]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = org_resources, org_from = path)]
async fn read(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
