//! The MCP endpoint (feature `rmcp`): the example's tools (`whoami`,
//! `list_items` with `api:read`, `create_item` with `api:write`), its prompt
//! and its resource (`mcp/prompts_resources.rs`) served by rmcp's streamable
//! HTTP server behind `McpAuth` on loopback, driven by rmcp's own client
//! with a bearer token, and by raw HTTP for the challenges and the hostile
//! messages (`mcp/hostile.rs`).

#[path = "../../examples/mcp/items.rs"]
mod items;

mod hostile;
mod prompts_resources;

use std::time::Duration;

use bearer_policy::mcp::McpAuth;
use bearer_policy::testing::TestIssuer;
use bearer_policy::{ConfigError, McpKind, Validator};
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use rmcp::{ServiceError, ServiceExt};
use serde_json::{Value, json};

use crate::common::issuer::fast_timings;
use crate::common::{bearer, start_issuer};
use items::{ItemList, Items, Served};

/// The largest message the test server reads.
const LIMIT: usize = 64 * 1024;

/// The example's MCP server on loopback, with its item list and issuer.
struct McpServer {
    /// The canonical URI: `http://127.0.0.1:<port>/mcp`.
    url: String,
    base: String,
    issuer: TestIssuer,
    items: ItemList,
    /// How many times the prompt and the resource ran.
    served: Served,
}

impl McpServer {
    async fn start() -> McpServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let url = format!("{base}/mcp");
        let issuer = start_issuer().await;
        let validator = fast_timings(issuer.validator_builder(&url))
            .build()
            .unwrap();
        let auth = McpAuth::builder(validator)
            .tools(&Items::tool_router())
            .prompts(&Items::prompt_router())
            .resources(&Items::resources())
            .max_message_bytes(LIMIT)
            .build()
            .unwrap();
        let items = ItemList::default();
        let served = Served::default();
        let (shared, counter) = (items.clone(), served.clone());
        let service = StreamableHttpService::new(
            move || Ok(Items::new(shared.clone(), counter.clone())),
            LocalSessionManager::default().into(),
            StreamableHttpServerConfig::default(),
        );
        let app = auth.router(service);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        McpServer {
            url,
            base,
            issuer,
            items,
            served,
        }
    }

    /// A token for this server, for `alice`, with `scopes`.
    fn token(&self, scopes: &[&str]) -> String {
        self.issuer
            .token()
            .for_global_api(&self.url)
            .subject("alice")
            .scopes(scopes.iter().copied())
            .sign()
    }

    fn metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.base)
    }

    /// An initialized rmcp client session with `token`.
    async fn client(&self, token: &str) -> RunningService<RoleClient, ()> {
        let config =
            StreamableHttpClientTransportConfig::with_uri(self.url.as_str()).auth_header(token);
        let transport = StreamableHttpClientTransport::from_config(config);
        tokio::time::timeout(Duration::from_secs(10), ().serve(transport))
            .await
            .expect("the handshake does not hang")
            .expect("the handshake succeeds")
    }

    fn items(&self) -> Vec<String> {
        self.items.lock().unwrap().clone()
    }

    /// How many times the prompt and the resource ran.
    fn served(&self) -> usize {
        self.served.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A raw POST of `body` to the endpoint, with the headers MCP clients send.
    fn post(&self, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
    }
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Option<Value>,
) -> Result<String, ServiceError> {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Some(Value::Object(arguments)) = arguments {
        params = params.with_arguments(arguments);
    }
    let result = client.call_tool(params).await?;
    let text = result
        .content
        .iter()
        .filter_map(|content| content.as_text().map(|text| text.text.clone()))
        .collect::<Vec<_>>()
        .join("");
    Ok(text)
}

/// The 403 a caller without `scope` gets, as rmcp's client reports it.
fn step_up(server: &McpServer, scope: &str) -> String {
    format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{}\"",
        server.metadata_url()
    )
}

#[tokio::test]
async fn every_tool_runs_for_exactly_the_tokens_with_its_scopes() {
    let server = McpServer::start().await;
    let combinations: [&[&str]; 4] = [
        &[],
        &["api:read"],
        &["api:write"],
        &["api:read", "api:write"],
    ];
    let mut created = Vec::new();
    for (n, scopes) in combinations.into_iter().enumerate() {
        let client = server.client(&server.token(scopes)).await;
        let mut tools: Vec<String> = client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|tool| tool.name.to_string())
            .collect();
        tools.sort();
        assert_eq!(tools, ["create_item", "list_items", "whoami"], "{scopes:?}");
        assert_eq!(
            call(&client, "whoami", None).await.unwrap(),
            "alice",
            "{scopes:?}"
        );

        let name = format!("item-{n}");
        let create = call(&client, "create_item", Some(json!({ "name": name }))).await;
        if scopes.contains(&"api:write") {
            assert_eq!(create.unwrap(), format!("created {name}"));
            created.push(name);
        } else {
            let error = create.expect_err("create_item needs api:write");
            assert_eq!(
                error.auth_challenge(),
                Some(step_up(&server, "api:write").as_str())
            );
        }
        assert_eq!(server.items(), created, "the tool ran only when allowed");

        let list = call(&client, "list_items", None).await;
        if scopes.contains(&"api:read") {
            assert_eq!(list.unwrap(), serde_json::to_string(&created).unwrap());
        } else {
            let error = list.expect_err("list_items needs api:read");
            assert_eq!(
                error.auth_challenge(),
                Some(step_up(&server, "api:read").as_str())
            );
        }
        client.cancel().await.unwrap();
    }
    assert_eq!(server.items(), ["item-2", "item-3"]);
}

#[tokio::test]
async fn the_item_list_is_shared_by_every_session() {
    let server = McpServer::start().await;
    let writer = server.client(&server.token(&["api:write"])).await;
    let reader = server.client(&server.token(&["api:read"])).await;
    call(&writer, "create_item", Some(json!({ "name": "lamp" })))
        .await
        .unwrap();
    assert_eq!(
        call(&reader, "list_items", None).await.unwrap(),
        r#"["lamp"]"#
    );
}

#[tokio::test]
async fn a_request_without_a_token_gets_the_401_challenge() {
    let server = McpServer::start().await;
    let initialize = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}).to_string();
    let response = server.post(initialize).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenges: Vec<_> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .collect();
    assert_eq!(challenges.len(), 1, "one WWW-Authenticate field");
    assert_eq!(
        challenges[0].to_str().unwrap(),
        format!(
            "Bearer resource_metadata=\"{}\", scope=\"api:read api:write\"",
            server.metadata_url()
        )
    );
    // rmcp's client sees the same challenge.
    let transport = StreamableHttpClientTransport::from_uri(server.url.as_str());
    let error = ().serve(transport).await.expect_err("no token, no session");
    assert!(
        format!("{error:?}").contains("resource_metadata"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_an_invalid_token() {
    let server = McpServer::start().await;
    let elsewhere = server
        .issuer
        .token()
        .for_global_api("https://api.example.com")
        .scopes(["api:read", "api:write"])
        .sign();
    let response = server
        .post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#)
        .header("authorization", bearer(&elsewhere))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", "),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}\"", server.metadata_url())),
        "{challenge}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "audience_not_this_resource");
}

#[tokio::test]
async fn a_session_id_is_never_a_credential() {
    let server = McpServer::start().await;
    let token = server.token(&["api:read", "api:write"]);
    let initialize = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let response = server
        .post(initialize.to_string())
        .header("authorization", bearer(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let create = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_item","arguments":{"name":"x"}}}"#;
    let requests = [
        server.post(create).header("mcp-session-id", &session),
        client
            .get(&server.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session),
        client
            .delete(&server.url)
            .header("mcp-session-id", &session),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{:?}", response.url());
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer resource_metadata=")
        );
    }
    assert!(server.items().is_empty());
}

#[tokio::test]
async fn only_the_authorization_header_carries_the_token() {
    let server = McpServer::start().await;
    let token = server.token(&["api:read", "api:write"]);
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    // In the query string: never read.
    let response = reqwest::Client::new()
        .post(format!("{}?access_token={token}", server.url))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(list)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // Twice: refused, as on every front end.
    let response = server
        .post(list)
        .header("authorization", bearer(&token))
        .header("authorization", bearer(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "multiple_authorization_headers");
}

#[tokio::test]
async fn the_metadata_is_served_at_both_locations() {
    let server = McpServer::start().await;
    for url in [
        server.metadata_url(),
        format!("{}/.well-known/oauth-protected-resource", server.base),
    ] {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let metadata: Value = response.json().await.unwrap();
        assert_eq!(
            metadata,
            json!({
                "resource": server.url,
                "authorization_servers": [server.issuer.issuer()],
                "scopes_supported": ["api:read", "api:write"],
                "bearer_methods_supported": ["header"],
            }),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_policy_for_a_tool_the_server_does_not_publish_stops_the_start() {
    let issuer = start_issuer().await;
    let validator = || issuer.validator("http://127.0.0.1:3000/mcp");
    let only_whoami = McpAuth::builder(validator())
        .tool_names(["whoami"])
        .prompts(&Items::prompt_router())
        .resources(&Items::resources())
        .build();
    assert!(
        matches!(&only_whoami, Err(ConfigError::UnpublishedMcpItem { kind: McpKind::Tool, name }) if name == "list_items" || name == "create_item"),
        "{only_whoami:?}"
    );
    let unnamed = McpAuth::builder(validator()).build();
    assert!(
        matches!(unnamed, Err(ConfigError::UnpublishedMcpItem { .. })),
        "{unnamed:?}"
    );
    let all = McpAuth::builder(validator())
        .tools(&Items::tool_router())
        .prompts(&Items::prompt_router())
        .resources(&Items::resources())
        .build()
        .unwrap();
    assert_eq!(
        all.metadata_url(),
        "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"
    );
    let no_audience = Validator::builder()
        .issuer(issuer.issuer())
        .build()
        .unwrap();
    let refused = McpAuth::builder(no_audience)
        .tools(&Items::tool_router())
        .prompts(&Items::prompt_router())
        .resources(&Items::resources())
        .build();
    assert!(
        matches!(refused, Err(ConfigError::McpResource(_))),
        "{refused:?}"
    );
}

#[test]
fn declared_lists_the_tool_prompt_and_resource_policies() {
    let items: Vec<(McpKind, &str, Vec<String>)> = bearer_policy::declared()
        .into_iter()
        .filter_map(|declaration| {
            let scopes = declaration
                .policies()
                .iter()
                .flat_map(|policy| {
                    policy
                        .required_scopes()
                        .iter()
                        .map(|scope| scope.to_string())
                })
                .collect();
            declaration
                .mcp_item()
                .map(|(kind, name)| (kind, name, scopes))
        })
        .collect();
    let scopes = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        items,
        [
            (McpKind::Tool, "create_item", scopes(&["api:write"])),
            (McpKind::Resource, "items://list", scopes(&["api:read"])),
            (McpKind::Tool, "list_items", scopes(&["api:read"])),
            (
                McpKind::Prompt,
                "suggest_name",
                scopes(&["api:read", "api:write"])
            ),
        ]
    );
    let tools: Vec<&str> = bearer_policy::declared()
        .into_iter()
        .filter_map(|declaration| declaration.tool_name())
        .collect();
    assert_eq!(tools, ["create_item", "list_items"]);
    let listed = serde_json::to_value(bearer_policy::declared()).unwrap();
    let listed = listed.as_array().unwrap();
    for (key, name, function) in [
        ("tool", "create_item", "it::mcp::items::create_item"),
        ("prompt", "suggest_name", "it::mcp::items::suggest_name"),
        ("resource", "items://list", "it::mcp::items::item_list"),
    ] {
        assert!(
            listed
                .iter()
                .any(|d| d[key] == name && d["function"] == function),
            "{key} {name}: {listed:?}"
        );
    }
}
