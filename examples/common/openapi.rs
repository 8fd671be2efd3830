//! `GET /openapi.json` of both example servers: the operations each server
//! declares with `#[utoipa::path]`, the public routes the library serves, and
//! the permissions its handlers declare with `#[requires]`, added by
//! `PolicySecurity` without writing a scope twice.

use std::sync::Arc;

use bearer_policy::Validator;
use bearer_policy::utoipa::PolicySecurity;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{Info, OpenApi, Response};

use super::billing_policy;

/// The server's document: `operations` (its `#[derive(OpenApi)]`) with the
/// public routes and the security of every protected one.
pub fn document(mut operations: OpenApi, validator: &Validator) -> Arc<OpenApi> {
    // `run` made the issuers ready (or found them down): an issuer whose
    // discovery has run is an OAuth 2.0 scheme with its endpoints, the others
    // a JWT bearer token. The document is built once, at start-up.
    operations.info = Info::new("bearer-policy example API", env!("CARGO_PKG_VERSION"));
    add_public_routes(&mut operations);
    let report = PolicySecurity::from_validator(validator)
        // `GET /billing` is protected without the macro: one call names its operation.
        .operation("billing", billing_policy())
        .apply(&mut operations);
    if !report.is_complete() {
        tracing::warn!("OpenAPI document: {report}");
    }
    Arc::new(operations)
}

/// The routes the library serves, which no handler of ours documents.
fn add_public_routes(doc: &mut OpenApi) {
    let get = |id: &str, summary: &str, response: &str| {
        Operation::builder()
            .operation_id(Some(id))
            .summary(Some(summary))
            .response("200", Response::new(response))
            .build()
    };
    doc.paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        get(
            "openapi",
            "This OpenAPI document",
            "The OpenAPI 3.1 document, as JSON",
        ),
    );
    doc.paths.add_path_operation(
        "/metrics",
        vec![HttpMethod::Get],
        get(
            "metrics",
            "Metrics of the authorization layer",
            "Decisions, the token cache and key sets, in the Prometheus text format",
        ),
    );
    let mut ready = get(
        "ready",
        "Readiness: whether every issuer has keys",
        "Every issuer has keys; the JSON readiness report",
    );
    ready.responses.responses.insert(
        "503".into(),
        Response::new("An issuer has no keys; the JSON readiness report").into(),
    );
    doc.paths
        .add_path_operation("/ready", vec![HttpMethod::Get], ready);
    doc.paths.add_path_operation(
        "/.well-known/oauth-protected-resource",
        vec![HttpMethod::Get],
        get(
            "protected_resource_metadata",
            "OAuth 2.0 Protected Resource Metadata (RFC 9728)",
            "The resource, its authorization servers and its scopes",
        ),
    );
}
