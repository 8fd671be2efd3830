//! Smoke tests of the example servers (`examples/server.rs` on warp,
//! `examples/axum_server.rs` on axum, `examples/actix_server.rs` on
//! actix-web): builds them, starts each with its embedded development
//! issuer, and talks to it over HTTP with `reqwest`; every check runs
//! against each.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::common::{API, Response, bearer};

/// How long the server may take to print its listening line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a run that should exit by itself may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

// ===== locating and building the examples =====

/// The example servers, one per front end (`examples/server.rs` on warp,
/// `examples/axum_server.rs` on axum, `examples/actix_server.rs` on actix-web): every test runs against each, and a
/// failure names the example.
const EXAMPLES: [&str; 3] = ["server", "axum_server", "actix_server"];

/// `<target>/<profile dir>` of this test executable
/// (`…/target/debug/deps/it-HASH` → `…/target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the deps directory");
    deps.parent().expect("the profile directory").to_path_buf()
}

/// The directory of the example binaries, all built (or brought up to date)
/// by one cargo run per test run.
///
/// `cargo test --test it example_smoke::` does not build examples, and a binary
/// left over from an earlier build may be stale, so this always asks cargo,
/// which does nothing when the binaries are up to date.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile_dir = profile_dir();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev".to_owned(),
            Some(other) => other.to_owned(),
        };
        let target_dir = profile_dir
            .parent()
            .expect("the target directory")
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let mut build = Command::new(cargo);
        build.arg("build");
        for example in EXAMPLES {
            build.args(["--example", example]);
        }
        let output = build
            .args(["--profile", &profile])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo build of the examples failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        profile_dir.join("examples")
    })
}

/// The example with a clean configuration: no issuer settings from the
/// environment, a free port, little logging.
fn server_command(example: &str) -> Command {
    let binary = examples_dir().join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "no example binary at {}",
        binary.display()
    );
    let mut command = Command::new(binary);
    command
        .env_remove("POLICY_ISSUER")
        .env_remove("POLICY_AUDIENCE")
        .env_remove("POLICY_JWKS_URI")
        .env_remove("RUST_LOG")
        .env("PORT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Kills the child (if still running) and reaps it when dropped, so that a
/// failing assertion never leaves a server behind.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The outcome of a run that exits by itself.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn run_to_completion(mut command: Command) -> Finished {
    let mut child = ChildGuard(command.spawn().expect("the example starts"));
    let stdout = drain(child.0.stdout.take().unwrap());
    let stderr = drain(child.0.stderr.take().unwrap());
    let deadline = Instant::now() + EXIT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the example did not exit within {EXIT_TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(50));
    };
    Finished {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A running example server with the tokens it printed.
struct RunningServer {
    example: &'static str,
    _child: ChildGuard,
    addr: SocketAddr,
    /// The tokens of the printed `Authorization: Bearer <token>` lines, in order.
    tokens: Vec<String>,
    /// The printed DPoP line's bound token and one-time proof.
    dpop: Option<(String, String)>,
    client: reqwest::blocking::Client,
}

fn start_server(example: &'static str) -> RunningServer {
    start_server_with(example, &[])
}

/// [`start_server`] with these environment variables set.
fn start_server_with(example: &'static str, env: &[(&str, String)]) -> RunningServer {
    let mut command = server_command(example);
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = ChildGuard(command.spawn().expect("the example starts"));
    let stdout = child.0.stdout.take().unwrap();
    // Keep stderr drained so that the server never blocks on a full pipe.
    let _stderr = drain(child.0.stderr.take().unwrap());
    let (lines_tx, lines) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut tokens = Vec::new();
    let mut dpop = None;
    let mut seen = Vec::new();
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(e) => panic!(
                "{example}: no listening line within {STARTUP_TIMEOUT:?} ({e}); stdout so far:\n{}",
                seen.join("\n")
            ),
        };
        if let Some(rest) = line.split("Authorization: DPoP ").nth(1) {
            let token: String = rest.chars().take_while(|&c| c != '\'').collect();
            let proof = line.split("DPoP: ").nth(1).unwrap_or_default();
            let proof: String = proof.chars().take_while(|&c| c != '\'').collect();
            dpop = Some((token, proof));
        }
        if let Some(rest) = line.split("Authorization: Bearer ").nth(1) {
            let token: String = rest.chars().take_while(|&c| c != '\'').collect();
            tokens.push(token);
        }
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            break addr.parse::<SocketAddr>().expect("a socket address");
        }
        seen.push(line);
    };
    // Keep reading (and discarding) the rest of stdout.
    thread::spawn(move || while lines.recv().is_ok() {});
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    RunningServer {
        example,
        _child: child,
        addr,
        tokens,
        dpop,
        client,
    }
}

// ===== requests =====

impl RunningServer {
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request_with_body(method, path, headers, b"")
    }

    /// One request, read whole and labelled with the example; a body (so a
    /// `Content-Length`) on every method but GET.
    fn request_with_body(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let method: Method = method.parse().unwrap();
        let url = format!("http://{}{path}", self.addr);
        let mut request = self.client.request(method.clone(), url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if method != Method::GET {
            request = request.body(body.to_vec());
        }
        Response::read_blocking(self.example, request.send().unwrap())
    }

    /// The printed token at `index`.
    fn token(&self, index: usize) -> &str {
        self.tokens.get(index).unwrap_or_else(|| {
            panic!(
                "{}: expected the ready-to-paste tokens, got {:?}",
                self.example, self.tokens
            )
        })
    }
}

// ===== tests =====

/// The order of the printed `Authorization: Bearer` lines: global (GET),
/// global (POST), organization (invite), organization resource (data),
/// organization (billing), then the denied examples: a bad token, a token
/// without scopes, …
const GLOBAL: usize = 0;
const ORG: usize = 2;
const ORG_RESOURCE: usize = 3;
const BILLING: usize = 4;
const NO_SCOPE: usize = 6;
/// The opaque token, printed last.
const OPAQUE: usize = 9;

#[test]
fn example_servers_allow_a_printed_token_and_deny_a_request_without_one() {
    for example in EXAMPLES {
        let server = start_server(example);
        assert!(
            server.tokens.len() >= 7,
            "{example}: expected the ready-to-paste tokens, got {:?}",
            server.tokens
        );

        let health = server.request("GET", "/health", &[]);
        assert_eq!(health.status, 200, "{health:?}");
        assert_eq!(health.json(), json!({ "status": "ok" }), "{health:?}");

        let authorization = bearer(server.token(GLOBAL));
        let allowed = server.request(
            "GET",
            "/api/protected",
            &[("Authorization", &authorization)],
        );
        assert_eq!(allowed.status, 200, "{allowed:?}");
        let auth = &allowed.json()["auth"];
        assert_eq!(
            auth["scopes"],
            json!(["api:read", "api:write"]),
            "{allowed:?}"
        );
        assert_eq!(
            auth["audience"],
            json!(["https://api.example.com"]),
            "{allowed:?}"
        );
        assert_eq!(auth["organizationId"], Value::Null, "{allowed:?}");

        let denied = server.request("GET", "/api/protected", &[]);
        assert_eq!(denied.status, 401, "{denied:?}");
        // RFC 9728 §5.1: the challenge names the metadata the server serves.
        let metadata_url = format!(
            "http://{}/.well-known/oauth-protected-resource",
            server.addr
        );
        // DPoP is offered too (POLICY_DPOP defaults to `allowed`): its
        // challenge follows the Bearer one.
        let challenge = denied.header(WWW_AUTHENTICATE).unwrap_or_default();
        assert!(
            challenge.starts_with(&format!(
                "Bearer resource_metadata=\"{metadata_url}\", DPoP algs=\""
            )),
            "{denied:?}"
        );
        assert_eq!(denied.json()["code"], "missing_authorization", "{denied:?}");
    }
}

#[test]
fn example_servers_printed_tokens_work_on_their_organization_routes() {
    for example in EXAMPLES {
        let server = start_server(example);
        let org_resource = bearer(server.token(ORG_RESOURCE));
        let org = bearer(server.token(ORG));
        let billing = bearer(server.token(BILLING));

        let data = server.request(
            "GET",
            "/orgs/acme/data",
            &[("Authorization", &org_resource)],
        );
        assert_eq!(data.status, 200, "{data:?}");
        assert_eq!(data.json()["auth"]["organizationId"], "acme", "{data:?}");

        let other_org = server.request(
            "GET",
            "/orgs/other-org/data",
            &[("Authorization", &org_resource)],
        );
        assert_eq!(other_org.status, 403, "{other_org:?}");

        let invite = server.request(
            "POST",
            "/orgs/acme/members/invite",
            &[("Authorization", &org)],
        );
        assert_eq!(invite.status, 200, "{invite:?}");

        let billing_ok = server.request(
            "GET",
            "/billing",
            &[("Authorization", &billing), ("X-Organization-Id", "acme")],
        );
        assert_eq!(billing_ok.status, 200, "{billing_ok:?}");
        let billing_other = server.request(
            "GET",
            "/billing",
            &[
                ("Authorization", &billing),
                ("X-Organization-Id", "other-org"),
            ],
        );
        assert_eq!(billing_other.status, 403, "{billing_other:?}");
        assert_eq!(
            billing_other.json()["code"],
            "organization_mismatch",
            "{billing_other:?}"
        );

        let org_token_on_global =
            server.request("GET", "/api/protected", &[("Authorization", &org_resource)]);
        assert_eq!(org_token_on_global.status, 403, "{org_token_on_global:?}");

        let metadata = server.request("GET", "/.well-known/oauth-protected-resource", &[]);
        assert_eq!(metadata.status, 200, "{metadata:?}");
        assert_eq!(
            metadata.json()["resource"],
            "https://api.example.com",
            "{metadata:?}"
        );
        // The macro-free `/billing` route's scope too, beside the declared ones.
        assert_eq!(
            metadata.json()["scopes_supported"],
            json!(["api:read", "api:write", "invite:member", "manage:billing"]),
            "{metadata:?}"
        );
    }
}

#[test]
fn example_servers_decide_before_the_body_and_accept_only_a_json_object_of_64_kib() {
    let invalid_body = json!({
        "error": "The request body must be a JSON object of at most 64 KiB",
        "code": "invalid_body",
    });
    // A JSON object of exactly 64 KiB, and one byte more.
    let mut at_limit = br#"{"name":"lamp"}"#.to_vec();
    at_limit.resize(64 * 1024, b' ');
    let mut over_limit = at_limit.clone();
    over_limit.push(b' ');
    for example in EXAMPLES {
        let server = start_server(example);
        let global = bearer(server.token(GLOBAL));
        let no_scope = bearer(server.token(NO_SCOPE));
        let post = |authorization: Option<&str>, body: &[u8]| {
            let headers: Vec<(&str, &str)> = authorization
                .map(|a| ("Authorization", a))
                .into_iter()
                .collect();
            server.request_with_body("POST", "/api/products", &headers, body)
        };

        // Authorized before the body is read: a bad body does not matter yet.
        let anonymous = post(None, b"[1]");
        assert_eq!(anonymous.status, 401, "{anonymous:?}");
        let without_scope = post(Some(&no_scope), b"[1]");
        assert_eq!(without_scope.status, 403, "{without_scope:?}");
        assert_eq!(
            without_scope.json()["code"],
            "insufficient_scope",
            "{without_scope:?}"
        );

        for (what, body) in [
            ("an array", &b"[1]"[..]),
            ("not JSON", b"{not json"),
            ("over 64 KiB", &over_limit),
        ] {
            let response = post(Some(&global), body);
            assert_eq!(response.status, 400, "{what}: {response:?}");
            assert_eq!(response.json(), invalid_body, "{what}: {response:?}");
        }
        for (what, body, product) in [
            (
                "an object",
                &br#"{"name":"lamp"}"#[..],
                json!({ "name": "lamp" }),
            ),
            ("an object of 64 KiB", &at_limit, json!({ "name": "lamp" })),
            ("no body", b"", json!({})),
        ] {
            let response = post(Some(&global), body);
            assert_eq!(response.status, 200, "{what}: {response:?}");
            assert_eq!(response.json()["product"], product, "{what}: {response:?}");
        }
    }
}

#[test]
fn example_servers_answer_404_for_an_unknown_path_and_405_for_a_wrong_method() {
    for example in EXAMPLES {
        let server = start_server(example);
        for method in ["GET", "POST"] {
            let response = server.request(method, "/no/such/route", &[]);
            assert_eq!(response.status, 404, "{method} {response:?}");
        }
        // The method is decided before the token: no token, still 405.
        for (method, path) in [
            ("GET", "/api/products"),
            ("POST", "/api/protected"),
            ("DELETE", "/billing"),
        ] {
            let response = server.request(method, path, &[]);
            assert_eq!(response.status, 405, "{method} {path}: {response:?}");
        }
    }
}

#[test]
fn print_policies_lists_every_protected_handler_as_json_and_exits_0() {
    for example in EXAMPLES {
        let mut command = server_command(example);
        command.arg("--print-policies");
        let finished = run_to_completion(command);
        assert!(
            finished.status.success(),
            "{example}: {:?}\nstderr: {}",
            finished.status,
            finished.stderr
        );
        let inventory: Value = serde_json::from_str(&finished.stdout)
            .unwrap_or_else(|e| panic!("{example}: not JSON ({e}): {}", finished.stdout));
        let entries = inventory.as_array().expect("a JSON array");
        let functions: Vec<&str> = entries
            .iter()
            .map(|d| d["function"].as_str().expect("a function name"))
            .collect();
        // The same handlers in both, each under its example's crate name.
        let handler = |name: &str| format!("{example}::{name}");
        let mut expected: Vec<String> = [
            "create_product",
            "invite_member",
            "org_data",
            "ping",
            "protected",
        ]
        .map(handler)
        .to_vec();
        expected.push("GET /billing (macro-free)".to_owned());
        assert_eq!(functions, expected, "{example}");
        let protected = entries
            .iter()
            .find(|d| d["function"] == handler("protected"))
            .unwrap();
        assert_eq!(protected["policies"][0]["model"], "global_api", "{example}");
        assert_eq!(
            protected["policies"][0]["scopes"],
            json!(["api:read"]),
            "{example}"
        );
    }
}

/// `--print-policies` of `example`: its declarations, as JSON.
fn print_policies(example: &str) -> Vec<Value> {
    let mut command = server_command(example);
    command.arg("--print-policies");
    let finished = run_to_completion(command);
    assert!(finished.status.success(), "{example}: {}", finished.stderr);
    let inventory: Value = serde_json::from_str(&finished.stdout).unwrap();
    inventory.as_array().expect("a JSON array").clone()
}

#[test]
fn example_servers_serve_every_route_and_its_declared_scopes_as_public_openapi_3_1() {
    let routes = [
        ("GET", "/.well-known/oauth-protected-resource"),
        ("GET", "/api/ping"),
        ("GET", "/api/protected"),
        ("GET", "/billing"),
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/orgs/{org_id}/data"),
        ("GET", "/ready"),
        ("POST", "/api/products"),
        ("POST", "/orgs/{org_id}/members/invite"),
    ];
    for example in EXAMPLES {
        let declarations = print_policies(example);
        let server = start_server(example);
        // No token: the document is public.
        let response = server.request("GET", "/openapi.json", &[]);
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(
            response.header(CONTENT_TYPE),
            Some("application/json"),
            "{response:?}"
        );
        let text = String::from_utf8(response.body.clone()).unwrap();
        let spec = oas3::from_json(&text).unwrap_or_else(|e| panic!("{example}: {e}\n{text}"));
        let version = spec.validate_version().unwrap();
        assert_eq!((version.major, version.minor), (3, 1), "{example}");

        let mut served: Vec<(String, String)> = spec
            .operations()
            .map(|(path, method, _)| (method.to_string(), path))
            .collect();
        served.sort();
        let expected: Vec<(String, String)> = routes
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string()))
            .collect();
        assert_eq!(served, expected, "{example}");

        let operation = |id: &str| {
            spec.operations()
                .map(|(_, _, operation)| operation)
                .find(|operation| operation.operation_id.as_deref() == Some(id))
                .unwrap_or_else(|| panic!("{example}: no operation `{id}`\n{text}"))
        };
        // Every declaration, `#[requires]` or macro-free, on its operation:
        // each requirement object (OpenAPI's "or") holds the scopes it checks.
        for declaration in &declarations {
            let function = declaration["function"].as_str().unwrap();
            let id = match function.strip_prefix(&format!("{example}::")) {
                Some(name) => name,
                None if function.starts_with("GET /billing") => "billing",
                None => panic!("{example}: unexpected declaration {function}"),
            };
            let requirements: Vec<Vec<&str>> = operation(id)
                .security
                .iter()
                .map(|r| r.0.values().flatten().map(String::as_str).collect())
                .collect();
            assert!(!requirements.is_empty(), "{example} {id}: no requirement");
            for policy in declaration["policies"].as_array().unwrap() {
                let scopes = |key: &str| -> Vec<&str> {
                    policy[key]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap())
                        .collect()
                };
                let (all, any) = (scopes("scopes"), scopes("anyScopes"));
                assert!(!all.is_empty() || !any.is_empty(), "{example} {id}");
                for requirement in &requirements {
                    assert!(
                        all.iter().all(|s| requirement.contains(s))
                            && (any.is_empty() || any.iter().any(|s| requirement.contains(s))),
                        "{example} {id}: {requirement:?} does not cover {policy}"
                    );
                }
            }
        }
        // The public routes stay public: no requirement, none global.
        for id in [
            "health",
            "metrics",
            "openapi",
            "protected_resource_metadata",
            "ready",
        ] {
            assert!(operation(id).security.is_empty(), "{example} {id}");
        }
        assert!(spec.security.is_empty(), "{example}");
        // The development issuer publishes its endpoints: an OAuth 2.0 scheme.
        let document: Value = serde_json::from_str(&text).unwrap();
        let oauth2 = &document["components"]["securitySchemes"]["oauth2"];
        assert_eq!(oauth2["type"], "oauth2", "{example}: {oauth2}");
        let flow = &oauth2["flows"]["authorizationCode"];
        assert!(
            flow["tokenUrl"].as_str().unwrap().ends_with("/token"),
            "{example}: {oauth2}"
        );
        assert_eq!(
            flow["scopes"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["api:read", "api:write"],
            "{example}: {oauth2}"
        );
    }
}

#[test]
fn example_servers_serve_their_decisions_as_prometheus_text_and_their_readiness() {
    for example in EXAMPLES {
        let server = start_server(example);
        let ready = server.request("GET", "/ready", &[]);
        assert_eq!(ready.status, 200, "{ready:?}");
        let report = ready.json();
        assert_eq!(report["ready"], true, "{ready:?}");
        let issuers = report["issuers"].as_array().unwrap();
        assert_eq!(issuers.len(), 1, "{ready:?}");
        assert_eq!(issuers[0]["ready"], true, "{ready:?}");
        assert!(issuers[0]["keys"].as_u64().unwrap() >= 1, "{ready:?}");
        assert!(
            issuers[0]["issuer"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );

        let authorization = bearer(server.token(GLOBAL));
        for _ in 0..2 {
            let allowed = server.request(
                "GET",
                "/api/protected",
                &[("Authorization", &authorization)],
            );
            assert_eq!(allowed.status, 200, "{allowed:?}");
        }
        let denied = server.request("GET", "/api/protected", &[]);
        assert_eq!(denied.status, 401, "{denied:?}");

        // Public, on the server's own port.
        let metrics = server.request("GET", "/metrics", &[]);
        assert_eq!(metrics.status, 200, "{metrics:?}");
        assert_eq!(
            metrics.header(CONTENT_TYPE),
            Some("text/plain; version=0.0.4"),
            "{metrics:?}"
        );
        let text = metrics.text();
        let policy = format!("{example}::protected");
        for line in [
            format!(
                "bearer_policy_decisions_total{{outcome=\"allowed\",code=\"ok\",policy=\"{policy}\"}} 2"
            ),
            format!(
                "bearer_policy_decisions_total{{outcome=\"refused\",code=\"missing_authorization\",policy=\"{policy}\"}} 1"
            ),
            "bearer_policy_token_cache_lookups_total{result=\"hit\"} 1".to_owned(),
            "# TYPE bearer_policy_decisions_total counter".to_owned(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{example}: no `{line}` in\n{text}"
            );
        }
        assert!(
            text.contains("bearer_policy_key_fetches_total{issuer=\"http://127.0.0.1:"),
            "{example}:\n{text}"
        );
        // The printed token never reaches a label.
        assert!(!text.contains(server.token(GLOBAL)), "{example}");
    }
}

#[test]
fn a_bad_configuration_exits_2_with_a_message() {
    for example in EXAMPLES {
        for (setting, value, message) in [
            (
                "POLICY_ISSUER",
                "http://127.0.0.1:1/oidc",
                "POLICY_AUDIENCE must be set",
            ),
            ("PORT", "http", "PORT must be a port number"),
            ("POLICY_DPOP", "sometimes", "POLICY_DPOP"),
            (
                "POLICY_DPOP_REPLAY",
                "memcached://127.0.0.1:1",
                "POLICY_DPOP_REPLAY",
            ),
            ("POLICY_PUBLIC_URL", "not a url", "public URL"),
        ] {
            let mut command = server_command(example);
            command.env(setting, value);
            let finished = run_to_completion(command);
            assert_eq!(
                finished.status.code(),
                Some(2),
                "{example} with {setting}={value}: stdout: {}",
                finished.stdout
            );
            assert!(
                finished.stderr.contains(message),
                "{example} with {setting}={value}: stderr: {:?}",
                finished.stderr
            );
            assert!(
                !finished.stdout.contains("listening on"),
                "{example} with {setting}={value}: stdout: {:?}",
                finished.stdout
            );
        }
    }
}

#[test]
fn example_servers_trust_a_comma_separated_issuer_list_and_serve_while_one_is_down() {
    use bearer_policy::testing::TestIssuer;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (up, down, stranger) = runtime.block_on(async {
        let issuers = (
            TestIssuer::start().await,
            TestIssuer::start().await,
            TestIssuer::start().await,
        );
        issuers.1.stop().await;
        issuers
    });
    let token = |issuer: &TestIssuer| {
        bearer(
            &issuer
                .token()
                .for_global_api(API)
                .scopes(["api:read"])
                .sign(),
        )
    };
    let list = format!(" {} ,{}", up.issuer(), down.issuer());
    for example in EXAMPLES {
        let server = start_server_with(
            example,
            &[
                ("POLICY_ISSUER", list.clone()),
                ("POLICY_AUDIENCE", API.into()),
            ],
        );
        let get = |issuer: &TestIssuer| {
            server.request(
                "GET",
                "/api/protected",
                &[("Authorization", &token(issuer))],
            )
        };
        let allowed = get(&up);
        assert_eq!(allowed.status, 200, "{allowed:?}");
        let unavailable = get(&down);
        assert_eq!(unavailable.status, 503, "{unavailable:?}");
        assert!(unavailable.header(RETRY_AFTER).is_some(), "{unavailable:?}");
        let refused = get(&stranger);
        assert_eq!(refused.status, 401, "{refused:?}");
        assert_eq!(refused.json()["code"], "wrong_issuer", "{refused:?}");
        // Serving, but not ready: one issuer has no keys.
        let ready = server.request("GET", "/ready", &[]);
        assert_eq!(ready.status, 503, "{ready:?}");
        let report = ready.json();
        assert_eq!(report["ready"], false, "{ready:?}");
        let by_issuer: Vec<(&str, bool)> = report["issuers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["issuer"].as_str().unwrap(), i["ready"].as_bool().unwrap()))
            .collect();
        assert_eq!(
            by_issuer,
            [
                (up.issuer().as_str(), true),
                (down.issuer().as_str(), false)
            ],
            "{ready:?}"
        );
        assert!(report["issuers"][1]["last_error"].is_string(), "{ready:?}");
    }

    // No issuer at all ready: exit 2, naming each.
    runtime.block_on(up.stop());
    for example in EXAMPLES {
        let mut command = server_command(example);
        command
            .env("POLICY_ISSUER", &list)
            .env("POLICY_AUDIENCE", API);
        let finished = run_to_completion(command);
        assert_eq!(
            finished.status.code(),
            Some(2),
            "{example}: {}",
            finished.stderr
        );
        assert!(
            finished.stderr.contains("cannot use any issuer")
                && finished.stderr.contains(&up.issuer())
                && finished.stderr.contains(&down.issuer()),
            "{example}: {}",
            finished.stderr
        );
    }
}

/// The printed DPoP line, sent as printed and then once more.
fn send_printed_dpop(server: &RunningServer) -> (Response, Response) {
    let (token, proof) = server
        .dpop
        .clone()
        .unwrap_or_else(|| panic!("{}: no DPoP line printed", server.example));
    let authorization = format!("DPoP {token}");
    let headers = [
        ("Authorization", authorization.as_str()),
        ("DPoP", proof.as_str()),
    ];
    let first = server.request("GET", "/api/protected", &headers);
    let again = server.request("GET", "/api/protected", &headers);
    (first, again)
}

#[test]
fn example_servers_take_the_dpop_variables_and_their_printed_dpop_line_works_once() {
    for example in EXAMPLES {
        let server = start_server(example);
        let (first, again) = send_printed_dpop(&server);
        assert_eq!(first.status, 200, "{first:?}");
        assert_eq!(again.json()["code"], "dpop_proof_replayed", "{again:?}");

        let required = start_server_with(example, &[("POLICY_DPOP", "required".into())]);
        let bearer_token = bearer(required.token(GLOBAL));
        let refused =
            required.request("GET", "/api/protected", &[("Authorization", &bearer_token)]);
        assert_eq!(refused.json()["code"], "dpop_required", "{refused:?}");
        assert!(
            refused
                .header(WWW_AUTHENTICATE)
                .unwrap_or_default()
                .starts_with("DPoP algs="),
            "{refused:?}"
        );
        assert_eq!(send_printed_dpop(&required).0.status, 200);

        let behind_proxy = start_server_with(
            example,
            &[("POLICY_PUBLIC_URL", "https://public.example/v1".into())],
        );
        assert_eq!(send_printed_dpop(&behind_proxy).0.status, 200);

        let disabled = start_server_with(example, &[("POLICY_DPOP", "disabled".into())]);
        let (refused, _) = send_printed_dpop(&disabled);
        assert_eq!(refused.json()["code"], "unsupported_scheme", "{refused:?}");
    }
}

#[test]
fn example_servers_introspect_the_printed_opaque_token() {
    for example in EXAMPLES {
        let server = start_server(example);
        assert_eq!(server.tokens.len(), OPAQUE + 1, "{:?}", server.tokens);
        assert!(!server.token(OPAQUE).contains('.'), "{:?}", server.tokens);
        let authorization = bearer(server.token(OPAQUE));
        let allowed = server.request(
            "GET",
            "/api/protected",
            &[("Authorization", &authorization)],
        );
        assert_eq!(allowed.status, 200, "{allowed:?}");
        assert_eq!(
            allowed.json()["auth"]["scopes"],
            json!(["api:read"]),
            "{allowed:?}"
        );
    }
}

#[test]
fn example_servers_share_a_replay_store_in_redis_and_refuse_when_it_is_down() {
    let redis = crate::dpop::redis::RedisServer::start();
    for example in EXAMPLES {
        let server = start_server_with(example, &[("POLICY_DPOP_REPLAY", redis.url())]);
        let (first, again) = send_printed_dpop(&server);
        assert_eq!(first.status, 200, "{first:?}");
        assert_eq!(again.json()["code"], "dpop_proof_replayed", "{again:?}");
    }
    // Redis down: a server still starts, and refuses DPoP with 503.
    let url = redis.url();
    drop(redis);
    let server = start_server_with(EXAMPLES[0], &[("POLICY_DPOP_REPLAY", url)]);
    let (down, _) = send_printed_dpop(&server);
    assert_eq!(down.status, 503, "{down:?}");
    assert_eq!(down.json()["code"], "dpop_replay_unavailable", "{down:?}");
}

#[test]
fn example_servers_take_the_introspection_variables() {
    use bearer_policy::testing::TestIssuer;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let issuer = runtime.block_on(TestIssuer::start());
    for example in EXAMPLES {
        let token = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .opaque();
        let server = start_server_with(
            example,
            &[
                ("POLICY_ISSUER", issuer.issuer()),
                ("POLICY_AUDIENCE", API.into()),
                (
                    "POLICY_INTROSPECTION_CLIENT_ID",
                    TestIssuer::INTROSPECTION_CLIENT_ID.into(),
                ),
                (
                    "POLICY_INTROSPECTION_CLIENT_SECRET",
                    TestIssuer::INTROSPECTION_CLIENT_SECRET.into(),
                ),
                ("POLICY_INTROSPECTION_TTL", "1".into()),
            ],
        );
        let get = || {
            server.request(
                "GET",
                "/api/protected",
                &[("Authorization", &bearer(&token))],
            )
        };
        let allowed = get();
        assert_eq!(allowed.status, 200, "{example}: {allowed:?}");
        issuer.revoke(&token);
        assert_eq!(get().status, 200, "{example}: cached for the TTL");
        thread::sleep(Duration::from_millis(1200));
        let refused = get();
        assert_eq!(refused.status, 401, "{example}: {refused:?}");
        assert_eq!(refused.json()["code"], "token_inactive", "{refused:?}");
    }
    // A secret without its id, or a TTL that is not a number: exit 2.
    for example in EXAMPLES {
        for (setting, value, message) in [
            (
                "POLICY_INTROSPECTION_CLIENT_SECRET",
                "s",
                "POLICY_INTROSPECTION_CLIENT_ID and POLICY_INTROSPECTION_CLIENT_SECRET",
            ),
            (
                "POLICY_INTROSPECTION_TTL",
                "soon",
                "POLICY_INTROSPECTION_TTL must be",
            ),
        ] {
            let mut command = server_command(example);
            command
                .env("POLICY_ISSUER", issuer.issuer())
                .env("POLICY_AUDIENCE", API)
                .env(setting, value);
            let finished = run_to_completion(command);
            assert_eq!(
                finished.status.code(),
                Some(2),
                "{example}: {}",
                finished.stderr
            );
            assert!(
                finished.stderr.contains(message),
                "{example}: {}",
                finished.stderr
            );
        }
    }
}
