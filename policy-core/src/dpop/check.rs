//! The checks of one DPoP proof against its request (RFC 9449 §4.3), in
//! order: one `DPoP` header, its form, `typ`, `alg`, the `jwk` (judged as a
//! published key is), the signature, `htm`, `htu`, `iat`, `ath`, the key's
//! thumbprint against the token's `cnf.jkt`, the nonce, and last the `jti`,
//! recorded only for a proof that passed everything else.

use std::time::Duration;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};

use super::config::DpopRules;
use super::error::DpopError;
use super::proof;
use super::replay::{Recorded, ReplayStoreError};
use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::jwks::VerifyingKey;
use crate::request::RequestHead;
use crate::validator::verify::{media_type_eq, now};

/// The `DPoP` header's name.
pub(crate) const DPOP: &str = "dpop";

/// Verifies the proof of `request`, made for `token`, whose binding is `jkt`.
pub(crate) async fn verify(
    rules: &DpopRules,
    request: &RequestHead<'_>,
    token: &str,
    jkt: &str,
) -> Result<(), Error> {
    let mut values = request.headers().get_all(DPOP).into_iter();
    let value = values.next().ok_or(DpopError::MissingProof)?;
    if values.next().is_some() {
        return Err(DpopError::MultipleProofs.into());
    }
    let proof = proof::parse(value.as_bytes())?;
    let jti = verify_proof(rules, &proof, request, token, jkt, now())?;
    let iat = proof.claims.issued_at()?;
    // Remembered while it could be accepted: until `iat + max_age`.
    let ttl = iat
        .saturating_add(rules.max_age)
        .saturating_sub(now())
        .max(0)
        .saturating_add(1);
    let ttl = Duration::from_secs(u64::try_from(ttl).unwrap_or(1));
    match rules.replay.record(jti, ttl).await {
        Ok(Recorded::New) => Ok(()),
        Ok(Recorded::Seen) => Err(DpopError::Replayed.into()),
        Err(e) => {
            if e != ReplayStoreError::Full {
                tracing::debug!(reason = %e, "a DPoP proof could not be checked for replay");
            }
            Err(Error::DpopReplayUnavailable {
                retry_after: Duration::from_secs(1),
            })
        }
    }
}

/// Every check but the replay store's, at `now`; the proof's `jti`.
fn verify_proof<'p>(
    rules: &DpopRules,
    proof: &'p proof::Proof<'_>,
    request: &RequestHead<'_>,
    token: &str,
    jkt: &str,
    now: i64,
) -> Result<&'p str, Error> {
    let jwk = signed_by(proof, &rules.algorithms)?;
    let claims = &proof.claims;
    let jti = claims.jti.as_deref().filter(|jti| !jti.is_empty());
    let jti = jti.ok_or(DpopError::MissingClaim("jti"))?;
    let htm = claims
        .htm
        .as_deref()
        .ok_or(DpopError::MissingClaim("htm"))?;
    let htu = claims
        .htu
        .as_deref()
        .ok_or(DpopError::MissingClaim("htu"))?;
    let iat = claims.issued_at()?;
    let ath = claims
        .ath
        .as_deref()
        .ok_or(DpopError::MissingClaim("ath"))?;
    if htm != request.method().as_str() {
        return Err(DpopError::MethodMismatch.into());
    }
    if !rules.public_urls.matches(htu, request.path()) {
        return Err(DpopError::UriMismatch.into());
    }
    if now.saturating_sub(iat) > rules.max_age {
        return Err(DpopError::TooOld.into());
    }
    if iat.saturating_sub(now) > rules.max_ahead {
        return Err(DpopError::IssuedInFuture.into());
    }
    if ath != token_hash(token) {
        return Err(DpopError::TokenHashMismatch.into());
    }
    if thumbprint(&jwk)? != jkt {
        return Err(DpopError::KeyMismatch.into());
    }
    if let Some(nonces) = &rules.nonce
        && !claims
            .nonce
            .as_deref()
            .is_some_and(|nonce| nonces.accepts(nonce, now))
    {
        return Err(Error::UseDpopNonce);
    }
    Ok(jti)
}

/// The proof's key, once its `typ`, `alg` (one of `algorithms`), `jwk`
/// (judged as a published key) and signature hold.
pub(crate) fn signed_by(
    proof: &proof::Proof<'_>,
    algorithms: &[Algorithm],
) -> Result<Jwk, DpopError> {
    let header = &proof.header;
    if !header
        .typ
        .as_deref()
        .is_some_and(|typ| media_type_eq(typ, "dpop+jwt"))
    {
        return Err(DpopError::WrongType);
    }
    if header.crit.is_some() {
        return Err(DpopError::Malformed("the header lists critical extensions"));
    }
    let alg: Algorithm = header
        .alg
        .as_deref()
        .and_then(|alg| alg.parse().ok())
        .filter(|alg: &Algorithm| !alg.is_hmac() && algorithms.contains(alg))
        .ok_or(DpopError::AlgorithmNotAllowed)?;
    let jwk = header.jwk.clone().ok_or(DpopError::InvalidKey)?;
    let (key, jwk) = VerifyingKey::judged(jwk, &[alg]).map_err(|_| DpopError::InvalidKey)?;
    let parsed = key.for_algorithm(alg).ok_or(DpopError::InvalidKey)?;
    parsed
        .verify_sig(proof.signing_input, &proof.signature)
        .map_err(|_| DpopError::InvalidSignature)?;
    Ok(jwk)
}

/// The RFC 7638 SHA-256 thumbprint of `jwk`, as `cnf.jkt` carries it: the
/// required members in lexicographic order, no whitespace. Written here
/// rather than with `Jwk::thumbprint`, which panics when jsonwebtoken's two
/// crypto features are both on and no provider was installed.
pub(crate) fn thumbprint(jwk: &Jwk) -> Result<String, DpopError> {
    let text = |value: &str| serde_json::to_string(value).map_err(|_| DpopError::InvalidKey);
    let canonical = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) => {
            let crv = serde_json::to_string(&ec.curve).map_err(|_| DpopError::InvalidKey)?;
            format!(
                r#"{{"crv":{crv},"kty":"EC","x":{},"y":{}}}"#,
                text(&ec.x)?,
                text(&ec.y)?
            )
        }
        AlgorithmParameters::RSA(rsa) => {
            format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                text(&rsa.e)?,
                text(&rsa.n)?
            )
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            let crv = serde_json::to_string(&okp.curve).map_err(|_| DpopError::InvalidKey)?;
            format!(r#"{{"crv":{crv},"kty":"OKP","x":{}}}"#, text(&okp.x)?)
        }
        _ => return Err(DpopError::InvalidKey),
    };
    Ok(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes())))
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 §4.2).
pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}
