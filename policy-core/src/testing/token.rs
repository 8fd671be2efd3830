//! [`TokenBuilder`]: the claims and JOSE header of one access token, with
//! defaults that a validator for the issuer accepts, and every field open to
//! being overridden, removed or malformed for attack tests.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Shared, lock};
use crate::ORGANIZATION_AUDIENCE_PREFIX;
use crate::validator::verify::now;

/// Which key signs the token, and what its header's `kid` says.
enum KidChoice {
    Current,
    Named(String),
    Omitted,
}

/// Builds and signs an access token; made by
/// [`TestIssuer::token`](super::TestIssuer::token).
///
/// Every method consumes and returns the builder; [`sign`](Self::sign)
/// produces the compact JWS.
#[must_use = "a TokenBuilder does nothing until `.sign()`"]
pub struct TokenBuilder {
    shared: Arc<Shared>,
    claims: Map<String, Value>,
    extra_header: Map<String, Value>,
    kid: KidChoice,
    typ: Option<String>,
}

impl fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kid = match &self.kid {
            KidChoice::Current => "<current>",
            KidChoice::Named(kid) => kid.as_str(),
            KidChoice::Omitted => "<none>",
        };
        f.debug_struct("TokenBuilder")
            .field("claims", &self.claims)
            .field("extra_header", &self.extra_header)
            .field("kid", &kid)
            .field("typ", &self.typ)
            .finish_non_exhaustive()
    }
}

/// `value` as JSON; a value that has no JSON form (e.g. a map with non-string
/// keys) becomes `null`.
fn to_json(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl TokenBuilder {
    /// The defaults documented on
    /// [`TestIssuer::token`](super::TestIssuer::token).
    pub(super) fn new(shared: Arc<Shared>) -> TokenBuilder {
        let iat = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::String(shared.issuer.clone()));
        claims.insert("sub".into(), Value::String("user-1".into()));
        claims.insert("client_id".into(), Value::String("test-client".into()));
        claims.insert("iat".into(), Value::from(iat));
        claims.insert("exp".into(), Value::from(iat.saturating_add(3600)));
        TokenBuilder {
            shared,
            claims,
            extra_header: Map::new(),
            kid: KidChoice::Current,
            typ: Some("at+jwt".into()),
        }
    }

    fn set(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Sets `sub`.
    pub fn subject(self, subject: impl Into<String>) -> Self {
        self.set("sub", Value::String(subject.into()))
    }

    /// Sets `client_id`.
    pub fn client_id(self, client_id: impl Into<String>) -> Self {
        self.set("client_id", Value::String(client_id.into()))
    }

    /// Overrides `iss`.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.set("iss", Value::String(issuer.into()))
    }

    /// Adds one audience: with one, `aud` is a JSON string; with several, an
    /// array.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        let audience = Value::String(audience.into());
        let aud = match self.claims.remove("aud") {
            Some(Value::String(previous)) => Value::Array(vec![Value::String(previous), audience]),
            Some(Value::Array(mut previous)) => {
                previous.push(audience);
                Value::Array(previous)
            }
            _ => audience,
        };
        self.set("aud", aud)
    }

    /// Sets `scope` to the scopes joined with spaces.
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.scope(scopes.join(" "))
    }

    /// Sets `scope` verbatim (e.g. `"read write"`).
    pub fn scope(self, scope: impl Into<String>) -> Self {
        self.set("scope", Value::String(scope.into()))
    }

    /// Binds the token to a DPoP key: `cnf` = `{"jkt": <its thumbprint>}`
    /// (RFC 9449 §6.1). A validator then accepts it only under the `DPoP`
    /// scheme, with a proof signed by that key.
    pub fn bound_to(self, key: &super::DpopKey) -> Self {
        self.set("cnf", serde_json::json!({ "jkt": key.thumbprint() }))
    }

    /// Sets the `organization_id` claim.
    pub fn organization(self, organization_id: impl Into<String>) -> Self {
        self.set("organization_id", Value::String(organization_id.into()))
    }

    /// A token for a global API resource: adds `resource` as audience.
    pub fn for_global_api(self, resource: impl Into<String>) -> Self {
        self.audience(resource)
    }

    /// An organization token: adds the audience
    /// `urn:logto:organization:{organization_id}`.
    pub fn for_organization(self, organization_id: impl AsRef<str>) -> Self {
        let audience = format!("{ORGANIZATION_AUDIENCE_PREFIX}{}", organization_id.as_ref());
        self.audience(audience)
    }

    /// A token for an API resource within an organization: adds `resource` as
    /// audience and sets `organization_id`.
    pub fn for_org_resource(
        self,
        resource: impl Into<String>,
        organization_id: impl Into<String>,
    ) -> Self {
        self.audience(resource).organization(organization_id)
    }

    /// Sets `exp` to now plus `lifetime` (whole seconds).
    pub fn expires_in(self, lifetime: Duration) -> Self {
        let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        self.expires_at(now().saturating_add(seconds))
    }

    /// Sets `exp` (Unix seconds; may be in the past).
    pub fn expires_at(self, exp: i64) -> Self {
        self.set("exp", Value::from(exp))
    }

    /// Sets `nbf` (Unix seconds).
    pub fn not_before(self, nbf: i64) -> Self {
        self.set("nbf", Value::from(nbf))
    }

    /// Sets `iat` (Unix seconds).
    pub fn issued_at(self, iat: i64) -> Self {
        self.set("iat", Value::from(iat))
    }

    /// Puts `kid` in the header. The token is signed with that key if the
    /// issuer has (or had) it, else with the current signing key.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = KidChoice::Named(kid.into());
        self
    }

    /// Leaves `kid` out of the header (signs with the current key).
    pub fn no_kid(mut self) -> Self {
        self.kid = KidChoice::Omitted;
        self
    }

    /// Sets the header `typ` (`None` leaves it out). The default is
    /// `"at+jwt"`.
    pub fn typ(mut self, typ: Option<&str>) -> Self {
        self.typ = typ.map(str::to_owned);
        self
    }

    /// Sets or overrides any payload claim, with any JSON value (e.g. `exp`
    /// as a string). A value with no JSON form becomes `null`.
    pub fn claim(self, name: impl AsRef<str>, value: impl Serialize) -> Self {
        let value = to_json(value);
        self.set(name.as_ref(), value)
    }

    /// Removes a payload claim (including the defaults `iss`, `sub`, `exp`…).
    pub fn remove_claim(mut self, name: impl AsRef<str>) -> Self {
        self.claims.remove(name.as_ref());
        self
    }

    /// Adds a header field (e.g. `crit`, `jku`). It overrides the generated
    /// `alg`, `kid` and `typ` fields, but the token is still signed with the
    /// algorithm of the chosen key.
    pub fn header(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        self.extra_header.insert(name.into(), to_json(value));
        self
    }

    /// The payload as it would be signed.
    pub fn payload(&self) -> Value {
        Value::Object(self.claims.clone())
    }

    /// Issues the token as an opaque string instead of signing it: a random
    /// base64url string (no dots) that only the issuer's introspection
    /// endpoint can read. Introspection answers `active: true`, `token_type:
    /// "Bearer"` and these claims (a `token_type` claim set here replaces
    /// it) until `exp` passes or the token is revoked
    /// ([`TestIssuer::revoke`](super::TestIssuer::revoke), or RFC 7009
    /// revocation), then `active: false`.
    pub fn opaque(self) -> String {
        let mut random = [0u8; 32];
        aws_lc_rs::rand::fill(&mut random).expect("the system random generator works");
        let token = URL_SAFE_NO_PAD.encode(random);
        let mut answer = Map::new();
        answer.insert("active".into(), Value::Bool(true));
        answer.insert("token_type".into(), Value::String("Bearer".into()));
        answer.extend(self.claims);
        lock(&self.shared.state).opaque.insert(
            token.clone(),
            super::OpaqueToken {
                answer,
                revoked: false,
            },
        );
        token
    }

    /// Signs the token and returns it in compact JWS form.
    pub fn sign(self) -> String {
        let (key, header_kid) = match self.kid {
            KidChoice::Current => {
                let key = Arc::clone(&lock(&self.shared.state).current);
                let kid = key.kid.clone();
                (key, Some(kid))
            }
            KidChoice::Named(kid) => (self.shared.key_or_current(&kid), Some(kid)),
            KidChoice::Omitted => (Arc::clone(&lock(&self.shared.state).current), None),
        };
        let mut header = Map::new();
        header.insert("alg".into(), Value::String(key.alg.as_str().to_owned()));
        if let Some(typ) = self.typ {
            header.insert("typ".into(), Value::String(typ));
        }
        if let Some(kid) = header_kid {
            header.insert("kid".into(), Value::String(kid));
        }
        header.extend(self.extra_header);
        let header = Value::Object(header).to_string();
        let payload = Value::Object(self.claims).to_string();
        key.sign_jws(header.as_bytes(), payload.as_bytes())
    }
}
