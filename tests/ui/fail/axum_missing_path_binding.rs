// An axum handler whose route names the organization, but that binds another
// path parameter: the attribute says what to add.
use axum::extract::Path;
use bearer_policy::axum::Rejected;
use bearer_policy::{AuthInfo, requires};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn item(Path(id): Path<u64>, auth: AuthInfo) -> Result<String, Rejected> {
    Ok(format!("{id} for {:?}", auth.sub()))
}

fn main() {}
