// A struct field is matched by its name, the route capture axum fills it
// from: binding another field to `org_id`, or the field to a pattern, is
// an error that says what to write.
use bearer_policy::{AuthInfo, Denied, requires};

struct Path<T>(T);

struct Params {
    tenant: String,
    org_id: OrgId,
}

struct OrgId(String);

#[requires(model = org_resource, org_from = path)]
fn from_another_field(Path(Params { tenant: org_id, .. }): Path<Params>, auth: AuthInfo) -> Result<(), Denied> {
    Ok(())
}

#[requires(model = org_resource, org_from = path)]
fn field_to_a_pattern(Path(Params { org_id: OrgId(id), .. }): Path<Params>, auth: AuthInfo) -> Result<(), Denied> {
    Ok(())
}

fn main() {}
