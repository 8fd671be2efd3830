use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

#[requires(
    model = org_permission,
    scopes("invite:member"),
    audience = "https://api.example.com",
    org_from = header("X-Organization-Id"),
)]
async fn invite(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

fn main() {}
