#![deny(warnings)]

use std::fmt::Display;

use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

pub trait Store: Send + Sync {
    fn name(&self) -> String;
}

#[requires(model = global_api, scopes("api:read"))]
pub async fn list<S: Store + 'static>(store: S, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(store.name())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
pub fn by_org<T>(org_id: T, auth: AuthInfo) -> Result<String, Rejection>
where
    T: Display,
{
    let _ = auth;
    Ok(org_id.to_string())
}

#[requires(model = org_resource, org_from = path)]
pub fn by_str_org<T>(org_id: T, auth: AuthInfo) -> Result<usize, Rejection>
where
    T: std::ops::Deref<Target = str>,
{
    let _ = auth;
    Ok(org_id.len())
}

fn main() {
    let _ = by_org::<u32>;
    let _ = by_str_org::<String>;
}
