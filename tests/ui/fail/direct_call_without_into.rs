// A handler called directly takes its `Authorized` type: an `AuthInfo`
// converts with `.into()`, which rustc suggests.
use bearer_policy::{AuthInfo, Denied, requires};

#[requires(model = global_api, scopes("api:read"))]
fn list(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

fn call(auth: AuthInfo) -> Result<(), Denied> {
    list(auth)
}

fn main() {
    let _ = call;
}
