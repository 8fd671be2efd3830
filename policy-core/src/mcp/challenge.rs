//! The responses of the MCP endpoint: the shared refusal
//! ([`error_response`]: status, JSON body, `Retry-After`), with the
//! challenge the MCP authorization spec asks for. Every 401 and 403 carries
//! the path-inserted `resource_metadata` URL and the `scope` a client should
//! ask for (on a 403, every scope of the tool refused: the step-up signal),
//! in the one `Bearer` challenge of the one `WWW-Authenticate` field.

use bytes::Bytes;
use http::Response;
use http::header::{self, HeaderValue};
use http_body_util::Full;
use serde::Serialize;

use super::message::MessageError;
use crate::error::{Denied, Error, quoted};
use crate::rejected::error_response;

/// What every challenge of one endpoint names.
#[derive(Debug, Clone)]
pub(crate) struct Challenges {
    /// The RFC 9728 metadata URL, path-inserted from the canonical URI.
    pub(crate) metadata_url: String,
    /// The scopes to ask for before any tool is known (a 401): space-separated.
    pub(crate) scopes: String,
}

impl Challenges {
    /// The response to `error`; `tool_scopes` are the scopes of the tool a
    /// 403 refuses (space-separated), which replace the endpoint's.
    pub(crate) fn refusal(
        &self,
        error: &Error,
        tool_scopes: Option<&str>,
    ) -> Response<Full<Bytes>> {
        let mut response: Response<Full<Bytes>> = error_response(error, None);
        if let Some(challenge) = self.challenge(error, tool_scopes)
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// The `Bearer` challenge for a 401 or 403; `None` keeps the shared one
    /// (400 `invalid_request`, none on 503).
    fn challenge(&self, error: &Error, tool_scopes: Option<&str>) -> Option<String> {
        let (attributes, scopes) = match error {
            Error::MissingAuthorization | Error::UnsupportedScheme => {
                (String::new(), &*self.scopes)
            }
            Error::InvalidToken(token) => (
                format!(
                    "error=\"invalid_token\", error_description=\"{}\", ",
                    quoted(&token.to_string())
                ),
                &*self.scopes,
            ),
            Error::Denied(denied) => {
                let description = match denied {
                    // The scope list says it all.
                    Denied::MissingScopes { .. } | Denied::NoneOfScopes { .. } => String::new(),
                    other => format!(", error_description=\"{}\"", quoted(&other.to_string())),
                };
                let scopes = match denied {
                    // No scope would fix it: naming some would send the
                    // client round a step-up that cannot succeed.
                    Denied::DpopBindingRequired => "",
                    _ => tool_scopes.unwrap_or(&self.scopes),
                };
                let mut challenge = String::from("Bearer error=\"insufficient_scope\"");
                if !scopes.is_empty() {
                    challenge.push_str(&format!(", scope=\"{}\"", quoted(scopes)));
                }
                challenge.push_str(&format!(
                    ", resource_metadata=\"{}\"{description}",
                    quoted(&self.metadata_url)
                ));
                return Some(challenge);
            }
            _ => return None,
        };
        let mut challenge = format!(
            "Bearer {attributes}resource_metadata=\"{}\"",
            quoted(&self.metadata_url)
        );
        if !scopes.is_empty() {
            challenge.push_str(&format!(", scope=\"{}\"", quoted(scopes)));
        }
        Some(challenge)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: String,
    code: &'a str,
}

/// The response to a message refused before rmcp sees it (400 or 413):
/// the JSON body of every refusal, and no challenge (the token was fine).
pub(crate) fn message_refusal(error: &MessageError) -> Response<Full<Bytes>> {
    let body = ErrorBody {
        error: error.to_string(),
        code: error.code(),
    };
    // Serialising two strings cannot fail; an empty body would still carry the status.
    let json = serde_json::to_string(&body).unwrap_or_default();
    let mut response = Response::new(Full::from(json));
    *response.status_mut() = error.status();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TokenError;
    use http::StatusCode;

    fn challenges() -> Challenges {
        Challenges {
            metadata_url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".into(),
            scopes: "api:read api:write".into(),
        }
    }

    fn header(error: &Error, tool: Option<&str>) -> (StatusCode, String) {
        let response = challenges().refusal(error, tool);
        let value = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .to_owned();
        (response.status(), value)
    }

    #[test]
    fn a_401_names_the_metadata_and_the_scopes() {
        assert_eq!(
            header(&Error::MissingAuthorization, None),
            (
                StatusCode::UNAUTHORIZED,
                "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", scope=\"api:read api:write\"".into()
            )
        );
        let (status, value) = header(&TokenError::AudienceNotThisResource.into(), None);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            value.starts_with("Bearer error=\"invalid_token\", error_description=\""),
            "{value}"
        );
        assert!(
            value.contains("resource_metadata=\"https://mcp.example.com/"),
            "{value}"
        );
    }

    #[test]
    fn a_403_names_every_scope_of_the_tool() {
        let denied = Error::Denied(Denied::MissingScopes {
            missing: vec!["api:write".into()],
        });
        let (status, value) = header(&denied, Some("api:write admin"));
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            value,
            "Bearer error=\"insufficient_scope\", scope=\"api:write admin\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""
        );
    }

    #[test]
    fn a_tool_requiring_dpop_names_no_scope_for_a_bearer_token() {
        let denied = Error::Denied(Denied::DpopBindingRequired);
        let (status, value) = header(&denied, Some("payments:write"));
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            value,
            "Bearer error=\"insufficient_scope\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", error_description=\"This resource requires a DPoP-bound token\""
        );
    }

    #[test]
    fn a_message_refusal_is_json_without_a_challenge() {
        let response = message_refusal(&MessageError::TooLarge { limit: 10 });
        assert_eq!(response.status(), 413);
        assert!(!response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
