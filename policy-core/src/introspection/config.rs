//! [`Introspection`]: how an issuer's opaque tokens are introspected, every
//! setting with its default stated on its method.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Token introspection (RFC 7662) for an issuer's opaque access tokens:
/// given to [`ValidatorBuilder::introspection`](crate::ValidatorBuilder::introspection)
/// or [`Issuer::introspection`](crate::Issuer::introspection).
///
/// A token in JWS compact form (exactly two dots) is always verified locally
/// and never sent anywhere; any other token is posted to the issuer's
/// introspection endpoint, authenticated as this service's OAuth client, and
/// the answer's claims go through the same checks, policies and statuses as
/// a JWT's. Results are cached (keyed by a hash of the token, never the token
/// itself): an active one until the earlier of its `exp` and
/// [`max_age`](Self::max_age), which is the delay before a revocation takes
/// effect here.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use std::time::Duration;
/// use bearer_policy::{Introspection, Validator};
///
/// let validator = Validator::builder()
///     .issuer("https://my-tenant.logto.app/oidc")
///     .audience("https://api.example.com")
///     .introspection(
///         Introspection::new("resource-server-client", "its-secret")
///             .max_age(Duration::from_secs(30)),
///     )
///     .build()?;
/// # let _ = validator;
/// # Ok::<(), bearer_policy::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Introspection {
    pub(crate) client_id: String,
    pub(crate) client_secret: Arc<str>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) endpoint: Option<String>,
    pub(crate) max_age: Duration,
    pub(crate) inactive_max_age: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) cache_capacity: usize,
}

/// How this service authenticates to the introspection endpoint (RFC 6749
/// §2.3.1, the names of RFC 8414's `token_endpoint_auth_methods_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and
    /// secret. The default.
    #[default]
    SecretBasic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form.
    SecretPost,
}

impl fmt::Debug for Introspection {
    // Never the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspection")
            .field("client_id", &self.client_id)
            .field("client_auth", &self.client_auth)
            .field("endpoint", &self.endpoint)
            .field("max_age", &self.max_age)
            .field("inactive_max_age", &self.inactive_max_age)
            .field("max_in_flight", &self.max_in_flight)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

impl Introspection {
    /// Introspection as the OAuth client `client_id` with `client_secret`
    /// (`client_secret_basic`, the endpoint from discovery's
    /// `introspection_endpoint`, the defaults of each method below).
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Introspection {
            client_id: client_id.into(),
            client_secret: Arc::from(client_secret.into()),
            client_auth: ClientAuth::SecretBasic,
            endpoint: None,
            max_age: Duration::from_secs(60),
            inactive_max_age: Duration::from_secs(5),
            max_in_flight: 16,
            cache_capacity: 10_000,
        }
    }

    /// How the client authenticates. Default: [`ClientAuth::SecretBasic`].
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// The introspection endpoint, skipping discovery. Default: the
    /// issuer's discovery document's `introspection_endpoint` (fetched once,
    /// on the first opaque token; from an https document it must be https).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The longest an active result is used before the token is
    /// introspected again (it is never used past its `exp`; the leeway never
    /// extends it): the delay before a revoked token is refused here.
    /// Default: 60 s.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// The longest a refusal (not active, not an access token, a claim of
    /// the wrong type) is remembered, so a repeated bad token costs no call.
    /// Default: 5 s, never more than [`max_age`](Self::max_age).
    pub fn inactive_max_age(mut self, age: Duration) -> Self {
        self.inactive_max_age = age;
        self
    }

    /// Introspection calls in flight at once, at least 1. A request that
    /// needs one more gets 503 `introspection_busy` with `Retry-After` at
    /// once, instead of queueing: a flood of random tokens costs the issuer
    /// at most this many calls at a time. Concurrent requests with the same
    /// token share one call. Default: 16.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls;
        self
    }

    /// Introspection results kept, at most (fewer when they are large: the
    /// cache's memory is bounded to about 1 KiB per result). Default: 10,000.
    pub fn cache_capacity(mut self, results: usize) -> Self {
        self.cache_capacity = results;
        self
    }
}

/// The user's rule that picks the issuer to introspect an opaque token with.
#[derive(Clone)]
pub(crate) struct OpaqueIssuerRule(pub Arc<PickIssuer>);

/// Given an opaque token, the URL of the issuer to introspect it with.
pub(crate) type PickIssuer = dyn Fn(&str) -> Option<String> + Send + Sync;

impl fmt::Debug for OpaqueIssuerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueIssuerRule")
    }
}
