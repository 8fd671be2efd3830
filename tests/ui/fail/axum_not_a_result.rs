// An axum handler must return `Result<_, E>` with `E: From<Denied>`, so that
// the check in its body can refuse.
use axum::Json;
use bearer_policy::{AuthInfo, requires};

#[requires(model = global_api, scopes("api:read"))]
async fn read(auth: AuthInfo) -> Json<Option<String>> {
    Json(auth.sub().map(str::to_owned))
}

fn main() {}
