//! The issuer's loopback HTTP/1.1 server, on hyper directly: the discovery
//! The issuer's loopback HTTP/1.1 server, on hyper directly: the discovery
//! and JWKS routes and their documents, the token endpoint (which binds
//! tokens to a DPoP proof's key), token introspection and revocation,
//! request counting, injected [`Fault`]s, and start/stop on a fixed
//! address. It answers any request without panicking and holds bounded
//! resources: request heads are capped, only the token endpoints read a
//! body (at most [`MAX_FORM_BODY`] bytes, 8 KiB for the token endpoint) and
//! connections are limited in number.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Shared, TestIssuer, lock};
use crate::fetch::discovery_url;

/// The path under which the issuer lives, like Logto's `https://tenant/oidc`.
pub(super) const ISSUER_PATH: &str = "/oidc";

/// The JWK set's path below [`ISSUER_PATH`].
const JWKS_PATH: &str = "/jwks";

/// The token endpoint's path below [`ISSUER_PATH`].
const TOKEN_PATH: &str = "/token";

/// Content type of the JWK set (RFC 7517 section 8.5.1).
const JWK_SET_CONTENT_TYPE: &str = "application/jwk-set+json";

/// Read buffer for a request head, which hyper answers `431` beyond (give or
/// take one read). Well above any real client's head, and well below
/// hyper's default of about 400 KiB.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// The largest form the token endpoints read.
const MAX_FORM_BODY: usize = 16 * 1024;

/// The introspection endpoint's path below [`ISSUER_PATH`] (Logto's).
const INTROSPECTION_PATH: &str = "/token/introspection";

/// The revocation endpoint's path below [`ISSUER_PATH`] (Logto's).
const REVOCATION_PATH: &str = "/token/revocation";

/// The introspection endpoint of `issuer`.
pub(super) fn introspection_endpoint(issuer: &str) -> String {
    format!("{issuer}{INTROSPECTION_PATH}")
}

/// The revocation endpoint of `issuer`.
pub(super) fn revocation_endpoint(issuer: &str) -> String {
    format!("{issuer}{REVOCATION_PATH}")
}

/// Connections served at once; further ones wait in the listen backlog.
pub(super) const MAX_CONNECTIONS: usize = 256;

/// A fault that the issuer injects into its answers, set with
/// [`TestIssuer::set_fault`](super::TestIssuer::set_fault).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fault {
    /// Answer normally.
    #[default]
    None,
    /// Sleep this long before answering, both the JWKS and the discovery
    /// endpoint (the answer itself is normal).
    Delay(Duration),
    /// Answer the JWKS endpoint with this status code and a small JSON body.
    /// A number that is not a valid HTTP status answers 500.
    Status(u16),
    /// Answer the JWKS endpoint `200 OK` with this raw body and
    /// `Content-Type` (left out when it is not a valid header value).
    Body {
        /// The `Content-Type` header value.
        content_type: String,
        /// The raw response body.
        body: Vec<u8>,
    },
}

/// The issuer URL for a server on `addr`.
pub(super) fn issuer_url(addr: SocketAddr) -> String {
    format!("http://{addr}{ISSUER_PATH}")
}

/// The JWK set URL of `issuer`.
pub(super) fn jwks_uri(issuer: &str) -> String {
    format!("{issuer}{JWKS_PATH}")
}

/// The JWK set document currently published.
pub(super) fn jwks_document(shared: &Shared) -> Value {
    let state = lock(&shared.state);
    let keys: Vec<&Value> = state.published.iter().map(|key| &key.jwk).collect();
    json!({ "keys": keys })
}

/// A Logto-like OpenID discovery document.
fn discovery_document(shared: &Shared) -> Value {
    let state = lock(&shared.state);
    let issuer = state.discovery_issuer.as_deref().unwrap_or(&shared.issuer);
    let mut algs: Vec<&str> = Vec::new();
    for key in std::iter::once(&state.current).chain(state.published.iter()) {
        let name = key.alg.as_str();
        if !algs.contains(&name) {
            algs.push(name);
        }
    }
    let base = &shared.issuer;
    json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri(base),
        "authorization_endpoint": format!("{base}/auth"),
        "token_endpoint": format!("{base}/token"),
        "introspection_endpoint": introspection_endpoint(base),
        "revocation_endpoint": revocation_endpoint(base),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": format!("{base}/me"),
        "end_session_endpoint": format!("{base}/session/end"),
        "response_types_supported": ["code", "id_token", "code id_token"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "scopes_supported": ["openid", "offline_access", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    })
}

// ===== routing and answers =====

type Answer = Response<Full<Bytes>>;

enum Route {
    Discovery,
    Jwks,
    Introspection,
    Revocation,
}

/// Which document `path` names. One trailing slash is tolerated, as the
/// warp filters this server replaced did.
fn route(path: &str) -> Option<Route> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let below = path.strip_prefix(ISSUER_PATH);
    if below == Some(JWKS_PATH) {
        Some(Route::Jwks)
    } else if below == Some(INTROSPECTION_PATH) {
        Some(Route::Introspection)
    } else if below == Some(REVOCATION_PATH) {
        Some(Route::Revocation)
    } else if path == discovery_url(ISSUER_PATH) {
        Some(Route::Discovery)
    } else {
        None
    }
}

fn answer(status: StatusCode, content_type: Option<HeaderValue>, body: Vec<u8>) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
}

fn json_answer(status: StatusCode, content_type: &'static str, body: &Value) -> Answer {
    let content_type = HeaderValue::from_static(content_type);
    answer(status, Some(content_type), body.to_string().into_bytes())
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, Infallible> {
    if request.method() == Method::POST {
        if request.uri().path().strip_prefix(ISSUER_PATH) == Some(TOKEN_PATH) {
            return Ok(serve_token(&shared, request).await);
        }
        match route(request.uri().path()) {
            Some(Route::Introspection) => return Ok(serve_introspection(&shared, request).await),
            Some(Route::Revocation) => return Ok(serve_revocation(&shared, request).await),
            _ => {}
        }
    }
    // The method is checked before the path, so any other method is 405 on
    // every path: the answers of the warp filters this server replaced.
    if request.method() != Method::GET {
        let text = HeaderValue::from_static("text/plain; charset=utf-8");
        let body = b"HTTP method not allowed".to_vec();
        return Ok(answer(StatusCode::METHOD_NOT_ALLOWED, Some(text), body));
    }
    Ok(match route(request.uri().path()) {
        Some(Route::Discovery) => serve_discovery(&shared).await,
        Some(Route::Jwks) => serve_jwks(&shared).await,
        Some(Route::Introspection | Route::Revocation) => {
            answer(StatusCode::METHOD_NOT_ALLOWED, None, Vec::new())
        }
        None => answer(StatusCode::NOT_FOUND, None, Vec::new()),
    })
}

/// A `client_credentials` token request: a bound token for the key of a
/// valid DPoP proof, a bearer token without one.
async fn serve_token(shared: &Arc<Shared>, request: Request<Incoming>) -> Answer {
    use http_body_util::{BodyExt as _, Limited};
    let refuse = |error: &str| {
        json_answer(
            StatusCode::BAD_REQUEST,
            "application/json",
            &json!({ "error": error }),
        )
    };
    let proofs: Vec<Vec<u8>> = request
        .headers()
        .get_all("dpop")
        .iter()
        .map(|value| value.as_bytes().to_vec())
        .collect();
    let Ok(body) = Limited::new(request.into_body(), 8 * 1024).collect().await else {
        return refuse("invalid_request");
    };
    let form: std::collections::HashMap<String, String> = form_urlencoded::parse(&body.to_bytes())
        .into_owned()
        .collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return refuse("unsupported_grant_type");
    }
    let mut token = super::TokenBuilder::new(Arc::clone(shared));
    if let Some(scope) = form.get("scope") {
        token = token.scope(scope.clone());
    }
    if let Some(resource) = form.get("resource") {
        token = token.audience(resource.clone());
    }
    let endpoint = format!("{}{TOKEN_PATH}", shared.issuer);
    let token_type = match proofs.as_slice() {
        [] => "Bearer",
        [proof] => match token_request_key(proof, &endpoint) {
            Some(jkt) => {
                token = token.claim("cnf", json!({ "jkt": jkt }));
                "DPoP"
            }
            None => return refuse("invalid_dpop_proof"),
        },
        _ => return refuse("invalid_dpop_proof"),
    };
    json_answer(
        StatusCode::OK,
        "application/json",
        &json!({ "access_token": token.sign(), "token_type": token_type, "expires_in": 3600 }),
    )
}

/// The thumbprint of the key of a valid proof of a token request to `endpoint`.
fn token_request_key(value: &[u8], endpoint: &str) -> Option<String> {
    use crate::dpop::{check, proof};
    let proof = proof::parse(value).ok()?;
    let jwk = check::signed_by(&proof, crate::jwks::DEFAULT_ALGORITHMS).ok()?;
    let claims = &proof.claims;
    let fresh = claims
        .issued_at()
        .is_ok_and(|iat| (crate::validator::verify::now() - iat).abs() <= 300);
    (claims.htm.as_deref() == Some("POST")
        && claims.htu.as_deref() == Some(endpoint)
        && claims.jti.is_some()
        && fresh)
        .then(|| check::thumbprint(&jwk).ok())
        .flatten()
}

async fn serve_discovery(shared: &Shared) -> Answer {
    shared.discovery_requests.fetch_add(1, Ordering::SeqCst);
    if let Fault::Delay(delay) = shared.fault() {
        tokio::time::sleep(delay).await;
    }
    json_answer(
        StatusCode::OK,
        "application/json",
        &discovery_document(shared),
    )
}

async fn serve_jwks(shared: &Shared) -> Answer {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    match shared.fault() {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({ "error": "injected_fault", "status": status.as_u16() });
            return json_answer(status, "application/json", &body);
        }
        Fault::Body { content_type, body } => {
            let content_type = HeaderValue::from_str(&content_type).ok();
            return answer(StatusCode::OK, content_type, body);
        }
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::None => {}
    }
    let mut response = json_answer(StatusCode::OK, JWK_SET_CONTENT_TYPE, &jwks_document(shared));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=600"),
    );
    response
}

/// A token endpoint's form, if the client authenticated as the issuer's
/// introspection client (Basic or form fields); `Err` is the answer.
async fn client_form(request: Request<Incoming>) -> Result<HashMap<String, String>, Answer> {
    use http_body_util::BodyExt as _;
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let body = http_body_util::Limited::new(request.into_body(), MAX_FORM_BODY);
    let Ok(collected) = body.collect().await else {
        let error = json!({ "error": "invalid_request" });
        return Err(json_answer(
            StatusCode::BAD_REQUEST,
            "application/json",
            &error,
        ));
    };
    let form: HashMap<String, String> = form_urlencoded::parse(&collected.to_bytes())
        .into_owned()
        .collect();
    let (id, secret) = (
        TestIssuer::INTROSPECTION_CLIENT_ID,
        TestIssuer::INTROSPECTION_CLIENT_SECRET,
    );
    // Both constants are the same text form-encoded.
    let by_basic = basic.as_deref() == Some(&format!("{id}:{secret}"));
    let by_post = form.get("client_id").map(String::as_str) == Some(id)
        && form.get("client_secret").map(String::as_str) == Some(secret);
    if !(by_basic || by_post) {
        let error = json!({ "error": "invalid_client" });
        let mut refused = json_answer(StatusCode::UNAUTHORIZED, "application/json", &error);
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
        return Err(refused);
    }
    Ok(form)
}

async fn serve_introspection(shared: &Shared, request: Request<Incoming>) -> Answer {
    shared.introspection_requests.fetch_add(1, Ordering::SeqCst);
    let fault = lock(&shared.state).introspection_fault.clone();
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({ "error": "injected_fault", "status": status.as_u16() });
            return json_answer(status, "application/json", &body);
        }
        Fault::Body { content_type, body } => {
            let content_type = HeaderValue::from_str(&content_type).ok();
            return answer(StatusCode::OK, content_type, body);
        }
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::None => {}
    }
    let form = match client_form(request).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let Some(token) = form.get("token") else {
        let error = json!({ "error": "invalid_request" });
        return json_answer(StatusCode::BAD_REQUEST, "application/json", &error);
    };
    let state = lock(&shared.state);
    let active = state.opaque.get(token).filter(|opaque| {
        let exp = opaque.answer.get("exp").and_then(Value::as_i64);
        !opaque.revoked && exp.is_none_or(|exp| exp > crate::validator::verify::now())
    });
    let body = match active {
        Some(opaque) => Value::Object(opaque.answer.clone()),
        None => json!({ "active": false }),
    };
    drop(state);
    json_answer(StatusCode::OK, "application/json", &body)
}

async fn serve_revocation(shared: &Shared, request: Request<Incoming>) -> Answer {
    shared.revocation_requests.fetch_add(1, Ordering::SeqCst);
    let form = match client_form(request).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    // RFC 7009 §2.2: 200 whether or not the token was known.
    if let Some(token) = form.get("token")
        && let Some(opaque) = lock(&shared.state).opaque.get_mut(token)
    {
        opaque.revoked = true;
    }
    answer(StatusCode::OK, None, Vec::new())
}

// ===== running =====

/// A running server: its shutdown signal and task.
pub(super) struct Running {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Asks the server to stop accepting and to close its connections once
    /// their in-flight requests are answered, without waiting for it.
    pub(super) fn signal_shutdown(self) {
        let _ = self.shutdown.send(());
    }

    /// Stops the server, waiting at most `grace` for in-flight requests;
    /// connections still busy after that are dropped.
    pub(super) async fn stop(self, grace: Duration) {
        let Running { shutdown, mut task } = self;
        let _ = shutdown.send(());
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            // Dropping the task's connection set aborts them.
            task.abort();
        }
    }
}

/// Serves `shared` on `listener` in a new task.
pub(super) fn spawn(shared: &Arc<Shared>, listener: TcpListener) -> Running {
    let (shutdown, signal) = oneshot::channel();
    let task = tokio::spawn(serve(Arc::clone(shared), listener, signal));
    Running { shutdown, task }
}

async fn serve(shared: Arc<Shared>, listener: TcpListener, mut signal: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    // Owned here so that aborting this task also ends every connection.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // Resolves on a signal and when the sender is dropped alike.
            _ = &mut signal => break,
            Some(_) = connections.join_next() => {}
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, or a connection reset while
                    // queued: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let shared = Arc::clone(&shared);
                let service = service_fn(move |request| handle(Arc::clone(&shared), request));
                let connection = http1::Builder::new()
                    .max_buf_size(MAX_REQUEST_HEAD)
                    .serve_connection(TokioIo::new(stream), service);
                connections.spawn(graceful.watch(connection));
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Binds `addr`, retrying for a moment in case the port is still being
/// released by the previous listener.
///
/// # Panics
///
/// When the port has been taken by someone else meanwhile.
#[allow(clippy::expect_used)] // documented on `TestIssuer::restart`
pub(super) async fn bind_again(addr: SocketAddr) -> TcpListener {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    TcpListener::bind(addr)
        .await
        .expect("TestIssuer listens on its port again (it must not have been taken meanwhile)")
}
