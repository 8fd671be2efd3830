use bearer_policy::{AuthInfo, Denied, requires};
use warp::{Rejection, Reply};

fn role(auth: &AuthInfo) -> String {
    auth.sub().unwrap_or_default().to_owned()
}

fn with_its_own_error(auth: &AuthInfo) -> Result<(), String> {
    auth.sub().map(|_| ()).ok_or_else(|| "no subject".to_owned())
}

async fn is_staff(auth: &AuthInfo) -> bool {
    auth.sub().is_some()
}

#[requires(model = global_api, check = role)]
async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = with_its_own_error)]
async fn read(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok("")
}

#[requires(model = global_api, check = is_staff)]
fn write(auth: AuthInfo) -> Result<(), Denied> {
    Ok(())
}

fn main() {}
