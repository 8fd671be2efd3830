//! The verification pipeline: a compact JWS taken apart (three segments,
//! base64url, header and claims), its algorithm allowed, routed by `iss` to
//! one issuer's keys, its signature verified, and `exp`/`nbf` checked
//! against the clock. Caching is the [`Validator`](super::Validator)'s; this
//! module judges one token.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::algorithm::Algorithm;
use crate::claims::{self, VerifiedClaims};
use crate::error::{Error, TokenError};
use crate::issuers::TrustedIssuers;

/// What a token must satisfy besides its issuer's signature (documented on
/// the builder).
pub(super) struct TokenRules {
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway: i64,
    pub required_type: Option<String>,
}

impl TokenRules {
    /// The full verification of a token not in the cache, with the keys of
    /// the issuer its `iss` names among `issuers`.
    pub async fn verify(
        &self,
        token: &str,
        issuers: &TrustedIssuers,
    ) -> Result<Arc<VerifiedClaims>, Error> {
        let (signing_input, header_b64, payload_b64, signature_b64) = split(token)?;
        let header =
            claims::parse_header(&decode_segment(header_b64, "the header is not base64url")?)?;
        let alg = allowed_algorithm(&header.alg, &self.algorithms)?;
        if header.has_crit {
            return Err(TokenError::CriticalHeader.into());
        }
        if let Some(required) = &self.required_type {
            let typ = header.typ.as_deref().unwrap_or("");
            if !media_type_eq(typ, required) {
                return Err(TokenError::WrongType.into());
            }
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| TokenError::Malformed("the signature is not base64url"))?;

        // Routed by `iss`, the one claim read before the signature is
        // checked: only the keys of a configured issuer are ever looked at or
        // fetched, and a forged payload costs its decoding, no more.
        let payload = decode_segment(payload_b64, "the payload is not base64url")?;
        let issuer = claims::issuer(&payload)?;
        let (issuer_index, trusted) = issuers.route(&issuer).ok_or(TokenError::WrongIssuer)?;
        let store = &trusted.store;

        let kid = header.kid.as_deref();
        let snapshot = store.snapshot();
        let mut generation = snapshot.generation;
        let mut verdict = snapshot.keys.verify(kid, alg, signing_input, &signature);
        drop(snapshot);
        if verdict == Err(TokenError::UnknownKey) {
            // Only a key we do not have justifies asking the issuer again.
            let refreshed = store.fetch_for_missing_key(generation).await?;
            generation = refreshed.generation;
            verdict = refreshed.keys.verify(kid, alg, signing_input, &signature);
        }
        let key_thumbprint = verdict?;

        let raw = claims::parse_claims(&payload)?;
        let expires_at = raw.exp.ok_or(TokenError::MissingClaim("exp"))?;
        check_time(expires_at, raw.nbf, self.leeway)?;
        Ok(Arc::new(VerifiedClaims {
            issuer,
            sub: raw.sub,
            client_id: raw.client_id,
            organization_id: raw.organization_id,
            scopes: raw.scopes,
            audience: raw.audience,
            expires_at,
            not_before: raw.nbf,
            key_id: header.kid,
            key_thumbprint,
            key_algorithm: alg,
            key_generation: generation,
            issuer_index,
            payload: payload.into_boxed_slice(),
            configured_audience: trusted.audience.clone(),
            confirmation: raw.confirmation,
        }))
    }

    /// The checks a cached token still needs: the clock, and whether its key
    /// is still published and still allows the token's algorithm (`Ok(false)`
    /// if not: it is then verified afresh). No allocation, no lock.
    pub fn recheck(
        &self,
        claims: &VerifiedClaims,
        issuers: &TrustedIssuers,
    ) -> Result<bool, TokenError> {
        check_time(claims.expires_at, claims.not_before, self.leeway)?;
        let Some(trusted) = issuers.get(claims.issuer_index) else {
            return Ok(false);
        };
        let snapshot = trusted.store.snapshot();
        Ok(snapshot.generation == claims.key_generation
            || snapshot.keys.contains(
                claims.key_id.as_deref(),
                claims.key_algorithm,
                &claims.key_thumbprint,
            ))
    }
}

/// RFC 7515 §4.1.9 `typ`: case-insensitive, `application/` optional on either side.
pub(crate) fn media_type_eq(a: &str, b: &str) -> bool {
    fn short(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => {
                t.get(12..).unwrap_or("")
            }
            _ => t,
        }
    }
    short(a).eq_ignore_ascii_case(short(b))
}

/// Splits a compact JWS into its signing input and three segments.
pub(super) fn split(token: &str) -> Result<(&[u8], &str, &str, &str), TokenError> {
    let malformed = TokenError::Malformed("a JWT has three dot-separated segments");
    let (signing_input, signature) = token.rsplit_once('.').ok_or(malformed.clone())?;
    let (header, payload) = signing_input.split_once('.').ok_or(malformed.clone())?;
    if header.is_empty() || payload.is_empty() || payload.contains('.') {
        return Err(malformed);
    }
    Ok((signing_input.as_bytes(), header, payload, signature))
}

fn decode_segment(segment: &str, not_base64url: &'static str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed(not_base64url))
}

/// The header's algorithm, if allowed. `none` (any spelling) and HMAC are
/// never allowed with keys from a JWKS.
pub(super) fn allowed_algorithm(
    name: &str,
    allowed: &[Algorithm],
) -> Result<Algorithm, TokenError> {
    let alg: Algorithm = name.parse().map_err(|_| TokenError::AlgorithmNotAllowed)?;
    if alg.is_hmac() || !allowed.contains(&alg) {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    Ok(alg)
}

/// `exp` and `nbf` against the clock, with the leeway.
pub(crate) fn check_time(
    expires_at: i64,
    not_before: Option<i64>,
    leeway: i64,
) -> Result<(), TokenError> {
    let now = now();
    if expires_at.saturating_add(leeway) <= now {
        return Err(TokenError::Expired);
    }
    if not_before.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// The current Unix time in whole seconds (0 if the clock is before 1970).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
