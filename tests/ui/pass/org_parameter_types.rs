#![deny(warnings)]

// The organization parameter may be a String, a &str, anything that derefs
// to str, or anything that implements Display.
use std::sync::Arc;

use bearer_policy::{AuthInfo, Denied, requires};

#[requires(model = org_resource, org_from = path(tenant))]
fn string(tenant: String, auth: AuthInfo) -> Result<(), Denied> {
    drop((tenant, auth));
    Ok(())
}

#[requires(model = org_resource, org_from = path(tenant))]
fn str_ref<'a>(tenant: &'a str, auth: &AuthInfo) -> Result<&'a str, Denied> {
    let _ = auth;
    Ok(tenant)
}

#[requires(model = org_resource, org_from = path(tenant))]
fn shared(auth: AuthInfo, tenant: Arc<str>) -> Result<(), Denied> {
    drop((tenant, auth));
    Ok(())
}

#[requires(model = org_permission, org_from = path(tenant))]
fn number(tenant: u64, auth: AuthInfo) -> Result<u64, Denied> {
    let _ = auth;
    Ok(tenant)
}

#[requires(model = org_permission, org_from = path(r#type))]
fn raw_identifier(r#type: Box<str>, auth: AuthInfo) -> Result<(), Denied> {
    drop((r#type, auth));
    Ok(())
}

fn main() {
    let _ = (string, str_ref, shared, number, raw_identifier);
    assert_eq!(
        raw_identifier::POLICY
            .organization_source()
            .map(|s| s.name()),
        Some("type")
    );
}
