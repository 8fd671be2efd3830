//! `GET /openapi.json` on every front end: public, JSON, OpenAPI 3.1 as a
//! maintained model of it (`oas3`) reads it, and every handler's declared
//! scopes on its operation, as `declared()` lists them in this process.

use std::sync::Arc;

use bearer_policy::utoipa::PolicySecurity;
use bearer_policy::{Policy, Validator, declared};
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use super::{audit_policy, handlers_module, setup};
use crate::common::FrontEnd;

/// `GET /openapi.json` of every app: their operations, the security of the
/// handlers declared in `module` (this binary declares many others), and
/// `/audit`'s macro-free policy named by its operation.
pub(super) fn document(
    operations: utoipa::openapi::OpenApi,
    validator: &Validator,
    module: &str,
) -> Arc<utoipa::openapi::OpenApi> {
    let mut document = operations;
    let report = PolicySecurity::from_validator(validator)
        .module(module)
        .operation("audit", audit_policy())
        .apply(&mut document);
    assert!(report.is_complete(), "{report}");
    Arc::new(document)
}

/// The scopes of each requirement object of `operation`, all schemes together.
fn requirement_scopes(operation: &oas3::spec::Operation) -> Vec<Vec<String>> {
    operation
        .security
        .iter()
        .map(|requirement| requirement.0.values().flatten().cloned().collect())
        .collect()
}

/// Whether a requirement object's scopes satisfy `policy`: every required
/// scope, and one of its any-of scopes if it has some.
fn satisfies(scopes: &[String], policy: &Policy) -> bool {
    let has = |scope: &str| scopes.iter().any(|s| s == scope);
    policy.required_scopes().iter().all(|scope| has(scope))
        && (policy.any_of_scopes().is_empty()
            || policy.any_of_scopes().iter().any(|scope| has(scope)))
}

#[tokio::test]
async fn openapi_document_is_public_openapi_3_1_with_every_declared_handlers_scopes() {
    for front_end in FrontEnd::ALL {
        let (_issuer, server) = setup(front_end).await;
        // No token: the document is public.
        let response = server.send(server.get("/openapi.json")).await;
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(
            response.headers.get(CONTENT_TYPE).unwrap(),
            "application/json",
            "{response:?}"
        );
        let text = String::from_utf8(response.body.clone()).unwrap();
        let spec = oas3::from_json(&text).unwrap_or_else(|e| panic!("{front_end}: {e}\n{text}"));
        let version = spec.validate_version().unwrap();
        assert_eq!((version.major, version.minor), (3, 1), "{front_end}");
        let operation = |id: &str| {
            spec.operations()
                .map(|(_, _, operation)| operation)
                .find(|operation| operation.operation_id.as_deref() == Some(id))
                .unwrap_or_else(|| panic!("{front_end}: no operation `{id}`\n{text}"))
        };

        let prefix = format!("{}::", handlers_module(front_end));
        let handlers: Vec<_> = declared()
            .into_iter()
            .filter(|d| d.function().starts_with(&prefix))
            .collect();
        assert_eq!(handlers.len(), 6, "{front_end}: {handlers:?}");
        for handler in handlers {
            let name = handler.function().rsplit("::").next().unwrap();
            let scopes = requirement_scopes(operation(name));
            assert!(!scopes.is_empty(), "{front_end} {name}: no requirement");
            for policy in handler.policies() {
                // OpenAPI's "or": whichever requirement object a client meets,
                // it holds a token with the scopes the handler checks.
                for alternative in &scopes {
                    assert!(
                        satisfies(alternative, policy),
                        "{front_end} {name}: {alternative:?} does not cover {policy:?}"
                    );
                }
            }
        }

        // Organization permissions by their own names, under their own scheme;
        // the macro-free `/audit` too, named by its operation.
        let invite = operation("invite_member");
        assert_eq!(
            serde_json::to_value(&invite.security).unwrap(),
            json!([{ "organization_token": ["invite:member"] }]),
            "{front_end}"
        );
        let audit = operation("audit");
        assert_eq!(
            serde_json::to_value(&audit.security).unwrap(),
            json!([{ "organization_token": ["audit:read"] }]),
            "{front_end}"
        );
        let description = audit.description.as_deref().unwrap_or_default();
        assert!(
            description.contains("`org_permission`")
                && description.contains("header `X-Tenant-Id`"),
            "{front_end}: {description}"
        );
        let reports = operation("reports")
            .description
            .as_deref()
            .unwrap_or_default();
        assert!(
            reports.contains("`org_resource`")
                && reports.contains("query parameter `organization_id`"),
            "{front_end}: {reports}"
        );

        // The schemes every requirement names exist, and no global
        // requirement makes a public route look protected.
        let schemes = &spec.components.as_ref().unwrap().security_schemes;
        for (_, _, operation) in spec.operations() {
            for requirement in &operation.security {
                for scheme in requirement.0.keys() {
                    assert!(schemes.contains_key(scheme), "{front_end}: {scheme}");
                }
            }
        }
        assert!(spec.security.is_empty(), "{front_end}");
        // Before discovery has run, the issuer's tokens are JWT bearer tokens.
        assert_eq!(
            serde_json::to_value(&operation("read_api").security).unwrap(),
            json!([{ "bearer": ["api:read"] }]),
            "{front_end}"
        );
    }
}
