//! The issuer's key material: one aws-lc-rs key pair (or HMAC secret) per
//! kid, its public JWK and SubjectPublicKeyInfo, and compact JWS signing with
//! it. Nothing here goes through jsonwebtoken, so that the tokens the
//! validator checks are not produced by the library it builds on.

// Generating keys and signing with keys generated here cannot fail short of
// a broken crypto library; those places `expect` with a reason.
#![allow(clippy::expect_used)]

use aws_lc_rs::encoding::{AsDer as _, PublicKeyX509Der};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
    RsaPublicKeyComponents, RsaSignatureEncoding,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::Algorithm;

pub(super) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How keys for one algorithm are made and used.
#[derive(Clone, Copy)]
enum Kind {
    Hmac(hmac::Algorithm),
    Rsa(&'static RsaSignatureEncoding),
    Ec {
        signing: &'static EcdsaSigningAlgorithm,
        crv: &'static str,
        /// Bytes per coordinate in the uncompressed SEC1 point.
        coordinate_len: usize,
    },
    Ed25519,
}

impl Kind {
    fn of(alg: Algorithm) -> Kind {
        const P256: Kind = Kind::Ec {
            signing: &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            crv: "P-256",
            coordinate_len: 32,
        };
        match alg {
            Algorithm::HS256 => Kind::Hmac(hmac::HMAC_SHA256),
            Algorithm::HS384 => Kind::Hmac(hmac::HMAC_SHA384),
            Algorithm::HS512 => Kind::Hmac(hmac::HMAC_SHA512),
            Algorithm::RS256 => Kind::Rsa(&sig::RSA_PKCS1_SHA256),
            Algorithm::RS384 => Kind::Rsa(&sig::RSA_PKCS1_SHA384),
            Algorithm::RS512 => Kind::Rsa(&sig::RSA_PKCS1_SHA512),
            // aws-lc-rs salts PSS with the digest length, as RFC 7518 requires.
            Algorithm::PS256 => Kind::Rsa(&sig::RSA_PSS_SHA256),
            Algorithm::PS384 => Kind::Rsa(&sig::RSA_PSS_SHA384),
            Algorithm::PS512 => Kind::Rsa(&sig::RSA_PSS_SHA512),
            Algorithm::ES256 => P256,
            Algorithm::ES384 => Kind::Ec {
                signing: &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
                crv: "P-384",
                coordinate_len: 48,
            },
            Algorithm::EdDSA => Kind::Ed25519,
        }
    }
}

/// The private half of a key.
enum Signer {
    /// Boxed: aws-lc-rs keeps whole HMAC contexts inline, over a kilobyte.
    Hmac(Box<hmac::Key>),
    Rsa(RsaKeyPair, &'static RsaSignatureEncoding),
    /// Signs in the fixed-length `r || s` form that JWS uses, not DER.
    Ec(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// One key of the issuer: its private half for signing and its public forms.
pub(super) struct IssuerKey {
    pub(super) kid: String,
    pub(super) alg: Algorithm,
    signer: Signer,
    /// The public JWK as published (for `oct` keys: the secret itself).
    pub(super) jwk: Value,
    /// SubjectPublicKeyInfo DER of the public key; `None` for symmetric keys.
    pub(super) spki_der: Option<Vec<u8>>,
}

impl IssuerKey {
    /// A new key for `alg`; its kid is the lower-case algorithm name and
    /// `serial` (`"rs256-1"`), which tests rely on.
    pub(super) fn generate(alg: Algorithm, serial: usize) -> IssuerKey {
        let name = alg.as_str();
        let kid = format!("{}-{serial}", name.to_ascii_lowercase());
        let (signer, jwk, spki_der) = match Kind::of(alg) {
            Kind::Hmac(algorithm) => {
                let mut secret = [0u8; 64];
                SystemRandom::new()
                    .fill(&mut secret)
                    .expect("system random generator");
                let jwk = json!({
                    "kty": "oct",
                    "kid": kid,
                    "alg": name,
                    "use": "sig",
                    "k": b64url(&secret),
                });
                let key = Box::new(hmac::Key::new(algorithm, &secret));
                (Signer::Hmac(key), jwk, None)
            }
            Kind::Rsa(encoding) => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key generation");
                let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                let jwk = json!({
                    "kty": "RSA",
                    "kid": kid,
                    "alg": name,
                    "use": "sig",
                    "n": b64url(&public.n),
                    "e": b64url(&public.e),
                });
                let spki = spki(pair.public_key().as_der());
                (Signer::Rsa(pair, encoding), jwk, Some(spki))
            }
            Kind::Ec {
                signing,
                crv,
                coordinate_len,
            } => {
                let pair = EcdsaKeyPair::generate(signing).expect("ECDSA key generation");
                // `public_key()` is the uncompressed SEC1 point: 0x04 || x || y.
                let (x, y) = pair
                    .public_key()
                    .as_ref()
                    .get(1..)
                    .and_then(|xy| xy.split_at_checked(coordinate_len))
                    .expect("uncompressed EC point");
                let jwk = json!({
                    "kty": "EC",
                    "crv": crv,
                    "kid": kid,
                    "alg": name,
                    "use": "sig",
                    "x": b64url(x),
                    "y": b64url(y),
                });
                let spki = spki(pair.public_key().as_der());
                (Signer::Ec(pair), jwk, Some(spki))
            }
            Kind::Ed25519 => {
                let pair = Ed25519KeyPair::generate().expect("Ed25519 key generation");
                let jwk = json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "kid": kid,
                    "alg": name,
                    "use": "sig",
                    "x": b64url(pair.public_key().as_ref()),
                });
                let spki = spki(pair.public_key().as_der());
                (Signer::Ed25519(pair), jwk, Some(spki))
            }
        };
        IssuerKey {
            kid,
            alg,
            signer,
            jwk,
            spki_der,
        }
    }

    /// The compact JWS of `header_json` and `payload_json`, used byte for
    /// byte, signed with this key's algorithm whatever the header says.
    pub(super) fn sign_jws(&self, header_json: &[u8], payload_json: &[u8]) -> String {
        let mut jws = format!("{}.{}", b64url(header_json), b64url(payload_json));
        let signature = self.signature(jws.as_bytes());
        jws.push('.');
        jws.push_str(&b64url(&signature));
        jws
    }

    fn signature(&self, message: &[u8]) -> Vec<u8> {
        match &self.signer {
            Signer::Hmac(key) => hmac::sign(key, message).as_ref().to_vec(),
            Signer::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &SystemRandom::new(), message, &mut signature)
                    .expect("RSA signing with a key generated for it");
                signature
            }
            Signer::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .expect("ECDSA signing with a key generated for it")
                .as_ref()
                .to_vec(),
            Signer::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }
}

fn spki(der: Result<PublicKeyX509Der<'static>, Unspecified>) -> Vec<u8> {
    der.expect("a generated public key serializes to SubjectPublicKeyInfo")
        .as_ref()
        .to_vec()
}
