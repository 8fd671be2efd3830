#![deny(warnings)]

// `org_from = path` finds the organization id where an axum handler binds it
// from the path. The attribute reads patterns, so a local `Path` stands in
// for `axum::extract::Path` here.
use bearer_policy::{AuthInfo, Denied, requires};

pub struct Path<T>(pub T);

pub mod extract {
    pub struct Path<T>(pub T);
}

pub struct Params {
    pub org_id: String,
    pub id: u64,
}

pub struct Ids {
    pub tenant: u64,
    pub id: u64,
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
pub async fn single(Path(org_id): Path<String>, auth: AuthInfo) -> Result<String, Denied> {
    let _ = auth;
    Ok(org_id)
}

#[requires(model = org_resource, org_from = path)]
pub async fn qualified(
    extract::Path(org_id): extract::Path<String>,
    auth: AuthInfo,
) -> Result<String, Denied> {
    let _ = auth;
    Ok(org_id)
}

#[requires(model = org_resource, org_from = path)]
pub fn tuple(Path((org_id, id)): Path<(String, u64)>, auth: AuthInfo) -> Result<String, Denied> {
    let _ = auth;
    Ok(format!("{org_id}/{id}"))
}

#[requires(model = org_permission, org_from = path)]
pub fn shorthand(Path(Params { org_id, .. }): Path<Params>, auth: AuthInfo) -> Result<String, Denied> {
    let _ = auth;
    Ok(org_id)
}

// The field names the route capture (`org_id`); the body reads `org`.
#[requires(model = org_permission, org_from = path)]
pub fn renamed(Path(Params { org_id: org, id }): Path<Params>, auth: AuthInfo) -> Result<String, Denied> {
    let _ = auth;
    Ok(format!("{org}/{id}"))
}

// A named capture of another type, read through `Display`.
#[requires(model = org_resource, org_from = path(tenant))]
pub fn named(Path(Ids { tenant, id }): Path<Ids>, auth: &AuthInfo) -> Result<u64, Denied> {
    let _ = auth;
    Ok(tenant + id)
}

fn main() {
    // The handler takes its declaration's type, which converts from an
    // `AuthInfo` with `.into()`.
    let _: fn(Path<(String, u64)>, tuple::Authorized) -> Result<String, Denied> = tuple;
    let _: fn(Path<Params>, bearer_policy::Authorized<renamed::Handler>) -> Result<String, Denied> =
        renamed;
    let _: fn(Path<Ids>, &AuthInfo) -> Result<u64, Denied> = named;
    let _ = (single, qualified, shorthand);
    for (policy, name) in [
        (&single::POLICY, "org_id"),
        (&qualified::POLICY, "org_id"),
        (&tuple::POLICY, "org_id"),
        (&shorthand::POLICY, "org_id"),
        (&renamed::POLICY, "org_id"),
        (&named::POLICY, "tenant"),
    ] {
        assert_eq!(policy.organization_source().map(|s| s.name()), Some(name));
    }
}
