//! A DPoP proof taken apart (RFC 9449 §4.2): one compact JWS, its header
//! (`typ`, `alg`, `jwk`) and claims (`jti`, `htm`, `htu`, `iat`, `ath`,
//! `nonce`) in their registered JSON types, each at most once. Parsing
//! judges nothing but form; [`super::check`] does the rest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::error::DpopError;

/// The longest proof read: an RSA-8192 `jwk` and signature fit well within.
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// The longest `jti` remembered: a random identifier needs far less.
pub const MAX_JTI_LEN: usize = 256;

/// A proof's parts, borrowed from the header value where possible.
#[derive(Debug)]
pub(crate) struct Proof<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
    pub header: ProofHeader,
    pub claims: ProofClaims,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProofHeader {
    pub typ: Option<String>,
    pub alg: Option<String>,
    pub jwk: Option<serde_json::Value>,
    /// Any `crit` is refused: no extension is understood.
    pub crit: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProofClaims {
    pub jti: Option<String>,
    pub htm: Option<String>,
    pub htu: Option<String>,
    pub iat: Option<serde_json::Number>,
    pub ath: Option<String>,
    pub nonce: Option<String>,
}

impl ProofClaims {
    /// `iat` in whole seconds (a fraction is cut), if it is a finite number.
    pub fn issued_at(&self) -> Result<i64, DpopError> {
        let iat = self.iat.as_ref().ok_or(DpopError::MissingClaim("iat"))?;
        if let Some(seconds) = iat.as_i64() {
            return Ok(seconds);
        }
        match iat.as_f64() {
            // Saturating: a date beyond i64 is refused by the window anyway.
            #[allow(clippy::cast_possible_truncation)]
            Some(seconds) if seconds.is_finite() => Ok(seconds as i64),
            _ => Err(DpopError::Malformed("iat is not a number")),
        }
    }
}

/// Parses the value of the `DPoP` header into a proof's parts.
pub(crate) fn parse(value: &[u8]) -> Result<Proof<'_>, DpopError> {
    if value.len() > MAX_PROOF_LEN {
        return Err(DpopError::Malformed("the proof is too long"));
    }
    if !value
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(DpopError::Malformed("a character outside base64url"));
    }
    let mut segments = value.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(DpopError::Malformed(
            "a JWT has three dot-separated segments",
        ));
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(DpopError::Malformed("an empty segment"));
    }
    let signing_input =
        value
            .get(..header.len() + 1 + payload.len())
            .ok_or(DpopError::Malformed(
                "a JWT has three dot-separated segments",
            ))?;
    let decode = |segment: &[u8], what| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| DpopError::Malformed(what))
    };
    let header: ProofHeader =
        serde_json::from_slice(&decode(header, "the header is not base64url")?).map_err(|_| {
            DpopError::Malformed("the header is not a JSON object of the registered types")
        })?;
    let claims: ProofClaims =
        serde_json::from_slice(&decode(payload, "the payload is not base64url")?).map_err(
            |_| DpopError::Malformed("the claims are not a JSON object of the registered types"),
        )?;
    if claims
        .jti
        .as_ref()
        .is_some_and(|jti| jti.len() > MAX_JTI_LEN)
    {
        return Err(DpopError::Malformed("the jti is too long"));
    }
    Ok(Proof {
        signing_input,
        signature: decode(signature, "the signature is not base64url")?,
        header,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_well_formed_proof_is_taken_apart() {
        let value = format!(
            "{}.{}.c2ln",
            b64(r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC"}}"#),
            b64(r#"{"jti":"1","htm":"GET","htu":"https://a.example/","iat":1.5,"ath":"x"}"#)
        );
        let proof = parse(value.as_bytes()).unwrap();
        assert_eq!(proof.header.typ.as_deref(), Some("dpop+jwt"));
        assert_eq!(proof.claims.issued_at(), Ok(1));
        assert_eq!(proof.signature, b"sig");
        assert!(value.as_bytes().starts_with(proof.signing_input));
    }

    #[test]
    fn malformed_proofs_are_refused_with_a_reason() {
        let header = b64(r#"{"alg":"ES256"}"#);
        let claims = b64(r#"{"jti":"1"}"#);
        let cases = [
            format!("{header}.{claims}"),
            format!("{header}.{claims}.c2ln.x"),
            format!("{header}..c2ln"),
            format!("{header}.{claims}.c2ln="),
            format!("{header} .{claims}.c2ln"),
            format!("{}.{claims}.c2ln", b64("[1]")),
            format!("{}.{claims}.c2ln", b64(r#"{"alg":1}"#)),
            format!("{}.{claims}.c2ln", b64(r#"{"alg":"a","alg":"b"}"#)),
            format!("{header}.{}.c2ln", b64(r#"{"iat":"now"}"#)),
            format!(
                "{header}.{}.c2ln",
                b64(&format!(r#"{{"jti":"{}"}}"#, "j".repeat(300)))
            ),
            format!("{header}.{claims}.{}", "A".repeat(MAX_PROOF_LEN)),
        ];
        for case in cases {
            assert!(
                matches!(parse(case.as_bytes()), Err(DpopError::Malformed(_))),
                "{case:.80}"
            );
        }
    }
}
