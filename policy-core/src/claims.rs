//! Strict, single-pass parsing of a JWT's header and claims: every claim we
//! rely on must have its registered JSON type, and a duplicate is refused,
//! where a lenient parser would skip or pick one silently.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use crate::error::TokenError;

/// The validated claims behind an [`AuthInfo`](crate::AuthInfo).
#[derive(Debug)]
pub(crate) struct VerifiedClaims {
    pub issuer: String,
    pub sub: Option<String>,
    pub client_id: Option<String>,
    pub organization_id: Option<String>,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub expires_at: i64,
    pub not_before: Option<i64>,
    pub key_id: Option<String>,
    /// SHA-256 of the verifying key's public key, to drop cached tokens when it leaves the set.
    pub key_thumbprint: [u8; 32],
    /// The algorithm the key verified the token with.
    pub key_algorithm: crate::Algorithm,
    /// The key set generation the token was verified under.
    pub key_generation: u64,
    /// The position of its issuer among the validator's trusted issuers.
    pub issuer_index: usize,
    /// The decoded payload JSON, for [`AuthInfo::claims`](crate::AuthInfo::claims).
    pub payload: Box<[u8]>,
    pub configured_audience: Option<Arc<str>>,
    /// The key the token is bound to (`cnf`), read once with the other claims.
    pub confirmation: Confirmation,
}

/// What a token's `cnf` claim (RFC 7800) binds it to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// No `cnf`: a bearer token.
    #[default]
    Unbound,
    /// `cnf.jkt`: the RFC 7638 thumbprint of a DPoP key (RFC 9449 §6).
    Jkt(String),
    /// A `cnf` without `jkt` (an mTLS certificate's `x5t#S256`, say): bound
    /// to something no DPoP proof can show, so never usable here.
    Other,
}

/// The JOSE header fields we act on. `jku`, `x5u`, `jwk` and `x5c` are
/// deliberately not read: keys come only from the configured JWKS.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct JoseHeader {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub has_crit: bool,
}

/// The registered claims as they appear in the payload, before the checks
/// that need the clock and the configuration.
#[derive(Debug, Default)]
pub(crate) struct RawClaims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub client_id: Option<String>,
    pub organization_id: Option<String>,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub confirmation: Confirmation,
}

/// A JSON value seen through the types the registered claims may have.
enum Json {
    Str(String),
    Int(i64),
    /// A number that is not an `i64` (a fraction, or out of range).
    Float(f64),
    StrArray(Vec<String>),
    /// An object's members, in order (duplicates kept, to be refused).
    Object(Vec<(String, Json)>),
    Other,
}

pub(crate) fn parse_header(json: &[u8]) -> Result<JoseHeader, TokenError> {
    let mut header = JoseHeader::default();
    let mut alg = None;
    let not_an_object = "the header is not a JSON object";
    for_each_member(
        json,
        not_an_object,
        &["alg", "kid", "typ", "crit"],
        |key, value| {
            match (key, value) {
                ("alg", Json::Str(s)) => set_once(&mut alg, s, "alg")?,
                ("kid", Json::Str(s)) => set_once(&mut header.kid, s, "kid")?,
                ("typ", Json::Str(s)) => set_once(&mut header.typ, s, "typ")?,
                ("crit", _) => header.has_crit = true,
                _ => return Err(TokenError::Malformed("a header field has the wrong type")),
            }
            Ok(())
        },
    )
    .map_err(|e| match e {
        // `set_once` speaks of claims; in the header it is a duplicated field.
        TokenError::InvalidClaim(_) => TokenError::Malformed("a header field appears twice"),
        other => other,
    })?;
    header.alg = alg.ok_or(TokenError::Malformed("the header has no alg"))?;
    Ok(header)
}

const REGISTERED: &[&str] = &[
    "iss",
    "iat",
    "sub",
    "aud",
    "exp",
    "nbf",
    "client_id",
    "organization_id",
    "scope",
    "scp",
    "cnf",
];

/// The payload's `iss`, and nothing else: what routes a token to its
/// issuer's keys before any signature is checked. The rest of the payload is
/// only walked (it must be one JSON object of valid text, `iss` a string,
/// once), without building any value, so that a forged payload costs its
/// length and no more; [`parse_claims`] reads the claims once the signature
/// holds.
pub(crate) fn issuer(json: &[u8]) -> Result<String, TokenError> {
    let mut iss = None;
    for_each_member(
        json,
        "the payload is not a JSON object",
        &["iss"],
        |_, value| set_once(&mut iss, string(value, "iss")?, "iss"),
    )?;
    iss.ok_or(TokenError::MissingClaim("iss"))
}

pub(crate) fn parse_claims(json: &[u8]) -> Result<RawClaims, TokenError> {
    let mut c = RawClaims::default();
    let (mut aud, mut scope, mut scp, mut exp, mut nbf, mut iat, mut cnf) =
        (None, None, None, None, None, None, None);
    for_each_member(
        json,
        "the payload is not a JSON object",
        REGISTERED,
        |key, value| match key {
            "iss" => set_once(&mut c.iss, string(value, "iss")?, "iss"),
            "sub" => set_once(&mut c.sub, string(value, "sub")?, "sub"),
            "client_id" => set_once(&mut c.client_id, string(value, "client_id")?, "client_id"),
            "organization_id" => set_once(
                &mut c.organization_id,
                string(value, "organization_id")?,
                "organization_id",
            ),
            "aud" => {
                let list = match value {
                    Json::Str(s) => vec![s],
                    Json::StrArray(list) => list,
                    _ => return Err(TokenError::InvalidClaim("aud")),
                };
                set_once(&mut aud, list, "aud")
            }
            "scope" => set_once(&mut scope, string(value, "scope")?, "scope"),
            "scp" => {
                let list = match value {
                    Json::StrArray(list) => list,
                    Json::Str(s) => split_scopes(&s),
                    _ => return Err(TokenError::InvalidClaim("scp")),
                };
                set_once(&mut scp, list, "scp")
            }
            "exp" => set_once(&mut exp, numeric_date(value, "exp")?, "exp"),
            "nbf" => set_once(&mut nbf, numeric_date(value, "nbf")?, "nbf"),
            // Not used for a decision, but a claim the application may read: typed like its siblings.
            "iat" => set_once(&mut iat, numeric_date(value, "iat")?, "iat"),
            "cnf" => set_once(&mut cnf, confirmation(value)?, "cnf"),
            _ => Ok(()),
        },
    )?;
    c.audience = aud.unwrap_or_default();
    c.confirmation = cnf.unwrap_or_default();
    c.exp = exp;
    c.nbf = nbf;
    if let Some(scope) = scope {
        c.scopes = split_scopes(&scope);
    }
    if let Some(scp) = scp {
        // A set, not `contains` on the list: thousands of entries in both
        // claims would otherwise cost millions of comparisons.
        let mut seen: HashSet<String> = c.scopes.iter().cloned().collect();
        for s in scp {
            if seen.insert(s.clone()) {
                c.scopes.push(s);
            }
        }
    }
    Ok(c)
}

/// RFC 6749 §3.3: scope tokens separated by spaces (runs of spaces tolerated).
fn split_scopes(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `cnf` (RFC 7800 §3.1): an object; its `jkt`, when present, a string
/// named once. Anything else is an invalid claim, never an unbound token.
fn confirmation(value: Json) -> Result<Confirmation, TokenError> {
    let Json::Object(members) = value else {
        return Err(TokenError::InvalidClaim("cnf"));
    };
    let mut jkt = None;
    for (name, value) in members {
        if name == "jkt" {
            set_once(&mut jkt, string(value, "cnf")?, "cnf")?;
        }
    }
    Ok(jkt.map_or(Confirmation::Other, Confirmation::Jkt))
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), TokenError> {
    if slot.is_some() {
        // Two values for one claim: which one a reader takes is parser-dependent.
        return Err(TokenError::InvalidClaim(name));
    }
    *slot = Some(value);
    Ok(())
}

fn string(value: Json, name: &'static str) -> Result<String, TokenError> {
    match value {
        Json::Str(s) => Ok(s),
        _ => Err(TokenError::InvalidClaim(name)),
    }
}

/// RFC 7519 NumericDate: a JSON number of seconds, possibly fractional
/// (truncated). Strings, and numbers beyond ±2^53, are refused.
fn numeric_date(value: Json, name: &'static str) -> Result<i64, TokenError> {
    const MAX: i64 = 1 << 53;
    match value {
        Json::Int(n) if (-MAX..=MAX).contains(&n) => Ok(n),
        Json::Float(f) if f.is_finite() && f.abs() <= MAX as f64 => Ok(f.trunc() as i64),
        _ => Err(TokenError::InvalidClaim(name)),
    }
}

/// Walks a JSON object's members once, handing the values of `wanted` keys to
/// `f` and skipping the rest without allocating for them.
fn for_each_member(
    json: &[u8],
    not_an_object: &'static str,
    wanted: &[&str],
    mut f: impl FnMut(&str, Json) -> Result<(), TokenError>,
) -> Result<(), TokenError> {
    // RFC 7519 §7.2: the segments must be UTF-8 JSON. serde_json does not check
    // the bytes of values it skips, so check them all here.
    std::str::from_utf8(json).map_err(|_| TokenError::Malformed("the JSON is not UTF-8"))?;
    let mut de = serde_json::Deserializer::from_slice(json);
    let outcome = de
        .deserialize_map(MemberVisitor { wanted, f: &mut f })
        .map_err(|e| {
            if e.is_data() {
                TokenError::Malformed(not_an_object)
            } else {
                TokenError::Malformed("the JSON is invalid")
            }
        })?;
    de.end()
        .map_err(|_| TokenError::Malformed("the JSON is invalid"))?;
    outcome
}

struct MemberVisitor<'w, F> {
    wanted: &'w [&'w str],
    f: &'w mut F,
}

impl<'de, F> Visitor<'de> for MemberVisitor<'_, F>
where
    F: FnMut(&str, Json) -> Result<(), TokenError>,
{
    type Value = Result<(), TokenError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut first_error = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if first_error.is_none() && self.wanted.contains(&key.as_ref()) {
                let value = map.next_value::<Json>()?;
                if let Err(e) = (self.f)(&key, value) {
                    first_error = Some(e);
                }
            } else {
                map.next_value::<Skipped>()?;
            }
        }
        Ok(first_error.map_or(Ok(()), Err))
    }
}

impl<'de> de::Deserialize<'de> for Json {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or(Json::Float(v as f64), Json::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut strings = Vec::new();
        let mut all_strings = true;
        while let Some(item) = seq.next_element::<Json>()? {
            match item {
                Json::Str(s) if all_strings => strings.push(s),
                _ => all_strings = false,
            }
        }
        Ok(if all_strings {
            Json::StrArray(strings)
        } else {
            Json::Other
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Json>()? {
            members.push(member);
        }
        Ok(Json::Object(members))
    }
}

/// The value of member `name` of a verified payload, as JSON; `None` when it
/// is absent, or named more than once: a duplicate is refused here as
/// `AuthInfo::claims::<T>()` refuses it, never decided by the last value.
pub(crate) fn member(payload: &[u8], name: &str) -> Option<serde_json::Value> {
    struct OneMember<'n>(&'n str);

    impl<'de> Visitor<'de> for OneMember<'_> {
        type Value = Option<serde_json::Value>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut found, mut twice) = (None, false);
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == self.0 {
                    let value = map.next_value::<serde_json::Value>()?;
                    twice |= found.replace(value).is_some();
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            Ok(found.filter(|_| !twice))
        }
    }

    serde_json::Deserializer::from_slice(payload)
        .deserialize_map(OneMember(name))
        .ok()
        .flatten()
}

/// A value we do not use, still decoded far enough to refuse what is not
/// JSON text: strings are unescaped (so a lone surrogate `\ud800` fails),
/// unlike serde's `IgnoredAny`, which skips them unchecked.
struct Skipped;

impl<'de> de::Deserialize<'de> for Skipped {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SkippedVisitor)
    }
}

struct SkippedVisitor;

impl<'de> Visitor<'de> for SkippedVisitor {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_none<E: de::Error>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        while map.next_entry::<Skipped, Skipped>()?.is_some() {}
        Ok(Skipped)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Claims for unit tests elsewhere in the crate.
    pub(crate) fn sample_claims() -> VerifiedClaims {
        VerifiedClaims {
            issuer: "https://issuer.test".into(),
            sub: Some("user".into()),
            client_id: None,
            organization_id: None,
            scopes: Vec::new(),
            audience: Vec::new(),
            expires_at: i64::MAX,
            not_before: None,
            key_id: None,
            key_thumbprint: [0; 32],
            key_algorithm: crate::Algorithm::ES256,
            key_generation: 1,
            issuer_index: 0,
            payload: Box::new(*b"{}"),
            configured_audience: None,
            confirmation: Confirmation::Unbound,
        }
    }

    #[test]
    fn registered_claims_are_read_with_their_types() {
        let c = parse_claims(
            br#"{"iss":"https://i","sub":"u","aud":["a","b"],"exp":10,"nbf":5.9,
                "scope":"read  write","scp":["write","admin"],"organization_id":"o","client_id":"c","extra":{"x":[1]}}"#,
        )
        .unwrap();
        assert_eq!(c.iss.as_deref(), Some("https://i"));
        assert_eq!(c.audience, ["a", "b"]);
        assert_eq!(c.exp, Some(10));
        assert_eq!(c.nbf, Some(5));
        assert_eq!(c.scopes, ["read", "write", "admin"]);
        assert_eq!(c.organization_id.as_deref(), Some("o"));
        assert_eq!(c.client_id.as_deref(), Some("c"));
    }

    #[test]
    fn scp_entries_join_the_scopes_once_in_order_however_many() {
        let scope: Vec<String> = (0..1400).map(|i| format!("s{i}")).collect();
        // Half of `scp` repeats `scope`, and every `scp` entry comes twice.
        let scp: Vec<String> = (700..2100)
            .flat_map(|i| [format!("s{i}"), format!("s{i}")])
            .collect();
        let json = serde_json::json!({ "scope": scope.join(" "), "scp": scp }).to_string();
        let c = parse_claims(json.as_bytes()).unwrap();
        let expected: Vec<String> = (0..2100).map(|i| format!("s{i}")).collect();
        assert_eq!(c.scopes, expected);
    }

    #[test]
    fn one_member_is_read_and_a_duplicated_one_refused() {
        let payload = br#"{"role":"staff","nested":{"role":"x"},"dup":1,"dup":2}"#;
        assert_eq!(member(payload, "role"), Some(serde_json::json!("staff")));
        assert_eq!(
            member(payload, "nested"),
            Some(serde_json::json!({"role": "x"}))
        );
        assert_eq!(member(payload, "dup"), None, "named twice: refused");
        assert_eq!(member(payload, "absent"), None);
    }

    #[test]
    fn audience_may_be_a_single_string() {
        assert_eq!(parse_claims(br#"{"aud":"a"}"#).unwrap().audience, ["a"]);
    }

    #[test]
    fn claims_of_the_wrong_type_are_refused_not_skipped() {
        let cases: &[(&[u8], &str)] = &[
            (br#"{"exp":"10"}"#, "exp"),
            (br#"{"nbf":true}"#, "nbf"),
            (br#"{"exp":1e300}"#, "exp"),
            (br#"{"aud":{"a":1}}"#, "aud"),
            (br#"{"aud":["a",1]}"#, "aud"),
            (br#"{"iss":["https://i"]}"#, "iss"),
            (br#"{"scope":5}"#, "scope"),
            (br#"{"organization_id":7}"#, "organization_id"),
            (br#"{"sub":null}"#, "sub"),
        ];
        for (json, claim) in cases {
            let err = parse_claims(json).unwrap_err();
            assert_eq!(
                err,
                TokenError::InvalidClaim(claim),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn text_that_is_not_json_is_refused_even_in_unused_members() {
        for json in [
            &b"{\"note\":\"a\xe1b\"}"[..],
            b"{\"note\":\"\\ud800\"}",
            b"{\"x\":[{\"y\":\"\\udc00x\"}]}",
            b"{\"\\ud800\":1}",
        ] {
            assert!(
                matches!(parse_claims(json), Err(TokenError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
        assert!(parse_claims(br#"{"note":"\ud83d\ude00 fine"}"#).is_ok());
    }

    #[test]
    fn iat_must_be_a_numeric_date() {
        assert_eq!(
            parse_claims(br#"{"iat":"yesterday"}"#).unwrap_err(),
            TokenError::InvalidClaim("iat")
        );
        assert!(parse_claims(br#"{"iat":1700000000.5}"#).is_ok());
    }

    #[test]
    fn cnf_binds_to_a_jkt_or_to_a_key_of_another_kind_and_is_strictly_typed() {
        let confirmation = |json: &str| parse_claims(json.as_bytes()).map(|c| c.confirmation);
        assert_eq!(confirmation(r#"{"sub":"a"}"#), Ok(Confirmation::Unbound));
        assert_eq!(
            confirmation(r#"{"cnf":{"jkt":"abc","extra":[1,{"x":2}]}}"#),
            Ok(Confirmation::Jkt("abc".into()))
        );
        // Escaped names are the same names.
        assert_eq!(
            confirmation(r#"{"\u0063nf":{"\u006akt":"abc"}}"#),
            Ok(Confirmation::Jkt("abc".into()))
        );
        assert_eq!(
            confirmation(r#"{"cnf":{"x5t#S256":"abc"}}"#),
            Ok(Confirmation::Other)
        );
        // A `cnf` elsewhere than at the top binds nothing.
        assert_eq!(
            confirmation(r#"{"note":{"cnf":{"jkt":"abc"}}}"#),
            Ok(Confirmation::Unbound)
        );
        for json in [
            r#"{"cnf":"abc"}"#,
            r#"{"cnf":null}"#,
            r#"{"cnf":["abc"]}"#,
            r#"{"cnf":{"jkt":7}}"#,
            r#"{"cnf":{"jkt":"abc","jkt":"abc"}}"#,
            // Twice: which one a reader takes would be parser-dependent.
            r#"{"cnf":{"jkt":"abc"},"cnf":{"jkt":"abc"}}"#,
            r#"{"cnf":{"jkt":"abc"},"\u0063nf":{}}"#,
        ] {
            assert_eq!(
                confirmation(json),
                Err(TokenError::InvalidClaim("cnf")),
                "{json}"
            );
        }
    }

    #[test]
    fn a_claim_given_twice_is_refused() {
        assert_eq!(
            parse_claims(br#"{"sub":"a","sub":"b"}"#).unwrap_err(),
            TokenError::InvalidClaim("sub")
        );
        // An escaped key is the same key.
        assert_eq!(
            parse_claims(br#"{"exp":1,"\u0065xp":2}"#).unwrap_err(),
            TokenError::InvalidClaim("exp")
        );
    }

    #[test]
    fn payload_must_be_one_json_object() {
        for json in [&b"[1]"[..], b"\"s\"", b"12", b"{", b"{} x", b"", b"null"] {
            assert!(
                matches!(parse_claims(json), Err(TokenError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn header_reads_alg_kid_typ_and_notices_crit() {
        let h = parse_header(br#"{"alg":"RS256","kid":"k1","typ":"at+jwt","jku":"https://evil"}"#)
            .unwrap();
        assert_eq!(
            h,
            JoseHeader {
                alg: "RS256".into(),
                kid: Some("k1".into()),
                typ: Some("at+jwt".into()),
                has_crit: false
            }
        );
        assert!(
            parse_header(br#"{"alg":"RS256","crit":["exp"]}"#)
                .unwrap()
                .has_crit
        );
        assert!(parse_header(br#"{"kid":"k"}"#).is_err());
        assert!(parse_header(br#"{"alg":"RS256","alg":"none"}"#).is_err());
        assert!(parse_header(br#"{"alg":1}"#).is_err());
        assert!(parse_header(br#"["alg"]"#).is_err());
    }
}
