//! Keys without discovery: a JWKS document or PEM public keys given to the
//! validator, for air-gapped services and tests. They go through the same
//! judgement as fetched keys (no private keys, no HMAC, RSA size and ROCA),
//! but as configuration: a key a fetched set would skip refuses the whole
//! set here, named, before it can be deployed.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::pem::{PemObject as _, SectionKind};
use serde_json::{Value, json};
use spki::der::Decode as _;
use spki::der::asn1::UintRef;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use crate::algorithm::Algorithm;
use crate::error::ConfigError;
use crate::jwks::{KeySet, KeySetError, MAX_KEYS_TRIED_WITHOUT_KID};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Why PEM text holding a private key is refused, whichever kind of block.
const PRIVATE_PEM: &str = "a private key was given: give its public key";

/// Verification keys given up front instead of fetched from the issuer: no
/// network at all. Read and judged once, when the validator is built (or
/// when [`Validator::reload_keys`](crate::Validator::reload_keys) replaces them).
///
/// The key rules of fetched keys apply, strictly: where a fetched set skips a
/// key with a warning, a given set is a [`ConfigError::InvalidKeys`] at
/// [`build`](crate::ValidatorBuilder::build) (and at `reload_keys`, which
/// then keeps the old keys) naming each key (`keys[2] (kid "a")`, `keys[3]`,
/// or `PEM block 2`) and why. Every key must be able to verify a token: an
/// RSA modulus of 2048 to 8192 bits without the ROCA fingerprint, an EC
/// P-256 or P-384 or Ed25519 key, no private key, no symmetric (`oct`) key
/// or other type, `use`/`key_ops` allowing verification, at most
/// [`MAX_JWKS_KEYS`](crate::MAX_JWKS_KEYS) keys, and one key per `kid`. A
/// key must verify at least one algorithm of the validator's allow-list
/// (after its own `alg`): an RSA key under an allow-list of `ES256` only is
/// refused, an RSA key whose `alg` is `RS256` under `[RS256, PS256]` is
/// fine. One key listed twice with different `alg`s (e.g. `RS256` and
/// `PS256`) is one key for both.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{StaticKeys, Validator};
///
/// let pem = "-----BEGIN PUBLIC KEY-----
/// MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
/// -----END PUBLIC KEY-----";
/// let validator = Validator::builder()
///     .issuer("https://auth.internal.example")
///     .audience("https://api.internal.example")
///     .keys(StaticKeys::pem(pem))
///     .build()?;
/// # Ok::<(), bearer_policy::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaticKeys {
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    Jwks(String),
    JwksFile(PathBuf),
    Pem(String),
    PemFile(PathBuf),
}

impl StaticKeys {
    /// A JSON Web Key Set document (`{"keys": [...]}`), as an issuer publishes
    /// it. Tokens are matched to keys by `kid` exactly as with a fetched set.
    pub fn jwks(document: impl Into<String>) -> Self {
        StaticKeys {
            source: Source::Jwks(document.into()),
        }
    }

    /// A JWKS document in a file, read once when the validator is built (at
    /// most [`max_response_bytes`](crate::ValidatorBuilder::max_response_bytes)).
    pub fn jwks_file(path: impl Into<PathBuf>) -> Self {
        StaticKeys {
            source: Source::JwksFile(path.into()),
        }
    }

    /// PEM `PUBLIC KEY` blocks (X.509 SubjectPublicKeyInfo, what
    /// `openssl pkey -pubout` writes): RSA, EC P-256 or P-384, or Ed25519, one
    /// or more. Other PEM blocks are ignored, except private keys (of any
    /// kind, encrypted or not), which are refused. A PEM key has no `kid`, so any token's `kid` may use it: a
    /// token is tried against at most
    /// [`MAX_KEYS_TRIED_WITHOUT_KID`](crate::MAX_KEYS_TRIED_WITHOUT_KID) keys
    /// of its algorithm, in the order given.
    pub fn pem(text: impl Into<String>) -> Self {
        StaticKeys {
            source: Source::Pem(text.into()),
        }
    }

    /// PEM public keys in a file, read once when the validator is built (at
    /// most [`max_response_bytes`](crate::ValidatorBuilder::max_response_bytes)).
    pub fn pem_file(path: impl Into<PathBuf>) -> Self {
        StaticKeys {
            source: Source::PemFile(path.into()),
        }
    }

    /// Where the keys come from, for messages: `static JWKS`, `static PEM` or the file.
    pub(crate) fn describe(&self) -> String {
        match &self.source {
            Source::Jwks(_) => "static JWKS".to_owned(),
            Source::Pem(_) => "static PEM keys".to_owned(),
            Source::JwksFile(path) | Source::PemFile(path) => path.display().to_string(),
        }
    }

    /// These keys refused for `reason`.
    pub(crate) fn invalid(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError::InvalidKeys {
            origin: self.describe(),
            reason: reason.into(),
        }
    }

    /// Reads (files at most `max_bytes`) and judges the keys.
    pub(crate) fn load(
        &self,
        algorithms: &[Algorithm],
        max_bytes: usize,
    ) -> Result<KeySet, ConfigError> {
        let invalid = |reason: String| self.invalid(reason);
        let read = |path: &Path| read_bounded(path, max_bytes).map_err(invalid);
        let keys = match &self.source {
            Source::Jwks(text) => KeySet::parse_given(text.as_bytes(), algorithms),
            Source::JwksFile(path) => KeySet::parse_given(&read(path)?, algorithms),
            Source::Pem(text) => pem_key_set(text.as_bytes(), algorithms).map_err(invalid)?,
            Source::PemFile(path) => pem_key_set(&read(path)?, algorithms).map_err(invalid)?,
        };
        let keys = keys.map_err(|e| self.invalid(e.to_string()))?;
        if keys.matches_any_kid() {
            // PEM keys have no `kid`: a token is tried against the first few only.
            if let Some(alg) = algorithms
                .iter()
                .find(|&&alg| keys.count_for(alg) > MAX_KEYS_TRIED_WITHOUT_KID)
            {
                return Err(self.invalid(format!(
                    "more than {MAX_KEYS_TRIED_WITHOUT_KID} PEM keys verify {alg}, and a token \
                     is tried against the first {MAX_KEYS_TRIED_WITHOUT_KID} only: give a JWKS \
                     with a `kid` per key"
                )));
            }
        }
        Ok(keys)
    }
}

fn read_bounded(path: &Path, max_bytes: usize) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {}", e.kind()))?;
    let mut bytes = Vec::new();
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {}", e.kind()))?;
    if bytes.len() > max_bytes {
        return Err(format!("larger than {max_bytes} bytes"));
    }
    Ok(bytes)
}

/// The PEM public keys as one key set that ignores `kid`s.
fn pem_key_set(
    text: &[u8],
    algorithms: &[Algorithm],
) -> Result<Result<KeySet, KeySetError>, String> {
    // Any private key block, encrypted or of a kind the PEM parser skips
    // (`ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`), is a mistake to report.
    // Like the PEM parser, a `-----BEGIN ` anywhere in a line opens a block.
    let begins_private = |line: &[u8]| {
        line.windows(11)
            .position(|w| w == b"-----BEGIN ")
            .and_then(|at| line.get(at..))
            .is_some_and(|label| label.windows(11).any(|w| w == b"PRIVATE KEY"))
    };
    if text.split(|&b| b == b'\n').any(begins_private) {
        return Err(PRIVATE_PEM.into());
    }
    let mut jwks = Vec::new();
    for (index, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(text).enumerate() {
        let (kind, der) = section.map_err(|_| "malformed PEM".to_owned())?;
        // Counted from 1 over every block, as a reader of the file counts them.
        let name = format!("PEM block {}", index + 1);
        match kind {
            SectionKind::PublicKey => {
                let jwk = spki_to_jwk(&der).map_err(|reason| format!("{name}: {reason}"))?;
                jwks.push((name, jwk));
            }
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey => {
                return Err(PRIVATE_PEM.into());
            }
            _ => {}
        }
    }
    if jwks.is_empty() {
        return Err("no PEM `PUBLIC KEY` block".into());
    }
    Ok(KeySet::from_given(jwks, algorithms).map(KeySet::matching_any_kid))
}

/// A SubjectPublicKeyInfo as the JWK of the same public key, so that it is
/// judged and parsed exactly as a published key.
fn spki_to_jwk(der: &[u8]) -> Result<Value, String> {
    let unsupported =
        || "a public key of a type other than RSA, P-256, P-384 or Ed25519".to_owned();
    let malformed = || "a `PUBLIC KEY` block that is not a valid public key".to_owned();
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| malformed())?;
    let key = spki.subject_public_key.as_bytes().ok_or_else(malformed)?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match spki.algorithm.oid {
        RSA_ENCRYPTION => {
            let rsa = pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(key).map_err(|_| malformed())?;
            Ok(json!({
                "kty": "RSA",
                "n": b64(rsa.modulus.as_bytes()),
                "e": b64(rsa.public_exponent.as_bytes()),
            }))
        }
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or_else(malformed)?;
            let (crv, len) = match curve {
                P256 => ("P-256", 32),
                P384 => ("P-384", 48),
                _ => return Err(unsupported()),
            };
            // An uncompressed point: 0x04, then x and y of `len` bytes each.
            match key.split_first() {
                Some((0x04, xy)) if xy.len() == 2 * len => {
                    let (x, y) = xy.split_at(len);
                    Ok(json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)}))
                }
                _ => Err(malformed()),
            }
        }
        ED25519 => Ok(json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key)})),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwks::DEFAULT_ALGORITHMS;

    // `openssl genpkey -algorithm ed25519 | openssl pkey -pubout`
    const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----";

    fn load(keys: StaticKeys) -> Result<KeySet, ConfigError> {
        keys.load(DEFAULT_ALGORITHMS, 1 << 20)
    }

    fn reason(result: Result<KeySet, ConfigError>) -> String {
        match result {
            Err(ConfigError::InvalidKeys { reason, .. }) => reason,
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn an_ed25519_pem_key_becomes_one_key_for_eddsa_only() {
        let set = load(StaticKeys::pem(ED25519_PEM)).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.contains(None, Algorithm::EdDSA, &set_thumbprint(&set)));
        let other = load(StaticKeys::pem(ED25519_PEM)).unwrap().verify(
            Some("any"),
            Algorithm::ES256,
            b"x",
            b"y",
        );
        assert_eq!(other, Err(crate::TokenError::AlgorithmMismatch));
    }

    fn set_thumbprint(set: &KeySet) -> [u8; 32] {
        set.thumbprints().next().unwrap()
    }

    #[test]
    fn hostile_pem_is_refused_with_a_reason() {
        assert_eq!(
            reason(load(StaticKeys::pem(""))),
            "no PEM `PUBLIC KEY` block"
        );
        assert_eq!(
            reason(load(StaticKeys::pem(
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
            ))),
            "PEM block 1: a `PUBLIC KEY` block that is not a valid public key"
        );
        for label in [
            "PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ] {
            let block = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
            assert_eq!(
                reason(load(StaticKeys::pem(format!("{ED25519_PEM}\n{block}")))),
                "a private key was given: give its public key",
                "{label}"
            );
        }
        // An EdDSA key under an allow-list without EdDSA: nothing usable.
        assert_eq!(
            reason(StaticKeys::pem(ED25519_PEM).load(&[Algorithm::RS256], 1 << 20)),
            "PEM block 1: verifies none of the allowed algorithms"
        );
    }

    #[test]
    fn given_keys_are_refused_where_a_fetched_set_would_only_warn() {
        let jwk = |d: Option<&str>| {
            let mut key = json!({"kty": "OKP", "crv": "Ed25519", "kid": "a",
                "x": "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE"});
            if let Some(d) = d {
                key["d"] = json!(d);
            }
            key
        };
        let private = json!({"keys": [jwk(None), jwk(Some("AQAB"))]}).to_string();
        assert_eq!(
            reason(load(StaticKeys::jwks(private))),
            "keys[1] (kid \"a\"): a private key: give only its public key"
        );
        assert!(load(StaticKeys::jwks(json!({"keys": [jwk(None)]}).to_string())).is_ok());
    }

    #[test]
    fn more_pem_keys_of_one_algorithm_than_a_token_is_tried_against_are_refused() {
        let pem = |seed: u8| {
            let der = [
                &[
                    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
                ][..],
                &[seed; 32][..],
            ]
            .concat();
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
        };
        let four: String = (1..=4).map(pem).collect();
        assert_eq!(load(StaticKeys::pem(four.clone())).unwrap().len(), 4);
        let five = four + &pem(5);
        assert!(
            reason(load(StaticKeys::pem(five))).starts_with("more than 4 PEM keys verify EdDSA"),
        );
    }

    #[test]
    fn jwks_text_and_files_are_judged_like_fetched_sets() {
        assert_eq!(
            reason(load(StaticKeys::jwks("[]"))),
            "not a JSON Web Key Set"
        );
        assert_eq!(
            reason(load(StaticKeys::jwks(
                r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#
            ))),
            "keys[0]: a symmetric (`oct`) key: HMAC is never accepted"
        );
        let missing = StaticKeys::jwks_file("/nonexistent/bearer-policy/jwks.json");
        assert_eq!(reason(load(missing)), "cannot be read: entity not found");
        let dir = std::env::temp_dir().join(format!("bearer-policy-static-{}", std::process::id()));
        std::fs::write(&dir, "x".repeat(100)).unwrap();
        assert_eq!(
            reason(StaticKeys::pem_file(&dir).load(DEFAULT_ALGORITHMS, 10)),
            "larger than 10 bytes"
        );
        std::fs::remove_file(&dir).unwrap();
    }

    /// DER: `tag`, its length, `content`.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let len = content.len();
        let mut out = vec![tag];
        match len {
            0..=127 => out.push(len as u8),
            128..=255 => out.extend([0x81, len as u8]),
            _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    /// A PEM `PUBLIC KEY` block of the RSA key (`n`, `e`), big-endian bytes.
    fn rsa_pem(n: &[u8], e: &[u8]) -> String {
        // Positive and minimal: a zero byte only before a high bit.
        let integer = |bytes: &[u8]| {
            let mut content = Vec::new();
            if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                content.push(0);
            }
            content.extend_from_slice(bytes);
            der(0x02, &content)
        };
        let rsa = der(0x30, &[integer(n), integer(e)].concat());
        let algorithm = der(
            0x30,
            &[
                der(
                    0x06,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                ),
                vec![0x05, 0x00],
            ]
            .concat(),
        );
        let bits = der(0x03, &[&[0u8][..], &rsa].concat());
        let spki = der(0x30, &[algorithm, bits].concat());
        let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
    }

    #[test]
    fn a_pem_key_that_could_never_verify_is_refused_by_its_block_number() {
        // A 1024-bit odd modulus: parses, but aws-lc never verifies with it.
        let mut n1024 = vec![0xc5; 128];
        n1024[127] = 0x01;
        let weak = rsa_pem(&n1024, &[1, 0, 1]);
        assert_eq!(
            reason(load(StaticKeys::pem(format!("{ED25519_PEM}\n{weak}")))),
            "PEM block 2: an RSA key outside 2048..=8192 bits or with an unusable exponent"
        );
        // Alone, the Ed25519 key is fine; and loads again after the refusal.
        assert_eq!(load(StaticKeys::pem(ED25519_PEM)).unwrap().len(), 1);
        // `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 | openssl pkey -pubout`
        let p521 = "-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQBw6K9FWstDbkVduztzQMX39BGUtI/
GgLL5krEl8yKFfVHk4yTR0Sh6aaF9nb/jSGcRErKP9JKT0JR6jcq3XVbt7kBNWeQ
gDVPHv18IDDMDhh5cZMzDUgM0qCCMTUwn4pXYko7pxKG5FQ7p2Mo6nQ2OAhMRkW8
5bY33v/i7vXEeUj6Mf0=
-----END PUBLIC KEY-----";
        assert_eq!(
            reason(load(StaticKeys::pem(format!("{ED25519_PEM}\n{p521}")))),
            "PEM block 2: a public key of a type other than RSA, P-256, P-384 or Ed25519"
        );
    }
}
