//! Throughput of the MCP endpoint over loopback HTTP, with wrk: the same
//! rmcp server (the MCP example's tools, stateless JSON responses) with and
//! without `McpAuth` in front, in the same run, alternating, best of two
//! each. Every request is a `tools/call` of `list_items` (`api:read`); the
//! authenticated one carries a valid token, so the ratio is what
//! authentication, the message reading and the tool's decision cost.
//!
//! ```text
//! cargo run --release --example mcp_load    # LOAD_SECONDS=5 LOAD_CONNECTIONS=32
//! ```
//!
//! Exits non-zero when a response is not a 2xx.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a load generator

#[path = "mcp/items.rs"]
mod items;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bearer_policy::mcp::McpAuth;
use bearer_policy::testing::TestIssuer;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use tokio::process::Command;

use items::{ItemList, Items, Served};

const CALL: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items"}}"#;

fn service(items: &ItemList) -> StreamableHttpService<Items, LocalSessionManager> {
    let items = items.clone();
    StreamableHttpService::new(
        move || Ok(Items::new(items.clone(), Served::default())),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true),
    )
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Requests per second and non-2xx responses of one wrk run.
async fn wrk(addr: SocketAddr, token: Option<&str>, script: &std::path::Path) -> (f64, u64) {
    let seconds = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5u64);
    let connections = std::env::var("LOAD_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32u32);
    let mut command = Command::new("wrk");
    command.args([
        "-t1".to_owned(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
    ]);
    if let Some(token) = token {
        command.args(["-H".to_owned(), format!("Authorization: Bearer {token}")]);
    }
    command
        .arg("-s")
        .arg(script)
        .arg(format!("http://{addr}/mcp"))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(seconds + 30), command.output())
        .await
        .expect("wrk finishes")
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout);
    let number = |prefix: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.trim().parse::<f64>().ok())
    };
    let rate = number("Requests/sec:").unwrap_or(0.0);
    let failed = number("Non-2xx or 3xx responses:").unwrap_or(0.0) as u64;
    (rate, failed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let issuer = TestIssuer::with_algorithms(&[bearer_policy::Algorithm::ES256]).await;
    let items = ItemList::default();
    let plain = serve(axum::Router::new().route_service("/mcp", service(&items))).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/mcp");
    let auth = McpAuth::builder(issuer.validator(&url))
        .tools(&Items::tool_router())
        .prompts(&Items::prompt_router())
        .resources(&Items::resources())
        .build()
        .unwrap();
    let app = auth.router(service(&items));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let token = issuer
        .token()
        .for_global_api(&url)
        .scopes(["api:read"])
        .sign();

    let dir = std::env::temp_dir().join(format!("mcp-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("call.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{CALL}'\n\
             wrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"Accept\"] = \"application/json, text/event-stream\"\n"
        ),
    )
    .unwrap();

    let (mut best_plain, mut best_auth, mut failures) = (0.0f64, 0.0f64, 0);
    for round in 1..=2 {
        let (rate, failed) = wrk(plain, None, &script).await;
        println!("round {round}: rmcp alone            {rate:>10.0} req/s ({failed} non-2xx)");
        best_plain = best_plain.max(rate);
        failures += failed;
        let (rate, failed) = wrk(addr, Some(&token), &script).await;
        println!("round {round}: rmcp behind McpAuth   {rate:>10.0} req/s ({failed} non-2xx)");
        best_auth = best_auth.max(rate);
        failures += failed;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "tools/call, best of two: {best_auth:.0} req/s authenticated, {best_plain:.0} req/s without; ratio {:.2}",
        best_auth / best_plain.max(1.0)
    );
    if failures > 0 || best_plain == 0.0 {
        eprintln!("error: {failures} responses were not 2xx");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
