//! The example API server: every permission model, protected with `#[requires]`
//! and with the macro-free filters.
//!
//! ```text
//! cargo run --example server                  # embedded development issuer, prints curl commands
//! POLICY_ISSUER=https://<tenant>.logto.app/oidc \
//! POLICY_AUDIENCE=https://api.example.com \
//!     cargo run --example server              # real tokens from your Logto tenant
//! cargo run --example server -- --print-policies
//! ```
//!
//! Environment: `PORT` (default 3000; 0 picks a free port), `POLICY_ISSUER`,
//! `POLICY_AUDIENCE`, `POLICY_JWKS_URI` (optional, skips discovery), `RUST_LOG`.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use bearer_policy::testing::TestIssuer;
use bearer_policy::warp::{authorize, authorize_path, protected_resource_metadata, recover};
use bearer_policy::{AuthInfo, Model, OrgSource, Policy, Validator, requires};
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};
use warp::{Filter, Rejection, Reply};

const DEV_AUDIENCE: &str = "https://api.example.com";
const DEV_ORG: &str = "acme";

/// `GET /api/protected`: a global API permission.
#[requires(model = global_api, scopes("api:read"))]
async fn protected(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `POST /api/products`: echoes the product it was sent.
#[requires(model = global_api, scopes("api:write"))]
async fn create_product(
    auth: AuthInfo,
    product: Map<String, Value>,
) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(
        &json!({ "auth": auth, "product": product }),
    ))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission.
#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn invite_member(
    org_id: String,
    auth: AuthInfo,
    _invitation: Map<String, Value>,
) -> Result<impl Reply, Rejection> {
    tracing::info!(%org_id, "member invited");
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    tracing::debug!(%org_id, "organization data read");
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// The policy of `GET /billing`, written without the macro.
fn billing_policy() -> Policy {
    Policy::new(Model::OrgPermission)
        .scopes(["manage:billing"])
        .organization(OrgSource::Header("X-Organization-Id".into()))
}

/// Largest accepted request body.
const MAX_BODY: usize = 64 * 1024;

/// An optional JSON object body: empty means `{}`; anything but an object, or
/// more than [`MAX_BODY`] bytes, is 400.
fn json_object_body() -> impl Filter<Extract = (Map<String, Value>,), Error = Rejection> + Clone {
    warp::body::stream().and_then(read_json_object)
}

async fn read_json_object<S, B>(body: S) -> Result<Map<String, Value>, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| warp::reject::custom(BadBody))?;
        if bytes.len() + chunk.remaining() > MAX_BODY {
            return Err(warp::reject::custom(BadBody));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            bytes.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    serde_json::from_slice::<Map<String, Value>>(&bytes).map_err(|_| warp::reject::custom(BadBody))
}

#[derive(Debug)]
struct BadBody;
impl warp::reject::Reject for BadBody {}

/// Our rejections first, then the body error, then warp's own.
async fn handle_rejection(rejection: Rejection) -> Result<warp::reply::Response, Rejection> {
    let rejection = match recover(rejection).await {
        Ok(response) => return Ok(response),
        Err(other) => other,
    };
    if rejection.find::<BadBody>().is_some() {
        let body = json!({ "error": "The request body must be a JSON object of at most 64 KiB", "code": "invalid_body" });
        return Ok(warp::reply::with_status(
            warp::reply::json(&body),
            warp::http::StatusCode::BAD_REQUEST,
        )
        .into_response());
    }
    Err(rejection)
}

fn routes(validator: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let v = validator;
    // Path before method in every route: an unknown path stays 404, not 405.
    let health = warp::path!("health")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({ "status": "ok" })));
    let protected = warp::path!("api" / "protected")
        .and(warp::get())
        .and(authorize(v.clone(), &protected::POLICY))
        .and_then(protected);
    // Authorize before the body is read: no permission means 403, whatever the body.
    let products = warp::path!("api" / "products")
        .and(warp::post())
        .and(authorize(v.clone(), &create_product::POLICY))
        .and(json_object_body())
        .and_then(create_product);
    let invite = authorize_path(
        warp::path!("orgs" / String / "members" / "invite").and(warp::post()),
        v.clone(),
        &invite_member::POLICY,
    )
    .and(json_object_body())
    .and_then(invite_member);
    let data = authorize_path(
        warp::path!("orgs" / String / "data").and(warp::get()),
        v.clone(),
        &org_data::POLICY,
    )
    .and_then(org_data);
    // The same protection without the macro.
    let billing = warp::path!("billing")
        .and(warp::get())
        .and(authorize(v.clone(), billing_policy()))
        .map(|auth: AuthInfo| warp::reply::json(&json!({ "auth": auth })));
    health
        .or(protected)
        .or(products)
        .or(invite)
        .or(data)
        .or(billing)
        .or(protected_resource_metadata(&v))
        .recover(handle_rejection)
}

/// Every policy of this server, for `--print-policies`.
fn inventory() -> Value {
    let mut declared: Vec<Value> = bearer_policy::declared()
        .iter()
        .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
        .collect();
    declared
        .push(json!({ "function": "GET /billing (macro-free)", "policies": [billing_policy()] }));
    Value::Array(declared)
}

enum Issuer {
    Development(TestIssuer),
    External,
}

async fn configure() -> Result<(Validator, Issuer), String> {
    let issuer = std::env::var("POLICY_ISSUER")
        .ok()
        .filter(|s| !s.is_empty());
    let Some(issuer) = issuer else {
        let dev = TestIssuer::with_algorithms(&[bearer_policy::Algorithm::ES256]).await;
        let validator = dev.validator(DEV_AUDIENCE);
        return Ok((validator, Issuer::Development(dev)));
    };
    let audience = std::env::var("POLICY_AUDIENCE").map_err(|_| {
        "POLICY_AUDIENCE must be set to your API resource indicator when POLICY_ISSUER is set"
            .to_owned()
    })?;
    let mut builder = Validator::builder().issuer(issuer).audience(audience);
    if let Ok(jwks) = std::env::var("POLICY_JWKS_URI") {
        builder = builder.jwks_uri(jwks);
    }
    let validator = builder
        .build()
        .map_err(|e| format!("invalid configuration: {e}"))?;
    validator
        .ready()
        .await
        .map_err(|e| format!("cannot use the issuer: {e}"))?;
    Ok((validator, Issuer::External))
}

fn print_dev_commands(dev: &TestIssuer, addr: SocketAddr) {
    let base = format!("http://{addr}");
    let global = dev
        .token()
        .for_global_api(DEV_AUDIENCE)
        .scopes(["api:read", "api:write"])
        .sign();
    let org = dev
        .token()
        .for_organization(DEV_ORG)
        .scopes(["invite:member", "manage:billing"])
        .sign();
    let org_resource = dev
        .token()
        .for_org_resource(DEV_AUDIENCE, DEV_ORG)
        .scopes(["api:read"])
        .sign();
    let no_scope = dev.token().for_global_api(DEV_AUDIENCE).sign();
    let auth = |t: &str| format!("-H 'Authorization: Bearer {t}'");
    println!(
        "Development issuer: {} (tokens are valid for one hour)\n",
        dev.issuer()
    );
    println!("Allowed:");
    println!("  curl -i {} {base}/api/protected", auth(&global));
    println!(
        "  curl -i -X POST {} -d '{{\"name\":\"lamp\"}}' {base}/api/products",
        auth(&global)
    );
    println!(
        "  curl -i -X POST {} {base}/orgs/{DEV_ORG}/members/invite",
        auth(&org)
    );
    println!(
        "  curl -i {} {base}/orgs/{DEV_ORG}/data",
        auth(&org_resource)
    );
    println!(
        "  curl -i {} -H 'X-Organization-Id: {DEV_ORG}' {base}/billing",
        auth(&org)
    );
    println!("  curl -i {base}/health");
    println!("Denied:");
    println!("  no token (401):        curl -i {base}/api/protected");
    println!(
        "  bad token (401):       curl -i -H 'Authorization: Bearer not.a.token' {base}/api/protected"
    );
    println!(
        "  missing scope (403):   curl -i {} {base}/api/protected",
        auth(&no_scope)
    );
    println!(
        "  wrong organization (403): curl -i {} {base}/orgs/other-org/data",
        auth(&org_resource)
    );
    println!(
        "  org token on a global route (403): curl -i {} {base}/api/protected",
        auth(&org_resource)
    );
    println!();
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    if std::env::args().any(|a| a == "--print-policies") {
        println!(
            "{}",
            serde_json::to_string_pretty(&inventory()).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }

    let port = match std::env::var("PORT").ok().filter(|s| !s.is_empty()) {
        None => 3000,
        Some(p) => match p.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("error: PORT must be a port number, got {p:?}");
                return ExitCode::from(2);
            }
        },
    };
    let (validator, issuer) = match configure().await {
        Ok(configured) => configured,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    if let Issuer::Development(dev) = &issuer {
        print_dev_commands(dev, addr);
    }
    println!("listening on http://{addr}");
    warp::serve(routes(validator))
        .incoming(listener)
        .run()
        .await;
    ExitCode::SUCCESS
}
