//! JSON Web Key Sets: parsing the issuer's published keys (with
//! jsonwebtoken's JWK types) into verification keys parsed once, indexed by `kid`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::algorithm::Algorithm;
use crate::error::TokenError;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};

/// The default algorithm allow-list: every asymmetric JWS algorithm.
pub(crate) const DEFAULT_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One public key, parsed for each allowed algorithm it may verify.
pub(crate) struct VerifyingKey {
    pub kid: Option<String>,
    /// SHA-256 of the public key's DER: identifies the key material across fetches.
    pub thumbprint: [u8; 32],
    /// (algorithm, parsed key) pairs; parsing happens once, at fetch time.
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

impl VerifyingKey {
    /// The parsed key for `alg`, if this key may verify it: its JWK `alg` when
    /// present, else its key type and curve decide.
    pub fn for_algorithm(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.parsed.iter().find(|(a, _)| *a == alg).map(|(_, k)| k)
    }

    /// Parses a JWK into a verifying key for the `allowed` algorithms. `None`
    /// for keys we cannot or must not use (encryption keys, symmetric keys,
    /// unknown types, malformed parameters).
    pub fn from_jwk(jwk: &Jwk, allowed: &[Algorithm]) -> Option<Self> {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return None;
        }
        let declared = match jwk.common.key_algorithm {
            None => None,
            Some(declared) => Some(signature_algorithm(declared)?),
        };
        let candidates: &[Algorithm] = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => &[Algorithm::ES256],
                EllipticCurve::P384 => &[Algorithm::ES384],
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(p) => match p.curve {
                EllipticCurve::Ed25519 => &[Algorithm::EdDSA],
                _ => return None,
            },
            _ => return None,
        };
        let mut parsed = Vec::new();
        for &alg in candidates {
            if !allowed.contains(&alg) || declared.is_some_and(|d| d != alg) {
                continue;
            }
            parsed.push((alg, parse_public_key(&jwk.algorithm, alg)?));
        }
        let (_, first) = parsed.first()?;
        let thumbprint = thumbprint(first.as_ref());
        Some(VerifyingKey {
            kid: jwk.common.key_id.clone(),
            thumbprint,
            parsed,
        })
    }
}

/// The signature algorithm a JWK's `alg` names; `None` for encryption
/// algorithms and names we do not know (the key is then skipped).
fn signature_algorithm(declared: KeyAlgorithm) -> Option<Algorithm> {
    Some(match declared {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// SHA-256 of a public key's DER: identifies key material across fetches.
fn thumbprint(der: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref());
    out
}

fn parse_public_key(params: &AlgorithmParameters, alg: Algorithm) -> Option<ParsedPublicKey> {
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
    match params {
        AlgorithmParameters::RSA(p) => {
            let rsa: &'static sig::RsaParameters = match alg {
                Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
                Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
                Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
                _ => return None,
            };
            let components = RsaPublicKeyComponents {
                n: b64(&p.n)?,
                e: b64(&p.e)?,
            };
            components.to_parsed_public_key(rsa).ok()
        }
        AlgorithmParameters::EllipticCurve(p) => {
            let (ecdsa, len): (&'static sig::EcdsaVerificationAlgorithm, usize) = match alg {
                Algorithm::ES256 => (&sig::ECDSA_P256_SHA256_FIXED, 32),
                Algorithm::ES384 => (&sig::ECDSA_P384_SHA384_FIXED, 48),
                _ => return None,
            };
            let (x, y) = (b64(&p.x)?, b64(&p.y)?);
            if x.len() != len || y.len() != len {
                return None;
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            ParsedPublicKey::new(ecdsa, point).ok()
        }
        AlgorithmParameters::OctetKeyPair(p) => {
            ParsedPublicKey::new(&sig::ED25519, b64(&p.x)?).ok()
        }
        _ => None,
    }
}

/// A fetched key set: usable keys by `kid`, plus those published without one.
#[derive(Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, Vec<Arc<VerifyingKey>>>,
    without_kid: Vec<Arc<VerifyingKey>>,
    /// How many keys of the document were skipped as unusable.
    pub skipped: usize,
}

/// Why a key set document was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeySetError {
    NotJson,
    NoUsableKeys,
}

impl KeySet {
    /// Parses a JWKS document. Unusable entries are skipped (and counted), so
    /// one exotic key does not take the others down; a document with no usable
    /// key at all is refused, so that a broken issuer response never replaces
    /// working keys with none.
    pub fn parse(document: &[u8], allowed: &[Algorithm]) -> Result<KeySet, KeySetError> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let doc: Document = serde_json::from_slice(document).map_err(|_| KeySetError::NotJson)?;
        let mut set = KeySet::default();
        for value in doc.keys {
            let key = serde_json::from_value::<Jwk>(value)
                .ok()
                .and_then(|jwk| VerifyingKey::from_jwk(&jwk, allowed));
            match key {
                Some(key) => set.insert(key),
                None => set.skipped += 1,
            }
        }
        if set.len() == 0 {
            return Err(KeySetError::NoUsableKeys);
        }
        Ok(set)
    }

    fn insert(&mut self, key: VerifyingKey) {
        match key.kid.clone() {
            Some(kid) => self.by_kid.entry(kid).or_default().push(Arc::new(key)),
            None => self.without_kid.push(Arc::new(key)),
        }
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.by_kid.values().map(Vec::len).sum::<usize>() + self.without_kid.len()
    }

    /// Whether the key with this `kid` and thumbprint is still published.
    pub fn contains(&self, kid: Option<&str>, thumbprint: &[u8; 32]) -> bool {
        self.candidates(kid)
            .iter()
            .any(|k| &k.thumbprint == thumbprint)
    }

    /// Verifies `signature` over `signing_input` with a key that `kid` names
    /// and that may be used with `alg`; returns that key's thumbprint.
    ///
    /// No key for `kid`: [`TokenError::UnknownKey`]; keys, but none for `alg`:
    /// [`TokenError::AlgorithmMismatch`]; no key verifies:
    /// [`TokenError::InvalidSignature`].
    pub fn verify(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<[u8; 32], TokenError> {
        // Without a `kid`, every published key is a candidate (issuers with one key often omit it).
        let candidates = self.candidates(kid);
        if candidates.is_empty() {
            return Err(TokenError::UnknownKey);
        }
        let mut usable = candidates
            .iter()
            .filter_map(|k| Some((k.for_algorithm(alg)?, k.thumbprint)))
            .peekable();
        if usable.peek().is_none() {
            return Err(TokenError::AlgorithmMismatch);
        }
        usable
            .find(|(key, _)| key.verify_sig(signing_input, signature).is_ok())
            .map(|(_, thumbprint)| thumbprint)
            .ok_or(TokenError::InvalidSignature)
    }

    /// The keys a token may have been signed with: those with its `kid` (a
    /// duplicated `kid` yields several), or without a `kid` every key.
    fn candidates(&self, kid: Option<&str>) -> Vec<&Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self
                .by_kid
                .get(kid)
                .map(|keys| keys.iter().collect())
                .unwrap_or_default(),
            None => self
                .by_kid
                .values()
                .flatten()
                .chain(&self.without_kid)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A P-256 public key (RFC 7515 appendix A.3).
    const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"ec1",
        "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    #[test]
    fn elliptic_curve_key_is_usable_only_for_its_curve() {
        let set = KeySet::parse(
            format!(r#"{{"keys":[{EC_JWK}]}}"#).as_bytes(),
            DEFAULT_ALGORITHMS,
        )
        .unwrap();
        let key = set.candidates(Some("ec1"))[0].clone();
        assert!(key.for_algorithm(Algorithm::ES256).is_some());
        assert!(key.for_algorithm(Algorithm::ES384).is_none());
        assert!(key.for_algorithm(Algorithm::RS256).is_none());
    }

    #[test]
    fn declared_alg_restricts_the_key() {
        let jwk = EC_JWK.replace(r#""kid":"ec1""#, r#""kid":"ec1","alg":"ES384""#);
        // ES384 declared on a P-256 key: unusable, so the set has no usable key.
        assert_eq!(
            KeySet::parse(
                format!(r#"{{"keys":[{jwk}]}}"#).as_bytes(),
                DEFAULT_ALGORITHMS
            )
            .err(),
            Some(KeySetError::NoUsableKeys)
        );
    }

    #[test]
    fn unusable_keys_are_skipped_and_counted() {
        let doc = format!(
            r#"{{"keys":[{EC_JWK}, {{"kty":"oct","k":"c2VjcmV0","kid":"h"}}, 7, {{"kty":"RSA","kid":"broken"}},
            {{"kty":"EC","crv":"P-256","use":"enc","kid":"enc","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}]}}"#
        );
        let set = KeySet::parse(doc.as_bytes(), DEFAULT_ALGORITHMS).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.skipped, 4);
        assert!(set.candidates(Some("h")).is_empty());
    }

    #[test]
    fn documents_without_usable_keys_are_refused() {
        assert_eq!(
            KeySet::parse(b"not json", DEFAULT_ALGORITHMS).err(),
            Some(KeySetError::NotJson)
        );
        assert_eq!(
            KeySet::parse(br#"{"keys":[]}"#, DEFAULT_ALGORITHMS).err(),
            Some(KeySetError::NoUsableKeys)
        );
        assert_eq!(
            KeySet::parse(br#"{"nokeys":1}"#, DEFAULT_ALGORITHMS).err(),
            Some(KeySetError::NotJson)
        );
    }

    #[test]
    fn disallowed_algorithms_are_not_parsed() {
        let set = KeySet::parse(
            format!(r#"{{"keys":[{EC_JWK}]}}"#).as_bytes(),
            &[Algorithm::RS256],
        );
        assert_eq!(set.err(), Some(KeySetError::NoUsableKeys));
    }
}
