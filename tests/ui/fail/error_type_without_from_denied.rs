use bearer_policy::{AuthInfo, requires};

#[derive(Debug)]
struct AppError;

#[requires(model = global_api, scopes("api:read"))]
fn list(auth: AuthInfo) -> Result<Vec<String>, AppError> {
    Ok(Vec::new())
}

fn main() {}
