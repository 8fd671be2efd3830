//! The `WWW-Authenticate` value of a refusal when the validator accepts
//! DPoP (RFC 9449 §7.1): the `Bearer` challenge first (clients and tools
//! that read only the first challenge keep working), then `DPoP algs="…"`.
//! The error attributes go on the challenge of the scheme the request used;
//! the other scheme's challenge is bare. In `required` mode there is no
//! `Bearer` challenge at all.

use std::sync::Arc;

use crate::error::Error;

/// What a refusal needs to write the DPoP challenge.
#[derive(Debug, Clone)]
pub(crate) struct DpopChallenge {
    pub algs: Arc<str>,
    pub accepts_bearer: bool,
    /// The request used the `DPoP` scheme.
    pub dpop_request: bool,
    /// A fresh nonce, for `use_dpop_nonce` (the `DPoP-Nonce` header).
    pub nonce: Option<String>,
}

impl DpopChallenge {
    /// The value for `error`; `None` where no challenge applies (503).
    pub fn value(&self, error: &Error, resource_metadata: Option<&str>) -> Option<String> {
        let own = error.www_authenticate(resource_metadata)?;
        // The error's own attributes, whichever scheme it named.
        let attributes = own
            .strip_prefix("Bearer")
            .or_else(|| own.strip_prefix("DPoP"))
            .unwrap_or_default()
            .trim_start();
        let on_dpop = matches!(error, Error::InvalidDpopProof(_) | Error::UseDpopNonce)
            || self.dpop_request
            || !self.accepts_bearer;
        let algs = format!("algs=\"{}\"", self.algs);
        let dpop = match on_dpop && !attributes.is_empty() {
            true => format!("DPoP {algs}, {attributes}"),
            false => format!("DPoP {algs}"),
        };
        let bearer = match on_dpop || attributes.is_empty() {
            true => "Bearer".to_owned(),
            false => format!("Bearer {attributes}"),
        };
        let unauthorized = error.status() == http::StatusCode::UNAUTHORIZED;
        Some(match (self.accepts_bearer, unauthorized, on_dpop) {
            (false, _, _) | (true, false, true) => dpop,
            (true, true, _) => format!("{bearer}, {dpop}"),
            (true, false, false) => bearer,
        })
    }
}
