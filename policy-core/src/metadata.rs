//! RFC 9728 Protected Resource Metadata: which issuer to get a token from and
//! which scopes exist, from the validator and the program's declarations.
//! Each front end serves it at `/.well-known/oauth-protected-resource`.

use serde::Serialize;

use crate::declaration::declared;
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
    pub fn from_declared(validator: &Validator) -> Self {
        let mut scopes: Vec<String> = declared()
            .into_iter()
            .flat_map(|d| d.policies())
            .flat_map(|p| p.required_scopes().iter().chain(p.any_of_scopes()))
            .map(|s| s.to_string())
            .collect();
        scopes.sort();
        scopes.dedup();
        ResourceMetadata {
            resource: validator.audience().unwrap_or_default().to_owned(),
            authorization_servers: validator.issuers().map(str::to_owned).collect(),
            scopes_supported: scopes,
            bearer_methods_supported: vec!["header".to_owned()],
        }
    }
}
