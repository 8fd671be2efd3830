//! RFC 9728 Protected Resource Metadata: which issuer to get a token from and
//! which scopes exist, from the validator and the program's declarations.
//! Each front end serves it at `/.well-known/oauth-protected-resource`.

use serde::Serialize;

use crate::declaration::declared;
use crate::policy::Policy;
use crate::validator::Validator;

/// The well-known path of the metadata (RFC 9728 §3).
pub const PROTECTED_RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// RFC 9728 Protected Resource Metadata for this API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    /// The resource indicator (the validator's audience).
    pub resource: String,
    /// The issuers whose tokens the API accepts.
    pub authorization_servers: Vec<String>,
    /// Every scope the declared policies mention, sorted.
    pub scopes_supported: Vec<String>,
    /// How to send the token: `["header"]`.
    pub bearer_methods_supported: Vec<String>,
}

impl ResourceMetadata {
    /// The metadata of the API `validator` protects, with the scopes of every
    /// `#[requires]` declaration in the program.
    ///
    /// Routes protected without the macro are not declared: add their
    /// policies with [`with_policies`](ResourceMetadata::with_policies), so
    /// that clients learn their scopes too.
    pub fn from_declared(validator: &Validator) -> Self {
        let mut scopes: Vec<String> = declared()
            .into_iter()
            .flat_map(|d| d.policies())
            .flat_map(Policy::named_scopes)
            .map(str::to_owned)
            .collect();
        scopes.sort();
        scopes.dedup();
        ResourceMetadata {
            resource: validator.audience().unwrap_or_default().to_owned(),
            // Issuers with static keys may be no server at all: not advertised.
            authorization_servers: validator.fetching_issuers().map(str::to_owned).collect(),
            scopes_supported: scopes,
            bearer_methods_supported: vec!["header".to_owned()],
        }
    }

    /// Adds the scopes of `policies` (those of routes protected without
    /// `#[requires]`, such as a run-time [`Policy`](crate::Policy) in warp's
    /// `authorize` or the tower layer) to `scopes_supported`.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{Model, OrgSource, Policy, ResourceMetadata, Validator};
    /// let validator = Validator::builder()
    ///     .issuer("https://auth.example.com/oidc")
    ///     .audience("https://api.example.com")
    ///     .build()
    ///     .unwrap();
    /// let billing = Policy::new(Model::OrgPermission)
    ///     .scopes(["manage:billing"])
    ///     .organization(OrgSource::Header("X-Organization-Id".into()));
    /// let metadata = ResourceMetadata::from_declared(&validator).with_policies([&billing]);
    /// assert!(metadata.scopes_supported.contains(&"manage:billing".to_owned()));
    /// ```
    pub fn with_policies<'p>(mut self, policies: impl IntoIterator<Item = &'p Policy>) -> Self {
        self.scopes_supported.extend(
            policies
                .into_iter()
                .flat_map(Policy::named_scopes)
                .map(str::to_owned),
        );
        self.scopes_supported.sort();
        self.scopes_supported.dedup();
        self
    }
}

impl From<&Validator> for ResourceMetadata {
    /// [`ResourceMetadata::from_declared`].
    fn from(validator: &Validator) -> Self {
        ResourceMetadata::from_declared(validator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Issuer, StaticKeys};

    #[test]
    fn only_issuers_whose_keys_are_fetched_are_advertised() {
        let pem = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----";
        let validator = Validator::builder()
            .issuer("https://auth.example.com/oidc")
            .add_issuer(Issuer::new("internal-signer").keys(StaticKeys::pem(pem)))
            .add_issuer(
                Issuer::new("https://partner.example").jwks_uri("https://partner.example/keys"),
            )
            .audience("https://api.example.com")
            .build()
            .unwrap();
        let metadata = ResourceMetadata::from_declared(&validator);
        assert_eq!(
            metadata.authorization_servers,
            ["https://auth.example.com/oidc", "https://partner.example"]
        );
    }
}
