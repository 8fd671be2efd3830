//! What the example servers share, whatever their web framework: the
//! configuration from the environment (and its exit codes), the embedded
//! development issuer with its printed `curl` commands, `--print-policies`,
//! the macro-free billing policy and the body rules. Each server keeps its
//! own handlers, routes and body reading; this module never sees a request.

pub mod listen;
pub mod openapi;
pub mod operating;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bearer_policy::testing::TestIssuer;
use bearer_policy::{
    AuthInfo, Introspection, Model, OrgSource, PROTECTED_RESOURCE_METADATA_PATH, Policy,
    ResourceMetadata, Validator,
};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const DEV_AUDIENCE: &str = "https://api.example.com";
pub const DEV_ORG: &str = "acme";

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// The 400 body for a request body that is not a JSON object of at most
/// [`MAX_BODY`] bytes.
pub fn invalid_body() -> Value {
    json!({ "error": "The request body must be a JSON object of at most 64 KiB", "code": "invalid_body" })
}

/// The body rule of both servers: empty (or blank) means `{}`, anything else
/// must be one JSON object. The size limit is the reader's job, while it reads.
pub fn parse_json_object(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(serde_json::Map::new());
    }
    serde_json::from_slice(bytes).ok()
}

/// The body of the routes that answer with their caller: `{"auth": …}`,
/// written straight from the `AuthInfo`. Through a `json!` value every claim
/// was first copied into a map, which cost more per request than authorizing
/// it (BENCHMARKS.md, note 9).
#[derive(Serialize)]
pub struct Caller {
    /// The caller, as its token says.
    pub auth: AuthInfo,
}

/// The policy of `GET /billing`, written without the macro.
pub fn billing_policy() -> Policy {
    Policy::new(Model::OrgPermission)
        .scopes(["manage:billing"])
        .organization(OrgSource::Header("X-Organization-Id".into()))
}

/// The RFC 9728 metadata: the declared scopes, and the macro-free
/// `/billing` route's.
pub fn metadata(validator: &Validator) -> ResourceMetadata {
    ResourceMetadata::from_declared(validator).with_policies([&billing_policy()])
}

/// Configures, listens, prints how to try it, then hands the validator and
/// the listener to `serve` and waits for it. Exit codes: 2 for a bad
/// configuration, 1 when the port cannot be bound or the server fails.
pub async fn run<F, Fut>(serve: F) -> ExitCode
where
    F: FnOnce(Validator, TcpListener) -> Fut,
    Fut: Future<Output = std::io::Result<()>>,
{
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

    let (listener, addr) = match listen::listen().await {
        Ok(listening) => listening,
        Err(code) => return code,
    };
    // Before the validator: it registers its metrics with this recorder.
    operating::install_recorder();
    // Every 401 names the metadata this server serves (RFC 9728 §5.1).
    let metadata_url = format!("http://{addr}{PROTECTED_RESOURCE_METADATA_PATH}");
    // Held until the server stops: the development issuer serves its keys
    // for as long as it lives.
    let (validator, issuer) = match configure(&metadata_url, addr).await {
        Ok(configured) => configured,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if let KeySource::Development(dev) = &issuer {
        print_dev_commands(dev, addr);
        print_dpop_command(dev, addr);
    }
    println!("listening on http://{addr}");
    match serve(validator, listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::from(1)
        }
    }
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

/// Where the tokens come from: the embedded development issuer, or `POLICY_ISSUER`.
enum KeySource {
    Development(TestIssuer),
    External,
}

/// `POLICY_ISSUER` (one issuer URL, or several separated by commas, all for
/// the one `POLICY_AUDIENCE`), or the development issuer when it is unset.
async fn configure(metadata_url: &str, addr: SocketAddr) -> Result<(Validator, KeySource), String> {
    let issuers: Vec<String> = std::env::var("POLICY_ISSUER")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let ttl = introspection_ttl()?;
    let Some((first, more)) = issuers.split_first() else {
        let dev = TestIssuer::with_algorithms(&[bearer_policy::Algorithm::ES256]).await;
        let builder = dev
            .validator_builder(DEV_AUDIENCE)
            .resource_metadata(metadata_url)
            // Its opaque tokens too, as its own client.
            .introspection(dev.introspection().max_age(ttl));
        let validator = with_dpop(builder, addr)
            .await?
            .build()
            .map_err(|e| format!("the development issuer: {e}"))?;
        // On loopback, at once: the OpenAPI document then has its endpoints.
        validator
            .ready()
            .await
            .map_err(|e| format!("the development issuer: {e}"))?;
        return Ok((validator, KeySource::Development(dev)));
    };
    let audience = std::env::var("POLICY_AUDIENCE").map_err(|_| {
        "POLICY_AUDIENCE must be set to your API resource indicator when POLICY_ISSUER is set"
            .to_owned()
    })?;
    let mut builder = Validator::builder()
        .issuer(first)
        .audience(audience)
        .resource_metadata(metadata_url);
    for url in more {
        builder = builder.add_issuer(bearer_policy::Issuer::new(url));
    }
    if let Ok(jwks) = std::env::var("POLICY_JWKS_URI") {
        if !more.is_empty() {
            return Err("POLICY_JWKS_URI needs a single POLICY_ISSUER: with several, each issuer's keys are discovered".into());
        }
        builder = builder.jwks_uri(jwks);
    }
    if let Some(introspection) = introspection_client()? {
        builder = builder.introspection(introspection.max_age(ttl));
    }
    let validator = with_dpop(builder, addr)
        .await?
        .build()
        .map_err(|e| format!("invalid configuration: {e}"))?;
    // Serve as soon as one issuer is ready; the others keep retrying on
    // demand, their tokens getting 503 until their issuer answers.
    let outcomes = validator.ready_each().await;
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|(url, outcome)| outcome.as_ref().err().map(|e| format!("{url}: {e}")))
        .collect();
    if failures.len() == outcomes.len() {
        return Err(match outcomes.as_slice() {
            // One issuer: the message it has always had.
            [(_, Err(e))] => format!("cannot use the issuer: {e}"),
            _ => format!("cannot use any issuer: {}", failures.join("; ")),
        });
    }
    for failure in &failures {
        tracing::warn!("issuer not ready, serving the others: {failure}");
    }
    Ok((validator, KeySource::External))
}

/// `POLICY_PUBLIC_URL`: the base URL clients call (several separated by
/// commas), what DPoP proofs' `htu` names. Default: `http://<listen address>`.
fn public_urls(addr: SocketAddr) -> Vec<String> {
    let urls: Vec<String> = std::env::var("POLICY_PUBLIC_URL")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    match urls.is_empty() {
        true => vec![format!("http://{addr}")],
        false => urls,
    }
}

/// DPoP from the environment: `POLICY_DPOP` (`allowed`, the default;
/// `required`; `disabled`), `POLICY_PUBLIC_URL`, and `POLICY_DPOP_REPLAY`
/// (`redis://host:port` for a replay store shared by replicas; default in
/// process).
async fn with_dpop(
    mut builder: bearer_policy::ValidatorBuilder,
    addr: SocketAddr,
) -> Result<bearer_policy::ValidatorBuilder, String> {
    let mode = match std::env::var("POLICY_DPOP").ok().filter(|s| !s.is_empty()) {
        None => bearer_policy::DpopMode::Allowed,
        Some(mode) => mode.parse().map_err(|e| format!("POLICY_DPOP: {e}"))?,
    };
    builder = builder.dpop(mode);
    for url in public_urls(addr) {
        builder = builder.dpop_public_url(url);
    }
    match std::env::var("POLICY_DPOP_REPLAY")
        .ok()
        .filter(|s| !s.is_empty())
    {
        None => Ok(builder),
        Some(url) if url.starts_with("redis://") => {
            let store = bearer_policy::RedisReplayStore::new(&url)
                .await
                .map_err(|e| format!("POLICY_DPOP_REPLAY: {e}"))?;
            Ok(builder.dpop_replay_store(std::sync::Arc::new(store)))
        }
        Some(other) => Err(format!(
            "POLICY_DPOP_REPLAY must be a redis://host:port URL, got {other:?}"
        )),
    }
}

/// A DPoP-bound token and one proof for `GET /api/protected`: the proof is
/// single-use and valid for 5 minutes, so the line works once.
fn print_dpop_command(dev: &TestIssuer, addr: SocketAddr) {
    use bearer_policy::testing::{DpopKey, dpop_proof};
    let key = DpopKey::generate();
    let token = dev
        .token()
        .for_global_api(DEV_AUDIENCE)
        .scopes(["api:read"])
        .bound_to(&key)
        .sign();
    let Some(public) = public_urls(addr).into_iter().next() else {
        return;
    };
    let url = format!("{}/api/protected", public.trim_end_matches('/'));
    let proof = dpop_proof(&key, "GET", &url, &token, None);
    println!(
        "DPoP (a bound token and a one-time proof; POLICY_DPOP={{allowed,required,disabled}}):"
    );
    println!(
        "  curl -i -H 'Authorization: DPoP {token}' -H 'DPoP: {proof}' http://{addr}/api/protected\n"
    );
}

/// `POLICY_INTROSPECTION_TTL`: the longest an introspection result is used,
/// in seconds (default 60).
fn introspection_ttl() -> Result<Duration, String> {
    match std::env::var("POLICY_INTROSPECTION_TTL")
        .ok()
        .filter(|s| !s.is_empty())
    {
        None => Ok(Duration::from_secs(60)),
        Some(s) => s.parse().map(Duration::from_secs).map_err(|_| {
            format!("POLICY_INTROSPECTION_TTL must be a number of seconds, got {s:?}")
        }),
    }
}

/// `POLICY_INTROSPECTION_CLIENT_ID` and `POLICY_INTROSPECTION_CLIENT_SECRET`:
/// this API's client at the issuer, to introspect opaque tokens; both or none.
fn introspection_client() -> Result<Option<Introspection>, String> {
    let var = |name| std::env::var(name).ok().filter(|s: &String| !s.is_empty());
    match (
        var("POLICY_INTROSPECTION_CLIENT_ID"),
        var("POLICY_INTROSPECTION_CLIENT_SECRET"),
    ) {
        (Some(id), Some(secret)) => Ok(Some(Introspection::new(id, secret))),
        (None, None) => Ok(None),
        _ => Err(
            "POLICY_INTROSPECTION_CLIENT_ID and POLICY_INTROSPECTION_CLIENT_SECRET go together"
                .into(),
        ),
    }
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
    let opaque = dev
        .token()
        .for_global_api(DEV_AUDIENCE)
        .scopes(["api:read"])
        .opaque();
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
    println!("  curl -s {base}/openapi.json   # every route with the scopes it requires");
    println!("  curl -s {base}/metrics        # decisions, token cache, key sets (Prometheus)");
    println!("  curl -i {base}/ready          # 200 when every issuer has keys, else 503");
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
    println!("An opaque token (introspected, RFC 7662; POLICY_INTROSPECTION_TTL):");
    println!("  curl -i {} {base}/api/protected", auth(&opaque));
    println!();
}
