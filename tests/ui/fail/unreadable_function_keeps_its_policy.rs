// A body syn cannot parse (here half-typed, as under rust-analyzer): the
// attribute says the function is not protected, and the route that names
// `update::POLICY` (or `update::Authorized`) still resolves, so that no
// error cascades from it.
use bearer_policy::{AuthInfo, Validator, requires};
use warp::{Filter, Rejection, Reply};

#[requires(model = org_resource, scopes("api:write"), org_from = path)]
async fn update(
    org_id: String,
    auth: AuthInfo,
    body: serde_json::Value,
) -> Result<impl Reply, Rejection> {
    let saved = ;
    Ok(warp::reply::json(&body))
}

#[allow(dead_code)]
fn routes(v: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::put()
        .and(bearer_policy::warp::authorize_path(
            warp::path!("orgs" / String / "data"),
            v,
            &update::POLICY,
        ))
        .and(warp::body::json())
        .and_then(update)
}

#[allow(dead_code)]
fn typed(auth: update::Authorized) -> bearer_policy::AuthInfo {
    auth.into()
}

fn main() {}
