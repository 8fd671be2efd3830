#![deny(warnings)]

use bearer_policy::{AuthInfo, Denied, Policy, requires};
use warp::{Rejection, Reply};

mod rules {
    use bearer_policy::{AuthInfo, Denied};

    pub fn is_staff(auth: &AuthInfo) -> bool {
        auth.claim("role").is_some_and(|role| role == "staff")
    }

    pub fn verified(auth: &AuthInfo) -> Result<(), Denied> {
        match auth.claim("email_verified") {
            Some(serde_json::Value::Bool(true)) => Ok(()),
            _ => Err(Denied::check_failed("verify your email address first")),
        }
    }

    pub struct Roles;

    impl Roles {
        pub fn admin(auth: &AuthInfo) -> bool {
            auth.claim("role").is_some_and(|role| role == "admin")
        }
    }

    pub fn has_role<const ADMIN: bool>(auth: &AuthInfo) -> bool {
        ADMIN && auth.sub().is_some()
    }
}

use rules::is_staff;

/// A function named like the wrapper and its parameter: they do not clash.
fn check(auth: &AuthInfo) -> bool {
    auth.sub().is_some()
}

fn auth(auth: &AuthInfo) -> bool {
    auth.sub().is_some()
}

// Every form of the path: imported, through a module, `self`, `crate`,
// an associated function, generic arguments.
#[requires(model = global_api, scopes("api:read"), check = is_staff)]
pub async fn imported(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok("")
}

#[requires(model = global_api, check = rules::verified)]
pub fn through_a_module(auth: &AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, check = self::check)]
pub fn self_path(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, check = crate::auth)]
pub fn crate_path(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, check = rules::Roles::admin)]
pub fn associated(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, check = rules::has_role::<true>)]
pub fn generic(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

pub mod nested {
    use bearer_policy::{AuthInfo, Denied, requires};

    #[requires(model = org_resource, org_from = header("X-Org"), check = super::check)]
    pub fn super_path(auth: AuthInfo) -> Result<(), Denied> {
        let _ = auth;
        Ok(())
    }
}

// One check per attribute, on each of several.
#[requires(model = global_api, scopes("api:write"), check = is_staff)]
#[requires(model = org_permission, org_from = query("org"), check = rules::verified)]
pub fn stacked(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

fn main() {
    let names = |policy: &Policy| policy.check_name().map(str::to_owned);
    assert_eq!(names(&imported::POLICY).as_deref(), Some(concat!(module_path!(), "::rules::is_staff")));
    assert_eq!(names(&through_a_module::POLICY).as_deref(), Some(concat!(module_path!(), "::rules::verified")));
    assert_eq!(names(&self_path::POLICY).as_deref(), Some(concat!(module_path!(), "::check")));
    assert_eq!(names(&crate_path::POLICY).as_deref(), Some(concat!(module_path!(), "::auth")));
    assert_eq!(names(&associated::POLICY).as_deref(), Some(concat!(module_path!(), "::rules::Roles::admin")));
    assert_eq!(names(&generic::POLICY).as_deref(), Some(concat!(module_path!(), "::rules::has_role<true>")));
    assert_eq!(names(&nested::super_path::POLICY).as_deref(), Some(concat!(module_path!(), "::check")));
    let [first, second] = &stacked::POLICY;
    assert_eq!(names(first).as_deref(), Some(concat!(module_path!(), "::rules::is_staff")));
    assert_eq!(names(second).as_deref(), Some(concat!(module_path!(), "::rules::verified")));
}
