//! `Rejected`: a refused request, and the one response every front end
//! answers it with (status, RFC 6750 challenge, `Retry-After`, JSON body).

use std::sync::Arc;

use http::Response;
use http::header::{self, HeaderValue};
use serde::Serialize;

use crate::dpop::challenge::DpopChallenge;
use crate::error::{Denied, Error};
use crate::request::RequestHead;
use crate::validator::Validator;

/// A refused request: the reason, and the RFC 9728 metadata URL to advertise
/// in its challenge. Every front end answers it with [`Rejected::response`]:
/// warp finds it in a `Rejection` (`recover`), axum's extractors return it
/// (it is an `IntoResponse`), the tower layer answers it itself.
///
/// A `#[requires]` handler may return `Result<_, Rejected>`: a [`Denied`] or
/// an [`Error`] converts with `?`.
#[derive(Debug, Clone)]
pub struct Rejected {
    error: Error,
    resource_metadata: Option<Arc<str>>,
    /// The DPoP challenge, when the validator offers the `DPoP` scheme.
    dpop: Option<DpopChallenge>,
}

impl Rejected {
    /// A refusal by `validator`, whose configuration says which metadata URL to advertise.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn by(validator: &Validator, error: Error) -> Self {
        Rejected {
            dpop: validator.dpop_rules().challenge(false, false),
            error,
            resource_metadata: validator.resource_metadata().cloned(),
        }
    }

    /// A refusal of `request` by `validator`: its challenge names the
    /// scheme the request used, and a `use_dpop_nonce` carries a nonce.
    pub(crate) fn of_request(
        validator: &Validator,
        request: &RequestHead<'_>,
        error: Error,
    ) -> Self {
        let dpop_request = request
            .headers()
            .get(header::AUTHORIZATION)
            .is_some_and(|value| crate::bearer::is_dpop_scheme(value.as_bytes()));
        let nonce = error == Error::UseDpopNonce;
        Rejected {
            dpop: validator.dpop_rules().challenge(dpop_request, nonce),
            error,
            resource_metadata: validator.resource_metadata().cloned(),
        }
    }

    /// The reason.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The response this refusal deserves, with any body type that holds a
    /// `String` (warp's, axum's, `http_body_util::Full<Bytes>`…): see
    /// [`error_response`].
    pub fn response<B: From<String>>(&self) -> Response<B> {
        let resource_metadata = self.resource_metadata.as_deref();
        let mut response = error_response(&self.error, resource_metadata);
        if let Some(dpop) = &self.dpop {
            let headers = response.headers_mut();
            let challenge = dpop.value(&self.error, resource_metadata);
            if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
            if let Some(nonce) = dpop
                .nonce
                .as_deref()
                .and_then(|n| HeaderValue::from_str(n).ok())
            {
                headers.insert("dpop-nonce", nonce);
            }
        }
        response
    }
}

impl std::fmt::Display for Rejected {
    /// The reason's message, as the JSON body's `error` says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl From<Error> for Rejected {
    /// A refusal without a metadata URL (a handler's own denial).
    fn from(error: Error) -> Self {
        Rejected {
            error,
            resource_metadata: None,
            dpop: None,
        }
    }
}

impl From<Denied> for Rejected {
    /// Lets handlers annotated with `#[requires]` return `Result<_, Rejected>`.
    fn from(denied: Denied) -> Self {
        Rejected::from(Error::Denied(denied))
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: String,
    code: &'a str,
}

/// The response for an [`Error`]: its status, its RFC 6750 challenge (with
/// `resource_metadata` when given), `Retry-After` on 503, and a JSON body
/// `{"error": "<message>", "code": "<stable code>"}`. The body type is the
/// front end's (warp's, axum's, `http_body_util::Full`…).
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{error_response, Error};
/// let response: http::Response<String> = error_response(&Error::MissingAuthorization, None);
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
/// assert_eq!(
///     response.body(),
///     r#"{"error":"Authorization header is missing","code":"missing_authorization"}"#
/// );
/// ```
pub fn error_response<B: From<String>>(
    error: &Error,
    resource_metadata: Option<&str>,
) -> Response<B> {
    let body = ErrorBody {
        error: error.to_string(),
        code: error.code(),
    };
    // Serialising two strings cannot fail; an empty body would still carry the status.
    let json = serde_json::to_string(&body).unwrap_or_default();
    let mut response = Response::new(B::from(json));
    *response.status_mut() = error.status();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let challenge = error.www_authenticate(resource_metadata);
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    if let Some(retry_after) = error.retry_after() {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        );
    }
    response
}

/// A JSON `200 OK` response with any body type that holds a `String`: the
/// RFC 9728 metadata of the front ends that serve it.
#[cfg(any(feature = "axum", feature = "warp"))]
pub(crate) fn json_response<B: From<String>>(value: &impl Serialize) -> Response<B> {
    let json = serde_json::to_string(value).unwrap_or_default();
    // `Response::new` is `200 OK`.
    let mut response = Response::new(B::from(json));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_answers_with_status_challenge_retry_after_and_json() {
        let unavailable = Error::KeysUnavailable {
            reason: "down".into(),
            retry_after: std::time::Duration::from_millis(300),
        };
        let response: Response<String> = error_response(&unavailable, None);
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        assert!(!response.headers().contains_key("www-authenticate"));
        assert_eq!(response.headers()["content-type"], "application/json");
        let denied: Response<String> = error_response(
            &Error::MissingAuthorization,
            Some("https://api.example.com/.well-known/oauth-protected-resource"),
        );
        assert_eq!(
            denied.headers()["www-authenticate"],
            "Bearer resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn a_denial_converts_to_a_refusal_without_a_front_end() {
        let rejected = Rejected::from(Denied::MissingOrganization);
        assert_eq!(rejected.error().code(), "missing_organization");
        assert_eq!(rejected.response::<String>().status(), 403);
    }
}
