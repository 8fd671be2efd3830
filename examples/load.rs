//! Load test of the release example server over loopback HTTP, with wrk.
//!
//! Starts a `TestIssuer`, launches `target/release/examples/server` (building
//! it if missing) against it through discovery, mints tokens, and runs:
//! (a) `GET /health`, `GET /api/ping` (the same answer, behind the same
//! policy as `/api/protected`) and `GET /api/protected` with one valid token,
//! and `/api/protected` with a bad signature, one at a time; (b) valid traffic
//! while an attacker floods the same route with tokens naming random `kid`s,
//! both at once; (c) the same valid token against each example server (warp,
//! axum and actix-web) and the peer (axum 0.7 + jwt-authorizer,
//! `peer-bench/examples/peer_server.rs`), best of two runs each
//! (`LOAD_FRONT_ENDS=0` skips it). `/api/ping` ÷ `/health` is what
//! authorization costs; `/api/protected` ÷ `/health` adds writing the caller
//! into the body. Reports
//! throughput, p50/p99 latency, status counts, the issuer's JWKS requests and
//! the server's peak RSS, and exits non-zero when a safety property fails (a
//! valid request not answered 200, JWKS requests over one per rate-limit
//! window). Traffic goes to 127.0.0.1 only; every run is bounded in time.
//!
//! ```text
//! scripts/load.sh                         # installs wrk if missing, then:
//! cargo run --release --example load      # LOAD_SECONDS=10 LOAD_CONNECTIONS=32 by default
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a load generator, not library code

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use bearer_policy::testing::TestIssuer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

const AUDIENCE: &str = "https://api.example.com";
/// The server's default `unknown_kid_refetch_interval`.
const REFETCH_WINDOW: Duration = Duration::from_secs(30);
/// Distinct random-`kid` tokens the attacker cycles through.
const ATTACK_TOKENS: usize = 2_000;

/// What wrk reported for one run.
#[derive(Debug, Default)]
struct WrkRun {
    requests: u64,
    requests_per_sec: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
    socket_errors: String,
    /// Per-status counts, when the run used the counting Lua script.
    statuses: Vec<(u16, u64)>,
}

impl WrkRun {
    fn parse(output: &str) -> WrkRun {
        let mut run = WrkRun::default();
        let mut in_distribution = false;
        for line in output.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with("Latency Distribution") {
                in_distribution = true;
            } else if in_distribution && trimmed.starts_with("50%") {
                run.p50 = trimmed[3..].trim().to_owned();
            } else if in_distribution && trimmed.starts_with("99%") {
                run.p99 = trimmed[3..].trim().to_owned();
                in_distribution = false;
            } else if let Some(rest) = trimmed.strip_prefix("Requests/sec:") {
                run.requests_per_sec = rest.trim().parse().unwrap_or(0.0);
            } else if let Some(rest) = trimmed.strip_prefix("Non-2xx or 3xx responses:") {
                run.non_2xx = rest.trim().parse().unwrap_or(0);
            } else if trimmed.starts_with("Socket errors:") {
                run.socket_errors = trimmed.to_owned();
            } else if trimmed.contains(" requests in ") {
                run.requests = trimmed
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            } else if let Some(rest) = trimmed.strip_prefix("STATUS ") {
                let mut parts = rest.split_whitespace().map(|n| n.parse::<u64>());
                if let (Some(Ok(status)), Some(Ok(count))) = (parts.next(), parts.next()) {
                    run.statuses
                        .push((u16::try_from(status).unwrap_or(0), count));
                }
            }
        }
        run.statuses.sort_unstable();
        run
    }

    fn statuses(&self) -> String {
        if self.statuses.is_empty() {
            return format!("{} requests, {} not 2xx", self.requests, self.non_2xx);
        }
        self.statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn line(&self, name: &str) -> String {
        format!(
            "| {name} | {:.0} | {} | {} | {} |{}",
            self.requests_per_sec,
            self.p50,
            self.p99,
            self.statuses(),
            if self.socket_errors.is_empty() {
                String::new()
            } else {
                format!(" {}", self.socket_errors)
            }
        )
    }
}

/// The server process; killed when dropped, whatever happens.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Peak resident set size (VmHWM) in KiB.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A release example binary of the package at `manifest_dir` (the root, or
/// `peer-bench`), built when missing. Cargo puts both packages' builds in
/// `CARGO_TARGET_DIR` when it is set, as `scripts/load.sh` does then.
fn example_binary(manifest_dir: &Path, example: &str) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| manifest_dir.join("target"), PathBuf::from);
    let binary = target.join("release/examples").join(example);
    if !binary.exists() {
        eprintln!("building the release example {example}…");
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--release", "--example", example])
            .current_dir(manifest_dir)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() || !binary.exists() {
            return Err(format!("could not build {}", binary.display()));
        }
    }
    Ok(binary)
}

fn server_binary() -> Result<PathBuf, String> {
    example_binary(&workspace_root(), "server")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("bound address").port()
}

async fn http_status(addr: SocketAddr, path: &str, token: Option<&str>) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        let _ = write!(request, "Authorization: Bearer {token}\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1)?.parse().ok()
}

async fn start_server(binary: &Path, issuer: &TestIssuer) -> Result<Server, String> {
    let port = free_port();
    let child = Command::new(binary)
        .env("POLICY_ISSUER", issuer.issuer())
        .env("POLICY_AUDIENCE", AUDIENCE)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let server = Server {
        child,
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_status(server.addr, "/health", None).await == Some(200) {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the server did not answer /health within 30 s".into())
}

/// A Lua script for wrk that cycles through `tokens` on `/api/protected`
/// and prints a `STATUS <code> <count>` line per status seen.
fn counting_script(tokens: &[String]) -> String {
    let mut lua = String::from("tokens = {\n");
    for token in tokens {
        let _ = writeln!(lua, "  \"{token}\",");
    }
    lua.push_str(
        r#"}
i = 0
counts = {}
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/api/protected", { ["Authorization"] = "Bearer " .. tokens[i] })
end
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do
      io.write(string.format("STATUS %d %d\n", status, count))
    end
  end
end
"#,
    );
    lua
}

struct Load {
    seconds: u64,
    connections: u32,
}

impl Load {
    async fn wrk(
        &self,
        addr: SocketAddr,
        path: &str,
        token: Option<&str>,
        script: Option<&Path>,
    ) -> Result<WrkRun, String> {
        let mut command = Command::new("wrk");
        command.args([
            "-t1".to_owned(),
            format!("-c{}", self.connections),
            format!("-d{}s", self.seconds),
            "--timeout".to_owned(),
            "5s".to_owned(),
            "--latency".to_owned(),
        ]);
        if let Some(token) = token {
            command.args(["-H".to_owned(), format!("Authorization: Bearer {token}")]);
        }
        if let Some(script) = script {
            command.arg("-s").arg(script);
        }
        command.arg(format!("http://{addr}{path}"));
        command.kill_on_drop(true);
        let bound = Duration::from_secs(self.seconds + 30);
        let output = tokio::time::timeout(bound, command.output())
            .await
            .map_err(|_| "wrk did not finish in time".to_owned())?
            .map_err(|e| format!("cannot run wrk (scripts/load.sh installs it): {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "wrk failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(WrkRun::parse(&String::from_utf8_lossy(&output.stdout)))
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The token with one signature character changed.
fn bad_signature(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a compact JWS");
    let mut signature = signature.as_bytes().to_vec();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == b'A' {
        b'B'
    } else {
        b'A'
    };
    format!("{signed}.{}", String::from_utf8_lossy(&signature))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, String> {
    let load = Load {
        seconds: env_number("LOAD_SECONDS", 10).clamp(1, 120),
        connections: u32::try_from(env_number("LOAD_CONNECTIONS", 32).clamp(1, 1024)).unwrap_or(32),
    };
    let binary = server_binary()?;
    let issuer = TestIssuer::start().await;
    let mut server = start_server(&binary, &issuer).await?;
    let started = Instant::now();
    let addr = server.addr;

    let valid = issuer
        .token()
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .expires_in(Duration::from_secs(3600))
        .sign();
    let forged = bad_signature(&valid);
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let attack: Vec<String> = (0..ATTACK_TOKENS)
        .map(|i| {
            issuer
                .token()
                .kid(format!("attacker-{salt:x}-{i}"))
                .for_global_api(AUDIENCE)
                .scopes(["api:read"])
                .sign()
        })
        .collect();
    if http_status(addr, "/api/protected", Some(&valid)).await != Some(200) {
        return Err("the valid token is not accepted by the server".into());
    }

    let dir = std::env::temp_dir().join(format!("policy-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let valid_script = dir.join("valid.lua");
    let attack_script = dir.join("attack.lua");
    std::fs::write(&valid_script, counting_script(std::slice::from_ref(&valid)))
        .map_err(|e| e.to_string())?;
    std::fs::write(&attack_script, counting_script(&attack)).map_err(|e| e.to_string())?;

    let mut ok = true;
    println!(
        "wrk -t1 -c{} -d{}s against {} (pid {}), issuer {}\n",
        load.connections,
        load.seconds,
        addr,
        server.pid(),
        issuer.issuer()
    );
    println!("| run | requests/s | p50 | p99 | statuses |");
    println!("| --- | ---: | ---: | ---: | --- |");

    // (a) one at a time.
    let health = load.wrk(addr, "/health", None, None).await?;
    println!("{}", health.line("GET /health (no auth)"));
    let ping = load.wrk(addr, "/api/ping", Some(&valid), None).await?;
    println!("{}", ping.line("GET /api/ping, valid token"));
    let protected = load.wrk(addr, "/api/protected", Some(&valid), None).await?;
    println!("{}", protected.line("GET /api/protected, valid token"));
    for run in [&ping, &protected] {
        if run.non_2xx > 0 || run.requests == 0 {
            eprintln!("FAIL: valid requests were not all answered 200");
            ok = false;
        }
    }
    let forged_run = load
        .wrk(addr, "/api/protected", Some(&forged), None)
        .await?;
    println!("{}", forged_run.line("GET /api/protected, bad signature"));
    if forged_run.non_2xx != forged_run.requests {
        eprintln!("FAIL: a bad signature was accepted");
        ok = false;
    }

    // (b) valid clients and an attacker at once.
    let (valid_run, attack_run) = tokio::join!(
        load.wrk(addr, "/api/protected", None, Some(&valid_script)),
        load.wrk(addr, "/api/protected", None, Some(&attack_script)),
    );
    let (valid_run, attack_run) = (valid_run?, attack_run?);
    println!(
        "{}",
        valid_run.line("under attack: valid clients (Lua script)")
    );
    println!(
        "{}",
        attack_run.line("under attack: random-kid attacker (Lua script)")
    );
    let valid_not_200: u64 = valid_run
        .statuses
        .iter()
        .filter(|(status, _)| *status != 200)
        .map(|(_, n)| n)
        .sum();
    if valid_not_200 > 0 || valid_run.requests == 0 {
        eprintln!("FAIL: {valid_not_200} valid requests under attack were not answered 200");
        ok = false;
    }
    if attack_run
        .statuses
        .iter()
        .any(|(status, n)| *status == 200 && *n > 0)
    {
        eprintln!("FAIL: an attacker token was accepted");
        ok = false;
    }

    let elapsed = started.elapsed();
    let jwks = issuer.jwks_requests();
    // The start-up fetch, plus at most one refetch per window for unknown kids.
    let windows = elapsed.as_secs().div_ceil(REFETCH_WINDOW.as_secs()).max(1);
    let bound = 1 + usize::try_from(windows).unwrap_or(usize::MAX);
    let peak = server.peak_rss_kib();
    println!();
    println!(
        "issuer: {jwks} JWKS requests, {} discovery requests in {:.0} s (bound: {bound} = 1 + one per {} s window)",
        issuer.discovery_requests(),
        elapsed.as_secs_f64(),
        REFETCH_WINDOW.as_secs()
    );
    if jwks > bound {
        eprintln!("FAIL: {jwks} JWKS requests, over the bound of {bound}");
        ok = false;
    }
    match peak {
        Some(kib) => println!("server peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unavailable"),
    }
    if health.requests_per_sec > 0.0 {
        println!(
            "authenticated ÷ unauthenticated throughput: /api/ping {:.2}, /api/protected {:.2}",
            ping.requests_per_sec / health.requests_per_sec,
            protected.requests_per_sec / health.requests_per_sec
        );
    }
    let _ = server.child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);

    ok &= compare_front_ends(&load, &issuer, &valid).await?;
    println!("{}", if ok { "ok" } else { "FAILED" });
    Ok(ok)
}

/// (c) The same valid token against each example server and the peer (axum
/// 0.7 + jwt-authorizer, `peer-bench/examples/peer_server.rs`), one server at
/// a time: `/health`, `/health` sent the token's header too (which it does
/// not read: what carrying a bearer token over HTTP costs before anyone looks
/// at it), `/api/ping` and `/api/protected` throughput, best of two runs each
/// (the routes alternate, since the machine is shared), and each server's
/// authenticated throughput ÷ the peer's. `LOAD_FRONT_ENDS=0` skips it.
async fn compare_front_ends(load: &Load, issuer: &TestIssuer, valid: &str) -> Result<bool, String> {
    if env_number("LOAD_FRONT_ENDS", 1) == 0 {
        return Ok(true);
    }
    let root = workspace_root();
    let servers = [
        ("warp (examples/server)", example_binary(&root, "server")?),
        (
            "axum (examples/axum_server)",
            example_binary(&root, "axum_server")?,
        ),
        (
            "actix-web (examples/actix_server)",
            example_binary(&root, "actix_server")?,
        ),
        (
            "axum 0.7 + jwt-authorizer (peer-bench)",
            example_binary(&root.join("peer-bench"), "peer_server")?,
        ),
    ];
    println!();
    println!(
        "| server | /health req/s | /health + token header | /api/ping req/s | /api/protected req/s | ping ÷ /health | protected ÷ /health |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut ok = true;
    // Each server's best (/api/ping, /api/protected).
    let mut authenticated = Vec::new();
    for (name, binary) in &servers {
        let mut server = start_server(binary, issuer).await?;
        for path in ["/api/ping", "/api/protected"] {
            if http_status(server.addr, path, Some(valid)).await != Some(200) {
                return Err(format!("{name} does not accept the valid token on {path}"));
            }
        }
        let (mut health, mut carried, mut ping, mut protected) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for _ in 0..2 {
            let open = load.wrk(server.addr, "/health", None, None).await?;
            let unread = load.wrk(server.addr, "/health", Some(valid), None).await?;
            let twin = load
                .wrk(server.addr, "/api/ping", Some(valid), None)
                .await?;
            let guarded = load
                .wrk(server.addr, "/api/protected", Some(valid), None)
                .await?;
            for run in [&twin, &guarded] {
                if run.non_2xx > 0 || run.requests == 0 {
                    eprintln!("FAIL: {name}: valid requests were not all answered 200");
                    ok = false;
                }
            }
            health = health.max(open.requests_per_sec);
            carried = carried.max(unread.requests_per_sec);
            ping = ping.max(twin.requests_per_sec);
            protected = protected.max(guarded.requests_per_sec);
        }
        let _ = server.child.kill().await;
        let ratio = |x: f64| if health > 0.0 { x / health } else { 0.0 };
        println!(
            "| {name} | {health:.0} | {carried:.0} ({:.2}) | {ping:.0} | {protected:.0} | {:.2} | {:.2} |",
            ratio(carried),
            ratio(ping),
            ratio(protected)
        );
        authenticated.push((ping, protected));
    }
    if let [warp, axum, actix, (peer_ping, peer)] = authenticated[..]
        && peer > 0.0
        && peer_ping > 0.0
    {
        for (name, (ping, protected)) in [("warp", warp), ("axum", axum), ("actix-web", actix)] {
            println!(
                "{name} + bearer-policy ÷ axum + jwt-authorizer, authenticated throughput: \
                 /api/ping {:.2}, /api/protected {:.2}",
                ping / peer_ping,
                protected / peer
            );
        }
    }
    Ok(ok)
}
