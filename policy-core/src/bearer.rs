//! Bearer token extraction from `Authorization` headers (RFC 6750 §2.1,
//! RFC 7235), independent of any web framework.

use crate::error::{Error, RequestError};

/// The default limit on a bearer token's length: 8 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// Limits applied while extracting a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BearerConfig {
    /// Longest accepted token, in bytes. Default: 8 KiB ([`DEFAULT_MAX_TOKEN_LEN`]).
    pub max_token_len: usize,
}

impl Default for BearerConfig {
    fn default() -> Self {
        BearerConfig {
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }
}

/// Extracts the bearer token from *all* of a request's `Authorization` header
/// values.
///
/// - no value: [`Error::MissingAuthorization`] (401, bare `Bearer` challenge);
/// - another scheme: [`Error::UnsupportedScheme`] (401);
/// - more than one value, bytes that are not visible ASCII, an empty token,
///   characters outside the token68 alphabet, a token over the limit: 400
///   `invalid_request`, each its own variant.
///
/// The scheme matches case-insensitively and one or more spaces may follow it.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{extract_bearer, BearerConfig, Error, RequestError};
/// let config = BearerConfig::default();
/// assert_eq!(extract_bearer([&b"bearer  abc.def.ghi"[..]], &config), Ok("abc.def.ghi"));
/// assert_eq!(extract_bearer(Vec::<&[u8]>::new(), &config), Err(Error::MissingAuthorization));
/// assert_eq!(extract_bearer([&b"Basic dXNlcjpwdw=="[..]], &config), Err(Error::UnsupportedScheme));
/// assert_eq!(extract_bearer([&b"Bearer"[..]], &config), Err(RequestError::EmptyToken.into()));
/// ```
pub fn extract_bearer<'a, I>(values: I, config: &BearerConfig) -> Result<&'a str, Error>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = values.into_iter();
    let value = values.next().ok_or(Error::MissingAuthorization)?;
    if values.next().is_some() {
        return Err(RequestError::MultipleAuthorizationHeaders.into());
    }
    // Nearly every request: one pass over the token, no other. A well-formed value
    // is visible ASCII throughout, so the checks below would accept it too; they
    // run for anything else, to say what is wrong with it.
    match well_formed_bearer(value, config) {
        Some(token) => Ok(token),
        None => checked_bearer(value, config),
    }
}

/// Every check of [`extract_bearer`] on one value, in the order that decides
/// which error a bad value gets.
fn checked_bearer<'a>(value: &'a [u8], config: &BearerConfig) -> Result<&'a str, Error> {
    checked_token(value, "Bearer", config)
}

/// The token of the one `Authorization` value of a request under the `DPoP`
/// scheme (RFC 9449 §7.1): the checks of [`extract_bearer`], for that
/// scheme's name.
pub(crate) fn extract_dpop<'a, I>(values: I, config: &BearerConfig) -> Result<&'a str, Error>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = values.into_iter();
    let value = values.next().ok_or(Error::MissingAuthorization)?;
    if values.next().is_some() {
        return Err(RequestError::MultipleAuthorizationHeaders.into());
    }
    checked_token(value, "DPoP", config)
}

/// Whether an `Authorization` value uses the `DPoP` scheme (any case),
/// followed by a space: where the one authorize path sends it.
pub(crate) fn is_dpop_scheme(value: &[u8]) -> bool {
    value
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"DPoP "))
}

/// Every check of [`extract_bearer`] on one value under the scheme `name`.
fn checked_token<'a>(value: &'a [u8], name: &str, config: &BearerConfig) -> Result<&'a str, Error> {
    // Visible ASCII plus space and tab; anything else (controls, obs-text) is refused
    // before we interpret the value. A branch-free fold over the whole value: a hostile
    // value may be kilobytes long, and the fold vectorises where an early-exit loop does not.
    let all_visible = value.iter().fold(true, |ok, &b| {
        ok & ((b.wrapping_sub(0x21) < 0x5e) | (b == b' ') | (b == b'\t'))
    });
    if !all_visible {
        return Err(RequestError::NonAsciiHeader.into());
    }
    let value = std::str::from_utf8(value).map_err(|_| RequestError::NonAsciiHeader)?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case(name) {
        // "Bearer\t<token>" is a bearer request with a bad separator, not another scheme.
        let starts_as_bearer = scheme
            .get(..name.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(name))
            && scheme.as_bytes().get(name.len()) == Some(&b'\t');
        return Err(if starts_as_bearer {
            RequestError::InvalidTokenCharacters.into()
        } else {
            Error::UnsupportedScheme
        });
    }
    // The HTTP layer trims trailing whitespace, so "Bearer " arrives as "Bearer".
    let token = rest.trim_start_matches(' ').trim_end_matches([' ', '\t']);
    check_token(token, config)?;
    Ok(token)
}

/// The token of `Bearer <token68>` (the scheme in any case, then spaces,
/// trailing spaces or tabs ignored) within the length limit: exactly what the
/// full checks of [`extract_bearer`] accept, found without them; `None` for
/// any other value.
fn well_formed_bearer<'a>(value: &'a [u8], config: &BearerConfig) -> Option<&'a str> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"Bearer") || rest.first() != Some(&b' ') {
        return None;
    }
    let start = rest.iter().position(|&b| b != b' ')?;
    let end = rest.iter().rposition(|&b| b != b' ' && b != b'\t')?;
    let token = rest.get(start..=end)?;
    if token.len() > config.max_token_len || !is_token68(token) {
        return None;
    }
    std::str::from_utf8(token).ok()
}

/// The limits on a token wherever it comes from: not empty, at most
/// `max_token_len` bytes, token68 characters only. Checked before any
/// decoding, so a hostile token costs at most one pass over its bytes.
pub(crate) fn check_token(token: &str, config: &BearerConfig) -> Result<(), RequestError> {
    if token.is_empty() {
        return Err(RequestError::EmptyToken);
    }
    if token.len() > config.max_token_len {
        return Err(RequestError::TokenTooLong {
            limit: config.max_token_len,
        });
    }
    if !is_token68(token.as_bytes()) {
        return Err(RequestError::InvalidTokenCharacters);
    }
    Ok(())
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 7235 §2.1).
fn is_token68(token: &[u8]) -> bool {
    let padding = token.iter().rev().take_while(|&&b| b == b'=').count();
    let body = token
        .get(..token.len().saturating_sub(padding))
        .unwrap_or_default();
    // Branch-free, as above, with as few comparisons per byte as the alphabet
    // allows: it is the one pass over every token of every request.
    let all_token68 = body.iter().fold(true, |ok, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        // `-`, `.`, `/` and the ten digits are the one range 0x2D..=0x39.
        let dash_to_nine = b.wrapping_sub(b'-') < 13;
        ok & (letter | dash_to_nine | (b == b'_') | (b == b'~') | (b == b'+'))
    });
    !body.is_empty() && all_token68
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(values: &[&str]) -> Result<String, Error> {
        extract_bearer(
            values.iter().map(|v| v.as_bytes()),
            &BearerConfig::default(),
        )
        .map(str::to_owned)
    }

    #[test]
    fn scheme_matches_case_insensitively_with_one_or_more_spaces() {
        assert_eq!(extract(&["Bearer a.b.c"]), Ok("a.b.c".into()));
        assert_eq!(extract(&["bEaReR a.b.c"]), Ok("a.b.c".into()));
        assert_eq!(extract(&["BEARER    a.b.c"]), Ok("a.b.c".into()));
    }

    #[test]
    fn missing_header_and_other_schemes_are_401_cases() {
        assert_eq!(extract(&[]), Err(Error::MissingAuthorization));
        assert_eq!(
            extract(&["Basic dXNlcjpwYXNz"]),
            Err(Error::UnsupportedScheme)
        );
        assert_eq!(extract(&["Bearerx a.b.c"]), Err(Error::UnsupportedScheme));
        assert_eq!(extract(&["Token a.b.c"]), Err(Error::UnsupportedScheme));
        assert_eq!(extract(&[""]), Err(Error::UnsupportedScheme));
    }

    #[test]
    fn empty_token_is_its_own_error() {
        assert_eq!(extract(&["Bearer"]), Err(RequestError::EmptyToken.into()));
        assert_eq!(extract(&["bearer "]), Err(RequestError::EmptyToken.into()));
        assert_eq!(
            extract(&["Bearer    "]),
            Err(RequestError::EmptyToken.into())
        );
    }

    #[test]
    fn whitespace_or_foreign_characters_inside_the_token_are_malformed() {
        assert_eq!(
            extract(&["Bearer a.b c"]),
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters))
        );
        assert_eq!(
            extract(&["Bearer a.b\tc"]),
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters))
        );
        assert_eq!(
            extract(&["Bearer\ta.b.c"]),
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters))
        );
        assert_eq!(
            extract(&["Bearer a,b"]),
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters))
        );
        assert_eq!(
            extract(&["Bearer a=b"]),
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters))
        );
        assert_eq!(
            extract(&["Bearer ==="]),
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters))
        );
        assert_eq!(extract(&["Bearer abc=="]), Ok("abc==".into()));
    }

    #[test]
    fn bytes_that_are_not_visible_ascii_are_refused() {
        let cases: [&[u8]; 3] = [b"Bearer a\x00b", b"Bearer \xc3\xa9", b"Bearer a\x7fb"];
        for case in cases {
            assert_eq!(
                extract_bearer([case], &BearerConfig::default()),
                Err(Error::InvalidRequest(RequestError::NonAsciiHeader)),
                "{case:?}"
            );
        }
    }

    #[test]
    fn more_than_one_header_is_malformed() {
        assert_eq!(
            extract(&["Bearer a", "Bearer b"]),
            Err(Error::InvalidRequest(
                RequestError::MultipleAuthorizationHeaders
            ))
        );
        assert_eq!(
            extract(&["Bearer a", ""]),
            Err(Error::InvalidRequest(
                RequestError::MultipleAuthorizationHeaders
            ))
        );
    }

    #[test]
    fn token_over_the_limit_is_malformed() {
        let config = BearerConfig { max_token_len: 10 };
        let long = format!("Bearer {}", "a".repeat(11));
        assert_eq!(
            extract_bearer([long.as_bytes()], &config),
            Err(RequestError::TokenTooLong { limit: 10 }.into())
        );
        let exact = format!("Bearer {}", "a".repeat(10));
        assert!(extract_bearer([exact.as_bytes()], &config).is_ok());
    }

    /// Values near the boundary of what is accepted: the scheme in several
    /// cases and shapes, separators, a token68 token around the length limit
    /// with now and then one foreign byte in it, padding, trailing blanks.
    fn bearer_value() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let scheme = prop::sample::select(vec![
            &b"Bearer"[..],
            b"bearer",
            b"BEARER",
            b"Bearerx",
            b"Basic",
            b"",
        ]);
        let separator = prop::sample::select(vec![&b" "[..], b"  ", b"\t", b" \t", b""]);
        let token68 = prop::sample::select(b"aZz09-._~+/".to_vec());
        let foreign = prop::sample::select(b"= \t,;\"\\@[`{:\x00\x7f\x80\xff".to_vec());
        let blanks = prop::sample::select(b"= \t".to_vec());
        (
            scheme,
            separator,
            prop::collection::vec(token68, 0..16),
            proptest::option::of((any::<usize>(), foreign)),
            prop::collection::vec(blanks, 0..4),
        )
            .prop_map(|(scheme, separator, mut token, foreign, tail)| {
                if let Some((at, byte)) = foreign {
                    token.insert(at % (token.len() + 1), byte);
                }
                [scheme, separator, &token, &tail].concat()
            })
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_accepts_exactly_what_the_full_checks_accept(value in bearer_value()) {
            let config = BearerConfig { max_token_len: 12 };
            let full = checked_bearer(&value, &config);
            match well_formed_bearer(&value, &config) {
                Some(token) => proptest::prop_assert_eq!(full, Ok(token)),
                None => proptest::prop_assert!(full.is_err(), "{:?}", full),
            }
        }
    }
}
