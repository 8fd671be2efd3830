#![deny(warnings)]

// The policy module is checked in the route before the body filters, and
// the filters hand each handler its `Authorized` type.
use bearer_policy::{AuthInfo, Validator, requires};
use warp::{Filter, Rejection, Reply};

#[requires(model = global_api, scopes("products:write"))]
async fn create_product(
    auth: AuthInfo,
    product: serde_json::Value,
) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(warp::reply::json(&product))
}

#[requires(model = org_resource, scopes("api:write"), org_from = path)]
async fn update(
    org_id: String,
    auth: AuthInfo,
    body: serde_json::Value,
) -> Result<impl Reply, Rejection> {
    let _ = (org_id, auth);
    Ok(warp::reply::json(&body))
}

#[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
#[requires(model = global_api, any_scopes("admin", "support"))]
async fn invite(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok("invited")
}

#[allow(dead_code)]
fn routes(v: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let create_route = warp::post()
        .and(warp::path!("products"))
        .and(bearer_policy::warp::authorize(v.clone(), &create_product::POLICY))
        .and(warp::body::json())
        .and_then(create_product);
    let update_route = warp::put()
        .and(bearer_policy::warp::authorize_path(
            warp::path!("orgs" / String / "data"),
            v.clone(),
            &update::POLICY,
        ))
        .and(warp::body::json())
        .and_then(update);
    // `authorize` yields whatever the handler takes: its `Authorized`, named
    // here as a route may.
    let invite_route = warp::post()
        .and(warp::path!("invitations"))
        .and(bearer_policy::warp::authorize::<_, invite::Authorized>(
            v,
            &invite::POLICY,
        ))
        .and_then(invite);
    create_route.or(update_route).or(invite_route)
}

fn main() {}
