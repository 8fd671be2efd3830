//! An MCP server on rmcp's streamable HTTP transport at `POST /mcp`,
//! protected as the MCP authorization spec asks: every request carries a
//! token for this server (its canonical URI), each tool, the prompt and the
//! resource have their scopes, and refusals carry the challenges MCP
//! clients follow.
//!
//! ```text
//! cargo run --example mcp_server
//! ```
//!
//! Environment:
//! - `POLICY_ISSUER`: the issuer (OpenID discovery). Unset: an embedded
//!   development issuer, whose tokens are printed at start-up.
//! - `POLICY_AUDIENCE`: the canonical URI of the endpoint, which tokens must
//!   be issued for (RFC 8707). Default: `http://127.0.0.1:$PORT/mcp`.
//! - `PORT`: default 3000; 0 picks a free port.
//!
//! `--print-policies` prints the tool, prompt and resource policies and exits.

#[path = "mcp/items.rs"]
mod items;
#[path = "common/listen.rs"]
mod listen;

use std::process::ExitCode;

use bearer_policy::Validator;
use bearer_policy::mcp::McpAuth;
use bearer_policy::testing::TestIssuer;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};

use serde_json::json;

use items::{ITEM_LIST_URI, ItemList, Items, Served};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if std::env::args().any(|arg| arg == "--print-policies") {
        let declared = serde_json::to_string_pretty(&bearer_policy::declared());
        println!("{}", declared.unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let (listener, addr) = match listen::listen().await {
        Ok(listening) => listening,
        Err(code) => return code,
    };
    let audience = std::env::var("POLICY_AUDIENCE")
        .ok()
        .filter(|audience| !audience.is_empty())
        .unwrap_or_else(|| format!("http://{addr}/mcp"));
    // Held until the server stops: the development issuer serves its keys.
    let (validator, dev) = match configure(&audience).await {
        Ok(configured) => configured,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let auth = match McpAuth::builder(validator)
        .tools(&Items::tool_router())
        .prompts(&Items::prompt_router())
        .resources(&Items::resources())
        .build()
    {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // One list for the process; every session's handler shares it.
    let items = ItemList::default();
    let service = StreamableHttpService::new(
        move || Ok(Items::new(items.clone(), Served::default())),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default(),
    );
    if let Some(dev) = &dev {
        print_dev_commands(dev, &audience, &auth);
    }
    println!("MCP endpoint: {audience} (listening on http://{addr})");
    match axum::serve(listener, auth.router(service)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::from(1)
        }
    }
}

/// `POLICY_ISSUER`, or the development issuer when it is unset.
async fn configure(audience: &str) -> Result<(Validator, Option<TestIssuer>), String> {
    let issuer = std::env::var("POLICY_ISSUER").unwrap_or_default();
    if issuer.trim().is_empty() {
        let dev = TestIssuer::with_algorithms(&[bearer_policy::Algorithm::ES256]).await;
        let validator = dev.validator(audience);
        return Ok((validator, Some(dev)));
    }
    let validator = Validator::builder()
        .issuer(issuer.trim())
        .audience(audience)
        .build()
        .map_err(|e| format!("invalid configuration: {e}"))?;
    validator
        .ready()
        .await
        .map_err(|e| format!("cannot use the issuer: {e}"))?;
    Ok((validator, None))
}

fn print_dev_commands(dev: &TestIssuer, audience: &str, auth: &McpAuth) {
    let token = |scopes: &[&str]| {
        dev.token()
            .for_global_api(audience)
            .subject("dev-user")
            .scopes(scopes.iter().copied())
            .sign()
    };
    let all = token(&["api:read", "api:write"]);
    let read = token(&["api:read"]);
    let other = dev
        .token()
        .for_global_api("https://api.example.com")
        .scopes(["api:read", "api:write"])
        .sign();
    println!(
        "Development issuer: {} (tokens are valid for one hour)\n",
        dev.issuer()
    );
    println!("Tokens for {audience}:");
    println!("  api:read api:write  {all}");
    println!("  api:read only       {read}");
    println!("  another audience    {other}\n");
    // One POST to the endpoint: with `token`, in the session or not.
    let curl = |token: &str, in_session: bool, body: serde_json::Value| {
        let session = if in_session {
            " -H 'Mcp-Session-Id: <id>'"
        } else {
            ""
        };
        println!(
            "  curl -i -X POST -H 'Content-Type: application/json' \\\n    \
             -H 'Accept: application/json, text/event-stream' -H 'Authorization: Bearer {token}'{session} \\\n    \
             -d '{body}' {audience}"
        );
    };
    println!("1. Initialize a session (note the mcp-session-id response header):");
    curl(
        &all,
        false,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "curl", "version": "1"}}}),
    );
    println!("2. Finish the handshake, then call a tool in that session:");
    curl(
        &all,
        true,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    curl(
        &all,
        true,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "create_item", "arguments": {"name": "lamp"}}}),
    );
    println!(
        "   The same call with the api:read token is refused: 403, WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"api:write\"."
    );
    println!(
        "   Without a token: 401, WWW-Authenticate: Bearer resource_metadata=\"{}\".",
        auth.metadata_url()
    );
    println!(
        "   The prompt (api:read and api:write) and the resource (api:read), in that session:"
    );
    curl(
        &all,
        true,
        json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/get",
            "params": {"name": "suggest_name"}}),
    );
    curl(
        &read,
        true,
        json!({"jsonrpc": "2.0", "id": 4, "method": "resources/read",
            "params": {"uri": ITEM_LIST_URI}}),
    );
    println!(
        "   The prompt with the api:read token is refused: 403, WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"api:read api:write\"."
    );
    println!(
        "3. Point an MCP client at it: URL {audience}, header 'Authorization: Bearer <token>'"
    );
    println!(
        "   (the MCP Inspector: npx @modelcontextprotocol/inspector, transport \"Streamable HTTP\")."
    );
    println!("   Metadata: curl -s {}\n", auth.metadata_url());
}
