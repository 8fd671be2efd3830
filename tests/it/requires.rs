//! The checks that `#[requires]` generates allow and deny exactly as
//! `Policy::decide` does, for each model and each organization source; the
//! body runs only when the policy holds; and every annotated function is
//! listed by `bearer_policy::declared()`.
//!
//! Each decision test calls an annotated function directly with `AuthInfo`
//! values minted from `TestIssuer` tokens (global, organization and
//! organization-resource tokens, with and without the right scopes, for the
//! right and the wrong organization or audience), converted with `.into()`
//! to the function's `Authorized` type, and compares its result with
//! `Policy::decide` on the function's own `POLICY`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use bearer_policy::testing::TestIssuer;
use bearer_policy::{AuthInfo, Denied, Policy, RequestContext, requires};
use warp::{Rejection, Reply};

use crate::common::API;

const OTHER_API: &str = "https://other.example.com";
const ORG_HEADER: &str = "X-Organization-Id";
const ORG_QUERY: &str = "organization_id";
const ORGS: [&str; 2] = ["org-1", "org-2"];

// ---- the annotated functions under test ----

#[requires(model = global_api, scopes("api:read"))]
fn global_read(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, any_scopes("admin", "support"))]
async fn global_any(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, scopes("api:read"), audience = "https://other.example.com")]
fn global_other_audience(auth: &AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn org_permission_path(org_id: String, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (org_id, auth);
    Ok(())
}

#[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
fn org_permission_header(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = org_permission, scopes("invite:member"), org_from = query("organization_id"))]
async fn org_permission_query(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_resource_path(org_id: String, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (org_id, auth);
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path(tenant))]
fn org_resource_named(tenant: &str, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (tenant, auth);
    Ok(())
}

/// An organization id that is only `Display`: `org-<n>`.
#[derive(Clone, Copy)]
struct OrgNumber(u32);

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "org-{}", self.0)
    }
}

#[requires(model = org_resource, scopes("api:read"), org_from = path(number))]
fn org_resource_display(number: OrgNumber, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (number, auth);
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = header("X-Organization-Id"))]
async fn org_resource_header(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = query("organization_id"))]
fn org_resource_query(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
#[requires(model = org_resource, any_scopes("admin", "support"), org_from = header("X-Organization-Id"))]
fn stacked(org_id: String, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (org_id, auth);
    Ok(())
}

static BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[requires(model = global_api, scopes("api:write"))]
fn counted(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// A check function: the caller's `sub` is `user-1`, the test issuer's default.
fn is_user_one(auth: &AuthInfo) -> bool {
    auth.sub() == Some("user-1")
}

static CHECKED_BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[requires(model = global_api, scopes("api:read"), check = is_user_one)]
fn checked(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    CHECKED_BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// Two path parameters, a check on the first policy.
#[requires(model = org_resource, scopes("api:read"), org_from = path, check = is_user_one)]
#[requires(model = org_permission, org_from = path(team_org))]
fn two_paths_checked(org_id: String, team_org: &str, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (org_id, team_org, auth);
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn warp_handler(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(format!("data of {org_id}"))
}

#[requires(model = global_api, scopes("api:read"))]
fn returns_its_auth_info(mut auth: AuthInfo) -> Result<AuthInfo, Denied> {
    // The body sees the `AuthInfo` it was written for, `mut` included.
    auth = auth.with_request(RequestContext::new().with_header("X-Seen", "yes"));
    Ok(auth)
}

// axum's extractor as far as patterns go: the attribute reads the pattern,
// so this stands in for `axum::extract::Path` until the `axum` feature.
struct Path<T>(T);

struct OrgItem {
    org_id: String,
    item: u64,
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn axum_single(Path(org_id): Path<String>, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (org_id, auth);
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn axum_tuple(
    Path((org_id, item)): Path<(String, u64)>,
    auth: AuthInfo,
) -> Result<(), Denied> {
    let _ = (org_id, item, auth);
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
fn axum_struct(Path(OrgItem { org_id, .. }): Path<OrgItem>, auth: AuthInfo) -> Result<(), Denied> {
    let _ = (org_id, auth);
    Ok(())
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
fn axum_struct_renamed(
    Path(OrgItem { org_id: org, item }): Path<OrgItem>,
    auth: AuthInfo,
) -> Result<(), Denied> {
    let _ = (org, item, auth);
    Ok(())
}

#[derive(Debug, PartialEq)]
enum AppError {
    Forbidden(Denied),
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        AppError::Forbidden(denied)
    }
}

#[requires(model = global_api, scopes("api:read"))]
fn custom_error(auth: AuthInfo) -> Result<&'static str, AppError> {
    let _ = auth;
    Ok("body ran")
}

// ---- tokens and requests ----

/// `AuthInfo`s for every kind of token the models distinguish.
async fn callers() -> Vec<(&'static str, AuthInfo)> {
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let tokens = [
        (
            "global, api:read",
            issuer.token().for_global_api(API).scopes(["api:read"]),
        ),
        (
            "global, api:read admin",
            issuer
                .token()
                .for_global_api(API)
                .scopes(["api:read", "admin"]),
        ),
        (
            "global, support",
            issuer.token().for_global_api(API).scopes(["support"]),
        ),
        (
            "global, api:write",
            issuer.token().for_global_api(API).scopes(["api:write"]),
        ),
        ("global, no scope", issuer.token().for_global_api(API)),
        (
            "global for another API, api:read",
            issuer
                .token()
                .for_global_api(OTHER_API)
                .scopes(["api:read"]),
        ),
        (
            "organization org-1, invite:member",
            issuer
                .token()
                .for_organization("org-1")
                .scopes(["invite:member"]),
        ),
        (
            "organization org-1, no scope",
            issuer.token().for_organization("org-1"),
        ),
        (
            "organization org-2, invite:member",
            issuer
                .token()
                .for_organization("org-2")
                .scopes(["invite:member"]),
        ),
        (
            "org-1 resource, api:read",
            issuer
                .token()
                .for_org_resource(API, "org-1")
                .scopes(["api:read"]),
        ),
        (
            "org-1 resource, api:read support",
            issuer
                .token()
                .for_org_resource(API, "org-1")
                .scopes(["api:read", "support"]),
        ),
        (
            "org-1 resource, no scope",
            issuer.token().for_org_resource(API, "org-1"),
        ),
        (
            "org-2 resource, api:read admin",
            issuer
                .token()
                .for_org_resource(API, "org-2")
                .scopes(["api:read", "admin"]),
        ),
        (
            "org-1 resource of another API",
            issuer
                .token()
                .for_org_resource(OTHER_API, "org-1")
                .scopes(["api:read"]),
        ),
    ];
    let mut callers = Vec::new();
    for (label, token) in tokens {
        let auth = validator
            .validate(&token.sign())
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        callers.push((label, auth));
    }
    callers
}

/// The caller with this label.
fn named(callers: &[(&'static str, AuthInfo)], label: &str) -> AuthInfo {
    let found = callers.iter().find(|(known, _)| *known == label);
    found
        .map(|(_, auth)| auth.clone())
        .unwrap_or_else(|| panic!("no caller {label}"))
}

/// Requests naming an organization in a header, in the query, or not at all.
fn requests() -> Vec<(String, RequestContext)> {
    let mut requests = vec![("no organization".to_owned(), RequestContext::new())];
    for org in ORGS {
        requests.push((
            format!("header {org}"),
            RequestContext::new().with_header(ORG_HEADER, org),
        ));
        requests.push((
            format!("lower-case header {org}"),
            RequestContext::new().with_header(ORG_HEADER.to_ascii_lowercase(), org),
        ));
        requests.push((
            format!("query {org}"),
            RequestContext::new().with_query(ORG_QUERY, org),
        ));
    }
    requests
}

/// Counts allowed and denied cases, so that a test proves both directions.
#[derive(Default)]
struct Outcomes {
    allowed: usize,
    denied: usize,
}

impl Outcomes {
    fn record(&mut self, expected: &Result<(), Denied>) {
        match expected {
            Ok(()) => self.allowed += 1,
            Err(_) => self.denied += 1,
        }
    }

    fn assert_both(&self) {
        assert!(self.allowed > 0, "no case was allowed");
        assert!(self.denied > 0, "no case was denied");
    }
}

/// Compares `call` with `Policy::decide` for every caller and explicit organization.
async fn assert_decides_like_check_with_org<F, Fut>(policy: &Policy, call: F)
where
    F: Fn(&'static str, AuthInfo) -> Fut,
    Fut: Future<Output = Result<(), Denied>>,
{
    let mut outcomes = Outcomes::default();
    for (label, auth) in callers().await {
        for org in ORGS {
            let expected = policy.decide(&auth, Some(org));
            assert_eq!(
                call(org, auth.clone()).await,
                expected,
                "{label}, organization {org}"
            );
            outcomes.record(&expected);
        }
    }
    outcomes.assert_both();
}

/// Compares `call` with `Policy::decide` for every caller and captured
/// request, the organization being the value `lookup` reads from it.
async fn assert_decides_like_check_with_request<F, Fut>(
    policy: &Policy,
    lookup: fn(&RequestContext) -> Option<&str>,
    call: F,
) where
    F: Fn(AuthInfo) -> Fut,
    Fut: Future<Output = Result<(), Denied>>,
{
    let mut outcomes = Outcomes::default();
    for (label, auth) in callers().await {
        for (request_label, request) in requests() {
            let expected = policy.decide(&auth, lookup(&request));
            let auth = auth.clone().with_request(request);
            assert_eq!(call(auth).await, expected, "{label}, {request_label}");
            outcomes.record(&expected);
        }
    }
    outcomes.assert_both();
}

fn header(request: &RequestContext) -> Option<&str> {
    request.header(ORG_HEADER)
}

fn query(request: &RequestContext) -> Option<&str> {
    request.query(ORG_QUERY)
}

// ---- global_api ----

#[tokio::test]
async fn global_api_decides_like_policy_check() {
    let mut outcomes = Outcomes::default();
    for (label, auth) in callers().await {
        for (policy, actual) in [
            (&global_read::POLICY, global_read(auth.clone().into())),
            (&global_any::POLICY, global_any(auth.clone().into()).await),
            (&global_other_audience::POLICY, global_other_audience(&auth)),
        ] {
            let expected = policy.decide(&auth, None);
            assert_eq!(actual, expected, "{label}: {policy:?}");
            outcomes.record(&expected);
        }
    }
    outcomes.assert_both();
}

#[tokio::test]
async fn global_api_ignores_any_captured_organization() {
    for (label, auth) in callers().await {
        for (_, request) in requests() {
            let with_request = auth.clone().with_request(request);
            assert_eq!(
                global_read(with_request.into()),
                global_read(auth.clone().into()),
                "{label}"
            );
        }
    }
}

#[tokio::test]
async fn global_api_denies_missing_scope_and_organization_tokens() {
    let callers = callers().await;
    let auth = |label: &str| named(&callers, label);
    assert_eq!(global_read(auth("global, api:read").into()), Ok(()));
    assert_eq!(
        global_read(auth("global, no scope").into()),
        Err(Denied::MissingScopes {
            missing: vec!["api:read".to_owned()]
        })
    );
    assert_eq!(
        global_read(auth("global for another API, api:read").into()),
        Err(Denied::WrongAudience)
    );
    assert_eq!(
        global_read(auth("org-1 resource, api:read").into()),
        Err(Denied::OrganizationTokenNotAllowed)
    );
    assert_eq!(
        global_other_audience(&auth("global for another API, api:read")),
        Ok(())
    );
    assert_eq!(global_any(auth("global, support").into()).await, Ok(()));
    assert!(matches!(
        global_any(auth("global, api:read").into()).await,
        Err(Denied::NoneOfScopes { .. })
    ));
}

// ---- org_permission ----

#[tokio::test]
async fn org_permission_from_path_decides_like_policy_check() {
    assert_decides_like_check_with_org(&org_permission_path::POLICY, |org, auth| {
        org_permission_path(org.to_owned(), auth.into())
    })
    .await;
}

#[tokio::test]
async fn org_permission_from_header_decides_like_policy_check() {
    assert_decides_like_check_with_request(&org_permission_header::POLICY, header, |auth| {
        std::future::ready(org_permission_header(auth.into()))
    })
    .await;
}

#[tokio::test]
async fn org_permission_from_query_decides_like_policy_check() {
    assert_decides_like_check_with_request(&org_permission_query::POLICY, query, |auth| {
        org_permission_query(auth.into())
    })
    .await;
}

#[tokio::test]
async fn org_permission_requires_the_token_of_that_organization() {
    let callers = callers().await;
    let auth = |label: &str| named(&callers, label);
    let invite_org_1 = auth("organization org-1, invite:member");
    assert_eq!(
        org_permission_path("org-1".to_owned(), invite_org_1.clone().into()).await,
        Ok(())
    );
    assert_eq!(
        org_permission_path("org-2".to_owned(), invite_org_1.clone().into()).await,
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        org_permission_header(invite_org_1.clone().into()),
        Err(Denied::MissingOrganization)
    );
    let with_header =
        invite_org_1.with_request(RequestContext::new().with_header(ORG_HEADER, "org-1"));
    assert_eq!(org_permission_header(with_header.into()), Ok(()));
}

// ---- org_resource ----

#[tokio::test]
async fn org_resource_from_path_decides_like_policy_check() {
    assert_decides_like_check_with_org(&org_resource_path::POLICY, |org, auth| {
        org_resource_path(org.to_owned(), auth.into())
    })
    .await;
}

#[tokio::test]
async fn org_resource_from_a_named_str_parameter_decides_like_policy_check() {
    assert_decides_like_check_with_org(&org_resource_named::POLICY, |org, auth| {
        std::future::ready(org_resource_named(org, auth.into()))
    })
    .await;
}

#[tokio::test]
async fn org_resource_from_a_display_parameter_decides_like_policy_check() {
    let mut outcomes = Outcomes::default();
    for (label, auth) in callers().await {
        for number in [1, 2, 3] {
            let org = OrgNumber(number).to_string();
            let expected = org_resource_display::POLICY.decide(&auth, Some(&org));
            assert_eq!(
                org_resource_display(OrgNumber(number), auth.clone().into()),
                expected,
                "{label}, {org}"
            );
            outcomes.record(&expected);
        }
    }
    outcomes.assert_both();
}

#[tokio::test]
async fn org_resource_from_header_decides_like_policy_check() {
    assert_decides_like_check_with_request(&org_resource_header::POLICY, header, |auth| {
        org_resource_header(auth.into())
    })
    .await;
}

#[tokio::test]
async fn org_resource_from_query_decides_like_policy_check() {
    assert_decides_like_check_with_request(&org_resource_query::POLICY, query, |auth| {
        std::future::ready(org_resource_query(auth.into()))
    })
    .await;
}

// ---- axum-style path bindings ----

#[tokio::test]
async fn org_resource_from_axum_path_bindings_decides_like_policy_check() {
    let item = |org: &str| OrgItem {
        org_id: org.to_owned(),
        item: 7,
    };
    assert_decides_like_check_with_org(&axum_single::POLICY, |org, auth| {
        axum_single(Path(org.to_owned()), auth.into())
    })
    .await;
    assert_decides_like_check_with_org(&axum_tuple::POLICY, |org, auth| {
        axum_tuple(Path((org.to_owned(), 7)), auth.into())
    })
    .await;
    assert_decides_like_check_with_org(&axum_struct::POLICY, |org, auth| {
        std::future::ready(axum_struct(Path(item(org)), auth.into()))
    })
    .await;
    assert_decides_like_check_with_org(&axum_struct_renamed::POLICY, |org, auth| {
        std::future::ready(axum_struct_renamed(Path(item(org)), auth.into()))
    })
    .await;
    // The policy names the field, the route capture axum fills it from.
    assert_eq!(
        axum_struct_renamed::POLICY
            .organization_source()
            .map(|source| source.name()),
        Some("org_id")
    );
}

// ---- stacked attributes ----

#[tokio::test]
async fn stacked_policies_must_all_hold() {
    let [from_path, from_header] = &stacked::POLICY;
    let mut outcomes = Outcomes::default();
    for (label, auth) in callers().await {
        for org in ORGS {
            for (request_label, request) in requests() {
                let expected = from_path
                    .decide(&auth, Some(org))
                    .and_then(|()| from_header.decide(&auth, header(&request)));
                let actual = stacked(org.to_owned(), auth.clone().with_request(request).into());
                assert_eq!(actual, expected, "{label}, path {org}, {request_label}");
                outcomes.record(&expected);
            }
        }
    }
    outcomes.assert_both();
}

// ---- the body, the error type ----

#[tokio::test]
async fn body_runs_only_when_the_policy_holds() {
    let callers = callers().await;
    let before = BODY_RUNS.load(Ordering::SeqCst);
    let mut allowed = 0;
    for (_, auth) in &callers {
        if counted(auth.clone().into()).is_ok() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 1, "only `global, api:write` may write");
    assert_eq!(BODY_RUNS.load(Ordering::SeqCst) - before, allowed);
}

#[tokio::test]
async fn a_direct_call_runs_the_check_function_too_and_the_body_only_when_it_holds() {
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let token = |sub: &str, scopes: &[&str]| {
        issuer
            .token()
            .for_global_api(API)
            .subject(sub)
            .scopes(scopes.iter().copied())
            .sign()
    };
    let before = CHECKED_BODY_RUNS.load(Ordering::SeqCst);
    let mut outcomes = Outcomes::default();
    for (sub, scopes) in [
        ("user-1", &["api:read"][..]),
        ("user-2", &["api:read"][..]),
        ("user-1", &[][..]),
    ] {
        let auth = validator.validate(&token(sub, scopes)).await.unwrap();
        let expected = checked::POLICY.decide(&auth, None);
        assert_eq!(checked(auth.into()), expected, "{sub} {scopes:?}");
        outcomes.record(&expected);
    }
    outcomes.assert_both();
    assert_eq!(CHECKED_BODY_RUNS.load(Ordering::SeqCst) - before, 1);
    let other = validator
        .validate(&token("user-2", &["api:read"]))
        .await
        .unwrap();
    assert_eq!(
        checked(other.into()),
        Err(Denied::CheckFailed { reason: None })
    );
}

#[tokio::test]
async fn stacked_policies_on_two_path_parameters_run_the_check_after_both() {
    use bearer_policy::{Model, OrgSource};
    let [with_check, team] = &two_paths_checked::POLICY;
    assert_eq!(with_check.check_name(), Some("it::requires::is_user_one"));
    let without_check = Policy::new(Model::OrgResource)
        .scopes(["api:read"])
        .organization(OrgSource::PathParam("org_id".into()));
    // Tokens for both models at once, as `user-1` (whom the check allows) or not.
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let mut callers = callers().await;
    for (label, sub) in [
        ("both models, user-1", "user-1"),
        ("both models, user-2", "user-2"),
    ] {
        let token = issuer
            .token()
            .for_org_resource(API, "org-1")
            .for_organization("org-1")
            .scopes(["api:read"])
            .subject(sub)
            .sign();
        callers.push((label, validator.validate(&token).await.unwrap()));
    }
    let mut outcomes = Outcomes::default();
    for (label, auth) in callers {
        for org in ORGS {
            for team_org in ORGS {
                // Both policies' claims first, then the check.
                let expected = without_check
                    .decide(&auth, Some(org))
                    .and_then(|()| team.decide(&auth, Some(team_org)))
                    .and_then(|()| with_check.decide(&auth, Some(org)));
                let actual = two_paths_checked(org.to_owned(), team_org, auth.clone().into());
                assert_eq!(actual, expected, "{label}, {org}, {team_org}");
                outcomes.record(&expected);
            }
        }
    }
    outcomes.assert_both();
}

#[tokio::test]
async fn the_body_gets_back_the_auth_info_it_was_called_with() {
    let callers = callers().await;
    let reader = named(&callers, "global, api:read");
    let returned = returns_its_auth_info(reader.clone().into()).expect("allowed");
    assert_eq!(returned.sub(), reader.sub());
    assert_eq!(
        returned
            .request()
            .and_then(|request| request.header("X-Seen")),
        Some("yes")
    );
    assert_eq!(
        returns_its_auth_info(named(&callers, "global, no scope").into()).map(|_| ()),
        Err(Denied::MissingScopes {
            missing: vec!["api:read".to_owned()]
        })
    );
}

#[test]
fn the_handler_type_holds_the_policies_of_the_module() {
    use bearer_policy::DeclaredHandler;
    assert_eq!(
        <global_read::Handler as DeclaredHandler>::policies(),
        std::slice::from_ref(&global_read::POLICY)
    );
    assert_eq!(
        <stacked::Handler as DeclaredHandler>::policies(),
        &stacked::POLICY
    );
    assert_eq!(<stacked::Handler as DeclaredHandler>::policies().len(), 2);
}

#[tokio::test]
async fn denial_becomes_a_warp_rejection_carrying_it() {
    let callers = callers().await;
    let auth = |label: &str| named(&callers, label);
    match warp_handler("org-1".to_owned(), auth("org-1 resource, api:read").into()).await {
        Ok(reply) => assert_eq!(reply.into_response().status(), 200),
        Err(rejection) => panic!("org-1's token was refused for org-1: {rejection:?}"),
    }
    let rejection =
        match warp_handler("org-2".to_owned(), auth("org-1 resource, api:read").into()).await {
            Ok(_) => panic!("org-1's token was accepted for org-2"),
            Err(rejection) => rejection,
        };
    let rejected = rejection
        .find::<bearer_policy::warp::Rejected>()
        .expect("our rejection");
    assert_eq!(
        rejected.error(),
        &bearer_policy::Error::Denied(Denied::OrganizationMismatch)
    );
    let response: warp::reply::Response = rejected.response();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn denial_converts_into_a_custom_error_type() {
    let callers = callers().await;
    let auth = |label: &str| named(&callers, label);
    assert_eq!(
        custom_error(auth("global, api:read").into()),
        Ok("body ran")
    );
    assert_eq!(
        custom_error(auth("global, support").into()),
        Err(AppError::Forbidden(Denied::MissingScopes {
            missing: vec!["api:read".to_owned()]
        }))
    );
}

// ---- the inventory ----

#[test]
fn declared_lists_every_annotated_function_with_its_policies() {
    let declared = bearer_policy::declared();
    let find = |name: &str| {
        declared
            .iter()
            .find(|d| d.function() == format!("it::requires::{name}"))
            .unwrap_or_else(|| panic!("{name} is not declared: {declared:?}"))
    };
    for name in [
        "global_read",
        "global_any",
        "global_other_audience",
        "org_permission_path",
        "org_permission_header",
        "org_permission_query",
        "org_resource_path",
        "org_resource_named",
        "org_resource_display",
        "org_resource_header",
        "org_resource_query",
        "counted",
        "warp_handler",
        "custom_error",
        "returns_its_auth_info",
        "axum_single",
        "axum_tuple",
        "axum_struct",
        "axum_struct_renamed",
        "checked",
    ] {
        assert_eq!(find(name).policies().len(), 1, "{name}");
    }
    assert_eq!(
        find("checked").policies()[0].check_name(),
        Some("it::requires::is_user_one")
    );
    assert_eq!(
        find("org_resource_path").policies(),
        std::slice::from_ref(&org_resource_path::POLICY)
    );
    assert_eq!(find("stacked").policies(), &stacked::POLICY);
    let functions: Vec<&str> = declared.iter().map(|d| d.function()).collect();
    let mut sorted = functions.clone();
    sorted.sort_unstable();
    assert_eq!(functions, sorted, "declared() is sorted by function path");
}

#[test]
fn declarations_serialise_to_json() {
    let declared = bearer_policy::declared();
    let json = serde_json::to_value(&declared).unwrap();
    let entry = |name: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|d| d["function"] == format!("it::requires::{name}"))
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing from {json}"))
    };
    assert_eq!(
        entry("org_resource_named"),
        serde_json::json!({
            "function": "it::requires::org_resource_named",
            "policies": [{
                "model": "org_resource",
                "scopes": ["api:read"],
                "anyScopes": [],
                "organization": {"from": "path_param", "name": "tenant"},
            }],
        })
    );
    assert_eq!(
        entry("global_other_audience")["policies"][0]["audience"],
        serde_json::json!("https://other.example.com")
    );
    assert_eq!(
        entry("stacked")["policies"][1]["organization"],
        serde_json::json!({"from": "header", "name": "X-Organization-Id"})
    );
    assert_eq!(
        entry("global_any")["policies"][0]["anyScopes"],
        serde_json::json!(["admin", "support"])
    );
}

// ---- a handler composed after `warp::authenticate` ----

#[requires(model = global_api, scopes("api:write"))]
async fn composed_create(auth: AuthInfo, body: serde_json::Value) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(warp::reply::json(&body))
}

/// `warp::path!(..).and(authenticate(v)).and_then(handler)` compiles (as it
/// did before `Authorized`), and the handler's policy holds: decided by the
/// filter before the body when no policy reads the path (a malformed body
/// from a caller without the scope gets 403, not 400), and by the handler
/// for a path organization.
#[tokio::test]
async fn a_handler_after_authenticate_has_its_policy_decided() {
    use bearer_policy::warp::{authenticate, recover};
    use warp::Filter;
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let data = warp::path!("orgs" / String / "data")
        .and(authenticate(validator.clone()))
        .and_then(warp_handler);
    let create = warp::path!("products")
        .and(warp::post())
        .and(authenticate(validator))
        .and(warp::body::json())
        .and_then(composed_create);
    let routes = data.or(create).recover(recover);

    let org_one = issuer
        .token()
        .for_org_resource(API, "org-1")
        .scopes(["api:read"])
        .sign();
    let get = |path: &str, token: &str| {
        warp::test::request()
            .path(path)
            .header("authorization", format!("Bearer {token}"))
    };
    let allowed = get("/orgs/org-1/data", &org_one).reply(&routes).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.body(), "data of org-1");
    let other_org = get("/orgs/org-2/data", &org_one).reply(&routes).await;
    assert_eq!(other_org.status(), 403);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(other_org.body()).unwrap()["code"],
        "organization_mismatch"
    );

    let reader = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let writer = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:write"])
        .sign();
    let post = |token: &str, body: &str| {
        warp::test::request()
            .method("POST")
            .path("/products")
            .header("authorization", format!("Bearer {token}"))
            .body(body)
    };
    let refused = post(&reader, "{not json").reply(&routes).await;
    assert_eq!(refused.status(), 403, "decided before the body is parsed");
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"api:write\""
    );
    assert_eq!(
        post(&writer, "{not json").reply(&routes).await.status(),
        400
    );
    let created = post(&writer, r#"{"name":"x"}"#).reply(&routes).await;
    assert_eq!(created.status(), 200);
    assert_eq!(created.body(), r#"{"name":"x"}"#);
}

/// How often `counted_writer`'s check ran.
static WRITER_CHECKS: AtomicUsize = AtomicUsize::new(0);

fn counting_writer_check(_: &AuthInfo) -> bool {
    WRITER_CHECKS.fetch_add(1, Ordering::SeqCst);
    true
}

#[requires(model = global_api, scopes("api:write"), check = counting_writer_check)]
async fn counted_writer(auth: AuthInfo, body: serde_json::Value) -> Result<impl Reply, Rejection> {
    let _ = auth;
    Ok(warp::reply::json(&body))
}

/// warp's `authorize` vouches for a handler's policies only when given
/// that handler's own declaration: then the handler does not decide them
/// again (its check runs once). Given other policies (a weaker run-time
/// policy, or an equal copy of the handler's), the handler decides its own:
/// a caller the filter let through without the handler's scope is refused
/// there, and the copy's check runs twice.
#[tokio::test]
async fn a_handler_after_authorize_decides_what_the_filter_did_not_vouch_for() {
    use bearer_policy::warp::{authorize, recover};
    use bearer_policy::{Model, PolicySet};
    use warp::Filter;
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let route = |name: &'static str, filter| {
        warp::path(name)
            .and(filter)
            .and(warp::body::json())
            .and_then(counted_writer)
    };
    let own = route(
        "own",
        authorize(validator.clone(), &counted_writer::POLICY).boxed(),
    );
    let weaker = route(
        "weaker",
        authorize(
            validator.clone(),
            Policy::new(Model::GlobalApi).scopes(["api:read"]),
        )
        .boxed(),
    );
    let copy: Vec<Policy> = counted_writer::POLICY.policies().to_vec();
    let copied = route("copied", authorize(validator, copy).boxed());
    let routes = own.or(weaker).or(copied).recover(recover);
    let token = |scopes: &[&str]| {
        issuer
            .token()
            .for_global_api(API)
            .scopes(scopes.iter().copied())
            .sign()
    };
    let post = |path: &str, token: &str| {
        warp::test::request()
            .method("POST")
            .path(path)
            .header("authorization", format!("Bearer {token}"))
            .body("{}")
    };
    let (reader, writer) = (token(&["api:read"]), token(&["api:read", "api:write"]));
    let checks = || WRITER_CHECKS.load(Ordering::SeqCst);

    let refused = post("/weaker", &reader).reply(&routes).await;
    assert_eq!(refused.status(), 403, "the handler's api:write");
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"api:write\""
    );
    for (path, runs) in [("/own", 1), ("/weaker", 1), ("/copied", 2)] {
        let before = checks();
        assert_eq!(
            post(path, &writer).reply(&routes).await.status(),
            200,
            "{path}"
        );
        assert_eq!(checks() - before, runs, "{path}: the check's runs");
    }
    assert_eq!(post("/own", &reader).reply(&routes).await.status(), 403);
    assert_eq!(post("/copied", &reader).reply(&routes).await.status(), 403);
}

/// warp's `authorize_path` extracts one value: it stands for the first path
/// policy's parameter only. A stacked policy reading another path parameter
/// is refused (`missing_organization`) rather than handed an id extracted
/// for someone else; a policy without a source still reads the path.
#[tokio::test]
async fn authorize_path_gives_its_value_to_one_path_parameter_only() {
    use bearer_policy::warp::{authorize_path, recover};
    use bearer_policy::{Model, OrgSource};
    use warp::Filter;
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let org_data = Policy::new(Model::OrgResource)
        .scopes(["api:read"])
        .organization(OrgSource::PathParam("org_id".into()));
    let team =
        Policy::new(Model::OrgPermission).organization(OrgSource::PathParam("team_id".into()));
    let token = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["api:read"])
        .audience("urn:logto:organization:acme")
        .sign();
    let call = |route| {
        let token = token.clone();
        async move {
            warp::test::request()
                .path("/orgs/acme/data")
                .header("authorization", format!("Bearer {token}"))
                .reply(&route)
                .await
        }
    };
    let route = |policies: Vec<Policy>| {
        authorize_path(
            warp::path!("orgs" / String / "data"),
            validator.clone(),
            policies,
        )
        .map(|org_id: String, _: AuthInfo| org_id)
        .recover(recover)
    };
    assert_eq!(call(route(vec![org_data.clone()])).await.status(), 200);
    // Without a source, the path's value: as `org_data`'s.
    let unsourced = Policy::new(Model::OrgResource).scopes(["api:read"]);
    assert_eq!(call(route(vec![unsourced])).await.status(), 200);
    let stacked = call(route(vec![org_data, team])).await;
    assert_eq!(stacked.status(), 403);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(stacked.body()).unwrap()["code"],
        "missing_organization"
    );
}
