use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = org_permission, org_from = header)]
async fn a(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = org_permission, org_from = path("tenant_id"))]
async fn b(tenant_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = org_permission, org_from = header("X Organization"))]
async fn c(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = org_permission, org_from = cookie("org"))]
async fn d(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
