//! The runtime of [`bearer-policy`](https://docs.rs/bearer-policy): bearer extraction, JWKS
//! fetching and caching, access-token validation, the three permission models,
//! and the front ends: warp filters, axum and actix-web extractors, a tower
//! layer and MCP servers on rmcp; and the declared permissions in a utoipa
//! OpenAPI document.
//!
//! Most users depend on the `bearer-policy` crate, which re-exports everything here
//! together with the `#[requires]` attribute.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod auth_info;
mod authorized;
mod bearer;
mod claims;
mod declaration;
mod dpop;
mod error;
mod fetch;
mod introspection;
mod issuers;
mod jwks;
mod key_store;
mod metadata;
mod observe;
mod org_fields;
mod policy;
mod readiness;
mod rejected;
mod request;
mod static_keys;
mod token_cache;
mod validator;

#[cfg(test)]
mod test_support;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "rmcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "rmcp")))]
pub mod mcp;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
#[cfg(feature = "utoipa")]
#[cfg_attr(docsrs, doc(cfg(feature = "utoipa")))]
pub mod utoipa;
#[cfg(feature = "warp")]
#[cfg_attr(docsrs, doc(cfg(feature = "warp")))]
pub mod warp;

pub use crate::algorithm::{Algorithm, UnknownAlgorithm};
pub use crate::auth_info::{AuthInfo, RequestContext};
pub use crate::authorized::{Authorized, Decided, DeclaredHandler, FromAuthInfo};
pub use crate::bearer::{BearerConfig, DEFAULT_MAX_TOKEN_LEN, extract_bearer};
pub use crate::declaration::{Declaration, McpKind, declared};
#[cfg(feature = "redis")]
pub use crate::dpop::RedisReplayStore;
pub use crate::dpop::{
    DpopError, DpopMode, InMemoryReplayStore, RecordFuture, Recorded, ReplayStore,
    ReplayStoreError, UnknownDpopMode,
};
pub use crate::error::{ConfigError, Denied, Error, RequestError, Result, TokenError};
pub use crate::introspection::{ClientAuth, Introspection};
pub use crate::issuers::Issuer;
pub use crate::jwks::{MAX_JWKS_KEYS, MAX_KEYS_TRIED_WITHOUT_KID};
pub use crate::metadata::{PROTECTED_RESOURCE_METADATA_PATH, ResourceMetadata};
pub use crate::policy::{
    CheckOutcome, Model, ORGANIZATION_AUDIENCE_PREFIX, OrgSource, Policy, PolicySet, ScopeList,
};
pub use crate::readiness::{IssuerReadiness, KeysSource, ReadinessReport};
pub use crate::rejected::{Rejected, error_response};
pub use crate::request::{PathParams, RequestHead, Requirements, decide};
pub use crate::static_keys::StaticKeys;
pub use crate::validator::{OAuthEndpoints, Validator, ValidatorBuilder};

/// Declares scope constants, checked at compile time, for use in
/// `#[requires(scopes(...))]` so that a misspelt scope is a compile error.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// bearer_policy::scopes! {
///     /// Permissions of the products API.
///     pub Api {
///         READ = "api:read",
///         WRITE = "api:write",
///     }
/// }
/// assert_eq!(Api::READ, "api:read");
/// assert_eq!(Api::ALL, &["api:read", "api:write"]);
/// ```
///
/// Scope text must be an RFC 6749 scope-token (visible ASCII except `"` and
/// `\`, no whitespace), and no scope may repeat:
///
/// ```compile_fail
/// # extern crate bearer_policy_core as bearer_policy;
/// bearer_policy::scopes! { pub Api { READ = "api read" } }
/// ```
#[macro_export]
macro_rules! scopes {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($(#[$cmeta:meta])* $const:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $const: &'static str = $value;
            )+
            /// Every scope of this set, in declaration order.
            pub const ALL: &'static [&'static str] = &[$($value),+];
        }

        const _: () = $crate::__private::assert_scopes($name::ALL);
    };
}

/// Support for the code that `#[requires]` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::authorized::decided_on_route;
    pub use crate::declaration::{Declaration, McpKind};
    pub use crate::policy::{Check, CheckFn, check_name_of};
    pub use crate::request::RequirementsCell;
    pub use crate::{
        AuthInfo, Authorized, DeclaredHandler, Denied, DpopMode, Model, OrgSource, PathParams,
        Policy, PolicySet, decide,
    };
    pub use inventory;
    pub use std::borrow::Cow;

    use std::fmt::Display;
    use std::ops::Deref;

    /// Wraps an organization-id parameter so that `(&OrgIdRef(&x)).org_id()`
    /// borrows it when it derefs to `str` and formats it otherwise.
    pub struct OrgIdRef<'a, T: ?Sized>(pub &'a T);

    /// Preferred: the parameter derefs to `str` (`String`, `&str`, `Box<str>`…).
    pub trait OrgIdViaStr {
        /// The organization id.
        fn org_id(&self) -> Cow<'_, str>;
    }

    impl<T: ?Sized + Deref<Target = str>> OrgIdViaStr for OrgIdRef<'_, T> {
        fn org_id(&self) -> Cow<'_, str> {
            Cow::Borrowed(&**self.0)
        }
    }

    /// Fallback: the parameter implements `Display` (numbers, UUIDs…).
    pub trait OrgIdViaDisplay {
        /// The organization id.
        fn org_id(&self) -> Cow<'static, str>;
    }

    impl<T: ?Sized + Display> OrgIdViaDisplay for &OrgIdRef<'_, T> {
        fn org_id(&self) -> Cow<'static, str> {
            Cow::Owned(self.0.to_string())
        }
    }

    /// Whether `scope` is an RFC 6749 scope-token: one or more of `%x21 /
    /// %x23-5B / %x5D-7E` (visible ASCII except `"` and `\`).
    #[allow(clippy::indexing_slicing)] // bounded by the loop condition
    pub const fn is_scope_token(scope: &str) -> bool {
        let bytes = scope.as_bytes();
        if bytes.is_empty() {
            return false;
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x21 || b > 0x7e || b == b'"' || b == b'\\' {
                return false;
            }
            i += 1;
        }
        true
    }

    #[allow(clippy::indexing_slicing)] // bounded by the loop condition
    const fn str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Fails compilation (in a `const` context) when a scope is not a scope-token.
    #[allow(clippy::panic)]
    pub const fn assert_scope(scope: &str) {
        if !is_scope_token(scope) {
            panic!(
                "invalid scope: a scope must be non-empty visible ASCII with no whitespace, `\"` or `\\` (RFC 6749 scope-token)"
            );
        }
    }

    /// Fails compilation when a scope is invalid or appears twice.
    #[allow(clippy::panic, clippy::indexing_slicing)] // compile-time only; bounded indices
    pub const fn assert_scopes(scopes: &[&str]) {
        let mut i = 0;
        while i < scopes.len() {
            assert_scope(scopes[i]);
            let mut j = i + 1;
            while j < scopes.len() {
                if str_eq(scopes[i], scopes[j]) {
                    panic!("duplicate scope: each scope may be listed only once");
                }
                j += 1;
            }
            i += 1;
        }
    }
}

/// Entry points for the fuzz targets (`fuzz/`) and their corpus replay test
/// (`tests/it/fuzz_corpus.rs`): thin wrappers over internal parsers. Not a public
/// API: compiled only with the undocumented `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// Parses a JWKS document with the default algorithm allow-list; the
    /// number of usable keys, or `None` if the document is refused.
    pub fn parse_jwks(document: &[u8]) -> Option<usize> {
        crate::jwks::KeySet::parse(document, crate::jwks::DEFAULT_ALGORITHMS)
            .ok()
            .map(|set| set.len())
    }

    /// Parses PEM text as static keys with the default algorithm allow-list;
    /// the number of usable keys, or `None` if the text is refused.
    pub fn parse_pem(text: &str) -> Option<usize> {
        crate::StaticKeys::pem(text)
            .load(crate::jwks::DEFAULT_ALGORITHMS, usize::MAX)
            .ok()
            .map(|set| set.len())
    }

    /// Parses an OpenID discovery document that must name `issuer`; its
    /// `jwks_uri`, or `None` if the document is refused.
    pub fn parse_discovery(document: &[u8], issuer: &str) -> Option<String> {
        crate::fetch::parse_discovery(document, issuer, "https://fuzz.invalid/discovery")
            .ok()
            .map(|discovery| discovery.jwks_uri)
    }

    /// Parses a JOSE header (decoded JSON); whether it is accepted.
    pub fn parse_header(json: &[u8]) -> bool {
        crate::claims::parse_header(json).is_ok()
    }

    /// Parses a JWT payload (decoded JSON); whether it is accepted.
    pub fn parse_claims(json: &[u8]) -> bool {
        crate::claims::parse_claims(json).is_ok()
    }

    /// Parses a `DPoP` header value as a proof; the length of the signing
    /// input it found, or `None` if the value is refused.
    pub fn parse_dpop_proof(value: &[u8]) -> Option<usize> {
        crate::dpop::proof::parse(value)
            .ok()
            .map(|proof| proof.signing_input.len())
    }
}
