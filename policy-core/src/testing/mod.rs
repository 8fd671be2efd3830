//! An embedded development OpenID issuer for tests and demos.
//!
//! [`TestIssuer`] listens on `127.0.0.1` on a free port and serves a
//! Logto-like discovery document and JWK set under `/oidc`. It mints signed
//! access tokens with [`TestIssuer::token`], rotates keys, counts requests and
//! injects faults, so that token validation can be exercised end to end
//! without a real identity provider.
//!
//! ```
//! # extern crate bearer_policy_core as bearer_policy;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use bearer_policy::testing::TestIssuer;
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

// Binding the loopback port, and lookups that hold by construction, cannot
// fail in a working test environment; those places `expect` with a reason.
#![allow(clippy::expect_used)]

// `keys` makes and uses the key material, `server` answers HTTP, `token`
// builds tokens; this module holds the state they share and the handle.
mod dpop;
mod keys;
mod server;
mod token;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use tokio::net::TcpListener;

pub use self::dpop::{DpopKey, ProofBuilder, dpop_proof};
use self::keys::IssuerKey;
pub use self::server::Fault;
use self::server::Running;
pub use self::token::TokenBuilder;
use crate::Algorithm;

/// Selects the aws-lc-rs provider of `jsonwebtoken` once per process, so that
/// [`TestIssuer::decoding_key`] users do not panic in a build that also
/// enables its `rust_crypto` feature.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    });
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere mid-update of plain data.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// Opaque tokens issued, by token.
    opaque: HashMap<String, OpaqueToken>,
    /// The fault of the introspection endpoint, apart from the JWKS's.
    introspection_fault: Fault,
}

/// An opaque token: what introspection answers while it is active.
struct OpaqueToken {
    answer: serde_json::Map<String, Value>,
    revoked: bool,
}

/// State shared by the handles, the token builders and the server task.
struct Shared {
    addr: SocketAddr,
    issuer: String,
    state: Mutex<State>,
    jwks_requests: AtomicUsize,
    discovery_requests: AtomicUsize,
    introspection_requests: AtomicUsize,
    revocation_requests: AtomicUsize,
    next_serial: AtomicUsize,
}

impl Shared {
    fn fault(&self) -> Fault {
        lock(&self.state).fault.clone()
    }

    fn key(&self, kid: &str) -> Option<Arc<IssuerKey>> {
        lock(&self.state).all.get(kid).cloned()
    }

    fn key_or_current(&self, kid: &str) -> Arc<IssuerKey> {
        let state = lock(&self.state);
        Arc::clone(state.all.get(kid).unwrap_or(&state.current))
    }

    fn new_key(&self, alg: Algorithm) -> Arc<IssuerKey> {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        Arc::new(IssuerKey::generate(alg, serial))
    }
}

// ===== TestIssuer =====

struct Inner {
    shared: Arc<Shared>,
    server: tokio::sync::Mutex<Option<Running>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(running) = self.server.get_mut().take() {
            running.signal_shutdown();
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
///   `Cache-Control: max-age=600`);
/// - `POST /oidc/token/introspection`: RFC 7662 introspection of the opaque
///   tokens it issued ([`TokenBuilder::opaque`]), for its client
///   [`INTROSPECTION_CLIENT_ID`](Self::INTROSPECTION_CLIENT_ID) alone;
/// - `POST /oidc/token/revocation`: RFC 7009 revocation, same client.
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
            published.push(Arc::new(IssuerKey::generate(alg, index + 1)));
        }
        let current = published.first().cloned().expect("at least one algorithm");
        let all = published
            .iter()
            .map(|key| (key.kid.clone(), Arc::clone(key)))
            .collect();

        let shared = Arc::new(Shared {
            addr,
            issuer: server::issuer_url(addr),
            state: Mutex::new(State {
                published,
                all,
                current,
                fault: Fault::None,
                discovery_issuer: None,
                opaque: HashMap::new(),
                introspection_fault: Fault::None,
            }),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
            introspection_requests: AtomicUsize::new(0),
            revocation_requests: AtomicUsize::new(0),
            next_serial: AtomicUsize::new(algs.len() + 1),
        });
        let running = server::spawn(&shared, listener);
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
        server::jwks_uri(&self.shared().issuer)
    }

    /// The discovery document URL, `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        crate::fetch::discovery_url(&self.shared().issuer)
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
        TokenBuilder::new(Arc::clone(&self.inner.shared))
    }

    /// The token endpoint, `{issuer}/token`: a `POST` with the form
    /// `grant_type=client_credentials` (and optionally `scope` and
    /// `resource`, the token's audience) answers an access token. With a
    /// valid DPoP proof for that request (`htm` `POST`, `htu` this URL) in a
    /// `DPoP` header, the token is bound to the proof's key (`cnf.jkt`) and
    /// its `token_type` is `DPoP`; without one it is a `Bearer` token; with
    /// a bad proof the answer is 400 `invalid_dpop_proof`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer())
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
        self.shared().key(kid).map(|key| key.alg)
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

    /// Sets every request counter back to zero.
    pub fn reset_counters(&self) {
        self.shared().jwks_requests.store(0, Ordering::SeqCst);
        self.shared().discovery_requests.store(0, Ordering::SeqCst);
        self.shared()
            .introspection_requests
            .store(0, Ordering::SeqCst);
        self.shared().revocation_requests.store(0, Ordering::SeqCst);
    }

    /// The OAuth client that may call the introspection and revocation
    /// endpoints: [`INTROSPECTION_CLIENT_ID`](Self::INTROSPECTION_CLIENT_ID),
    /// with `client_secret_basic` or `client_secret_post`.
    pub const INTROSPECTION_CLIENT_ID: &'static str = "test-resource-server";

    /// The secret of [`INTROSPECTION_CLIENT_ID`](Self::INTROSPECTION_CLIENT_ID).
    pub const INTROSPECTION_CLIENT_SECRET: &'static str = "test-resource-server-secret";

    /// Introspection of this issuer's opaque tokens as its client
    /// ([`INTROSPECTION_CLIENT_ID`](Self::INTROSPECTION_CLIENT_ID)), the
    /// endpoint from discovery: give it to
    /// [`ValidatorBuilder::introspection`](crate::ValidatorBuilder::introspection).
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use bearer_policy::testing::TestIssuer;
    ///
    /// let issuer = TestIssuer::start().await;
    /// let validator = issuer
    ///     .validator_builder("https://api.example.com")
    ///     .introspection(issuer.introspection())
    ///     .build()
    ///     .unwrap();
    /// let token = issuer.token().scopes(["read:products"]).opaque();
    /// let auth = validator.validate(&token).await.unwrap();
    /// assert_eq!(auth.scopes(), ["read:products"]);
    /// issuer.revoke(&token);
    /// // Refused once its cached result is older than `Introspection::max_age`.
    /// # });
    /// ```
    pub fn introspection(&self) -> crate::Introspection {
        crate::Introspection::new(
            Self::INTROSPECTION_CLIENT_ID,
            Self::INTROSPECTION_CLIENT_SECRET,
        )
    }

    /// The introspection endpoint, `{issuer}/token/introspection` (RFC 7662;
    /// also in the discovery document).
    pub fn introspection_endpoint(&self) -> String {
        server::introspection_endpoint(&self.shared().issuer)
    }

    /// The revocation endpoint, `{issuer}/token/revocation` (RFC 7009; also
    /// in the discovery document).
    pub fn revocation_endpoint(&self) -> String {
        server::revocation_endpoint(&self.shared().issuer)
    }

    /// Revokes an opaque token: introspection answers `active: false` from
    /// now on. Unknown tokens are ignored.
    pub fn revoke(&self, token: &str) {
        if let Some(opaque) = lock(&self.shared().state).opaque.get_mut(token) {
            opaque.revoked = true;
        }
    }

    /// Number of requests served by the introspection endpoint, counting
    /// refused credentials and the ones answered with a [`Fault`].
    pub fn introspection_requests(&self) -> usize {
        self.shared().introspection_requests.load(Ordering::SeqCst)
    }

    /// Number of requests served by the revocation endpoint.
    pub fn revocation_requests(&self) -> usize {
        self.shared().revocation_requests.load(Ordering::SeqCst)
    }

    /// Injects a fault into the answers of the introspection endpoint alone
    /// ([`Fault::Status`], [`Fault::Body`], [`Fault::Delay`]); [`Fault::None`]
    /// clears it. [`stop`](Self::stop) takes the whole issuer down.
    pub fn set_introspection_fault(&self, fault: Fault) {
        lock(&self.shared().state).introspection_fault = fault;
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
        if let Some(running) = running {
            running.stop(Duration::from_secs(1)).await;
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
            let listener = server::bind_again(self.shared().addr).await;
            *server = Some(server::spawn(&self.inner.shared, listener));
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
        key.sign_jws(header_json, payload_json)
    }

    /// The public JWK set document currently served, `{"keys": [...]}`.
    pub fn jwks_json(&self) -> Value {
        server::jwks_document(self.shared())
    }

    /// The public JWK of key `kid` (published or not), if the issuer made it.
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        self.shared().key(kid).map(|key| key.jwk.clone())
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
        self.shared().key(kid)?.spki_der.clone()
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
