// A router whose state holds no `Validator` cannot serve a handler that needs
// one: a compile error, not a 500 at run time.
use axum::routing::get;
use axum::Router;
use bearer_policy::axum::Rejected;
use bearer_policy::{AuthInfo, requires};

#[requires(model = global_api, scopes("api:read"))]
async fn read(auth: AuthInfo) -> Result<String, Rejected> {
    Ok(auth.sub().unwrap_or_default().to_owned())
}

#[derive(Clone)]
struct AppState {
    name: &'static str,
}

fn main() {
    let _app: Router = Router::new()
        .route("/read", get(read))
        .with_state(AppState { name: "no validator here" });
}
