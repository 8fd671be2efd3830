#![deny(warnings)]

use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

bearer_policy::scopes! {
    /// The products API.
    pub Products {
        READ = "products:read",
        WRITE = "products:write",
    }
}

pub mod roles {
    bearer_policy::scopes! {
        pub Roles { ADMIN = "admin", SUPPORT = "support" }
    }
}

#[requires(model = global_api, scopes(Products::READ, "products:list"), any_scopes(roles::Roles::ADMIN, self::roles::Roles::SUPPORT))]
pub async fn list(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok("")
}

pub mod nested {
    use super::*;

    #[requires(model = global_api, scopes(super::Products::WRITE, crate::roles::Roles::ADMIN))]
    pub async fn create(auth: AuthInfo) -> Result<impl Reply, Rejection> {
        let _ = auth;
        Ok("")
    }
}

fn main() {
    assert_eq!(
        list::POLICY.required_scopes(),
        ["products:read", "products:list"]
    );
    assert_eq!(list::POLICY.any_of_scopes(), ["admin", "support"]);
    assert_eq!(
        nested::create::POLICY.required_scopes(),
        ["products:write", "admin"]
    );
}
