//! An embedded development OpenID issuer for tests and demos.
//!
//! [`TestIssuer`] listens on `127.0.0.1` on a free port and serves a
//! Logto-like discovery document and JWK set under `/oidc`. It mints signed
//! access tokens with [`TestIssuer::token`], rotates keys, counts requests and
//! injects faults, so that token validation can be exercised end to end
//! without a real identity provider.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use policy_core::testing::TestIssuer;
//!
//! let issuer = TestIssuer::start().await;
//! let token = issuer
//!     .token()
//!     .for_global_api("https://api.example.com")
//!     .scopes(["read:products"])
//!     .sign();
//! let validator = issuer.validator("https://api.example.com");
//! let auth = validator.validate(&token).await.unwrap();
//! assert_eq!(auth.scopes(), ["read:products"]);
//! # });
//! ```
//!
//! Everything here is test support: key generation failures and broken
//! internal invariants panic, but nothing that a test passes in (kids,
//! claims, status codes, header values) does.

// Key generation and signing with keys generated here cannot fail short of a
// broken crypto library; those places `expect` with a reason.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Algorithm;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warp::Filter as _;
use warp::Reply as _;

/// The path under which the issuer lives, like Logto's `https://tenant/oidc`.
const ISSUER_PATH: &str = "oidc";

/// Audience prefix of Logto organization tokens.
const ORGANIZATION_AUDIENCE_PREFIX: &str = "urn:logto:organization:";

/// Content type of the JWK set (RFC 7517 section 8.5.1).
const JWK_SET_CONTENT_TYPE: &str = "application/jwk-set+json";

/// Selects the aws-lc-rs provider of `jsonwebtoken` once per process, so that
/// a build that also enables its `rust_crypto` feature does not panic.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    });
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The JOSE name of an algorithm (`"RS256"`, `"EdDSA"`…).
fn alg_name(alg: Algorithm) -> String {
    alg.as_str().to_owned()
}

/// The same algorithm as jsonwebtoken names it, for its signer.
fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.as_str()
        .parse()
        .expect("jsonwebtoken knows every algorithm of ours")
}

// ===== keys =====

/// One key of the issuer: its private half for signing and its public JWK.
struct IssuerKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    /// The public JWK as published (for `oct` keys: the secret itself).
    jwk: Value,
    /// SubjectPublicKeyInfo DER of the public key; `None` for symmetric keys.
    spki_der: Option<Vec<u8>>,
}

/// Splits one DER TLV off the front of `input`: `(tag, contents, rest)`.
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// Extracts the PKCS#1 `RSAPrivateKey` from a PKCS#8 `PrivateKeyInfo`
/// (jsonwebtoken's aws-lc backend signs with PKCS#1 DER).
fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (0x30, info, _) = der_tlv(pkcs8)? else {
        return None;
    };
    let (0x02, _version, rest) = der_tlv(info)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x04, private_key, _) = der_tlv(rest)? else {
        return None;
    };
    Some(private_key.to_vec())
}

fn generate_rsa(kid: &str, alg: Algorithm) -> IssuerKey {
    use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};

    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key generation");
    let pkcs8 = pair.as_der().expect("RSA key serializes to PKCS#8");
    let pkcs1 =
        pkcs8_to_pkcs1(pkcs8.as_ref()).expect("PKCS#8 generated by aws-lc-rs is well formed");
    let public = pair.public_key();
    let components = PublicKeyComponents::<Vec<u8>>::from(public);
    let spki = public.as_der().expect("RSA public key serializes to SPKI");
    IssuerKey {
        kid: kid.to_owned(),
        alg,
        encoding: EncodingKey::from_rsa_der(&pkcs1),
        jwk: json!({
            "kty": "RSA",
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "n": b64url(&components.n),
            "e": b64url(&components.e),
        }),
        spki_der: Some(spki.as_ref().to_vec()),
    }
}

fn generate_ec(kid: &str, alg: Algorithm) -> IssuerKey {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    };

    let (alg, signing, crv, coordinate_len) = match alg {
        Algorithm::ES384 => (alg, &ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
        // ES256, and any EC algorithm a later jsonwebtoken may add.
        _ => (
            Algorithm::ES256,
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            "P-256",
            32,
        ),
    };
    let pair = EcdsaKeyPair::generate(signing).expect("ECDSA key generation");
    let pkcs8 = pair.to_pkcs8v1().expect("ECDSA key serializes to PKCS#8");
    let public = pair.public_key();
    // Uncompressed SEC1 point: 0x04 || x || y.
    let point = public.as_ref();
    let (x, y) = point
        .get(1..)
        .and_then(|xy| xy.split_at_checked(coordinate_len))
        .expect("uncompressed EC point");
    let spki = public.as_der().expect("EC public key serializes to SPKI");
    IssuerKey {
        kid: kid.to_owned(),
        alg,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC",
            "crv": crv,
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "x": b64url(x),
            "y": b64url(y),
        }),
        spki_der: Some(spki.as_ref().to_vec()),
    }
}

fn generate_ed25519(kid: &str) -> IssuerKey {
    use aws_lc_rs::signature::Ed25519KeyPair;

    let pair = Ed25519KeyPair::generate().expect("Ed25519 key generation");
    let pkcs8 = pair.to_pkcs8v1().expect("Ed25519 key serializes to PKCS#8");
    let public = pair.public_key();
    let spki = public
        .as_der()
        .expect("Ed25519 public key serializes to SPKI");
    IssuerKey {
        kid: kid.to_owned(),
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": kid,
            "alg": "EdDSA",
            "use": "sig",
            "x": b64url(public.as_ref()),
        }),
        spki_der: Some(spki.as_ref().to_vec()),
    }
}

fn generate_hmac(kid: &str, alg: Algorithm) -> IssuerKey {
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

    let mut secret = [0u8; 64];
    SystemRandom::new()
        .fill(&mut secret)
        .expect("system random generator");
    IssuerKey {
        kid: kid.to_owned(),
        alg,
        encoding: EncodingKey::from_secret(&secret),
        jwk: json!({
            "kty": "oct",
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "k": b64url(&secret),
        }),
        spki_der: None,
    }
}

fn generate_key(alg: Algorithm, serial: usize) -> IssuerKey {
    use jsonwebtoken::AlgorithmFamily;

    let kid = format!("{}-{serial}", alg_name(alg).to_ascii_lowercase());
    match jwt_alg(alg).family() {
        AlgorithmFamily::Rsa => generate_rsa(&kid, alg),
        AlgorithmFamily::Ec => generate_ec(&kid, alg),
        AlgorithmFamily::Ed => generate_ed25519(&kid),
        AlgorithmFamily::Hmac => generate_hmac(&kid, alg),
    }
}

/// Signs `header.payload` (both base64url-encoded here) with `key`.
fn sign_with(key: &IssuerKey, header_json: &[u8], payload_json: &[u8]) -> String {
    install_crypto_provider();
    let message = format!("{}.{}", b64url(header_json), b64url(payload_json));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key.encoding, jwt_alg(key.alg))
        .expect("signing with a key generated for this algorithm");
    format!("{message}.{signature}")
}

// ===== faults =====

/// A fault that the issuer injects into its answers, set with
/// [`TestIssuer::set_fault`].
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

// ===== shared state =====

struct State {
    /// The keys served in the JWK set, in order.
    published: Vec<Arc<IssuerKey>>,
    /// Every key ever generated (including removed and rotated-out ones).
    all: HashMap<String, Arc<IssuerKey>>,
    /// The default signing key (may have been removed from `published`).
    current: Arc<IssuerKey>,
    fault: Fault,
    discovery_issuer: Option<String>,
}

/// State shared by the handles and the server task.
struct Shared {
    addr: SocketAddr,
    issuer: String,
    state: Mutex<State>,
    jwks_requests: AtomicUsize,
    discovery_requests: AtomicUsize,
    next_serial: AtomicUsize,
}

impl Shared {
    fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    fn jwks_document(&self) -> Value {
        let state = lock(&self.state);
        let keys: Vec<Value> = state.published.iter().map(|k| k.jwk.clone()).collect();
        json!({ "keys": keys })
    }

    fn discovery_document(&self) -> Value {
        let state = lock(&self.state);
        let issuer = state
            .discovery_issuer
            .clone()
            .unwrap_or_else(|| self.issuer.clone());
        let mut algs: Vec<String> = Vec::new();
        for key in std::iter::once(&state.current).chain(state.published.iter()) {
            let name = alg_name(key.alg);
            if !algs.contains(&name) {
                algs.push(name);
            }
        }
        let base = &self.issuer;
        json!({
            "issuer": issuer,
            "jwks_uri": self.jwks_uri(),
            "authorization_endpoint": format!("{base}/auth"),
            "token_endpoint": format!("{base}/token"),
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

    fn fault(&self) -> Fault {
        lock(&self.state).fault.clone()
    }

    fn key_or_current(&self, kid: &str) -> Arc<IssuerKey> {
        let state = lock(&self.state);
        state.all.get(kid).unwrap_or(&state.current).clone()
    }

    fn new_key(&self, alg: Algorithm) -> Arc<IssuerKey> {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        Arc::new(generate_key(alg, serial))
    }
}

// ===== HTTP server =====

fn json_response(
    status: warp::http::StatusCode,
    content_type: &str,
    body: Vec<u8>,
) -> warp::reply::Response {
    warp::http::Response::builder()
        .status(status)
        .header(warp::http::header::CONTENT_TYPE, content_type)
        .body(body)
        .into_response()
}

async fn serve_discovery(shared: Arc<Shared>) -> warp::reply::Response {
    shared.discovery_requests.fetch_add(1, Ordering::SeqCst);
    if let Fault::Delay(delay) = shared.fault() {
        tokio::time::sleep(delay).await;
    }
    let body = shared.discovery_document().to_string().into_bytes();
    json_response(warp::http::StatusCode::OK, "application/json", body)
}

async fn serve_jwks(shared: Arc<Shared>) -> warp::reply::Response {
    use warp::http::{HeaderValue, StatusCode, header};

    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    match shared.fault() {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({ "error": "injected_fault", "status": status.as_u16() });
            return json_response(status, "application/json", body.to_string().into_bytes());
        }
        Fault::Body { content_type, body } => {
            let mut response = warp::http::Response::new(body).into_response();
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            } else {
                response.headers_mut().remove(header::CONTENT_TYPE);
            }
            return response;
        }
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::None => {}
    }
    let body = shared.jwks_document().to_string().into_bytes();
    let mut response = json_response(StatusCode::OK, JWK_SET_CONTENT_TYPE, body);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=600"),
    );
    response
}

/// A running server: its shutdown signal and task.
struct Running {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

fn spawn_server(shared: &Arc<Shared>, listener: TcpListener) -> Running {
    let for_discovery = Arc::clone(shared);
    let discovery = warp::get()
        .and(warp::path!("oidc" / ".well-known" / "openid-configuration"))
        .then(move || serve_discovery(Arc::clone(&for_discovery)));
    let for_jwks = Arc::clone(shared);
    let jwks = warp::get()
        .and(warp::path!("oidc" / "jwks"))
        .then(move || serve_jwks(Arc::clone(&for_jwks)));
    let routes = discovery.or(jwks).unify();

    let (shutdown, signal) = oneshot::channel::<()>();
    let server = warp::serve(routes).incoming(listener).graceful(async move {
        let _ = signal.await;
    });
    let task = tokio::spawn(server.run());
    Running { shutdown, task }
}

/// Binds `addr`, retrying for a moment in case the port is still being
/// released by the previous listener.
async fn bind_again(addr: SocketAddr) -> TcpListener {
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

// ===== TestIssuer =====

struct Inner {
    shared: Arc<Shared>,
    server: tokio::sync::Mutex<Option<Running>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(running) = self.server.get_mut().take() {
            let _ = running.shutdown.send(());
        }
    }
}

/// An embedded development OpenID issuer for tests and demos.
///
/// It listens on `127.0.0.1` on a free port, with the issuer identifier
/// `http://127.0.0.1:PORT/oidc`, and serves:
///
/// - `GET /oidc/.well-known/openid-configuration`: the discovery document;
/// - `GET /oidc/jwks`: the public JWK set (`application/jwk-set+json`,
///   `Cache-Control: max-age=600`).
///
/// Clones share the same issuer; the server stops when the last clone is
/// dropped. It needs a Tokio runtime with I/O and time enabled.
#[derive(Clone)]
pub struct TestIssuer {
    inner: Arc<Inner>,
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.inner.shared.issuer)
            .field("kids", &self.kids())
            .field("current_kid", &self.current_kid())
            .finish_non_exhaustive()
    }
}

impl TestIssuer {
    /// A [`ValidatorBuilder`](crate::ValidatorBuilder) for this issuer (found
    /// through OpenID discovery) and `audience`, to adjust before building.
    pub fn validator_builder(&self, audience: impl Into<String>) -> crate::ValidatorBuilder {
        crate::Validator::builder()
            .issuer(self.issuer())
            .audience(audience)
    }

    /// A [`Validator`](crate::Validator) for this issuer and `audience`, with
    /// the default settings.
    ///
    /// # Panics
    ///
    /// Never for a running issuer: its URL is always a valid configuration.
    pub fn validator(&self, audience: impl Into<String>) -> crate::Validator {
        self.validator_builder(audience)
            .build()
            .expect("a TestIssuer's URL is a valid issuer")
    }

    /// Starts an issuer on `127.0.0.1:0` with one RS256 key.
    ///
    /// # Panics
    ///
    /// When no local port can be bound or key generation fails.
    pub async fn start() -> TestIssuer {
        Self::with_algorithms(&[Algorithm::RS256]).await
    }

    /// Starts an issuer with one key of each given algorithm; the first one is
    /// the default signing key. An empty list means `[RS256]`.
    ///
    /// RSA (`RS*`, `PS*`) keys are 2048-bit, `ES256` uses P-256, `ES384`
    /// P-384 and `EdDSA` Ed25519. An `HS*` algorithm makes a random
    /// symmetric key that is *published* as an `oct` JWK, which a correct
    /// validator must never accept.
    ///
    /// # Panics
    ///
    /// When no local port can be bound or key generation fails.
    pub async fn with_algorithms(algs: &[Algorithm]) -> TestIssuer {
        install_crypto_provider();
        let algs = if algs.is_empty() {
            &[Algorithm::RS256][..]
        } else {
            algs
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("TestIssuer binds 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");

        let mut published = Vec::with_capacity(algs.len());
        for (index, &alg) in algs.iter().enumerate() {
            published.push(Arc::new(generate_key(alg, index + 1)));
        }
        let current = published.first().cloned().expect("at least one algorithm");
        let all = published
            .iter()
            .map(|key| (key.kid.clone(), Arc::clone(key)))
            .collect();

        let shared = Arc::new(Shared {
            addr,
            issuer: format!("http://{addr}/{ISSUER_PATH}"),
            state: Mutex::new(State {
                published,
                all,
                current,
                fault: Fault::None,
                discovery_issuer: None,
            }),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
            next_serial: AtomicUsize::new(algs.len() + 1),
        });
        let running = spawn_server(&shared, listener);
        TestIssuer {
            inner: Arc::new(Inner {
                shared,
                server: tokio::sync::Mutex::new(Some(running)),
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The issuer identifier, `http://127.0.0.1:PORT/oidc`.
    pub fn issuer(&self) -> String {
        self.shared().issuer.clone()
    }

    /// The JWK set URL, `{issuer}/jwks`.
    pub fn jwks_uri(&self) -> String {
        self.shared().jwks_uri()
    }

    /// The discovery document URL, `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.shared().issuer)
    }

    /// The address the issuer listens on (stays the same across
    /// [`stop`](Self::stop) and [`restart`](Self::restart)).
    pub fn addr(&self) -> SocketAddr {
        self.shared().addr
    }

    /// Starts building an access token, with these defaults:
    ///
    /// - payload: `iss` = [`issuer()`](Self::issuer), `sub` = `"user-1"`,
    ///   `client_id` = `"test-client"`, `iat` = now, `exp` = now + 1 hour; no
    ///   `nbf`, `aud`, `scope` or `organization_id`;
    /// - header: `alg` of the current signing key, `kid` = its kid,
    ///   `typ` = `"at+jwt"`.
    pub fn token(&self) -> TokenBuilder {
        let iat = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::String(self.issuer()));
        claims.insert("sub".into(), Value::String("user-1".into()));
        claims.insert("client_id".into(), Value::String("test-client".into()));
        claims.insert("iat".into(), Value::from(iat));
        claims.insert("exp".into(), Value::from(iat.saturating_add(3600)));
        TokenBuilder {
            shared: Arc::clone(&self.inner.shared),
            claims,
            extra_header: Map::new(),
            kid: KidChoice::Current,
            typ: Some("at+jwt".into()),
        }
    }

    /// Adds a new key of `alg` (RSA 2048 for `RS*`/`PS*`, P-256 for `ES256`,
    /// P-384 for `ES384`, Ed25519 for `EdDSA`, a published `oct` secret for
    /// `HS*`), makes it the signing key and keeps the old ones published.
    /// Returns its kid.
    pub fn add_key(&self, alg: Algorithm) -> String {
        let key = self.shared().new_key(alg);
        let kid = key.kid.clone();
        let mut state = lock(&self.shared().state);
        state.all.insert(kid.clone(), Arc::clone(&key));
        state.published.push(Arc::clone(&key));
        state.current = key;
        kid
    }

    /// Replaces every published key with one new key of the current signing
    /// algorithm, which becomes the signing key; returns the new kid.
    pub fn rotate(&self) -> String {
        let alg = lock(&self.shared().state).current.alg;
        let key = self.shared().new_key(alg);
        let kid = key.kid.clone();
        let mut state = lock(&self.shared().state);
        state.all.insert(kid.clone(), Arc::clone(&key));
        state.published = vec![Arc::clone(&key)];
        state.current = key;
        kid
    }

    /// Removes a key from the published set. Unknown kids are ignored.
    ///
    /// If it is the current signing key, tokens are still signed with it
    /// (and name it in `kid`), which makes them carry a kid that the JWK set
    /// no longer has.
    pub fn remove_key(&self, kid: &str) {
        lock(&self.shared().state)
            .published
            .retain(|key| key.kid != kid);
    }

    /// The kids of the published keys, in JWK set order.
    pub fn kids(&self) -> Vec<String> {
        lock(&self.shared().state)
            .published
            .iter()
            .map(|key| key.kid.clone())
            .collect()
    }

    /// The kid of the current signing key.
    pub fn current_kid(&self) -> String {
        lock(&self.shared().state).current.kid.clone()
    }

    /// The algorithm of key `kid` (published or not), if the issuer made it.
    pub fn algorithm_of(&self, kid: &str) -> Option<Algorithm> {
        lock(&self.shared().state).all.get(kid).map(|key| key.alg)
    }

    /// Number of requests served by the JWKS endpoint, counting the ones
    /// answered with a [`Fault`].
    pub fn jwks_requests(&self) -> usize {
        self.shared().jwks_requests.load(Ordering::SeqCst)
    }

    /// Number of requests served by the discovery endpoint.
    pub fn discovery_requests(&self) -> usize {
        self.shared().discovery_requests.load(Ordering::SeqCst)
    }

    /// Sets both request counters back to zero.
    pub fn reset_counters(&self) {
        self.shared().jwks_requests.store(0, Ordering::SeqCst);
        self.shared().discovery_requests.store(0, Ordering::SeqCst);
    }

    /// Injects a fault into the answers of the JWKS endpoint (and of the
    /// discovery endpoint for [`Fault::Delay`]); [`Fault::None`] clears it.
    pub fn set_fault(&self, fault: Fault) {
        lock(&self.shared().state).fault = fault;
    }

    /// Stops listening: new connections are refused until
    /// [`restart`](Self::restart). Open connections are closed once their
    /// in-flight requests are answered (waiting at most about a second).
    /// Does nothing if already stopped.
    pub async fn stop(&self) {
        let running = self.inner.server.lock().await.take();
        if let Some(Running { shutdown, mut task }) = running {
            let _ = shutdown.send(());
            if tokio::time::timeout(Duration::from_secs(1), &mut task)
                .await
                .is_err()
            {
                // The listener is already closed; only slow in-flight
                // requests remain, which finish on their own.
                task.abort();
            }
        }
    }

    /// Starts listening again on the same address after
    /// [`stop`](Self::stop). Does nothing if running.
    ///
    /// # Panics
    ///
    /// When the port has been taken by someone else meanwhile.
    pub async fn restart(&self) {
        let mut server = self.inner.server.lock().await;
        if server.is_none() {
            let listener = bind_again(self.shared().addr).await;
            *server = Some(spawn_server(&self.inner.shared, listener));
        }
    }

    /// Overrides the `issuer` field of the discovery document (to test issuer
    /// mismatch); `None` restores the real issuer. Tokens keep the real
    /// issuer as `iss`.
    pub fn set_discovery_issuer(&self, issuer: Option<String>) {
        lock(&self.shared().state).discovery_issuer = issuer;
    }

    /// Signs raw header and payload bytes (base64url-encoding them itself)
    /// with the key `kid` using its algorithm, for attack tests: `crit`
    /// headers, duplicate JSON keys, payloads that are not objects… The bytes
    /// are used as given, so the header should name the algorithm itself.
    ///
    /// An unknown `kid` signs with the current signing key.
    pub fn sign_raw(&self, kid: &str, header_json: &[u8], payload_json: &[u8]) -> String {
        let key = self.shared().key_or_current(kid);
        sign_with(&key, header_json, payload_json)
    }

    /// The public JWK set document currently served, `{"keys": [...]}`.
    pub fn jwks_json(&self) -> Value {
        self.shared().jwks_document()
    }

    /// The public JWK of key `kid` (published or not), if the issuer made it.
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        lock(&self.shared().state)
            .all
            .get(kid)
            .map(|key| key.jwk.clone())
    }

    /// The public key of `kid` (published or not) as a `jsonwebtoken`
    /// decoding key, built from its JWK.
    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(self.jwk(kid)?).ok()?;
        DecodingKey::from_jwk(&jwk).ok()
    }

    /// The public key of `kid` (published or not) as X.509
    /// SubjectPublicKeyInfo DER, for every key type (RSA, EC, Ed25519);
    /// `None` for unknown kids and symmetric keys. Used by
    /// algorithm-confusion tests (HS256 signed with the public key bytes).
    pub fn public_key_der(&self, kid: &str) -> Option<Vec<u8>> {
        lock(&self.shared().state)
            .all
            .get(kid)
            .and_then(|key| key.spki_der.clone())
    }

    /// The public key of `kid` as a PEM `PUBLIC KEY` document (the
    /// [`public_key_der`](Self::public_key_der) bytes, base64 in 64-column
    /// lines, trailing newline), the other usual HS256 confusion secret.
    pub fn public_key_pem(&self, kid: &str) -> Option<String> {
        let der = self.public_key_der(kid)?;
        let encoded = STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        Some(pem)
    }
}

// ===== TokenBuilder =====

enum KidChoice {
    Current,
    Named(String),
    Omitted,
}

/// Builds and signs an access token; made by [`TestIssuer::token`].
///
/// Every method consumes and returns the builder; [`sign`](Self::sign)
/// produces the compact JWS.
#[must_use = "a TokenBuilder does nothing until `.sign()`"]
pub struct TokenBuilder {
    shared: Arc<Shared>,
    claims: Map<String, Value>,
    extra_header: Map<String, Value>,
    kid: KidChoice,
    typ: Option<String>,
}

impl fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kid = match &self.kid {
            KidChoice::Current => "<current>",
            KidChoice::Named(kid) => kid.as_str(),
            KidChoice::Omitted => "<none>",
        };
        f.debug_struct("TokenBuilder")
            .field("claims", &self.claims)
            .field("extra_header", &self.extra_header)
            .field("kid", &kid)
            .field("typ", &self.typ)
            .finish_non_exhaustive()
    }
}

/// `value` as JSON; a value that has no JSON form (e.g. a map with non-string
/// keys) becomes `null`.
fn to_json(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl TokenBuilder {
    fn set(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Sets `sub`.
    pub fn subject(self, subject: impl Into<String>) -> Self {
        self.set("sub", Value::String(subject.into()))
    }

    /// Sets `client_id`.
    pub fn client_id(self, client_id: impl Into<String>) -> Self {
        self.set("client_id", Value::String(client_id.into()))
    }

    /// Overrides `iss`.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.set("iss", Value::String(issuer.into()))
    }

    /// Adds one audience: with one, `aud` is a JSON string; with several, an
    /// array.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        let audience = Value::String(audience.into());
        let aud = match self.claims.remove("aud") {
            Some(Value::String(previous)) => Value::Array(vec![Value::String(previous), audience]),
            Some(Value::Array(mut previous)) => {
                previous.push(audience);
                Value::Array(previous)
            }
            _ => audience,
        };
        self.set("aud", aud)
    }

    /// Sets `scope` to the scopes joined with spaces.
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.scope(scopes.join(" "))
    }

    /// Sets `scope` verbatim (e.g. `"read write"`).
    pub fn scope(self, scope: impl Into<String>) -> Self {
        self.set("scope", Value::String(scope.into()))
    }

    /// Sets the `organization_id` claim.
    pub fn organization(self, organization_id: impl Into<String>) -> Self {
        self.set("organization_id", Value::String(organization_id.into()))
    }

    /// A token for a global API resource: adds `resource` as audience.
    pub fn for_global_api(self, resource: impl Into<String>) -> Self {
        self.audience(resource)
    }

    /// An organization token: adds the audience
    /// `urn:logto:organization:{organization_id}`.
    pub fn for_organization(self, organization_id: impl AsRef<str>) -> Self {
        let audience = format!("{ORGANIZATION_AUDIENCE_PREFIX}{}", organization_id.as_ref());
        self.audience(audience)
    }

    /// A token for an API resource within an organization: adds `resource` as
    /// audience and sets `organization_id`.
    pub fn for_org_resource(
        self,
        resource: impl Into<String>,
        organization_id: impl Into<String>,
    ) -> Self {
        self.audience(resource).organization(organization_id)
    }

    /// Sets `exp` to now plus `lifetime` (whole seconds).
    pub fn expires_in(self, lifetime: Duration) -> Self {
        let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        self.expires_at(now().saturating_add(seconds))
    }

    /// Sets `exp` (Unix seconds; may be in the past).
    pub fn expires_at(self, exp: i64) -> Self {
        self.set("exp", Value::from(exp))
    }

    /// Sets `nbf` (Unix seconds).
    pub fn not_before(self, nbf: i64) -> Self {
        self.set("nbf", Value::from(nbf))
    }

    /// Sets `iat` (Unix seconds).
    pub fn issued_at(self, iat: i64) -> Self {
        self.set("iat", Value::from(iat))
    }

    /// Puts `kid` in the header. The token is signed with that key if the
    /// issuer has (or had) it, else with the current signing key.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = KidChoice::Named(kid.into());
        self
    }

    /// Leaves `kid` out of the header (signs with the current key).
    pub fn no_kid(mut self) -> Self {
        self.kid = KidChoice::Omitted;
        self
    }

    /// Sets the header `typ` (`None` leaves it out). The default is
    /// `"at+jwt"`.
    pub fn typ(mut self, typ: Option<&str>) -> Self {
        self.typ = typ.map(str::to_owned);
        self
    }

    /// Sets or overrides any payload claim, with any JSON value (e.g. `exp`
    /// as a string). A value with no JSON form becomes `null`.
    pub fn claim(self, name: impl AsRef<str>, value: impl Serialize) -> Self {
        let value = to_json(value);
        self.set(name.as_ref(), value)
    }

    /// Removes a payload claim (including the defaults `iss`, `sub`, `exp`…).
    pub fn remove_claim(mut self, name: impl AsRef<str>) -> Self {
        self.claims.remove(name.as_ref());
        self
    }

    /// Adds a header field (e.g. `crit`, `jku`). It overrides the generated
    /// `alg`, `kid` and `typ` fields, but the token is still signed with the
    /// algorithm of the chosen key.
    pub fn header(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        self.extra_header.insert(name.into(), to_json(value));
        self
    }

    /// The payload as it would be signed.
    pub fn payload(&self) -> Value {
        Value::Object(self.claims.clone())
    }

    /// Signs the token and returns it in compact JWS form.
    pub fn sign(self) -> String {
        let (key, header_kid) = match self.kid {
            KidChoice::Current => {
                let key = Arc::clone(&lock(&self.shared.state).current);
                let kid = key.kid.clone();
                (key, Some(kid))
            }
            KidChoice::Named(kid) => (self.shared.key_or_current(&kid), Some(kid)),
            KidChoice::Omitted => (Arc::clone(&lock(&self.shared.state).current), None),
        };
        let mut header = Map::new();
        header.insert("alg".into(), Value::String(alg_name(key.alg)));
        if let Some(typ) = self.typ {
            header.insert("typ".into(), Value::String(typ));
        }
        if let Some(kid) = header_kid {
            header.insert("kid".into(), Value::String(kid));
        }
        header.extend(self.extra_header);
        let header = Value::Object(header).to_string();
        let payload = Value::Object(self.claims).to_string();
        sign_with(&key, header.as_bytes(), payload.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use jsonwebtoken::{Validation, decode, decode_header};

    fn client() -> reqwest::Client {
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = client().get(url).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap().to_vec();
        (status, headers, body)
    }

    async fn get_json(url: &str) -> Value {
        let (status, _, body) = get(url).await;
        assert_eq!(status, 200);
        serde_json::from_slice(&body).unwrap()
    }

    fn b64_json(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    fn parts(token: &str) -> (Value, Value) {
        let mut it = token.split('.');
        let header = b64_json(it.next().unwrap());
        let payload = b64_json(it.next().unwrap());
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        (header, payload)
    }

    fn served_key(jwks: &Value, kid: &str) -> DecodingKey {
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap_or_else(|| panic!("kid {kid} not served"));
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
        DecodingKey::from_jwk(&jwk).unwrap()
    }

    fn verify(issuer: &TestIssuer, jwks: &Value, token: &str) -> Value {
        let header = decode_header(token).unwrap();
        let kid = header.kid.unwrap();
        let mut validation = Validation::new(header.alg);
        validation.validate_aud = false;
        validation.set_issuer(&[issuer.issuer()]);
        decode::<Value>(token, &served_key(jwks, &kid), &validation)
            .unwrap()
            .claims
    }

    #[tokio::test]
    async fn discovery_document_names_the_issuer() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        assert_eq!(
            issuer.issuer(),
            format!("http://127.0.0.1:{}/oidc", issuer.addr().port())
        );
        let doc = get_json(&issuer.discovery_url()).await;
        assert_eq!(doc["issuer"], issuer.issuer());
        assert_eq!(doc["jwks_uri"], issuer.jwks_uri());
        assert_eq!(doc["token_endpoint"], format!("{}/token", issuer.issuer()));
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["ES256"])
        );
        assert_eq!(issuer.discovery_requests(), 1);
        assert_eq!(issuer.jwks_requests(), 0);

        issuer.set_discovery_issuer(Some("https://elsewhere.example/oidc".into()));
        let doc = get_json(&issuer.discovery_url()).await;
        assert_eq!(doc["issuer"], "https://elsewhere.example/oidc");
        assert_eq!(doc["jwks_uri"], issuer.jwks_uri());
        issuer.set_discovery_issuer(None);
        let doc = get_json(&issuer.discovery_url()).await;
        assert_eq!(doc["issuer"], issuer.issuer());
        assert_eq!(issuer.discovery_requests(), 3);
    }

    #[tokio::test]
    async fn jwks_lists_every_key_type_and_tokens_verify() {
        let issuer = TestIssuer::with_algorithms(&[
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ])
        .await;
        let (status, headers, body) = get(&issuer.jwks_uri()).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/jwk-set+json");
        assert_eq!(headers["cache-control"], "max-age=600");
        let jwks: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(jwks, issuer.jwks_json());
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 4);
        let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert_eq!(kids, issuer.kids());
        assert_eq!(kids, ["rs256-1", "es256-2", "es384-3", "eddsa-4"]);
        assert_eq!(issuer.current_kid(), "rs256-1");

        let decode_len = |v: &Value| URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap().len();
        for key in keys {
            assert_eq!(key["use"], "sig");
            assert!(key.get("d").is_none(), "private part published: {key}");
        }
        let (rsa, p256, p384, ed) = (&keys[0], &keys[1], &keys[2], &keys[3]);
        assert_eq!(rsa["kty"], "RSA");
        assert_eq!(rsa["alg"], "RS256");
        assert_eq!(rsa["e"], "AQAB");
        assert_eq!(decode_len(&rsa["n"]), 256);
        assert_eq!(
            (&p256["kty"], &p256["crv"], &p256["alg"]),
            (&json!("EC"), &json!("P-256"), &json!("ES256"))
        );
        assert_eq!((decode_len(&p256["x"]), decode_len(&p256["y"])), (32, 32));
        assert_eq!(
            (&p384["kty"], &p384["crv"], &p384["alg"]),
            (&json!("EC"), &json!("P-384"), &json!("ES384"))
        );
        assert_eq!((decode_len(&p384["x"]), decode_len(&p384["y"])), (48, 48));
        assert_eq!(
            (&ed["kty"], &ed["crv"], &ed["alg"]),
            (&json!("OKP"), &json!("Ed25519"), &json!("EdDSA"))
        );
        assert_eq!(decode_len(&ed["x"]), 32);
        assert!(ed.get("y").is_none());

        for kid in issuer.kids() {
            let token = issuer.token().kid(kid.clone()).subject("alice").sign();
            let (header, _) = parts(&token);
            assert_eq!(header["kid"], kid);
            assert_eq!(header["typ"], "at+jwt");
            assert_eq!(header["alg"], alg_name(issuer.algorithm_of(&kid).unwrap()));
            let claims = verify(&issuer, &jwks, &token);
            assert_eq!(claims["sub"], "alice");
            assert_eq!(claims["client_id"], "test-client");
            // The same key through the convenience accessor.
            let header = decode_header(&token).unwrap();
            let mut validation = Validation::new(header.alg);
            validation.validate_aud = false;
            decode::<Value>(&token, &issuer.decoding_key(&kid).unwrap(), &validation).unwrap();
        }
        // The default token is signed by the first key.
        let claims = verify(&issuer, &jwks, &issuer.token().sign());
        assert_eq!(claims["sub"], "user-1");
    }

    #[tokio::test]
    async fn token_builder_shapes_header_and_payload() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::EdDSA]).await;
        let before = now();
        let (header, payload) = parts(&issuer.token().sign());
        assert_eq!(
            header,
            json!({"alg": "EdDSA", "typ": "at+jwt", "kid": issuer.current_kid()})
        );
        assert_eq!(payload["iss"], issuer.issuer());
        assert_eq!(payload["sub"], "user-1");
        assert_eq!(payload["client_id"], "test-client");
        let iat = payload["iat"].as_i64().unwrap();
        assert!(iat >= before && iat <= now());
        assert_eq!(payload["exp"].as_i64().unwrap(), iat + 3600);
        for absent in ["nbf", "aud", "scope", "organization_id"] {
            assert!(payload.get(absent).is_none(), "{absent}");
        }

        let (_, payload) = parts(&issuer.token().audience("https://api").sign());
        assert_eq!(payload["aud"], "https://api");
        let (_, payload) = parts(
            &issuer
                .token()
                .audience("a")
                .audience("b")
                .audience("c")
                .sign(),
        );
        assert_eq!(payload["aud"], json!(["a", "b", "c"]));
        let (_, payload) = parts(&issuer.token().scopes(["read", "write"]).sign());
        assert_eq!(payload["scope"], "read write");
        let (_, payload) = parts(&issuer.token().scopes(Vec::<String>::new()).sign());
        assert_eq!(payload["scope"], "");
        let (_, payload) = parts(&issuer.token().scope("a  b").sign());
        assert_eq!(payload["scope"], "a  b");
        let (_, payload) = parts(&issuer.token().for_global_api("https://api").sign());
        assert_eq!(payload["aud"], "https://api");
        let (_, payload) = parts(&issuer.token().for_organization("org-1").sign());
        assert_eq!(payload["aud"], "urn:logto:organization:org-1");
        assert!(payload.get("organization_id").is_none());
        let (_, payload) = parts(
            &issuer
                .token()
                .for_org_resource("https://api", "org-2")
                .sign(),
        );
        assert_eq!(payload["aud"], "https://api");
        assert_eq!(payload["organization_id"], "org-2");

        let token = issuer
            .token()
            .subject("bob")
            .client_id("app")
            .issuer("https://evil")
            .issued_at(10)
            .not_before(20)
            .expires_at(30)
            .claim("exp", "soon")
            .claim("extra", json!({"nested": [1, 2]}))
            .remove_claim("client_id")
            .header("crit", ["exp"])
            .header("jku", "https://evil/jwks")
            .typ(None)
            .no_kid()
            .sign();
        let (header, payload) = parts(&token);
        assert_eq!(
            header,
            json!({"alg": "EdDSA", "crit": ["exp"], "jku": "https://evil/jwks"})
        );
        assert_eq!(
            payload,
            json!({"iss": "https://evil", "sub": "bob", "iat": 10, "nbf": 20, "exp": "soon", "extra": {"nested": [1, 2]}})
        );

        let (_, payload) = parts(&issuer.token().expires_in(Duration::from_secs(60)).sign());
        let exp = payload["exp"].as_i64().unwrap();
        assert!(exp >= before + 60 && exp <= now() + 60);

        // Header overrides win over the generated fields.
        let (header, _) = parts(&issuer.token().typ(Some("JWT")).header("alg", "none").sign());
        assert_eq!(header["alg"], "none");
        assert_eq!(header["typ"], "JWT");

        // An unknown kid is named in the header, signed with the current key.
        let token = issuer.token().kid("nope").sign();
        let (header, _) = parts(&token);
        assert_eq!(header["kid"], "nope");
        let mut validation = Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.validate_aud = false;
        decode::<Value>(
            &token,
            &issuer.decoding_key(&issuer.current_kid()).unwrap(),
            &validation,
        )
        .unwrap();
    }

    #[tokio::test]
    async fn sign_raw_signs_the_bytes_given() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        let kid = issuer.current_kid();
        let header = br#"{"alg":"ES256","kid":"x","kid":"y"}"#;
        let token = issuer.sign_raw(&kid, header, b"[1,2,3]");
        let mut it = token.split('.');
        assert_eq!(URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap(), header);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap(),
            b"[1,2,3]"
        );
        let (message, signature) = token.rsplit_once('.').unwrap();
        let key = issuer.decoding_key(&kid).unwrap();
        assert!(
            jsonwebtoken::crypto::verify(
                signature,
                message.as_bytes(),
                &key,
                jsonwebtoken::Algorithm::ES256
            )
            .unwrap()
        );
        assert!(
            !jsonwebtoken::crypto::verify(
                signature,
                b"other",
                &key,
                jsonwebtoken::Algorithm::ES256
            )
            .unwrap()
        );
    }

    #[tokio::test]
    async fn public_key_der_is_spki() {
        use aws_lc_rs::signature::{ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

        let issuer = TestIssuer::start().await;
        let rsa_kid = issuer.current_kid();
        let ed_kid = issuer.add_key(Algorithm::EdDSA);
        for (kid, alg) in [
            (
                rsa_kid,
                &RSA_PKCS1_2048_8192_SHA256 as &dyn aws_lc_rs::signature::VerificationAlgorithm,
            ),
            (ed_kid, &ED25519),
        ] {
            let der = issuer.public_key_der(&kid).unwrap();
            assert_eq!(der.first(), Some(&0x30));
            let token = issuer.token().kid(kid.clone()).sign();
            let (message, signature) = token.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            // aws-lc-rs accepts SubjectPublicKeyInfo for RSA; Ed25519 wants the raw key.
            let public = if kid.starts_with("eddsa") {
                der[der.len() - 32..].to_vec()
            } else {
                der.clone()
            };
            UnparsedPublicKey::new(alg, public)
                .verify(message.as_bytes(), &signature)
                .unwrap();
            let pem = issuer.public_key_pem(&kid).unwrap();
            assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
            assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
            assert!(pem.lines().all(|line| line.len() <= 64));
        }
        assert!(issuer.public_key_der("unknown").is_none());
        let hs = issuer.add_key(Algorithm::HS256);
        assert!(issuer.public_key_der(&hs).is_none());
        assert_eq!(issuer.jwk(&hs).unwrap()["kty"], "oct");
    }

    #[tokio::test]
    async fn keys_are_added_rotated_and_removed() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        let first = issuer.current_kid();
        let second = issuer.add_key(Algorithm::EdDSA);
        assert_ne!(first, second);
        assert_eq!(issuer.kids(), [first.as_str(), second.as_str()]);
        assert_eq!(issuer.current_kid(), second);
        let (header, _) = parts(&issuer.token().sign());
        assert_eq!(
            (&header["alg"], &header["kid"]),
            (&json!("EdDSA"), &json!(second))
        );

        let rotated = issuer.rotate();
        assert_eq!(issuer.kids(), [rotated.as_str()]);
        assert_eq!(issuer.current_kid(), rotated);
        assert_eq!(issuer.algorithm_of(&rotated), Some(Algorithm::EdDSA));
        let jwks = get_json(&issuer.jwks_uri()).await;
        let served: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(served, [rotated.as_str()]);
        verify(&issuer, &jwks, &issuer.token().sign());

        // A rotated-out key can still sign, but is no longer served.
        let old = issuer.token().kid(first.clone()).sign();
        assert_eq!(parts(&old).0["alg"], "ES256");

        let third = issuer.add_key(Algorithm::ES384);
        issuer.remove_key(&rotated);
        issuer.remove_key("never-existed");
        assert_eq!(issuer.kids(), [third.as_str()]);
        issuer.remove_key(&third);
        assert!(issuer.kids().is_empty());
        assert_eq!(get_json(&issuer.jwks_uri()).await, json!({"keys": []}));
        // Still signs with the removed current key.
        assert_eq!(parts(&issuer.token().sign()).0["kid"], json!(third));
    }

    #[tokio::test]
    async fn counters_and_faults() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        get_json(&issuer.jwks_uri()).await;
        get_json(&issuer.jwks_uri()).await;
        get_json(&issuer.discovery_url()).await;
        assert_eq!(
            (issuer.jwks_requests(), issuer.discovery_requests()),
            (2, 1)
        );

        issuer.set_fault(Fault::Status(500));
        let (status, _, body) = get(&issuer.jwks_uri()).await;
        assert_eq!(status, 500);
        assert!(!body.is_empty());
        assert_eq!(issuer.jwks_requests(), 3);
        // Discovery is unaffected by a status fault.
        get_json(&issuer.discovery_url()).await;

        issuer.set_fault(Fault::Status(42));
        assert_eq!(get(&issuer.jwks_uri()).await.0, 500);
        issuer.set_fault(Fault::Status(404));
        assert_eq!(get(&issuer.jwks_uri()).await.0, 404);

        issuer.set_fault(Fault::Body {
            content_type: "text/html".into(),
            body: b"<html>".to_vec(),
        });
        let (status, headers, body) = get(&issuer.jwks_uri()).await;
        assert_eq!((status, body.as_slice()), (200, &b"<html>"[..]));
        assert_eq!(headers["content-type"], "text/html");
        issuer.set_fault(Fault::Body {
            content_type: "bad\nvalue".into(),
            body: b"{}".to_vec(),
        });
        let (status, headers, body) = get(&issuer.jwks_uri()).await;
        assert_eq!((status, body.as_slice()), (200, &b"{}"[..]));
        assert!(headers.get("content-type").is_none());

        issuer.set_fault(Fault::Delay(Duration::from_millis(200)));
        let started = std::time::Instant::now();
        get_json(&issuer.jwks_uri()).await;
        get_json(&issuer.discovery_url()).await;
        assert!(started.elapsed() >= Duration::from_millis(400));

        issuer.set_fault(Fault::None);
        get_json(&issuer.jwks_uri()).await;
        assert_eq!(
            (issuer.jwks_requests(), issuer.discovery_requests()),
            (9, 3)
        );
        issuer.reset_counters();
        assert_eq!(
            (issuer.jwks_requests(), issuer.discovery_requests()),
            (0, 0)
        );
    }

    #[tokio::test]
    async fn stop_refuses_connections_and_restart_serves_the_same_port() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        let client = client();
        let addr = issuer.addr();
        assert!(
            client
                .get(issuer.jwks_uri())
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );

        issuer.stop().await;
        issuer.stop().await; // idempotent
        let error = client.get(issuer.jwks_uri()).send().await.unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());

        issuer.restart().await;
        issuer.restart().await; // idempotent
        assert_eq!(issuer.addr(), addr);
        assert!(
            client
                .get(issuer.jwks_uri())
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
        assert_eq!(
            get_json(&issuer.discovery_url()).await["issuer"],
            issuer.issuer()
        );
    }

    #[tokio::test]
    async fn stop_does_not_wait_for_slow_requests() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        issuer.set_fault(Fault::Delay(Duration::from_secs(30)));
        let url = issuer.jwks_uri();
        let slow = tokio::spawn(async move { client().get(url).send().await });
        while issuer.jwks_requests() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let started = std::time::Instant::now();
        issuer.stop().await;
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(tokio::net::TcpStream::connect(issuer.addr()).await.is_err());
        slow.abort();
        issuer.set_fault(Fault::None);
        issuer.restart().await;
        get_json(&issuer.jwks_uri()).await;
    }

    #[tokio::test]
    async fn server_stops_when_the_last_clone_is_dropped() {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
        let addr = issuer.addr();
        let clone = issuer.clone();
        drop(issuer);
        assert_eq!(
            get_json(&clone.jwks_uri()).await["keys"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        drop(clone);
        let mut refused = false;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused);
    }

    #[test]
    fn works_on_a_multi_thread_runtime_and_rsa_variants_sign() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let issuer = TestIssuer::with_algorithms(&[Algorithm::PS256]).await;
            let jwks = get_json(&issuer.jwks_uri()).await;
            let claims = verify(&issuer, &jwks, &issuer.token().sign());
            assert_eq!(claims["sub"], "user-1");
            assert_eq!(parts(&issuer.token().sign()).0["alg"], "PS256");
        });
    }
}
