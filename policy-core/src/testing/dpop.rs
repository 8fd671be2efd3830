//! DPoP for tests: a client's key ([`DpopKey`]), the proofs it signs
//! ([`ProofBuilder`], [`dpop_proof`]), and the token endpoint's side: the
//! issuer binds a token to the key of the proof its request carried.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lc_rs::digest;
use serde::Serialize;
use serde_json::{Map, Value};

use super::keys::{IssuerKey, b64url};
use crate::Algorithm;
use crate::validator::verify::now;

/// A DPoP client's key pair: the key a bound token names in `cnf.jkt`, and
/// that signs the proofs of every request with that token.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::testing::DpopKey;
/// let key = DpopKey::generate();
/// let proof = key
///     .proof("GET", "https://api.example.com/orders")
///     .token("the-access-token")
///     .sign();
/// assert_eq!(proof.split('.').count(), 3);
/// assert_eq!(key.thumbprint().len(), 43);
/// ```
#[derive(Clone)]
pub struct DpopKey {
    key: Arc<IssuerKey>,
    /// The public JWK with its required members only.
    jwk: Value,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.key.alg)
            .field("jkt", &self.thumbprint())
            .finish()
    }
}

/// Required members of each key type (RFC 7638 §3.2), in lexicographic order.
fn required_members(kty: &str) -> &'static [&'static str] {
    match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        _ => &["crv", "kty", "x"],
    }
}

impl DpopKey {
    /// A new ES256 (P-256) key, the algorithm DPoP clients use most.
    pub fn generate() -> Self {
        Self::with_algorithm(Algorithm::ES256)
    }

    /// A new key for `alg` (RSA keys are 2048 bits; HMAC makes a key that
    /// every validator refuses, for tests of that refusal).
    pub fn with_algorithm(alg: Algorithm) -> Self {
        static SERIAL: AtomicUsize = AtomicUsize::new(1);
        let key = IssuerKey::generate(alg, SERIAL.fetch_add(1, Ordering::Relaxed));
        let kty = key.jwk.get("kty").and_then(Value::as_str).unwrap_or("EC");
        let members = match kty {
            "oct" => &["k", "kty"][..],
            other => required_members(other),
        };
        let jwk = members
            .iter()
            .filter_map(|m| key.jwk.get(*m).map(|v| ((*m).to_owned(), v.clone())))
            .collect::<Map<_, _>>();
        DpopKey {
            key: Arc::new(key),
            jwk: Value::Object(jwk),
        }
    }

    /// The algorithm its proofs are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.key.alg
    }

    /// The public key as the proofs' `jwk` header carries it.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// Its RFC 7638 SHA-256 thumbprint, base64url: a bound token's `cnf.jkt`.
    pub fn thumbprint(&self) -> String {
        let kty = self.jwk.get("kty").and_then(Value::as_str).unwrap_or("EC");
        let canonical = required_members(kty)
            .iter()
            .map(|m| {
                let value = self.jwk.get(*m).cloned().unwrap_or(Value::Null);
                format!("\"{m}\":{value}")
            })
            .collect::<Vec<_>>()
            .join(",");
        b64url(digest::digest(&digest::SHA256, format!("{{{canonical}}}").as_bytes()).as_ref())
    }

    /// A proof for a request with `method` to `url` (its query and fragment
    /// are dropped, as `htu` requires), issued now with a random `jti`; add
    /// the access token with [`ProofBuilder::token`].
    pub fn proof(&self, method: &str, url: &str) -> ProofBuilder {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let mut claims = Map::new();
        claims.insert("jti".into(), Value::String(random_id()));
        claims.insert("htm".into(), Value::String(method.to_owned()));
        claims.insert("htu".into(), Value::String(htu.to_owned()));
        claims.insert("iat".into(), Value::from(now()));
        let mut header = Map::new();
        header.insert("typ".into(), Value::String("dpop+jwt".into()));
        header.insert("alg".into(), Value::String(self.key.alg.as_str().into()));
        header.insert("jwk".into(), self.jwk.clone());
        ProofBuilder {
            key: self.clone(),
            header,
            claims,
        }
    }
}

/// A proof for `method` and `url`, made with `key` for `access_token`, with
/// the server's `nonce` when it asked for one: what a DPoP client sends in
/// the `DPoP` header beside `Authorization: DPoP <access_token>`.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::testing::{dpop_proof, DpopKey};
/// let key = DpopKey::generate();
/// let proof = dpop_proof(&key, "POST", "https://api.example.com/payments", "token", None);
/// assert!(!proof.is_empty());
/// ```
pub fn dpop_proof(
    key: &DpopKey,
    method: &str,
    url: &str,
    access_token: &str,
    nonce: Option<&str>,
) -> String {
    let proof = key.proof(method, url).token(access_token);
    match nonce {
        Some(nonce) => proof.nonce(nonce),
        None => proof,
    }
    .sign()
}

fn random_id() -> String {
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
    let mut bytes = [0u8; 16];
    // The system generator does not fail short of a broken platform.
    let _ = SystemRandom::new().fill(&mut bytes);
    b64url(&bytes)
}

/// One DPoP proof being built: every header member and claim open to
/// being changed or removed, for tests of each check. Made by
/// [`DpopKey::proof`].
#[must_use = "a ProofBuilder does nothing until `.sign()`"]
#[derive(Debug)]
pub struct ProofBuilder {
    key: DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl ProofBuilder {
    /// `ath`, the hash of the access token the proof goes with.
    pub fn token(self, access_token: &str) -> Self {
        let ath = crate::dpop::check::token_hash(access_token);
        self.claim("ath", ath)
    }

    /// `nonce`, the server's (`DPoP-Nonce`).
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", nonce)
    }

    /// `iat`, in seconds since the Unix epoch. Default: now.
    pub fn issued_at(self, iat: i64) -> Self {
        self.claim("iat", iat)
    }

    /// `jti`. Default: 128 random bits.
    pub fn jti(self, jti: &str) -> Self {
        self.claim("jti", jti)
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim.
    pub fn remove_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets any header member (`typ`, `alg`, `jwk`, `crit`…).
    pub fn header(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.header.insert(name.to_owned(), value);
        self
    }

    /// Removes a header member.
    pub fn remove_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// The compact JWS, signed by the key.
    pub fn sign(self) -> String {
        let key = Arc::clone(&self.key.key);
        self.sign_with_key(&key)
    }

    /// The compact JWS, signed by `other` while the header names this key:
    /// a proof whose signature does not verify.
    pub fn sign_with(self, other: &DpopKey) -> String {
        let key = Arc::clone(&other.key);
        self.sign_with_key(&key)
    }

    fn sign_with_key(self, key: &IssuerKey) -> String {
        let header = Value::Object(self.header).to_string();
        let claims = Value::Object(self.claims).to_string();
        key.sign_jws(header.as_bytes(), claims.as_bytes())
    }
}
