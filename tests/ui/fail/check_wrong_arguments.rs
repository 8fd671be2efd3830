use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

fn by_value(auth: AuthInfo) -> bool {
    auth.sub().is_some()
}

fn two_arguments(auth: &AuthInfo, org_id: &str) -> bool {
    auth.organization_id() == Some(org_id)
}

fn no_argument() -> bool {
    true
}

#[requires(model = global_api, scopes("api:read"), check = by_value)]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = two_arguments)]
async fn read(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = no_argument)]
async fn write(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
