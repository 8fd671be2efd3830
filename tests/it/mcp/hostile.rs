//! Every hostile message of the issue's item 4, against the example's
//! server: each is refused with 400, 401, 403 or 413 (never a 5xx), and no
//! tool runs (the shared item list stays empty). The callers hold
//! `api:read` at most: every case tries to reach `create_item`.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{LIMIT, McpServer};
use crate::common::bearer;

/// What the server answered: the status, the JSON body's `code` (if any)
/// and the challenge.
pub(super) async fn send(request: reqwest::RequestBuilder) -> (u16, String, Option<String>) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    (status, code, challenge)
}

/// A raw HTTP/1.1 POST with a chunked body of `size` bytes: the status line's code.
async fn chunked(server: &McpServer, authorization: Option<&str>, size: usize) -> u16 {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\n{authorization}Content-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n"
    );
    // The server may answer and close before the body ends: write errors are expected.
    let _ = stream.write_all(head.as_bytes()).await;
    let chunk = vec![b' '; 4096];
    let mut sent = 0;
    while sent < size {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_request_without_a_valid_token_is_401_whatever_its_body() {
    let server = McpServer::start().await;
    let huge = " ".repeat(LIMIT * 4);
    for (case, request) in [
        ("malformed", server.post("{{{")),
        ("huge", server.post(huge.clone())),
        ("text/plain", server.post("name=create_item").header("content-type", "text/plain")),
        (
            "bad token",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_item","arguments":{"name":"x"}}}"#)
                .header("authorization", "Bearer not.a.token"),
        ),
    ] {
        let (status, _, challenge) = send(request).await;
        assert_eq!(status, 401, "{case}");
        assert!(challenge.unwrap().starts_with("Bearer "), "{case}");
    }
    assert_eq!(chunked(&server, None, LIMIT * 4).await, 401, "chunked");
    assert!(server.items().is_empty());
}

#[tokio::test]
async fn every_ambiguous_message_is_refused_and_no_tool_runs() {
    let server = McpServer::start().await;
    let read_only = bearer(&server.token(&["api:read"]));
    let create = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_item","arguments":{"name":"x"}}}"#;
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items"}}"#;
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "batch",
            server.post(format!("[{create}]")),
            400,
            "batch_not_accepted",
        ),
        (
            "batch of an allowed call",
            server.post(format!("[{list}]")),
            400,
            "batch_not_accepted",
        ),
        (
            "duplicate name",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items","name":"create_item","arguments":{"name":"x"}}}"#),
            400,
            "duplicate_key",
        ),
        (
            "duplicate name, escaped",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items","na\u006de":"create_item","arguments":{"name":"x"}}}"#),
            400,
            "duplicate_key",
        ),
        (
            "duplicate params",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items"},"params":{"name":"create_item","arguments":{"name":"x"}}}"#),
            400,
            "duplicate_key",
        ),
        (
            "duplicate method",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"create_item","arguments":{"name":"x"}}}"#),
            400,
            "duplicate_key",
        ),
        (
            "method in another case",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"create_item","arguments":{"name":"x"}}}"#),
            400,
            "ambiguous_method",
        ),
        (
            "name not a string",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["create_item"]}}"#),
            400,
            "malformed_call",
        ),
        ("not JSON", server.post("tools/call create_item"), 400, "message_not_json"),
        (
            "truncated JSON",
            server.post(&create[..create.len() - 1]),
            400,
            "message_not_json",
        ),
        (
            "Mcp-Name disagrees",
            server.post(list).header("mcp-name", "create_item"),
            400,
            "mcp_header_mismatch",
        ),
        (
            "Mcp-Method disagrees",
            server.post(create).header("mcp-method", "tools/list"),
            400,
            "mcp_header_mismatch",
        ),
        (
            "Mcp-Name twice",
            server
                .post(list)
                .header("mcp-name", "list_items")
                .header("mcp-name", "create_item"),
            400,
            "mcp_header_mismatch",
        ),
        (
            "too large, announced",
            server.post(" ".repeat(LIMIT + 1)),
            413,
            "message_too_large",
        ),
        (
            "a call as a notification",
            server.post(r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"create_item","arguments":{"name":"x"}}}"#),
            403,
            "insufficient_scope",
        ),
        (
            "escaped method and name",
            server.post(r#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"create\u005fitem","arguments":{"name":"x"}}}"#),
            403,
            "insufficient_scope",
        ),
        ("the plain call", server.post(create), 403, "insufficient_scope"),
    ];
    for (case, request, expected, code) in cases {
        let (status, actual_code, challenge) =
            send(request.header("authorization", &read_only)).await;
        assert_eq!((status, actual_code.as_str()), (expected, code), "{case}");
        if status == 403 {
            let challenge = challenge.unwrap();
            assert!(
                challenge.starts_with(
                    "Bearer error=\"insufficient_scope\", scope=\"api:write\", resource_metadata=\""
                ),
                "{case}: {challenge}"
            );
        }
    }
    assert_eq!(
        chunked(&server, Some(&read_only), LIMIT * 4).await,
        413,
        "chunked, too large"
    );
    assert!(
        server.items().is_empty(),
        "no tool ran: {:?}",
        server.items()
    );
}
