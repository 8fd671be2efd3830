//! The call to one issuer's introspection endpoint: the endpoint (given, or
//! discovery's `introspection_endpoint`, found once), the client's
//! credentials, and the exchange through [`fetch::send`] (the user's client,
//! the size limit, the https rule). The deadline and the back-off are the
//! caller's.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use super::config::{ClientAuth, Introspection};
use crate::error::ConfigError;
use crate::fetch;

/// A failed call: the error for the logs, and whether an operator must fix
/// the configuration (refused credentials, no endpoint) rather than wait.
#[derive(Debug)]
pub(super) struct Fault {
    pub error: ConfigError,
    pub configuration: bool,
}

impl Fault {
    fn outage(error: ConfigError) -> Self {
        Fault {
            error,
            configuration: false,
        }
    }

    fn configuration(error: ConfigError) -> Self {
        Fault {
            error,
            configuration: true,
        }
    }
}

/// How the client proves who it is.
enum Credentials {
    /// The whole `Authorization` value, marked sensitive.
    Basic(HeaderValue),
    /// `client_id` and `client_secret` form fields.
    Post { client_id: String, secret: String },
}

/// One issuer's introspection endpoint, as this service's client.
pub(super) struct EndpointClient {
    http: reqwest::Client,
    max_bytes: usize,
    issuer: String,
    given: Option<String>,
    discovered: tokio::sync::OnceCell<String>,
    client_id: String,
    credentials: Credentials,
}

impl EndpointClient {
    pub fn new(
        issuer: &str,
        config: &Introspection,
        http: reqwest::Client,
        max_bytes: usize,
    ) -> Result<Self, ConfigError> {
        if let Some(url) = &config.endpoint {
            fetch::check_url(url, "introspection endpoint")?;
        } else {
            fetch::check_url(issuer, "issuer")?;
        }
        if config.client_id.is_empty() {
            return Err(ConfigError::InvalidIntrospection("the client id is empty"));
        }
        let credentials = match config.client_auth {
            ClientAuth::SecretBasic => {
                // RFC 6749 §2.3.1: each part form-encoded, then Basic.
                let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect();
                let (id, secret): (String, String) =
                    (encode(&config.client_id), encode(&config.client_secret));
                let value = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    ConfigError::InvalidIntrospection("the client credentials are not header text")
                })?;
                value.set_sensitive(true);
                Credentials::Basic(value)
            }
            ClientAuth::SecretPost => Credentials::Post {
                client_id: config.client_id.clone(),
                secret: config.client_secret.to_string(),
            },
        };
        Ok(EndpointClient {
            http,
            max_bytes,
            issuer: issuer.to_owned(),
            given: config.endpoint.clone(),
            discovered: tokio::sync::OnceCell::new(),
            client_id: config.client_id.clone(),
            credentials,
        })
    }

    /// The client id, for the logs (never the secret).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Posts `token` to the endpoint; the body of a 2xx answer.
    pub async fn introspect(&self, token: &str) -> Result<Vec<u8>, Fault> {
        let url = self.endpoint().await?;
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json");
        if let Credentials::Basic(value) = &self.credentials {
            request = request.header(AUTHORIZATION, value.clone());
        }
        let request = request.body(self.form(token));
        let failed = |reason: String| ConfigError::Fetch {
            url: url.to_owned(),
            reason,
        };
        match fetch::send(request, url, self.max_bytes).await {
            Ok(Ok(fetched)) => Ok(fetched.body),
            // RFC 7662 §2.3: the client is not authorized to introspect.
            Ok(Err(status @ (401 | 403))) => Err(Fault::configuration(failed(format!(
                "HTTP status {status}: the introspection endpoint refused this service's client \
                 credentials"
            )))),
            Ok(Err(status)) => Err(Fault::outage(failed(format!("HTTP status {status}")))),
            Err(e) => Err(Fault::outage(e)),
        }
    }

    /// The form of a call: the token, and the credentials of `client_secret_post`.
    fn form(&self, token: &str) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        if let Credentials::Post { client_id, secret } = &self.credentials {
            form.append_pair("client_id", client_id)
                .append_pair("client_secret", secret);
        }
        form.finish()
    }

    /// The endpoint: given, or discovered once (a failed discovery is tried
    /// again on the next call; calls are bounded by the caller).
    async fn endpoint(&self) -> Result<&str, Fault> {
        if let Some(url) = &self.given {
            return Ok(url);
        }
        self.discovered
            .get_or_try_init(|| self.discover())
            .await
            .map(String::as_str)
    }

    async fn discover(&self) -> Result<String, Fault> {
        #[derive(serde::Deserialize)]
        struct Document {
            issuer: String,
            #[serde(default)]
            introspection_endpoint: Option<String>,
        }
        let url = fetch::discovery_url(&self.issuer);
        let fetched = fetch::get(&self.http, &url, self.max_bytes)
            .await
            .map_err(Fault::outage)?;
        let invalid = |reason: &str| ConfigError::InvalidDocument {
            url: url.clone(),
            reason: reason.to_owned(),
        };
        let document: Document = serde_json::from_slice(&fetched.body).map_err(|_| {
            Fault::outage(invalid(
                "not a discovery document with a string `issuer` and `introspection_endpoint`",
            ))
        })?;
        if document.issuer != self.issuer {
            return Err(Fault::configuration(ConfigError::IssuerMismatch {
                expected: self.issuer.clone(),
                found: document.issuer,
            }));
        }
        let endpoint = document.introspection_endpoint.ok_or_else(|| {
            Fault::configuration(invalid(
                "no `introspection_endpoint`: give it with `Introspection::endpoint`",
            ))
        })?;
        fetch::check_url(&endpoint, "introspection endpoint").map_err(Fault::configuration)?;
        if fetched.over_https && !fetch::is_https(&endpoint) {
            // The token and the client secret would travel in the clear.
            return Err(Fault::configuration(invalid(
                "the https discovery document names an http `introspection_endpoint`",
            )));
        }
        tracing::info!(url = %url, introspection_endpoint = %endpoint, "discovered the introspection endpoint");
        Ok(endpoint)
    }
}

/// A deadline as the `Retry-After` of a 503: at least a second.
pub(super) fn retry_after(wait: Duration) -> Duration {
    wait.max(Duration::from_secs(1))
}
