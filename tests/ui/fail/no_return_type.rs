use bearer_policy::{AuthInfo, requires};

#[requires(model = global_api, scopes("api:write"))]
async fn delete(auth: AuthInfo) {}

fn main() {}
