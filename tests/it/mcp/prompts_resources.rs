//! The example's prompt (`suggest_name`: `api:read` and `api:write`) and
//! resource (`items://list`: `api:read`), protected like its tools: served
//! to rmcp's client for exactly the tokens with their scopes, refused with
//! the step-up challenge before rmcp runs them otherwise, through every
//! hostile spelling of item 4, and checked at start-up against what the
//! server publishes. The shared `served` counter proves a refused prompt or
//! resource never ran.

use bearer_policy::mcp::McpAuth;
use bearer_policy::{ConfigError, McpKind};
use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams, ResourceContents};
use rmcp::service::{RoleClient, RunningService};

use super::hostile::send;
use super::items::Items;
use super::{McpServer, step_up};
use crate::common::{bearer, start_issuer};

async fn get_prompt(client: &RunningService<RoleClient, ()>) -> Result<String, rmcp::ServiceError> {
    let result = client
        .get_prompt(GetPromptRequestParams::new("suggest_name"))
        .await?;
    Ok(result
        .messages
        .iter()
        .filter_map(|message| message.content.as_text().map(|text| text.text.clone()))
        .collect())
}

async fn read_list(client: &RunningService<RoleClient, ()>) -> Result<String, rmcp::ServiceError> {
    let result = client
        .read_resource(ReadResourceRequestParams::new("items://list"))
        .await?;
    Ok(result
        .contents
        .iter()
        .filter_map(|contents| match contents {
            ResourceContents::TextResourceContents { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect())
}

#[tokio::test]
async fn the_prompt_and_the_resource_serve_exactly_the_tokens_with_their_scopes() {
    let server = McpServer::start().await;
    server.items.lock().unwrap().push("lamp".to_owned());
    let combinations: [&[&str]; 4] = [
        &[],
        &["api:read"],
        &["api:write"],
        &["api:read", "api:write"],
    ];
    let mut served = 0;
    for scopes in combinations {
        let client = server.client(&server.token(scopes)).await;
        let prompts: Vec<String> = client
            .list_all_prompts()
            .await
            .unwrap()
            .into_iter()
            .map(|prompt| prompt.name)
            .collect();
        assert_eq!(prompts, ["suggest_name"], "{scopes:?}");
        let resources: Vec<String> = client
            .list_all_resources()
            .await
            .unwrap()
            .into_iter()
            .map(|resource| resource.uri)
            .collect();
        assert_eq!(resources, ["items://list"], "{scopes:?}");

        let prompt = get_prompt(&client).await;
        if scopes.contains(&"api:read") && scopes.contains(&"api:write") {
            // The prompt read the caller from the request's AuthInfo.
            assert_eq!(
                prompt.unwrap(),
                r#"Suggest a name for a new item for alice, unlike these: ["lamp"]"#
            );
            served += 1;
        } else {
            let error = prompt.expect_err("suggest_name needs api:read and api:write");
            assert_eq!(
                error.auth_challenge(),
                Some(step_up(&server, "api:read api:write").as_str()),
                "{scopes:?}"
            );
        }
        assert_eq!(server.served(), served, "the prompt ran only when allowed");

        let list = read_list(&client).await;
        if scopes.contains(&"api:read") {
            assert_eq!(list.unwrap(), r#"["lamp"]"#);
            served += 1;
        } else {
            let error = list.expect_err("items://list needs api:read");
            assert_eq!(
                error.auth_challenge(),
                Some(step_up(&server, "api:read").as_str()),
                "{scopes:?}"
            );
        }
        assert_eq!(
            server.served(),
            served,
            "the resource ran only when allowed"
        );
        client.cancel().await.unwrap();
    }
    assert_eq!(served, 3);
}

#[tokio::test]
async fn every_resource_method_is_decided_by_its_uri() {
    let server = McpServer::start().await;
    let write_only = bearer(&server.token(&["api:write"]));
    for method in [
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "resources/directory/read",
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{{"uri":"items://list"}}}}"#
        );
        let (status, code, challenge) =
            send(server.post(body).header("authorization", &write_only)).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "insufficient_scope"),
            "{method}"
        );
        assert_eq!(challenge.unwrap(), step_up(&server, "api:read"), "{method}");
    }
    assert_eq!(server.served(), 0);
}

#[tokio::test]
async fn every_hostile_prompt_or_resource_call_is_refused_and_nothing_runs() {
    let server = McpServer::start().await;
    // Neither the prompt (api:read and api:write) nor the resource (api:read).
    let write_only = bearer(&server.token(&["api:write"]));
    let prompt =
        r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"suggest_name"}}"#;
    let read =
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"items://list"}}"#;
    let uri = |uri: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{{"uri":"{uri}"}}}}"#
        )
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("prompt", server.post(prompt), 403, "insufficient_scope"),
        ("resource", server.post(read), 403, "insufficient_scope"),
        (
            "prompt as a notification",
            server.post(r#"{"jsonrpc":"2.0","method":"prompts/get","params":{"name":"suggest_name"}}"#),
            403,
            "insufficient_scope",
        ),
        (
            "resource as a notification",
            server.post(r#"{"jsonrpc":"2.0","method":"resources/read","params":{"uri":"items://list"}}"#),
            403,
            "insufficient_scope",
        ),
        (
            "completion of the prompt's argument",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"suggest_name"},"argument":{"name":"hint","value":""}}}"#),
            403,
            "insufficient_scope",
        ),
        (
            "escaped prompt name",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"prompts\u002fget","params":{"name":"suggest\u005fname"}}"#),
            403,
            "insufficient_scope",
        ),
        (
            "escaped uri",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"items:\/\/list"}}"#),
            403,
            "insufficient_scope",
        ),
        (
            "duplicate prompt name",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"whoami","name":"suggest_name"}}"#),
            400,
            "duplicate_key",
        ),
        (
            "duplicate uri, escaped",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"items://other","ur\u0069":"items://list"}}"#),
            400,
            "duplicate_key",
        ),
        (
            "method case variant, prompt",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"Prompts/Get","params":{"name":"suggest_name"}}"#),
            400,
            "ambiguous_method",
        ),
        (
            "method case variant, resource",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"resources/READ","params":{"uri":"items://list"}}"#),
            400,
            "ambiguous_method",
        ),
        (
            "uri not a string",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":["items://list"]}}"#),
            400,
            "malformed_call",
        ),
        (
            "a uri in place of a name",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"name":"items://list"}}"#),
            400,
            "malformed_call",
        ),
        (
            "batch",
            server.post(format!("[{read}]")),
            400,
            "batch_not_accepted",
        ),
        (
            "Mcp-Name names another prompt",
            server.post(prompt).header("mcp-name", "whoami"),
            400,
            "mcp_header_mismatch",
        ),
        (
            "Mcp-Name names another resource",
            server.post(read).header("mcp-name", "items://other"),
            400,
            "mcp_header_mismatch",
        ),
        (
            "Mcp-Method disagrees",
            server.post(read).header("mcp-method", "resources/list"),
            400,
            "mcp_header_mismatch",
        ),
        (
            "Mcp-Name agrees: decided",
            server
                .post(read)
                .header("mcp-method", "resources/read")
                .header("mcp-name", "items://list"),
            403,
            "insufficient_scope",
        ),
    ];
    let ambiguous = [
        "ITEMS://LIST",
        "items://List",
        "items://%6Cist",
        "items://list#top",
        "items://list/",
        "items://other/../list",
        "items://list/%2e%2e/list",
        "items://list/./",
    ];
    for (case, request, status, code) in cases {
        let response = send(request.header("authorization", &write_only)).await;
        assert_eq!((response.0, response.1.as_str()), (status, code), "{case}");
    }
    for variant in ambiguous {
        let response = send(
            server
                .post(uri(variant))
                .header("authorization", &write_only),
        )
        .await;
        assert_eq!(
            (response.0, response.1.as_str()),
            (400, "ambiguous_resource_uri"),
            "{variant}"
        );
    }
    assert_eq!(server.served(), 0, "no prompt or resource ran");
}

#[tokio::test]
async fn a_prompt_or_resource_the_server_does_not_publish_stops_the_start() {
    let issuer = start_issuer().await;
    let builder = || {
        McpAuth::builder(issuer.validator("http://127.0.0.1:3000/mcp")).tools(&Items::tool_router())
    };
    let no_prompts = builder().resources(&Items::resources()).build();
    assert!(
        matches!(&no_prompts, Err(ConfigError::UnpublishedMcpItem { kind: McpKind::Prompt, name }) if name == "suggest_name"),
        "{no_prompts:?}"
    );
    let other_prompt = builder()
        .prompt_names(["suggest_names"])
        .resources(&Items::resources())
        .build();
    assert!(
        matches!(
            &other_prompt,
            Err(ConfigError::UnpublishedMcpItem {
                kind: McpKind::Prompt,
                ..
            })
        ),
        "{other_prompt:?}"
    );
    // Resources match by their exact URI: a case variant is another one.
    let other_uri = builder()
        .prompts(&Items::prompt_router())
        .resource_uris(["items://List"])
        .build();
    assert!(
        matches!(&other_uri, Err(ConfigError::UnpublishedMcpItem { kind: McpKind::Resource, name }) if name == "items://list"),
        "{other_uri:?}"
    );
    let message = other_uri.unwrap_err().to_string();
    assert_eq!(
        message,
        "`#[requires]` protects the MCP resource \"items://list\", which the server does not publish"
    );
    let all = builder()
        .prompt_names(["suggest_name"])
        .resource_uris(["items://list"])
        .build()
        .unwrap();
    assert_eq!(all.metadata().scopes_supported, ["api:read", "api:write"]);
}
