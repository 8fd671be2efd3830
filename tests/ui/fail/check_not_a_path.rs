use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

fn is_staff(auth: &AuthInfo) -> bool {
    auth.sub().is_some()
}

fn is_admin(auth: &AuthInfo) -> bool {
    auth.sub().is_some()
}

#[requires(model = global_api, check = "is_staff")]
async fn quoted(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = is_staff(auth))]
async fn called(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = |auth: &AuthInfo| auth.sub().is_some())]
async fn closure(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = is_staff, check = is_admin)]
async fn twice(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check)]
async fn no_value(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, predicate = is_staff)]
async fn misnamed(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
