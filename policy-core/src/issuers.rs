//! The issuers a validator trusts, and the routing of a token to one of
//! them by its `iss`, read before the signature is checked: each issuer has
//! its own key store (refresh, back-off, failures) and optionally its own
//! audience, and a token from an issuer not configured is refused without
//! any network request.

use std::collections::HashMap;
use std::sync::Arc;

use crate::dpop::DpopMode;
use crate::error::ConfigError;
use crate::fetch::{self, JwksLocation, KeyFetcher};
use crate::introspection::Introspection;
use crate::jwks::KeySet;
use crate::key_store::{KeyStore, KeyStoreConfig, OnKeysChanged};
use crate::observe::IssuerMetrics;
use crate::static_keys::StaticKeys;
use crate::token_cache::TokenCache;

/// Above this many issuers, routing looks `iss` up in a hash map rather than
/// comparing it with each issuer in turn.
const LINEAR_ROUTING_MAX: usize = 8;

/// One more issuer for a [`Validator`](crate::Validator) to trust, added with
/// [`ValidatorBuilder::add_issuer`](crate::ValidatorBuilder::add_issuer): a
/// second domain of the same tenant, or one tenant of a multi-tenant service.
///
/// Each issuer has its own keys (found by discovery unless configured
/// otherwise), its own refresh schedule and failure state, and may name its
/// own audience; the validator's other settings apply to all.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{Issuer, Validator};
///
/// let validator = Validator::builder()
///     .issuer("https://my-tenant.logto.app/oidc")
///     .add_issuer(Issuer::new("https://auth.example.com/oidc"))
///     .add_issuer(
///         Issuer::new("https://partner.example.net")
///             .jwks_uri("https://partner.example.net/keys")
///             .audience("https://partner-api.example.com"),
///     )
///     .audience("https://api.example.com")
///     .build()?;
/// assert_eq!(validator.issuers().count(), 3);
/// # Ok::<(), bearer_policy::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Issuer {
    url: String,
    jwks_uri: Option<String>,
    audience: Option<String>,
    keys: Option<StaticKeys>,
    dpop: Option<DpopMode>,
    introspection: Option<Introspection>,
}

impl Issuer {
    /// An issuer whose tokens carry exactly this `iss`. Its keys are found
    /// through OpenID discovery at `{url}/.well-known/openid-configuration`
    /// (whose `issuer` must equal `url`) unless [`jwks_uri`](Self::jwks_uri)
    /// or [`keys`](Self::keys) says otherwise.
    pub fn new(url: impl Into<String>) -> Self {
        Issuer {
            url: url.into(),
            jwks_uri: None,
            audience: None,
            keys: None,
            dpop: None,
            introspection: None,
        }
    }

    /// The issuer's JWKS URL, skipping discovery.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// The audience that `global_api` and `org_resource` policies without an
    /// audience of their own require of this issuer's tokens, instead of the
    /// validator's [`audience`](crate::ValidatorBuilder::audience).
    ///
    /// It does not confine the issuer: a policy that names its own audience,
    /// and every `org_permission` policy, accept any trusted issuer's tokens.
    /// To keep a route to one issuer, give it a check function on
    /// [`AuthInfo::issuer`](crate::AuthInfo::issuer).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Keys given up front: this issuer's keys are never fetched (no
    /// network at all), and its `iss` need not be a URL.
    pub fn keys(mut self, keys: StaticKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// This issuer's own DPoP mode, instead of the validator's
    /// ([`ValidatorBuilder::dpop`](crate::ValidatorBuilder::dpop)): for
    /// instance `required` for the issuer of a bank's payment clients.
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = Some(mode);
        self
    }

    /// The mode given with [`dpop`](Issuer::dpop), if any.
    pub(crate) fn dpop_mode(&self) -> Option<DpopMode> {
        self.dpop
    }

    /// Introspects this issuer's opaque access tokens (RFC 7662): see
    /// [`Introspection`]. At most one issuer may introspect unless
    /// [`opaque_token_issuer`](crate::ValidatorBuilder::opaque_token_issuer)
    /// picks one per token. Default: opaque tokens are refused (401
    /// `invalid_token`) without any request.
    pub fn introspection(mut self, introspection: Introspection) -> Self {
        self.introspection = Some(introspection);
        self
    }

    /// The introspection given with [`introspection`](Issuer::introspection), if any.
    pub(crate) fn introspection_config(&self) -> Option<&Introspection> {
        self.introspection.as_ref()
    }

    /// The `iss` its tokens carry.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The audience given with [`audience`](Issuer::audience), if any.
    pub(crate) fn own_audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// This issuer, its other settings kept, under another `url` (the
    /// builder's [`issuer`](crate::ValidatorBuilder::issuer) may come after
    /// its [`jwks_uri`](crate::ValidatorBuilder::jwks_uri)).
    pub(crate) fn with_url(mut self, url: String) -> Self {
        self.url = url;
        self
    }
}

/// One trusted issuer, built.
pub(crate) struct TrustedIssuer {
    pub url: String,
    /// What policies without an audience of their own require of its
    /// tokens: its own, else the validator's.
    pub audience: Option<Arc<str>>,
    pub store: Arc<KeyStore>,
    /// Its own DPoP mode, if it has one.
    pub dpop: Option<DpopMode>,
}

/// What every trusted issuer shares: its key store's settings, the HTTP
/// client, the token cache, and the validator's audience.
pub(crate) struct StoreSettings {
    pub keys: KeyStoreConfig,
    pub client: reqwest::Client,
    /// The verified-token cache, whose entries of an issuer are dropped when
    /// their key leaves that issuer's set.
    pub cache: Option<Arc<TokenCache>>,
    /// The validator's audience, for issuers that name none of their own.
    pub audience: Option<Arc<str>>,
}

/// The trusted issuers, in the order configured (never empty).
pub(crate) struct TrustedIssuers {
    list: Vec<TrustedIssuer>,
    /// `iss` to position, for many issuers.
    by_url: Option<HashMap<String, usize>>,
}

impl TrustedIssuers {
    /// Checks each issuer's configuration and builds its key store; static
    /// keys are read and judged now. No network I/O.
    pub fn build(issuers: Vec<Issuer>, settings: &StoreSettings) -> Result<Self, ConfigError> {
        if issuers.is_empty() {
            return Err(ConfigError::MissingIssuer);
        }
        let mut list: Vec<TrustedIssuer> = Vec::with_capacity(issuers.len());
        for (index, issuer) in issuers.into_iter().enumerate() {
            if list.iter().any(|t| t.url == issuer.url) {
                return Err(ConfigError::DuplicateIssuer(issuer.url));
            }
            list.push(Self::build_one(index, issuer, settings)?);
        }
        let by_url = (list.len() > LINEAR_ROUTING_MAX).then(|| {
            list.iter()
                .enumerate()
                .map(|(i, t)| (t.url.clone(), i))
                .collect()
        });
        Ok(TrustedIssuers { list, by_url })
    }

    fn build_one(
        index: usize,
        issuer: Issuer,
        settings: &StoreSettings,
    ) -> Result<TrustedIssuer, ConfigError> {
        let on_change = settings.cache.clone().map(|cache| {
            Box::new(move |keys: &KeySet| {
                cache.retain_keys(|claims| {
                    claims.issuer_index != index
                        || keys.contains(
                            claims.key_id.as_deref(),
                            claims.key_algorithm,
                            &claims.key_thumbprint,
                        )
                });
            }) as OnKeysChanged
        });
        let store = match (issuer.keys, issuer.jwks_uri) {
            (Some(keys), Some(_)) => {
                return Err(keys.invalid("given together with a JWKS URI: give one or the other"));
            }
            (Some(_), None) if issuer.url.is_empty() => return Err(ConfigError::MissingIssuer),
            (Some(keys), None) => KeyStore::given(
                &keys,
                &settings.keys,
                on_change,
                IssuerMetrics::new(&issuer.url),
            )?,
            (None, jwks_uri) => {
                fetch::check_url(&issuer.url, "issuer")?;
                let location = match jwks_uri {
                    Some(uri) => {
                        fetch::check_url(&uri, "JWKS")?;
                        JwksLocation::Uri(uri)
                    }
                    None => JwksLocation::Discovery {
                        issuer: issuer.url.clone(),
                    },
                };
                let fetcher = KeyFetcher::new(
                    settings.client.clone(),
                    location,
                    settings.keys.max_response_bytes,
                );
                KeyStore::fetched(
                    &issuer.url,
                    fetcher,
                    settings.keys.clone(),
                    on_change,
                    IssuerMetrics::new(&issuer.url),
                )
            }
        };
        Ok(TrustedIssuer {
            url: issuer.url,
            audience: issuer
                .audience
                .map(Arc::from)
                .or_else(|| settings.audience.clone()),
            store: Arc::new(store),
            dpop: issuer.dpop,
        })
    }

    /// The issuer whose tokens carry this `iss`, with its position.
    pub fn route(&self, iss: &str) -> Option<(usize, &TrustedIssuer)> {
        let index = match &self.by_url {
            Some(by_url) => *by_url.get(iss)?,
            None => self.list.iter().position(|t| t.url == iss)?,
        };
        self.list.get(index).map(|t| (index, t))
    }

    /// The issuer at `index` (from [`route`](Self::route)).
    pub fn get(&self, index: usize) -> Option<&TrustedIssuer> {
        self.list.get(index)
    }

    /// Every issuer, in the order configured.
    pub fn iter(&self) -> std::slice::Iter<'_, TrustedIssuer> {
        self.list.iter()
    }
}
