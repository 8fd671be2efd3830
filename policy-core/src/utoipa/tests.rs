use serde_json::{Value, json};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{Info, OpenApi, Paths};

use super::*;
use crate::auth_info::AuthInfo;
use crate::policy::{Model, OrgSource};
use crate::testing::TestIssuer;

const API: &str = "https://api.example.com";

/// A document with one operation per `(method, path, operation id)`, as
/// `#[utoipa::path]` writes them.
fn document(operations: &[(HttpMethod, &str, &str)]) -> OpenApi {
    let mut paths = Paths::new();
    for (method, path, id) in operations {
        let operation = Operation::builder()
            .operation_id(Some(*id))
            .description(Some("What the handler does."))
            .build();
        paths.add_path_operation(*path, vec![method.clone()], operation);
    }
    OpenApi::new(Info::new("test", "0"), paths)
}

fn to_json(doc: &OpenApi) -> Value {
    serde_json::to_value(doc).unwrap()
}

fn global(scopes: &[&'static str]) -> Policy {
    Policy::new(Model::GlobalApi).scopes(scopes.iter().copied())
}

#[test]
fn required_scopes_are_one_requirement_object_under_the_bearer_scheme() {
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    let report = PolicySecurity::new()
        .operation("list_items", global(&["api:read", "items:read"]))
        .apply(&mut doc);
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.secured, ["list_items"]);
    let json = to_json(&doc);
    assert_eq!(
        json["paths"]["/items"]["get"]["security"],
        json!([{ "bearer": ["api:read", "items:read"] }])
    );
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["bearerFormat"],
        "JWT"
    );
    // No organization policy, no organization scheme; no global requirement.
    assert_eq!(
        json["components"]["securitySchemes"]["organization_token"],
        Value::Null
    );
    assert_eq!(json["security"], Value::Null);
}

#[test]
fn any_of_scopes_are_one_requirement_object_per_alternative() {
    let mut doc = document(&[(HttpMethod::Delete, "/items/{id}", "delete_item")]);
    let policy = global(&["api:write"]).any_scopes(["admin", "owner"]);
    PolicySecurity::new()
        .operation("delete_item", policy)
        .apply(&mut doc);
    assert_eq!(
        to_json(&doc)["paths"]["/items/{id}"]["delete"]["security"],
        json!([
            { "bearer": ["api:write", "admin"] },
            { "bearer": ["api:write", "owner"] },
        ])
    );
}

#[test]
fn an_alternative_already_required_is_not_listed_twice() {
    let mut doc = document(&[(HttpMethod::Get, "/x", "x")]);
    let policy = global(&["a"]).any_scopes(["a", "b"]);
    PolicySecurity::new().operation("x", policy).apply(&mut doc);
    assert_eq!(
        to_json(&doc)["paths"]["/x"]["get"]["security"],
        json!([{ "bearer": ["a"] }])
    );
}

#[test]
fn stacked_policies_ask_the_one_token_for_every_scope_in_one_requirement_object() {
    let mut doc = document(&[(HttpMethod::Post, "/orgs/{org_id}/invite", "invite")]);
    let set = [
        Policy::new(Model::OrgResource)
            .scopes(["api:read"])
            .organization(OrgSource::PathParam("org_id".into())),
        Policy::new(Model::GlobalApi).scopes(["api:write"]),
        Policy::new(Model::OrgPermission)
            .scopes(["invite:member"])
            .organization(OrgSource::PathParam("org_id".into())),
    ];
    PolicySecurity::new()
        .operation("invite", set)
        .apply(&mut doc);
    let json = to_json(&doc);
    assert_eq!(
        json["paths"]["/orgs/{org_id}/invite"]["post"]["security"],
        json!([{ "bearer": ["api:read", "api:write", "invite:member"] }])
    );
    // No operation needs a second, organization token: no such scheme.
    let schemes = &json["components"]["securitySchemes"];
    assert!(schemes.get("organization_token").is_none(), "{schemes}");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
}

#[test]
fn an_organization_permission_alone_needs_only_the_organization_scheme() {
    let mut doc = document(&[(HttpMethod::Get, "/billing", "billing")]);
    let policy = Policy::new(Model::OrgPermission)
        .scopes(["manage:billing"])
        .organization(OrgSource::Header("X-Organization-Id".into()));
    PolicySecurity::new()
        .operation("billing", policy)
        .apply(&mut doc);
    assert_eq!(
        to_json(&doc)["paths"]["/billing"]["get"]["security"],
        json!([{ "organization_token": ["manage:billing"] }])
    );
}

#[test]
fn a_policy_without_scopes_still_requires_a_token() {
    let mut doc = document(&[(HttpMethod::Get, "/me", "me")]);
    PolicySecurity::new()
        .operation("me", Policy::new(Model::GlobalApi))
        .apply(&mut doc);
    assert_eq!(
        to_json(&doc)["paths"]["/me"]["get"]["security"],
        json!([{ "bearer": [] }])
    );
}

#[test]
fn operations_of_no_policy_are_left_alone() {
    let mut doc = document(&[
        (HttpMethod::Get, "/health", "health"),
        (HttpMethod::Get, "/items", "list_items"),
    ]);
    PolicySecurity::new()
        .operation("list_items", global(&["api:read"]))
        .apply(&mut doc);
    let health = &to_json(&doc)["paths"]["/health"]["get"];
    assert_eq!(health["security"], Value::Null);
    assert_eq!(health["description"], "What the handler does.");
}

#[test]
fn the_description_names_the_model_audience_scopes_and_organization_source() {
    let mut doc = document(&[
        (HttpMethod::Get, "/a", "header"),
        (HttpMethod::Get, "/b", "query"),
        (HttpMethod::Get, "/c/{tenant}", "path"),
        (HttpMethod::Get, "/d", "global"),
    ]);
    let mut security = PolicySecurity::new()
        .operation(
            "header",
            Policy::new(Model::OrgPermission)
                .scopes(["manage:billing"])
                .organization(OrgSource::Header("X-Organization-Id".into())),
        )
        .operation(
            "query",
            Policy::new(Model::OrgResource)
                .any_scopes(["reports:read", "admin"])
                .organization(OrgSource::Query("organization_id".into())),
        )
        .operation(
            "path",
            Policy::new(Model::OrgResource)
                .scopes(["api:read", "api:list"])
                .organization(OrgSource::PathParam("tenant".into())),
        )
        .operation(
            "global",
            global(&["api:read"]).audience("https://billing.example.com"),
        );
    security.issuers = vec![issuer("https://a.example", false, false).with_audience(API)];
    security.apply(&mut doc);
    let json = to_json(&doc);
    let description = |path: &str| {
        json["paths"][path]["get"]["description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let header = description("/a");
    assert!(
        header.starts_with("What the handler does.\n\n**Authorization**"),
        "{header}"
    );
    assert!(
        header.contains(
            "model `org_permission`: an organization token (audience \
             `urn:logto:organization:<id>`) for the organization named by the header \
             `X-Organization-Id`, with the organization permission `manage:billing`."
        ),
        "{header}"
    );
    let query = description("/b");
    assert!(
        query.contains(
            "model `org_resource`: an access token for the API resource \
             `https://api.example.com`, issued within the organization (`organization_id`) \
             named by the query parameter `organization_id`, with one of the scopes \
             `reports:read` or `admin`."
        ),
        "{query}"
    );
    let path = description("/c/{tenant}");
    assert!(
        path.contains("the path parameter `tenant`, with the scopes `api:read` and `api:list`."),
        "{path}"
    );
    let global = description("/d");
    assert!(
        global.contains(
            "model `global_api`: an access token for the API resource \
             `https://billing.example.com`, not issued within an organization"
        ),
        "{global}"
    );
}

#[test]
fn a_check_functions_name_stays_out_of_the_document_by_default() {
    let one = global(&["api:read"]).check_with("my_api::rules::is_staff", |_: &AuthInfo| true);
    let two = one
        .clone()
        .check_with("my_api::rules::in_office_hours", |_: &AuthInfo| true);
    for (policy, said) in [
        (one, "passing a rule of the API's own."),
        (two, "passing rules of the API's own."),
    ] {
        let mut doc = document(&[(HttpMethod::Get, "/staff", "staff")]);
        PolicySecurity::new()
            .operation("staff", policy)
            .apply(&mut doc);
        let text = serde_json::to_string(&doc).unwrap();
        let json = to_json(&doc);
        let description = json["paths"]["/staff"]["get"]["description"]
            .as_str()
            .unwrap();
        assert!(
            description.contains(&format!("with the scope `api:read`, and {said}")),
            "{description}"
        );
        for name in ["is_staff", "in_office_hours", "my_api::rules"] {
            assert!(!text.contains(name), "{name} in {text}");
        }
    }
}

#[test]
fn the_description_names_a_check_function_by_its_own_name_when_revealed() {
    let mut doc = document(&[(HttpMethod::Get, "/staff", "staff")]);
    let policy = global(&["api:read"]).check_with("my_api::rules::is_staff", |_: &AuthInfo| true);
    PolicySecurity::new()
        .reveal_check_names(true)
        .operation("staff", policy)
        .apply(&mut doc);
    let json = to_json(&doc);
    let description = json["paths"]["/staff"]["get"]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.contains("with the scope `api:read`, and passing the check `is_staff`."),
        "{description}"
    );
    assert!(!description.contains("my_api::rules"), "{description}");

    let mut doc = document(&[(HttpMethod::Get, "/staff", "staff")]);
    let two = global(&["api:read"])
        .check_with("my_api::rules::is_staff", |_: &AuthInfo| true)
        .check_with("my_api::rules::in_office_hours", |_: &AuthInfo| true);
    PolicySecurity::new()
        .reveal_check_names(true)
        .operation("staff", two)
        .apply(&mut doc);
    let json = to_json(&doc);
    let description = json["paths"]["/staff"]["get"]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.contains("passing the checks `is_staff` and `in_office_hours`."),
        "{description}"
    );
}

#[test]
fn an_authenticate_only_route_asks_for_a_token_without_scopes() {
    let mut doc = document(&[
        (HttpMethod::Get, "/me", "me"),
        (HttpMethod::Get, "/health", "health"),
    ]);
    let security = PolicySecurity::new().authenticated("me");
    let report = security.apply(&mut doc);
    assert!(report.is_complete(), "{report}");
    security.apply(&mut doc);
    let json = to_json(&doc);
    let me = &json["paths"]["/me"]["get"];
    assert_eq!(me["security"], json!([{ "bearer": [] }]));
    let description = me["description"].as_str().unwrap();
    assert_eq!(
        description
            .matches("no audience, scope or organization is checked")
            .count(),
        1,
        "{description}"
    );
    assert!(json["paths"]["/health"]["get"].get("security").is_none());
    // An id that names no operation is reported, as for `operation`.
    let report = PolicySecurity::new()
        .authenticated("nowhere")
        .apply(&mut doc);
    assert_eq!(report.unknown_operations, ["nowhere"]);
}

#[test]
fn applying_twice_gives_the_same_document() {
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    let security = PolicySecurity::new().operation("list_items", global(&["api:read"]));
    security.apply(&mut doc);
    let once = to_json(&doc);
    security.apply(&mut doc);
    assert_eq!(to_json(&doc), once);
}

#[test]
fn an_operation_id_that_no_operation_carries_is_reported_not_skipped() {
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    let report = PolicySecurity::new()
        .operation("list_itemz", global(&["api:read"]))
        .apply(&mut doc);
    assert!(!report.is_complete());
    assert_eq!(report.unknown_operations, ["list_itemz"]);
    assert!(report.secured.is_empty());
    assert!(report.to_string().contains("`list_itemz`"), "{report}");
    assert_eq!(
        to_json(&doc)["paths"]["/items"]["get"]["security"],
        Value::Null
    );
}

#[test]
fn modify_logs_what_it_could_not_match() {
    let mut doc = document(&[]);
    let logs = crate::test_support::logged_at(tracing::Level::WARN, || {
        PolicySecurity::new()
            .operation("nowhere", global(&["api:read"]))
            .handler_operation("no::such::handler", "x")
            .modify(&mut doc);
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("`nowhere`"), "{logs}");
    assert!(logs.contains("`no::such::handler`"), "{logs}");
}

#[test]
fn every_operation_of_a_path_item_is_matched_whatever_its_method() {
    let mut doc = document(&[
        (HttpMethod::Put, "/items", "put_item"),
        (HttpMethod::Patch, "/items", "patch_item"),
    ]);
    let report = PolicySecurity::new()
        .operation("put_item", global(&["a"]))
        .operation("patch_item", global(&["b"]))
        .apply(&mut doc);
    assert_eq!(report.secured, ["patch_item", "put_item"]);
    let json = to_json(&doc);
    assert_eq!(
        json["paths"]["/items"]["put"]["security"],
        json!([{ "bearer": ["a"] }])
    );
    assert_eq!(
        json["paths"]["/items"]["patch"]["security"],
        json!([{ "bearer": ["b"] }])
    );
}

#[test]
fn the_operation_ids_of_raw_identifiers_match_the_function_name() {
    // `#[utoipa::path]` on `fn r#type` writes the operation id `r#type`.
    let mut doc = document(&[(HttpMethod::Get, "/type", "r#type")]);
    let report = PolicySecurity::new()
        .operation("type", global(&["a"]))
        .apply(&mut doc);
    assert!(report.is_complete(), "{report}");
}

#[tokio::test]
async fn an_issuer_with_endpoints_is_an_oauth2_scheme_listing_the_scopes_and_their_routes() {
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    validator.ready().await.unwrap();
    let mut doc = document(&[
        (HttpMethod::Get, "/items", "list_items"),
        (HttpMethod::Post, "/items", "create_item"),
        (HttpMethod::Get, "/billing", "billing"),
    ]);
    PolicySecurity::from_validator(&validator)
        .operation("list_items", global(&["api:read"]))
        .operation("create_item", global(&["api:read", "api:write"]))
        .operation(
            "billing",
            Policy::new(Model::OrgPermission).scopes(["manage:billing"]),
        )
        .apply(&mut doc);
    let json = to_json(&doc);
    let schemes = &json["components"]["securitySchemes"];
    let flow = &schemes["oauth2"]["flows"]["authorizationCode"];
    assert_eq!(schemes["oauth2"]["type"], "oauth2");
    assert_eq!(
        flow["authorizationUrl"],
        format!("{}/auth", issuer.issuer())
    );
    assert_eq!(flow["tokenUrl"], format!("{}/token", issuer.issuer()));
    assert_eq!(
        flow["scopes"],
        json!({
            "api:read": "Required by GET /items, POST /items",
            "api:write": "Required by POST /items",
        })
    );
    let description = schemes["oauth2"]["description"].as_str().unwrap();
    assert!(description.contains(&issuer.issuer()), "{description}");
    assert!(description.contains(API), "{description}");
    // Every issuer has endpoints: no plain bearer scheme.
    assert_eq!(schemes["bearer"], Value::Null);
    assert_eq!(
        json["paths"]["/items"]["post"]["security"],
        json!([{ "oauth2": ["api:read", "api:write"] }])
    );
    // Organization permissions are not OAuth 2.0 scopes of the issuer's flow.
    assert_eq!(
        json["paths"]["/billing"]["get"]["security"],
        json!([{ "organization_token": ["manage:billing"] }])
    );
    assert_eq!(schemes["organization_token"]["type"], "http");
}

#[tokio::test]
async fn before_discovery_the_issuer_is_a_jwt_bearer_scheme_naming_it() {
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    PolicySecurity::from_validator(&validator)
        .operation("list_items", global(&["api:read"]))
        .apply(&mut doc);
    let json = to_json(&doc);
    let bearer = &json["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["bearerFormat"], "JWT");
    let description = bearer["description"].as_str().unwrap();
    assert!(description.contains(&issuer.issuer()), "{description}");
    assert_eq!(json["components"]["securitySchemes"]["oauth2"], Value::Null);
}

fn issuer(name: &str, authorization: bool, token: bool) -> IssuerScheme {
    IssuerScheme::for_tests(
        name,
        authorization.then(|| format!("{name}/auth")),
        token.then(|| format!("{name}/token")),
    )
}

#[test]
fn several_issuers_are_one_scheme_each_and_one_requirement_each() {
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    let mut security =
        PolicySecurity::new().operation("list_items", global(&["api:read"]).any_scopes(["x", "y"]));
    security.issuers = vec![
        issuer("https://a.example", true, true),
        issuer("https://b.example", false, false),
        issuer("https://c.example", false, true),
    ];
    security.apply(&mut doc);
    let json = to_json(&doc);
    let schemes = &json["components"]["securitySchemes"];
    assert!(schemes["oauth2"]["flows"]["authorizationCode"].is_object());
    assert!(
        schemes["oauth2"]["description"]
            .as_str()
            .unwrap()
            .contains("https://a.example")
    );
    let c = &schemes["oauth2_2"];
    assert_eq!(
        c["flows"]["clientCredentials"]["tokenUrl"],
        "https://c.example/token"
    );
    assert!(
        schemes["bearer"]["description"]
            .as_str()
            .unwrap()
            .contains("`https://b.example`")
    );
    // A token from any of them: each alternative under each scheme.
    let mut expected = Vec::new();
    for scope in ["x", "y"] {
        for scheme in ["oauth2", "oauth2_2", "bearer"] {
            expected.push(json!({ scheme: ["api:read", scope] }));
        }
    }
    assert_eq!(
        json["paths"]["/items"]["get"]["security"],
        Value::Array(expected)
    );
}

#[test]
fn module_filter_matches_whole_path_segments() {
    let security = PolicySecurity::new().module("my_api::routes");
    assert!(security.in_scope("my_api::routes::list"));
    assert!(security.in_scope("my_api::routes::users::list"));
    assert!(!security.in_scope("my_api::routes_old::list"));
    assert!(!security.in_scope("other::my_api::routes::list"));
    assert!(PolicySecurity::new().in_scope("anything::at_all"));
}

#[test]
fn handler_paths_end_on_a_segment_boundary() {
    assert!(path_ends_with("my_api::users::list", "users::list"));
    assert!(path_ends_with("my_api::users::list", "my_api::users::list"));
    assert!(!path_ends_with("my_api::superusers::list", "users::list"));
    assert_eq!(function_name("my_api::users::list"), "list");
    assert_eq!(function_name("list"), "list");
}

#[tokio::test]
async fn each_issuers_scheme_names_the_audience_its_tokens_must_carry() {
    let (own, partner) = (TestIssuer::start().await, TestIssuer::start().await);
    let partner_api = "https://partner-api.example.com";
    let validator = Validator::builder()
        .issuer(own.issuer())
        .audience(API)
        .add_issuer(crate::Issuer::new(partner.issuer()).audience(partner_api))
        .build()
        .unwrap();
    validator.ready().await.unwrap();
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    PolicySecurity::from_validator(&validator)
        .operation("list_items", global(&["api:read"]))
        .apply(&mut doc);
    let json = to_json(&doc);
    let schemes = &json["components"]["securitySchemes"];
    let description = |name: &str| schemes[name]["description"].as_str().unwrap().to_owned();
    assert_eq!(
        description("oauth2"),
        format!(
            "Access tokens from `{}` for the API resource `{API}`.",
            own.issuer()
        )
    );
    assert_eq!(
        description("oauth2_2"),
        format!(
            "Access tokens from `{}` for the API resource `{partner_api}`.",
            partner.issuer()
        )
    );
}

/// A validator trusting `own` (discovery, the audience [`API`]) and an issuer
/// of static keys named `internal-signer`, with its own audience if given.
fn with_static_key_issuer(
    own: &TestIssuer,
    signer: &TestIssuer,
    audience: Option<&str>,
) -> Validator {
    let mut internal = crate::Issuer::new("internal-signer")
        .keys(crate::StaticKeys::jwks(signer.jwks_json().to_string()));
    if let Some(audience) = audience {
        internal = internal.audience(audience);
    }
    Validator::builder()
        .issuer(own.issuer())
        .audience(API)
        .add_issuer(internal)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_static_key_issuers_name_stays_out_of_the_document_unless_revealed() {
    let (own, signer) = (TestIssuer::start().await, TestIssuer::start().await);
    let validator = with_static_key_issuer(&own, &signer, None);
    validator.ready().await.unwrap();
    let secure = |security: PolicySecurity| {
        let mut doc = document(&[
            (HttpMethod::Get, "/items", "list_items"),
            (HttpMethod::Get, "/billing", "billing"),
            (HttpMethod::Get, "/me", "me"),
        ]);
        security
            .operation("list_items", global(&["api:read"]))
            .operation(
                "billing",
                Policy::new(Model::OrgPermission).scopes(["manage:billing"]),
            )
            .authenticated("me")
            .apply(&mut doc);
        doc
    };

    let doc = secure(PolicySecurity::from_validator(&validator));
    let text = serde_json::to_string(&doc).unwrap();
    assert!(!text.contains("internal-signer"), "{text}");
    // The issuer clients fetch tokens from is still named, and the static
    // one is still a way in: the bearer scheme, described without its name.
    let json = to_json(&doc);
    let schemes = &json["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearer"]["description"],
        format!("An access token (JWT) from a trusted issuer for the API resource `{API}`.")
    );
    let organization = schemes["organization_token"]["description"]
        .as_str()
        .unwrap();
    assert!(
        organization.starts_with(&format!(
            "An organization token (JWT) from `{}` or another trusted issuer:",
            own.issuer()
        )),
        "{organization}"
    );
    assert_eq!(
        json["paths"]["/items"]["get"]["security"],
        json!([{ "oauth2": ["api:read"] }, { "bearer": ["api:read"] }])
    );

    let revealed =
        secure(PolicySecurity::from_validator(&validator).reveal_static_key_issuers(true));
    let json = to_json(&revealed);
    let schemes = &json["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearer"]["description"],
        format!("An access token (JWT) from `internal-signer` for the API resource `{API}`.")
    );
}

#[tokio::test]
async fn each_operation_names_the_audience_of_each_issuers_tokens() {
    let (own, partner) = (TestIssuer::start().await, TestIssuer::start().await);
    let partner_api = "https://partner-api.example.com";
    let validator = Validator::builder()
        .issuer(own.issuer())
        .audience(API)
        .add_issuer(crate::Issuer::new(partner.issuer()).audience(partner_api))
        .build()
        .unwrap();
    validator.ready().await.unwrap();
    let mut doc = document(&[
        (HttpMethod::Get, "/items", "list_items"),
        (HttpMethod::Get, "/billing", "billing"),
    ]);
    PolicySecurity::from_validator(&validator)
        .operation("list_items", global(&["api:read"]))
        // A policy's own audience applies to every issuer's tokens.
        .operation(
            "billing",
            global(&["api:read"]).audience("https://billing.example.com"),
        )
        .apply(&mut doc);
    let json = to_json(&doc);
    let description = |path: &str| {
        json["paths"][path]["get"]["description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let items = description("/items");
    assert!(
        items.contains(&format!(
            "an access token for the API resource `{API}` (tokens of `{}`: `{partner_api}`), \
             not issued within an organization",
            partner.issuer()
        )),
        "{items}"
    );
    let billing = description("/billing");
    assert!(
        billing.contains("an access token for the API resource `https://billing.example.com`, not"),
        "{billing}"
    );
    assert!(!billing.contains(partner_api), "{billing}");

    // An issuer of static keys with its own audience: told, its name kept out.
    let signer = TestIssuer::start().await;
    let validator = with_static_key_issuer(&own, &signer, Some(partner_api));
    let mut doc = document(&[(HttpMethod::Get, "/items", "list_items")]);
    PolicySecurity::from_validator(&validator)
        .operation("list_items", global(&["api:read"]))
        .apply(&mut doc);
    let json = to_json(&doc);
    let items = json["paths"]["/items"]["get"]["description"]
        .as_str()
        .unwrap();
    assert!(
        items.contains(&format!(
            "for the API resource `{API}` (tokens of a trusted issuer: `{partner_api}`)"
        )),
        "{items}"
    );
    // Before discovery both share the bearer scheme, which tells both audiences.
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["description"],
        format!(
            "An access token (JWT) from `{}` or another trusted issuer for the API resource \
             `{API}` (tokens of a trusted issuer: `{partner_api}`).",
            own.issuer()
        )
    );
}

#[test]
fn issuers_of_static_keys_are_counted_not_named_beside_the_audience_their_tokens_need() {
    let partner = "https://partner-api.example.com";
    let all = [
        issuer("https://a.example", false, false).with_audience(API),
        IssuerScheme::static_for_tests("signer-1", Some(partner)),
        IssuerScheme::static_for_tests("signer-2", Some(partner)),
        issuer("https://b.example", false, false).with_audience(partner),
    ];
    let all: Vec<&IssuerScheme> = all.iter().collect();
    let hidden = PolicySecurity::new().disclosure;
    assert_eq!(
        issuers::resource(&all, hidden).unwrap(),
        format!(
            "the API resource `{API}` (tokens of `https://b.example` and other trusted \
             issuers: `{partner}`)"
        )
    );
    assert_eq!(
        issuers::names(&all, hidden, "or"),
        "`https://a.example`, `https://b.example` or other trusted issuers"
    );
    assert_eq!(issuers::names(&all[1..2], hidden, "or"), "a trusted issuer");
    let revealed = PolicySecurity::new()
        .reveal_static_key_issuers(true)
        .disclosure;
    assert_eq!(
        issuers::names(&all, revealed, "or"),
        "`https://a.example`, `signer-1`, `signer-2` or `https://b.example`"
    );
    // No issuer has an audience: none is named.
    let bare = issuer("https://a.example", false, false);
    assert_eq!(issuers::resource(&[&bare], hidden), None);
}
