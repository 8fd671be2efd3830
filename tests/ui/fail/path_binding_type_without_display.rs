// The organization id bound from an axum-style path must read as a string:
// the error points at its type inside `Path<...>`.
use bearer_policy::{AuthInfo, Denied, requires};

struct Path<T>(T);

#[requires(model = org_resource, org_from = path)]
fn read(Path((id, org_id)): Path<(u64, Vec<u8>)>, auth: AuthInfo) -> Result<u64, Denied> {
    Ok(id)
}

fn main() {
    let _ = read;
}
