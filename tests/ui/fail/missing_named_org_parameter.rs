use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = org_permission, scopes("invite:member"), org_from = path(tenant_id))]
async fn invite(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
