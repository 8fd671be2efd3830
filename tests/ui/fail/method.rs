use bearer_policy::{AuthInfo, requires};
use warp::{Rejection, Reply};

struct Api;

impl Api {
    #[requires(model = global_api, scopes("api:read"))]
    async fn list(&self, auth: AuthInfo) -> Result<impl Reply, Rejection> {
        Ok("")
    }
}

fn main() {}
