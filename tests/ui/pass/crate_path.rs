#![deny(warnings)]

// A crate that re-exports policy names it with `crate = ...`.
mod deps {
    pub use ::bearer_policy;
}

use deps::bearer_policy::AuthInfo;

#[deps::bearer_policy::requires(crate = crate::deps::bearer_policy, model = global_api, scopes("api:read"))]
#[deps::bearer_policy::requires(model = org_permission, org_from = header("X-Org"))]
pub fn handler(auth: AuthInfo) -> Result<(), deps::bearer_policy::Denied> {
    let _ = auth;
    Ok(())
}

#[deps::bearer_policy::requires(crate = "crate::deps::bearer_policy", model = global_api)]
pub fn with_string_path(auth: AuthInfo) -> Result<(), deps::bearer_policy::Denied> {
    let _ = auth;
    Ok(())
}

fn main() {
    assert_eq!(handler::POLICY.len(), 2);
    let _ = &with_string_path::POLICY;
}
