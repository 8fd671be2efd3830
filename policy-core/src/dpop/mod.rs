//! DPoP, sender-constrained access tokens (RFC 9449), on the one authorize
//! path: a token bound to a key (`cnf.jkt` in its verified claims, whatever
//! produced them) is accepted only under the `DPoP` scheme with a fresh
//! proof signed by that key, and never as a bearer token.
//!
//! [`DpopMode`] says which schemes a validator (or one issuer, or one
//! route) accepts; [`proof`] takes a proof apart; [`check`] runs the checks
//! of RFC 9449 §4.3 against the request's head; [`htu`] compares URIs under
//! the configured public URLs; [`nonce`] issues stateless server nonces;
//! [`replay`] remembers proofs (in process, or in Redis with the `redis`
//! feature); [`challenge`] writes the `WWW-Authenticate` value.

pub(crate) mod challenge;
pub(crate) mod check;
mod config;
mod error;
pub(crate) mod htu;
pub(crate) mod nonce;
pub(crate) mod proof;
#[cfg(feature = "redis")]
mod redis;
mod replay;
#[cfg(test)]
pub(crate) mod tests;

use std::str::FromStr;

use http::header::{self, HeaderValue};

pub(crate) use self::config::{DpopConfig, DpopRules};
pub use self::error::DpopError;
#[cfg(feature = "redis")]
pub use self::redis::RedisReplayStore;
pub use self::replay::{
    InMemoryReplayStore, RecordFuture, Recorded, ReplayStore, ReplayStoreError,
};
use crate::auth_info::AuthInfo;
use crate::bearer::{extract_dpop, is_dpop_scheme};
use crate::claims::Confirmation;
use crate::error::{Error, TokenError};
use crate::request::RequestHead;
use crate::validator::Validator;

/// Which authorization schemes are accepted (RFC 9449 §7). In every mode a
/// token bound to a key (`cnf.jkt`) presented as `Bearer` is refused: a
/// bound token is never a bearer token.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::DpopMode;
/// assert_eq!("required".parse::<DpopMode>(), Ok(DpopMode::Required));
/// assert_eq!(DpopMode::default(), DpopMode::Allowed);
/// assert!("sometimes".parse::<DpopMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DpopMode {
    /// Bound tokens under `DPoP` with a valid proof, and unbound tokens as
    /// `Bearer`. The default.
    #[default]
    Allowed,
    /// Only bound tokens under `DPoP` with a valid proof.
    Required,
    /// The `DPoP` scheme is refused (401 `unsupported_scheme`); bound
    /// tokens are then refused altogether.
    Disabled,
}

impl DpopMode {
    /// Its name: `allowed`, `required` or `disabled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DpopMode::Allowed => "allowed",
            DpopMode::Required => "required",
            DpopMode::Disabled => "disabled",
        }
    }
}

/// A name that is not a [`DpopMode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown DPoP mode {0:?}: expected allowed, required or disabled")]
pub struct UnknownDpopMode(pub String);

impl FromStr for DpopMode {
    type Err = UnknownDpopMode;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "allowed" => Ok(DpopMode::Allowed),
            "required" => Ok(DpopMode::Required),
            "disabled" => Ok(DpopMode::Disabled),
            other => Err(UnknownDpopMode(other.to_owned())),
        }
    }
}

/// A token presented as `Bearer` (or taken from anywhere by
/// [`Validator::validate`]): refused when it is bound to a key, or when its
/// issuer's mode requires DPoP.
pub(crate) fn as_bearer(validator: &Validator, auth: AuthInfo) -> Result<AuthInfo, Error> {
    if *auth.confirmation() != Confirmation::Unbound {
        return Err(TokenError::DpopBoundToken.into());
    }
    if validator.dpop_mode_of(&auth) == DpopMode::Required {
        return Err(TokenError::DpopRequired.into());
    }
    Ok(auth)
}

/// The caller of a request, by the scheme of its `Authorization` header:
/// `Bearer` through [`Validator::authenticate`], `DPoP` through the token
/// and then its proof, checked on every request (a cached token never skips
/// it). `route`: the route's own mode ([`Policy::dpop`](crate::Policy::dpop)).
pub(crate) async fn authenticate(
    validator: &Validator,
    request: &RequestHead<'_>,
    route: Option<DpopMode>,
) -> Result<AuthInfo, Error> {
    let values = request.headers().get_all(header::AUTHORIZATION);
    let dpop = values
        .iter()
        .next()
        .is_some_and(|value| is_dpop_scheme(value.as_bytes()));
    if !dpop {
        let auth = validator
            .authenticate(values.iter().map(HeaderValue::as_bytes))
            .await?;
        if route == Some(DpopMode::Required) {
            return Err(TokenError::DpopRequired.into());
        }
        return Ok(auth);
    }
    // Boxed: the proof's checks (a signature, perhaps a Redis call) make a
    // large future, which every bearer request's future would otherwise
    // carry and copy.
    Box::pin(with_proof(validator, request, route)).await
}

/// [`authenticate`] under the `DPoP` scheme: the token, then its proof.
async fn with_proof(
    validator: &Validator,
    request: &RequestHead<'_>,
    route: Option<DpopMode>,
) -> Result<AuthInfo, Error> {
    let rules = validator.dpop_rules();
    if !rules.accepts_dpop || route == Some(DpopMode::Disabled) {
        return Err(Error::UnsupportedScheme);
    }
    let values = request.headers().get_all(header::AUTHORIZATION);
    let token = extract_dpop(
        values.iter().map(HeaderValue::as_bytes),
        validator.bearer_config(),
    )?;
    let auth = validator.validate_bound(token).await?;
    if validator.dpop_mode_of(&auth) == DpopMode::Disabled {
        return Err(Error::UnsupportedScheme);
    }
    let jkt = match auth.confirmation() {
        Confirmation::Jkt(jkt) => jkt.as_str(),
        // Bound to a key of another kind: no proof key's thumbprint is "".
        Confirmation::Other => "",
        Confirmation::Unbound => return Err(TokenError::DpopUnboundToken.into()),
    };
    check::verify(rules, request, token, jkt).await?;
    Ok(auth)
}
