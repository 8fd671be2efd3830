#![deny(warnings)]

// A `#[requires]` handler composed after `authenticate`, as warp users build
// routes: the filter hands the handler its `Authorized`, and the handler
// decides its policy in its body (the filter decides it too, before the body
// filters, when no policy reads a path parameter).
use bearer_policy::{AuthInfo, Validator, requires};
use warp::{Filter, Rejection, Reply};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(org_id)
}

#[requires(model = global_api, scopes("products:write"))]
async fn create_product(
    auth: AuthInfo,
    product: serde_json::Value,
) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(warp::reply::json(&product))
}

#[allow(dead_code)]
fn routes(v: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let data_route = warp::path!("orgs" / String / "data")
        .and(bearer_policy::warp::authenticate(v.clone()))
        .and_then(data);
    let create_route = warp::path!("products")
        .and(warp::post())
        .and(bearer_policy::warp::authenticate(v.clone()))
        .and(warp::body::json())
        .and_then(create_product);
    // A closure names the `AuthInfo` it takes.
    let me_route = warp::path!("me")
        .and(bearer_policy::warp::authenticate(v))
        .map(|auth: AuthInfo| auth.sub().unwrap_or_default().to_owned());
    data_route.or(create_route).or(me_route)
}

fn main() {}
