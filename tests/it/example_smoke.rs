//! Smoke tests of the example server (`examples/server.rs`): builds it, starts
//! it with its embedded development issuer, and talks to it over HTTP.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long the server may take to print its listening line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a run that should exit by itself may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

// ===== locating and building the example =====

/// `<target>/<profile dir>` of this test executable
/// (`…/target/debug/deps/it-HASH` → `…/target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the deps directory");
    deps.parent().expect("the profile directory").to_path_buf()
}

/// The example binary, built (or brought up to date) once per test run.
///
/// `cargo test --test it example_smoke::` does not build examples, and a binary
/// left over from an earlier build may be stale, so this always asks cargo,
/// which does nothing when the binary is up to date.
fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let profile_dir = profile_dir();
        let binary = profile_dir
            .join("examples")
            .join(format!("server{}", std::env::consts::EXE_SUFFIX));
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
        let output = Command::new(cargo)
            .args(["build", "--example", "server", "--profile", &profile])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo build --example server failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            binary.is_file(),
            "no example binary at {}",
            binary.display()
        );
        binary
    })
}

/// The example with a clean configuration: no issuer settings from the
/// environment, a free port, little logging.
fn server_command() -> Command {
    let mut command = Command::new(server_binary());
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
    _child: ChildGuard,
    addr: SocketAddr,
    /// The tokens of the printed `Authorization: Bearer <token>` lines, in order.
    tokens: Vec<String>,
}

fn start_server() -> RunningServer {
    let mut child = ChildGuard(server_command().spawn().expect("the example starts"));
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
    let mut seen = Vec::new();
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(e) => panic!(
                "no listening line within {STARTUP_TIMEOUT:?} ({e}); stdout so far:\n{}",
                seen.join("\n")
            ),
        };
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
    RunningServer {
        _child: child,
        addr,
        tokens,
    }
}

// ===== a minimal HTTP/1.1 client =====

struct Response {
    status: u16,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_line = std::str::from_utf8(&raw[..end]).unwrap();
        let size_text = size_line.split(';').next().unwrap().trim();
        let size = usize::from_str_radix(size_text, 16).unwrap();
        raw = &raw[end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

// ===== tests =====

#[test]
fn example_server_allows_a_printed_token_and_denies_a_request_without_one() {
    let server = start_server();
    assert!(
        server.tokens.len() >= 5,
        "expected the ready-to-paste tokens, got {:?}",
        server.tokens
    );

    let health = request(server.addr, "GET", "/health", &[]);
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(health.json(), json!({ "status": "ok" }));

    let authorization = format!("Bearer {}", server.tokens[0]);
    let allowed = request(
        server.addr,
        "GET",
        "/api/protected",
        &[("Authorization", &authorization)],
    );
    assert_eq!(allowed.status, 200, "{allowed:?}");
    let auth = &allowed.json()["auth"];
    assert_eq!(auth["scopes"], json!(["api:read", "api:write"]));
    assert_eq!(auth["audience"], json!(["https://api.example.com"]));
    assert_eq!(auth["organizationId"], Value::Null);

    let denied = request(server.addr, "GET", "/api/protected", &[]);
    assert_eq!(denied.status, 401, "{denied:?}");
    assert_eq!(denied.header("www-authenticate"), Some("Bearer"));
    assert_eq!(denied.json()["code"], "missing_authorization");
}

#[test]
fn example_server_printed_tokens_work_on_their_organization_routes() {
    let server = start_server();
    // Printed in this order: global, global (POST), organization (invite),
    // organization resource (data), organization (billing).
    let [global, _, org, org_resource, billing, ..] = &server.tokens[..] else {
        panic!(
            "expected the ready-to-paste tokens, got {:?}",
            server.tokens
        );
    };
    let bearer = |t: &str| format!("Bearer {t}");

    let data = request(
        server.addr,
        "GET",
        "/orgs/acme/data",
        &[("Authorization", &bearer(org_resource))],
    );
    assert_eq!(data.status, 200, "{data:?}");
    assert_eq!(data.json()["auth"]["organizationId"], "acme");

    let other_org = request(
        server.addr,
        "GET",
        "/orgs/other-org/data",
        &[("Authorization", &bearer(org_resource))],
    );
    assert_eq!(other_org.status, 403, "{other_org:?}");

    let invite = request(
        server.addr,
        "POST",
        "/orgs/acme/members/invite",
        &[("Authorization", &bearer(org))],
    );
    assert_eq!(invite.status, 200, "{invite:?}");

    let billing_ok = request(
        server.addr,
        "GET",
        "/billing",
        &[
            ("Authorization", &bearer(billing)),
            ("X-Organization-Id", "acme"),
        ],
    );
    assert_eq!(billing_ok.status, 200, "{billing_ok:?}");

    let org_token_on_global = request(
        server.addr,
        "GET",
        "/api/protected",
        &[("Authorization", &bearer(org_resource))],
    );
    assert_eq!(org_token_on_global.status, 403, "{org_token_on_global:?}");

    let metadata = request(
        server.addr,
        "GET",
        "/.well-known/oauth-protected-resource",
        &[],
    );
    assert_eq!(metadata.status, 200, "{metadata:?}");
    assert_eq!(metadata.json()["resource"], "https://api.example.com");
    assert!(global.len() > 20);
}

#[test]
fn example_server_answers_404_for_an_unknown_path() {
    let server = start_server();
    for method in ["GET", "POST"] {
        let response = request(server.addr, method, "/no/such/route", &[]);
        assert_eq!(response.status, 404, "{method} {response:?}");
    }
}

#[test]
fn print_policies_lists_every_protected_handler_as_json_and_exits_0() {
    let mut command = server_command();
    command.arg("--print-policies");
    let finished = run_to_completion(command);
    assert!(
        finished.status.success(),
        "{:?}\nstderr: {}",
        finished.status,
        finished.stderr
    );
    let inventory: Value = serde_json::from_str(&finished.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", finished.stdout));
    let functions: Vec<&str> = inventory
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|d| d["function"].as_str().expect("a function name"))
        .collect();
    for expected in [
        "server::protected",
        "server::create_product",
        "server::invite_member",
        "server::org_data",
        "GET /billing (macro-free)",
    ] {
        assert!(
            functions.contains(&expected),
            "{expected} missing from {functions:?}"
        );
    }
    let protected = inventory
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["function"] == "server::protected")
        .unwrap();
    assert_eq!(protected["policies"][0]["model"], "global_api");
    assert_eq!(protected["policies"][0]["scopes"], json!(["api:read"]));
}

#[test]
fn external_issuer_without_an_audience_exits_non_zero_with_a_message() {
    let mut command = server_command();
    command.env("POLICY_ISSUER", "http://127.0.0.1:1/oidc");
    let finished = run_to_completion(command);
    assert!(
        !finished.status.success(),
        "expected a failure, got {:?}; stdout: {}",
        finished.status,
        finished.stdout
    );
    assert!(
        finished.stderr.contains("POLICY_AUDIENCE"),
        "stderr: {:?}",
        finished.stderr
    );
    assert!(
        !finished.stdout.contains("listening on"),
        "stdout: {:?}",
        finished.stdout
    );
}
