//! Hand-made tokens: base64url, HMAC and token surgery for attack tokens,
//! and the clock their times are read against.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The base64url alphabet, for tests that corrupt encodings character by character.
pub const B64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding, as JWS uses it.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; panics on anything else (test input is ours).
pub fn b64url_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// Decodes base64url that may carry non-canonical trailing bits, as a lax
/// decoder would: what an attacker hopes a validator does.
pub fn b64url_decode_lax(text: &str) -> Vec<u8> {
    use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
    const LAX: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    LAX.decode(text).expect("base64url")
}

/// HMAC with SHA-256, SHA-384 or SHA-512 (`bits`), for algorithm-confusion tokens.
pub fn hmac_sha(bits: u16, key: &[u8], message: &[u8]) -> Vec<u8> {
    let algorithm = match bits {
        256 => hmac::HMAC_SHA256,
        384 => hmac::HMAC_SHA384,
        512 => hmac::HMAC_SHA512,
        other => panic!("no HMAC-SHA{other}"),
    };
    hmac::sign(&hmac::Key::new(algorithm, key), message)
        .as_ref()
        .to_vec()
}

/// A compact JWS with `header` and `payload`, signed with HMAC-SHA`bits` under `secret`.
pub fn hmac_token(bits: u16, header: &Value, payload: &Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes())
    );
    let mac = hmac_sha(bits, secret, input.as_bytes());
    format!("{input}.{}", b64url(&mac))
}

/// `(header, payload, signature)` segments of a compact JWS.
pub fn segments(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    let parts = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    assert!(it.next().is_none(), "three segments");
    parts
}

/// The JSON inside a base64url segment.
pub fn decode_json(segment: &str) -> Value {
    serde_json::from_slice(&b64url_decode(segment)).unwrap()
}

/// Replaces the payload of a signed token, keeping its header and signature.
pub fn with_payload(token: &str, payload: &Value) -> String {
    let (header, _, signature) = segments(token);
    format!(
        "{header}.{}.{signature}",
        b64url(payload.to_string().as_bytes())
    )
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
