use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

const STAFF_ONLY: bool = true;

struct Staff;

fn is_staff(auth: &AuthInfo) -> bool {
    auth.sub().is_some()
}

#[requires(model = global_api, check = STAFF_ONLY)]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = Staff)]
async fn read(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = is_stafff)]
async fn write(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

// The route still finds the policy: one error, where the check is named.
fn routes(v: bearer_policy::Validator) -> impl warp::Filter<Extract = (write::Authorized,), Error = Rejection> + Clone {
    bearer_policy::warp::authorize(v, &write::POLICY)
}

fn main() {
    let _ = (is_staff, routes);
}
