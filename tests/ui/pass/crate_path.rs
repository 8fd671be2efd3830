#![deny(warnings)]

// A crate that re-exports policy names it with `crate = ...`.
mod deps {
    pub use ::policy;
}

use deps::policy::AuthInfo;

#[deps::policy::requires(crate = crate::deps::policy, model = global_api, scopes("api:read"))]
#[deps::policy::requires(model = org_permission, org_from = header("X-Org"))]
pub fn handler(auth: AuthInfo) -> Result<(), deps::policy::Denied> {
    let _ = auth;
    Ok(())
}

#[deps::policy::requires(crate = "crate::deps::policy", model = global_api)]
pub fn with_string_path(auth: AuthInfo) -> Result<(), deps::policy::Denied> {
    let _ = auth;
    Ok(())
}

fn main() {
    assert_eq!(handler::POLICY.len(), 2);
    let _ = &with_string_path::POLICY;
}
