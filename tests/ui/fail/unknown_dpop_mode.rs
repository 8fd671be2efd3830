use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(model = global_api, scopes("payments:write"), dpop = require)]
async fn pay(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, scopes("payments:write"), dpop = "required")]
async fn refund(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
