//! One published JWK judged and parsed: whether it may verify anything at
//! all (RFC 7517 intended use, no private parameters, RSA size and exponent,
//! ROCA, the curve), and for which of the allowed algorithms.

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use serde_json::Value;

use crate::algorithm::Algorithm;

/// Smallest and largest RSA modulus we accept, in bits: what aws-lc will
/// verify with, judged when the set is parsed rather than on every token.
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// Why a key is not used. In a fetched set the first three are the issuer's
/// mistakes an operator must hear about (one warning per set) and the rest
/// ordinary entries of a shared key set (counted); in a given set every one
/// is a configuration error, reported with [`reason`](Self::reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// It carries private parameters: the issuer published its private key,
    /// and anyone can sign with it.
    PrivateKey,
    /// An RSA modulus with the ROCA fingerprint (CVE-2017-15361): factorable.
    Roca,
    /// An RSA modulus outside 2048..=8192 bits or an unusable exponent.
    WeakRsa,
    /// Meant for something other than verifying signatures (`use`, `key_ops`).
    NotForSignatures,
    /// A symmetric (`oct`) key: a shared secret, and HMAC is never accepted.
    Symmetric,
    /// A key type, curve or algorithm we do not verify with, or a key `alg`
    /// that does not fit its key type.
    Unsupported,
    /// A usable key, but for none of the allowed algorithms (after its own `alg`).
    NotAllowed,
    /// Not a JWK, or parameters that do not form a public key.
    Malformed,
}

impl Unusable {
    /// Why, in words an operator reads next to the key's name.
    pub fn reason(self) -> &'static str {
        match self {
            Unusable::PrivateKey => "a private key: give only its public key",
            Unusable::Roca => "an RSA modulus with the ROCA fingerprint (CVE-2017-15361)",
            Unusable::WeakRsa => "an RSA key outside 2048..=8192 bits or with an unusable exponent",
            Unusable::NotForSignatures => "its `use` or `key_ops` is not signature verification",
            Unusable::Symmetric => "a symmetric (`oct`) key: HMAC is never accepted",
            Unusable::Unsupported => "a key type, curve or `alg` this crate does not verify with",
            Unusable::NotAllowed => "verifies none of the allowed algorithms",
            Unusable::Malformed => "not a valid public JWK",
        }
    }
}

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

    /// Adds the algorithms of `other`, a second listing of this key.
    pub fn merge(&mut self, other: VerifyingKey) {
        for (alg, parsed) in other.parsed {
            if self.for_algorithm(alg).is_none() {
                self.parsed.push((alg, parsed));
            }
        }
    }

    /// Judges one entry of a JWKS's `keys` array and parses it for the
    /// `allowed` algorithms.
    pub fn from_value(value: Value, allowed: &[Algorithm]) -> Result<Self, Unusable> {
        Self::judged(value, allowed).map(|(key, _)| key)
    }

    /// [`from_value`](Self::from_value), keeping the typed JWK: a key that
    /// arrives with a request (a DPoP proof's `jwk`) is judged as a
    /// published one, and its RFC 7638 thumbprint is the JWK's.
    pub fn judged(value: Value, allowed: &[Algorithm]) -> Result<(Self, Jwk), Unusable> {
        let Value::Object(members) = &value else {
            return Err(Unusable::Malformed);
        };
        if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
            return Err(Unusable::PrivateKey);
        }
        match members.get("kty").and_then(Value::as_str) {
            Some("RSA" | "EC" | "OKP") => {}
            // Its secret is `k`, not a private member: refused by type.
            Some("oct") => return Err(Unusable::Symmetric),
            Some(_) => return Err(Unusable::Unsupported),
            None => return Err(Unusable::Malformed),
        }
        let jwk: Jwk = serde_json::from_value(value).map_err(|_| Unusable::Malformed)?;
        Ok((Self::from_jwk(&jwk, allowed)?, jwk))
    }

    fn from_jwk(jwk: &Jwk, allowed: &[Algorithm]) -> Result<Self, Unusable> {
        // RFC 7517 §4.2–4.3: `use` and `key_ops` both state the intended use.
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
            || jwk
                .common
                .key_operations
                .as_ref()
                .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        {
            return Err(Unusable::NotForSignatures);
        }
        let declared = match jwk.common.key_algorithm {
            None => None,
            Some(declared) => Some(signature_algorithm(declared).ok_or(Unusable::Unsupported)?),
        };
        let candidates: &[Algorithm] = match &jwk.algorithm {
            AlgorithmParameters::RSA(p) => {
                check_rsa(&decode(&p.n)?, &decode(&p.e)?)?;
                &[
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ]
            }
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => &[Algorithm::ES256],
                EllipticCurve::P384 => &[Algorithm::ES384],
                _ => return Err(Unusable::Unsupported),
            },
            AlgorithmParameters::OctetKeyPair(p) => match p.curve {
                EllipticCurve::Ed25519 => &[Algorithm::EdDSA],
                _ => return Err(Unusable::Unsupported),
            },
            _ => return Err(Unusable::Unsupported),
        };
        if declared.is_some_and(|d| !candidates.contains(&d)) {
            return Err(Unusable::Unsupported);
        }
        let mut parsed = Vec::new();
        for &alg in candidates {
            if !allowed.contains(&alg) || declared.is_some_and(|d| d != alg) {
                continue;
            }
            parsed.push((alg, parse_public_key(&jwk.algorithm, alg)?));
        }
        let (_, first) = parsed.first().ok_or(Unusable::NotAllowed)?;
        let thumbprint = thumbprint(first.as_ref());
        Ok(VerifyingKey {
            kid: jwk.common.key_id.clone(),
            thumbprint,
            parsed,
        })
    }
}

fn decode(b64: &str) -> Result<Vec<u8>, Unusable> {
    URL_SAFE_NO_PAD.decode(b64).map_err(|_| Unusable::Malformed)
}

/// The modulus size aws-lc verifies with, a public exponent that is odd, at
/// least 3 and at most 33 bits (aws-lc's own bound), and no ROCA fingerprint.
fn check_rsa(modulus: &[u8], exponent: &[u8]) -> Result<(), Unusable> {
    let bits = |bytes: &[u8]| match bytes.iter().position(|&b| b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes.get(i).map_or(0, |b| b.leading_zeros() as usize),
        None => 0,
    };
    let odd = |bytes: &[u8]| bytes.last().is_some_and(|b| b & 1 == 1);
    let exponent_bits = bits(exponent);
    if !RSA_MODULUS_BITS.contains(&bits(modulus))
        || !odd(modulus)
        || !odd(exponent)
        || !(2..=33).contains(&exponent_bits)
    {
        return Err(Unusable::WeakRsa);
    }
    if super::roca::has_fingerprint(modulus) {
        return Err(Unusable::Roca);
    }
    Ok(())
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

fn parse_public_key(
    params: &AlgorithmParameters,
    alg: Algorithm,
) -> Result<ParsedPublicKey, Unusable> {
    let parsed = match params {
        AlgorithmParameters::RSA(p) => {
            let rsa: &'static sig::RsaParameters = match alg {
                Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
                Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
                Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
                _ => return Err(Unusable::Unsupported),
            };
            let components = RsaPublicKeyComponents {
                n: decode(&p.n)?,
                e: decode(&p.e)?,
            };
            components.to_parsed_public_key(rsa).ok()
        }
        AlgorithmParameters::EllipticCurve(p) => {
            let (ecdsa, len): (&'static sig::EcdsaVerificationAlgorithm, usize) = match alg {
                Algorithm::ES256 => (&sig::ECDSA_P256_SHA256_FIXED, 32),
                Algorithm::ES384 => (&sig::ECDSA_P384_SHA384_FIXED, 48),
                _ => return Err(Unusable::Unsupported),
            };
            let (x, y) = (decode(&p.x)?, decode(&p.y)?);
            if x.len() != len || y.len() != len {
                return Err(Unusable::Malformed);
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            // Refuses points off the curve.
            ParsedPublicKey::new(ecdsa, point).ok()
        }
        AlgorithmParameters::OctetKeyPair(p) => {
            ParsedPublicKey::new(&sig::ED25519, decode(&p.x)?).ok()
        }
        _ => return Err(Unusable::Unsupported),
    };
    parsed.ok_or(Unusable::Malformed)
}
