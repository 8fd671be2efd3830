//! `PolicySecurity` in process, on handlers that really carry `#[requires]`
//! and `#[utoipa::path]`: matched by operation id, stacked and any-of
//! policies, undeclared handlers left public, and what it reports instead of
//! guessing (a handler without an operation, two handlers of one name), and
//! what the public document keeps out unless told (check function names, the
//! names of issuers of static keys).
//!
//! Every scope here is one the rest of this binary declares too: the
//! protected resource metadata test lists them all.

use bearer_policy::testing::TestIssuer;
use bearer_policy::utoipa::{PolicySecurity, Report};
use bearer_policy::{AuthInfo, Denied, StaticKeys, Validator, requires};
use serde_json::{Value, json};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

/// The handlers of one small API, documented, never served.
#[allow(dead_code)]
mod api {
    use super::*;

    /// Public.
    #[utoipa::path(get, path = "/status")]
    pub async fn status() {}

    /// A global scope and one of two others.
    #[utoipa::path(get, path = "/products")]
    #[requires(model = global_api, scopes("api:read"), any_scopes("admin", "support"))]
    pub async fn list_products(auth: AuthInfo) -> Result<(), Denied> {
        let _ = auth;
        Ok(())
    }

    /// Stacked: an organization permission (header) and an API scope within
    /// the organization (path); both must hold.
    #[utoipa::path(post, path = "/orgs/{org_id}/members")]
    #[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
    #[requires(model = org_resource, scopes("api:write"), org_from = path)]
    pub async fn add_member(org_id: String, auth: AuthInfo) -> Result<(), Denied> {
        let _ = (org_id, auth);
        Ok(())
    }

    /// Renamed in the document: `handler_operation` matches it.
    #[utoipa::path(delete, path = "/products/{id}", operation_id = "remove_product")]
    #[requires(model = global_api, scopes("api:write"))]
    pub async fn delete_product(auth: AuthInfo) -> Result<(), Denied> {
        let _ = auth;
        Ok(())
    }

    /// Declared, but in no document.
    #[requires(model = global_api, scopes("api:read"))]
    pub async fn undocumented(auth: AuthInfo) -> Result<(), Denied> {
        let _ = auth;
        Ok(())
    }
}

/// Two handlers named `list`, in two modules.
#[allow(dead_code)]
mod clash {
    pub mod users {
        use bearer_policy::{AuthInfo, Denied, requires};

        #[utoipa::path(get, path = "/users")]
        #[requires(model = global_api, scopes("api:read"))]
        pub async fn list(auth: AuthInfo) -> Result<(), Denied> {
            let _ = auth;
            Ok(())
        }
    }

    pub mod billing {
        use bearer_policy::{AuthInfo, Denied, requires};

        #[utoipa::path(get, path = "/invoices", operation_id = "list_invoices")]
        #[requires(model = org_permission, scopes("manage:billing"), org_from = query("organization_id"))]
        pub async fn list(auth: AuthInfo) -> Result<(), Denied> {
            let _ = auth;
            Ok(())
        }
    }
}

/// A handler with a check function, whose name is the server's business.
#[allow(dead_code)]
mod guarded {
    use bearer_policy::{AuthInfo, Denied, requires};

    pub fn is_on_call_engineer(auth: &AuthInfo) -> bool {
        auth.claim("on_call") == Some(serde_json::Value::Bool(true))
    }

    /// The incident log.
    #[utoipa::path(get, path = "/incidents")]
    #[requires(model = global_api, scopes("api:read"), check = is_on_call_engineer)]
    pub async fn incidents(auth: AuthInfo) -> Result<(), Denied> {
        let _ = auth;
        Ok(())
    }
}

#[derive(OpenApi)]
#[openapi(paths(api::status, api::list_products, api::add_member, api::delete_product))]
struct ApiDoc;

#[derive(OpenApi)]
#[openapi(paths(guarded::incidents))]
struct GuardedDoc;

#[derive(OpenApi)]
#[openapi(paths(clash::users::list, clash::billing::list))]
struct ClashDoc;

fn api_module() -> String {
    format!("{}::api", module_path!())
}

fn clash_module() -> String {
    format!("{}::clash", module_path!())
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "no {method} {path} in {doc:#}");
    operation
}

/// `ApiDoc` secured, with its report.
fn secured_api() -> (Value, Report) {
    let mut doc = ApiDoc::openapi();
    let report = PolicySecurity::new()
        .module(api_module())
        .handler_operation("api::delete_product", "remove_product")
        .apply(&mut doc);
    (serde_json::to_value(&doc).unwrap(), report)
}

#[test]
fn declared_scopes_land_on_the_operation_named_like_the_handler() {
    let (doc, _) = secured_api();
    // `api:read` always, and `admin` or `support`: one requirement object each.
    assert_eq!(
        operation(&doc, "/products", "get")["security"],
        json!([{ "bearer": ["api:read", "admin"] }, { "bearer": ["api:read", "support"] }])
    );
    // Stacked policies: one requirement object, since the request carries one
    // token; the organization permission by its own name.
    assert_eq!(
        operation(&doc, "/orgs/{org_id}/members", "post")["security"],
        json!([{ "bearer": ["api:write", "invite:member"] }])
    );
    let description = operation(&doc, "/orgs/{org_id}/members", "post")["description"]
        .as_str()
        .unwrap();
    assert!(
        description.contains("model `org_permission`")
            && description.contains("the header `X-Organization-Id`"),
        "{description}"
    );
    assert!(
        description.contains("model `org_resource`")
            && description.contains("the path parameter `org_id`"),
        "{description}"
    );
}

#[test]
fn a_handler_without_requires_has_no_security_requirement() {
    let (doc, _) = secured_api();
    let status = operation(&doc, "/status", "get");
    assert_eq!(status["security"], Value::Null);
    assert_eq!(doc["security"], Value::Null);
}

#[test]
fn a_renamed_operation_is_matched_through_handler_operation() {
    let (doc, report) = secured_api();
    assert_eq!(
        operation(&doc, "/products/{id}", "delete")["security"],
        json!([{ "bearer": ["api:write"] }])
    );
    assert_eq!(
        report.secured,
        ["add_member", "list_products", "remove_product"]
    );
}

#[test]
fn a_declared_handler_without_an_operation_is_reported() {
    let (_, report) = secured_api();
    assert_eq!(
        report.unmatched,
        [format!("{}::undocumented", api_module())]
    );
    assert!(!report.is_complete());
    assert!(
        report.to_string().contains("::api::undocumented"),
        "{report}"
    );
    // Without `handler_operation`, the renamed handler is unmatched too.
    let mut doc = ApiDoc::openapi();
    let report = PolicySecurity::new().module(api_module()).apply(&mut doc);
    assert!(
        report
            .unmatched
            .contains(&format!("{}::delete_product", api_module())),
        "{report:?}"
    );
}

#[test]
fn handlers_sharing_a_name_are_reported_not_guessed() {
    let mut doc = ClashDoc::openapi();
    let report = PolicySecurity::new().module(clash_module()).apply(&mut doc);
    let module = clash_module();
    assert_eq!(
        report.ambiguous,
        [
            format!("{module}::billing::list"),
            format!("{module}::users::list"),
        ]
    );
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(operation(&json, "/users", "get")["security"], Value::Null);

    // Naming one of them is not enough to place the other.
    let mut doc = ClashDoc::openapi();
    let report = PolicySecurity::new()
        .module(clash_module())
        .handler_operation("billing::list", "list_invoices")
        .apply(&mut doc);
    assert_eq!(report.ambiguous, [format!("{module}::users::list")]);

    // Naming both places both.
    let mut doc = ClashDoc::openapi();
    let report = PolicySecurity::new()
        .module(clash_module())
        .handler_operation("billing::list", "list_invoices")
        .handler_operation("users::list", "list")
        .apply(&mut doc);
    assert!(report.is_complete(), "{report}");
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        operation(&json, "/users", "get")["security"],
        json!([{ "bearer": ["api:read"] }])
    );
    assert_eq!(
        operation(&json, "/invoices", "get")["security"],
        json!([{ "organization_token": ["manage:billing"] }])
    );
}

#[test]
fn handler_operation_naming_no_handler_or_several_is_reported() {
    let mut doc = ClashDoc::openapi();
    let report = PolicySecurity::new()
        .module(clash_module())
        .handler_operation("list", "list")
        .handler_operation("users::lists", "list")
        .apply(&mut doc);
    assert_eq!(report.unknown_handlers, ["list", "users::lists"]);
}

/// Secured at `openapi()` time, as utoipa users write modifiers: a `const`…
const SECURITY: PolicySecurity = PolicySecurity::new();

#[derive(OpenApi)]
#[openapi(paths(api::status, api::list_products), modifiers(&SECURITY))]
struct ModifiedDoc;

/// … or a type of theirs, for settings.
struct ApiSecurity;

impl Modify for ApiSecurity {
    fn modify(&self, openapi: &mut Document) {
        PolicySecurity::new()
            .module(api_module())
            .handler_operation("api::delete_product", "remove_product")
            .modify(openapi);
    }
}

#[derive(OpenApi)]
#[openapi(paths(api::status, api::list_products, api::add_member, api::delete_product), modifiers(&ApiSecurity))]
struct SettingsDoc;

#[test]
fn a_modifier_type_of_the_users_applies_its_settings() {
    let (applied, _) = secured_api();
    assert_eq!(
        serde_json::to_value(SettingsDoc::openapi()).unwrap(),
        applied
    );
}

#[test]
fn as_a_modifier_of_the_derive_it_secures_the_document_and_parses_as_openapi_3_1() {
    let doc: Document = ModifiedDoc::openapi();
    let text = doc.to_json().unwrap();
    let spec = oas3::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let version = spec.validate_version().unwrap();
    assert_eq!((version.major, version.minor), (3, 1));
    let products = spec
        .operations()
        .find(|(_, _, op)| op.operation_id.as_deref() == Some("list_products"))
        .map(|(_, _, op)| op.clone())
        .unwrap();
    assert_eq!(products.security.len(), 2, "{text}");
    let status = spec
        .operations()
        .find(|(_, _, op)| op.operation_id.as_deref() == Some("status"))
        .map(|(_, _, op)| op.clone())
        .unwrap();
    assert!(status.security.is_empty(), "{text}");
    let bearer = &spec.components.as_ref().unwrap().security_schemes;
    assert!(bearer.contains_key(PolicySecurity::BEARER_SCHEME), "{text}");
}

#[test]
fn modify_and_apply_write_the_same_document() {
    let security = PolicySecurity::new().module(api_module());
    let mut applied = ApiDoc::openapi();
    security.apply(&mut applied);
    let mut modified = ApiDoc::openapi();
    security.modify(&mut modified);
    assert_eq!(
        serde_json::to_value(&applied).unwrap(),
        serde_json::to_value(&modified).unwrap()
    );
}

/// `GuardedDoc`, secured by `security`, as the text a client downloads.
fn guarded_text(security: PolicySecurity) -> String {
    let mut doc = GuardedDoc::openapi();
    let report = security
        .module(format!("{}::guarded", module_path!()))
        .apply(&mut doc);
    assert!(report.is_complete(), "{report}");
    doc.to_json().unwrap()
}

#[test]
fn a_check_functions_name_is_in_the_public_document_only_when_revealed() {
    let text = guarded_text(PolicySecurity::new());
    assert!(!text.contains("is_on_call_engineer"), "{text}");
    assert!(text.contains("passing a rule of the API's own"), "{text}");
    // The operators' inventory keeps the name.
    assert!(
        bearer_policy::declared()
            .iter()
            .flat_map(|d| d.policies())
            .any(|p| p
                .check_name()
                .is_some_and(|name| name.ends_with("is_on_call_engineer")))
    );

    let text = guarded_text(PolicySecurity::new().reveal_check_names(true));
    assert!(
        text.contains("passing the check `is_on_call_engineer`"),
        "{text}"
    );
}

#[tokio::test]
async fn a_static_key_issuers_name_is_in_the_public_document_only_when_revealed() {
    let signer = TestIssuer::start().await;
    let validator = Validator::builder()
        .issuer("internal-signer")
        .audience("https://api.example.com")
        .keys(StaticKeys::jwks(signer.jwks_json().to_string()))
        .build()
        .unwrap();
    validator.ready().await.unwrap();

    let text = guarded_text(PolicySecurity::from_validator(&validator));
    assert!(!text.contains("internal-signer"), "{text}");
    // Its tokens still need the audience, and the document says which.
    assert!(
        text.contains("an access token for the API resource `https://api.example.com`"),
        "{text}"
    );

    let text =
        guarded_text(PolicySecurity::from_validator(&validator).reveal_static_key_issuers(true));
    assert!(text.contains("`internal-signer`"), "{text}");
}
