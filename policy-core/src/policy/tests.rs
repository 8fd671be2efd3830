//! Unit tests of `policy`: each model's allow and deny matrix, the
//! organization sources, logging of denials, and serialisation.

use super::*;
use crate::test_support::logged_at;

const API: &str = "https://api.example.com";

fn auth(audience: &[&str], scopes: &[&str], org: Option<&str>) -> AuthInfo {
    AuthInfo::for_tests(audience, scopes, org, Some(API))
}

#[test]
fn global_api_allow_deny_matrix() {
    let policy = Policy::new(Model::GlobalApi).scopes(["api:read"]);
    assert_eq!(
        policy.decide(&auth(&[API], &["api:read"], None), None),
        Ok(())
    );
    assert_eq!(
        policy.decide(&auth(&["https://other"], &["api:read"], None), None),
        Err(Denied::WrongAudience)
    );
    assert_eq!(
        policy.decide(&auth(&[API], &["api:write"], None), None),
        Err(Denied::MissingScopes {
            missing: vec!["api:read".into()]
        })
    );
    assert_eq!(
        policy.decide(&auth(&[API], &["api:read"], Some("org-1")), None),
        Err(Denied::OrganizationTokenNotAllowed)
    );
    // The audience is one of several.
    assert_eq!(
        policy.decide(&auth(&["x", API], &["api:read"], None), None),
        Ok(())
    );
}

#[test]
fn org_permission_allow_deny_matrix() {
    let policy = Policy::new(Model::OrgPermission).scopes(["invite:member"]);
    let org_token = auth(&["urn:logto:organization:acme"], &["invite:member"], None);
    assert_eq!(policy.decide(&org_token, Some("acme")), Ok(()));
    assert_eq!(
        policy.decide(&org_token, Some("other")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.decide(&org_token, None),
        Err(Denied::MissingOrganization)
    );
    // Prefix tricks do not match: the id is compared exactly.
    assert_eq!(
        policy.decide(&org_token, Some("acm")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.decide(&auth(&[API], &["invite:member"], None), Some("acme")),
        Err(Denied::WrongAudience)
    );
    assert_eq!(
        policy.decide(
            &auth(&["urn:logto:organization:acme"], &[], None),
            Some("acme")
        ),
        Err(Denied::MissingScopes {
            missing: vec!["invite:member".into()]
        })
    );
}

#[test]
fn org_resource_allow_deny_matrix() {
    let policy = Policy::new(Model::OrgResource).scopes(["api:read"]);
    let token = auth(&[API], &["api:read"], Some("acme"));
    assert_eq!(policy.decide(&token, Some("acme")), Ok(()));
    assert_eq!(
        policy.decide(&token, Some("other")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.decide(&token, None),
        Err(Denied::MissingOrganization)
    );
    assert_eq!(
        policy.decide(&auth(&[API], &["api:read"], None), Some("acme")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.decide(
            &auth(&["https://other"], &["api:read"], Some("acme")),
            Some("acme")
        ),
        Err(Denied::WrongAudience)
    );
    // Unicode look-alikes are different organizations: no normalisation.
    assert_eq!(
        policy.decide(&token, Some("acme\u{200b}")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.decide(&auth(&[API], &["api:read"], Some("аcme")), Some("acme")),
        Err(Denied::OrganizationMismatch)
    );
}

#[test]
fn any_scopes_need_one_of_them() {
    let policy = Policy::new(Model::GlobalApi).any_scopes(["admin", "support"]);
    assert_eq!(
        policy.decide(&auth(&[API], &["support"], None), None),
        Ok(())
    );
    assert_eq!(
        policy.decide(&auth(&[API], &["api:read"], None), None),
        Err(Denied::NoneOfScopes {
            any_of: vec!["admin".into(), "support".into()]
        })
    );
}

#[test]
fn missing_scopes_are_all_listed() {
    let policy = Policy::new(Model::GlobalApi).scopes(["a", "b", "c"]);
    assert_eq!(
        policy.decide(&auth(&[API], &["b"], None), None),
        Err(Denied::MissingScopes {
            missing: vec!["a".into(), "c".into()]
        })
    );
}

#[test]
fn policy_audience_overrides_the_configured_one() {
    let policy = Policy::new(Model::GlobalApi).audience("https://billing");
    assert_eq!(
        policy.decide(&auth(&["https://billing"], &[], None), None),
        Ok(())
    );
    assert_eq!(
        policy.decide(&auth(&[API], &[], None), None),
        Err(Denied::WrongAudience)
    );
    let unconfigured = AuthInfo::for_tests(&[API], &[], None, None);
    assert_eq!(
        Policy::new(Model::GlobalApi).decide(&unconfigured, None),
        Err(Denied::NoAudienceConfigured)
    );
}

#[test]
fn header_and_query_sources_read_the_captured_request() {
    use crate::auth_info::RequestContext;
    let header =
        Policy::new(Model::OrgResource).organization(OrgSource::Header("X-Organization-Id".into()));
    let query =
        Policy::new(Model::OrgResource).organization(OrgSource::Query("organization_id".into()));
    let token = auth(&[API], &[], Some("acme"));
    assert_eq!(
        header.decide_request(&token, None),
        Err(Denied::MissingOrganization)
    );
    let with_header = token
        .clone()
        .with_request(RequestContext::new().with_header("x-organization-id", "acme"));
    assert_eq!(header.decide_request(&with_header, None), Ok(()));
    assert_eq!(
        query.decide_request(&with_header, None),
        Err(Denied::MissingOrganization)
    );
    let with_query =
        token.with_request(RequestContext::new().with_query("organization_id", "other"));
    assert_eq!(
        query.decide_request(&with_query, None),
        Err(Denied::OrganizationMismatch)
    );
}

#[test]
fn decide_request_reads_each_organization_from_its_own_source() {
    use crate::auth_info::RequestContext;
    let set = [
        Policy::new(Model::OrgPermission)
            .organization(OrgSource::Header("X-Organization-Id".into())),
        Policy::new(Model::OrgResource).organization(OrgSource::PathParam("org_id".into())),
    ];
    // One token that satisfies both models for `acme`.
    let token = auth(&["urn:logto:organization:acme", API], &[], Some("acme"));
    let header = |org: &str| {
        token
            .clone()
            .with_request(RequestContext::new().with_header("x-organization-id", org))
    };
    assert_eq!(set.decide_request(&header("acme"), Some("acme")), Ok(()));
    assert_eq!(
        set.decide_request(&header("acme"), Some("other")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        set.decide_request(&header("other"), Some("acme")),
        Err(Denied::OrganizationMismatch)
    );
    // The path's id never stands in for a missing header.
    assert_eq!(
        set.decide_request(&token, Some("acme")),
        Err(Denied::MissingOrganization)
    );
    assert_eq!(
        set.decide_request(&header("acme"), None),
        Err(Denied::MissingOrganization)
    );
}

#[test]
fn an_empty_organization_id_is_no_organization_from_every_source() {
    use crate::auth_info::RequestContext;
    let org_token = auth(&["urn:logto:organization:"], &[], None);
    let resource_token = auth(&[API], &[], Some(""));
    for (model, token) in [
        (Model::OrgPermission, &org_token),
        (Model::OrgResource, &resource_token),
    ] {
        let path = Policy::new(model).organization(OrgSource::PathParam("org_id".into()));
        assert_eq!(
            path.decide_request(token, Some("")),
            Err(Denied::MissingOrganization),
            "{model}"
        );
        assert_eq!(
            path.decide(token, Some("")),
            Err(Denied::MissingOrganization)
        );
        let header = Policy::new(model).organization(OrgSource::Header("X-Org".into()));
        let empty_header = (*token)
            .clone()
            .with_request(RequestContext::new().with_header("x-org", ""));
        assert_eq!(
            header.decide_request(&empty_header, None),
            Err(Denied::MissingOrganization),
            "{model}"
        );
        let query = Policy::new(model).organization(OrgSource::Query("org".into()));
        let empty_query = (*token)
            .clone()
            .with_request(RequestContext::new().with_query("org", ""));
        assert_eq!(
            query.decide_request(&empty_query, None),
            Err(Denied::MissingOrganization),
            "{model}"
        );
    }
}

/// What `f` logs at `level` and above, as text.
#[test]
fn denials_are_logged_at_debug_not_info() {
    let policy = Policy::new(Model::GlobalApi).scopes(["api:write"]);
    let reader = auth(&[API], &["api:read"], None);
    let deny = || {
        for _ in 0..100 {
            assert!(policy.decide(&reader, None).is_err());
        }
    };
    assert_eq!(logged_at(tracing::Level::INFO, deny), "");
    let debug = logged_at(tracing::Level::DEBUG, deny);
    assert_eq!(debug.matches("request denied").count(), 100, "{debug}");
    assert!(debug.contains("insufficient_scope"), "{debug}");
}

#[test]
fn a_path_policy_checked_without_a_path_warns_the_operator_once() {
    let policy = Policy::new(Model::OrgResource)
        .organization(OrgSource::PathParam("tenant_id_never_bound".into()));
    let token = auth(&[API], &[], Some("acme"));
    let logs = logged_at(tracing::Level::WARN, || {
        for _ in 0..10 {
            assert_eq!(
                policy.decide_request(&token, None),
                Err(Denied::MissingOrganization)
            );
        }
    });
    assert_eq!(logs.matches("tenant_id_never_bound").count(), 1, "{logs}");
    // With the path segment there is nothing to warn about.
    let bound = Policy::new(Model::OrgResource)
        .organization(OrgSource::PathParam("tenant_id_bound".into()));
    let logs = logged_at(tracing::Level::WARN, || {
        assert_eq!(bound.decide_request(&token, Some("acme")), Ok(()));
    });
    assert_eq!(logs, "");
}

#[test]
fn stacked_policies_must_all_hold() {
    let set = [
        Policy::new(Model::GlobalApi).scopes(["a"]),
        Policy::new(Model::GlobalApi).scopes(["b"]),
    ];
    assert_eq!(
        set.decide_request(&auth(&[API], &["a", "b"], None), None),
        Ok(())
    );
    assert!(
        set.decide_request(&auth(&[API], &["a"], None), None)
            .is_err()
    );
}

#[test]
fn policies_serialise_for_the_inventory() {
    let policy = Policy::new(Model::OrgPermission)
        .scopes(["invite:member"])
        .organization(OrgSource::PathParam("org_id".into()));
    assert_eq!(
        serde_json::to_value(&policy).unwrap(),
        serde_json::json!({"model": "org_permission", "scopes": ["invite:member"], "anyScopes": [],
            "organization": {"from": "path_param", "name": "org_id"}})
    );
}

// ---- check functions ----

fn is_staff(auth: &AuthInfo) -> bool {
    auth.sub() == Some("staff")
}

/// What the macro builds for `check = is_staff`.
static STAFF_ONLY: Policy = Policy::from_static(
    Model::GlobalApi,
    &[Cow::Borrowed("api:read")],
    &[],
    None,
    None,
    Some(Check::item("is_staff", check_name_of(&is_staff), |auth| {
        CheckFn::call_check(&is_staff, auth)
    })),
    &[],
);

/// A token of `sub` for the API, with `scopes`.
fn user(sub: &str, scopes: &[&str]) -> AuthInfo {
    let mut claims = crate::claims::tests::sample_claims();
    claims.sub = Some(sub.to_owned());
    claims.scopes = scopes.iter().map(|s| s.to_string()).collect();
    claims.audience = vec![API.to_owned()];
    claims.configured_audience = Some(API.into());
    AuthInfo::new(std::sync::Arc::new(claims))
}

#[test]
fn a_check_returning_false_is_check_failed_without_a_reason() {
    assert_eq!(
        STAFF_ONLY.decide(&user("staff", &["api:read"]), None),
        Ok(())
    );
    let denied = STAFF_ONLY
        .decide(&user("guest", &["api:read"]), None)
        .unwrap_err();
    assert_eq!(denied, Denied::CheckFailed { reason: None });
    assert_eq!(denied.code(), "check_failed");
    assert_eq!(
        denied.to_string(),
        "The request does not meet an access rule of this resource"
    );
}

#[test]
fn a_check_returning_a_denial_chooses_it() {
    let verified =
        Policy::new(Model::GlobalApi).check_with("verified", |auth: &AuthInfo| match auth.sub() {
            Some("staff") => Ok(()),
            Some("partner") => Err(Denied::MissingOrganization),
            _ => Err(Denied::check_failed("verify your email address first")),
        });
    assert_eq!(verified.decide(&user("staff", &[]), None), Ok(()));
    assert_eq!(
        verified.decide(&user("partner", &[]), None),
        Err(Denied::MissingOrganization)
    );
    let denied = verified.decide(&user("guest", &[]), None).unwrap_err();
    assert_eq!(denied.code(), "check_failed");
    assert_eq!(denied.to_string(), "verify your email address first");
}

#[test]
fn the_check_runs_only_once_audience_organization_and_scopes_hold() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = {
        let calls = Arc::clone(&calls);
        move |_: &AuthInfo| {
            calls.fetch_add(1, Ordering::SeqCst);
            false
        }
    };
    let policy = Policy::new(Model::OrgResource)
        .scopes(["api:read"])
        .check_with("counted", counted);
    let token = |aud: &str, scopes: &[&str], org: Option<&str>| {
        AuthInfo::for_tests(&[aud], scopes, org, Some(API))
    };
    for (case, auth, org, denied) in [
        (
            "wrong audience",
            token("https://other", &["api:read"], Some("acme")),
            Some("acme"),
            Denied::WrongAudience,
        ),
        (
            "no organization",
            token(API, &["api:read"], Some("acme")),
            None,
            Denied::MissingOrganization,
        ),
        (
            "other organization",
            token(API, &["api:read"], Some("acme")),
            Some("globex"),
            Denied::OrganizationMismatch,
        ),
        (
            "missing scope",
            token(API, &[], Some("acme")),
            Some("acme"),
            Denied::MissingScopes {
                missing: vec!["api:read".into()],
            },
        ),
    ] {
        assert_eq!(policy.decide(&auth, org), Err(denied), "{case}");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the check ran for a refused request"
    );
    let allowed_but_for_the_check = token(API, &["api:read"], Some("acme"));
    assert_eq!(
        policy.decide(&allowed_but_for_the_check, Some("acme")),
        Err(Denied::CheckFailed { reason: None })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn checks_of_a_set_run_after_every_policy_of_the_set() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = |calls: &Arc<AtomicUsize>| {
        let calls = Arc::clone(calls);
        move |_: &AuthInfo| {
            calls.fetch_add(1, Ordering::SeqCst);
            true
        }
    };
    let set = [
        Policy::new(Model::GlobalApi).check_with("first", counted(&calls)),
        Policy::new(Model::GlobalApi)
            .scopes(["api:write"])
            .check_with("second", counted(&calls)),
    ];
    // The second policy's scope refuses: neither check runs, the first included.
    assert_eq!(
        set.decide_request(&user("staff", &["api:read"]), None),
        Err(Denied::MissingScopes {
            missing: vec!["api:write".into()]
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        set.decide_request(&user("staff", &["api:write"]), None),
        Ok(())
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The same through the path-parameter lookup the macro and axum use.
    assert_eq!(
        crate::request::decide(
            &set,
            &user("staff", &["api:read"]),
            crate::request::PathParams::Named(&[("org_id", "acme")])
        ),
        Err(Denied::MissingScopes {
            missing: vec!["api:write".into()]
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn check_with_twice_requires_both_in_order() {
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = |name: &'static str, result: bool| {
        let order = std::sync::Arc::clone(&order);
        move |_: &AuthInfo| {
            order.lock().unwrap().push(name);
            result
        }
    };
    let both = Policy::new(Model::GlobalApi)
        .check_with("staff", record("staff", true))
        .check_with("in_eu", record("in_eu", false));
    assert_eq!(both.check_name(), Some("staff && in_eu"));
    assert_eq!(
        both.decide(&user("staff", &[]), None),
        Err(Denied::CheckFailed { reason: None })
    );
    assert_eq!(*order.lock().unwrap(), ["staff", "in_eu"]);
    let first_fails = Policy::new(Model::GlobalApi)
        .check_with("staff", record("staff", false))
        .check_with("in_eu", record("in_eu", true));
    order.lock().unwrap().clear();
    assert!(first_fails.decide(&user("staff", &[]), None).is_err());
    assert_eq!(*order.lock().unwrap(), ["staff"]);
}

#[test]
fn a_check_is_named_by_its_function_path_or_given_name() {
    assert_eq!(
        STAFF_ONLY.check_name(),
        Some("bearer_policy_core::policy::tests::is_staff")
    );
    // A constant holding a function pointer: its type names no function.
    const POINTER: fn(&AuthInfo) -> bool = is_staff;
    let pointer = Policy::from_static(
        Model::GlobalApi,
        &[],
        &[],
        None,
        None,
        Some(Check::item(
            "rules::POINTER",
            check_name_of(&POINTER),
            |auth| CheckFn::call_check(&POINTER, auth),
        )),
        &[],
    );
    assert_eq!(pointer.check_name(), Some("rules::POINTER"));
    let given = Policy::new(Model::GlobalApi).check_with(String::from("tenant_flag"), is_staff);
    assert_eq!(given.check_name(), Some("tenant_flag"));
    assert_eq!(Policy::new(Model::GlobalApi).check_name(), None);
    assert_eq!(
        format!("{given:?}"),
        "Policy { model: GlobalApi, scopes: [], any_scopes: [], issuers: [], audience: None, \
         organization: None, check: Some(Check(\"tenant_flag\")), dpop: None }"
    );
}

#[test]
fn the_check_serialises_as_its_name_and_only_when_there_is_one() {
    assert_eq!(
        serde_json::to_value(&STAFF_ONLY).unwrap(),
        serde_json::json!({"model": "global_api", "scopes": ["api:read"], "anyScopes": [],
            "check": "bearer_policy_core::policy::tests::is_staff"})
    );
    let plain = serde_json::to_value(Policy::new(Model::GlobalApi)).unwrap();
    assert!(plain.get("check").is_none(), "{plain}");
}

#[test]
fn policies_with_checks_are_equal_when_the_check_is_the_same() {
    assert_eq!(STAFF_ONLY.clone(), STAFF_ONLY);
    let shared = Policy::new(Model::GlobalApi).check_with("staff", is_staff);
    assert_eq!(shared.clone(), shared);
    // Built apart, two closures may capture different things: not equal.
    assert_ne!(
        Policy::new(Model::GlobalApi).check_with("staff", is_staff),
        shared
    );
    assert_ne!(Policy::new(Model::GlobalApi), shared);
    let mut same_parts = Policy::new(Model::GlobalApi).scopes(["api:read"]);
    assert_ne!(same_parts, STAFF_ONLY);
    same_parts = same_parts.check_with("is_staff", is_staff);
    assert_ne!(same_parts, STAFF_ONLY);
}

#[test]
fn a_check_denial_is_logged_at_debug_with_the_check_name() {
    let guest = user("guest", &["api:read"]);
    assert_eq!(
        logged_at(tracing::Level::INFO, || {
            let _ = STAFF_ONLY.decide(&guest, None);
        }),
        ""
    );
    let debug = logged_at(tracing::Level::DEBUG, || {
        let _ = STAFF_ONLY.decide(&guest, None);
    });
    assert!(debug.contains("request denied"), "{debug}");
    assert!(debug.contains("code=\"check_failed\""), "{debug}");
    assert!(
        debug.contains("check=\"bearer_policy_core::policy::tests::is_staff\""),
        "{debug}"
    );
}

#[test]
fn a_policy_naming_issuers_refuses_the_other_trusted_issuers_first() {
    // Whatever issuer `sample_claims` names (see claims.rs).
    let token = auth(&[API], &[], None);
    let issuer = token.issuer().to_owned();
    let others_only = Policy::new(Model::GlobalApi)
        .scopes(["api:write"])
        .issuers(["https://partner.example"]);
    // Refused for its issuer before its missing scope.
    assert_eq!(
        others_only.decide(&token, None),
        Err(Denied::IssuerNotAllowed)
    );
    let accepted =
        Policy::new(Model::GlobalApi).issuers(["https://partner.example".to_owned(), issuer]);
    assert_eq!(accepted.decide(&token, None), Ok(()));
    assert_eq!(
        Policy::new(Model::GlobalApi).decide(&token, None),
        Ok(()),
        "no list: every trusted issuer"
    );
    let json = serde_json::to_value(&others_only).unwrap();
    assert_eq!(
        json["issuers"],
        serde_json::json!(["https://partner.example"])
    );
    assert!(
        serde_json::to_value(Policy::new(Model::GlobalApi))
            .unwrap()
            .get("issuers")
            .is_none()
    );
}

/// A policy requiring DPoP holds only for a token bound to a DPoP key
/// (`cnf.jkt`, which only ever passes with its proof): wherever it is
/// decided, a bearer token, or one bound to something else, is refused.
#[test]
fn a_policy_requiring_dpop_refuses_a_token_no_proof_bound() {
    use crate::claims::Confirmation;
    let policy = Policy::new(Model::GlobalApi)
        .scopes(["payments:write"])
        .dpop(DpopMode::Required);
    let bound_to = |confirmation: Confirmation| {
        let mut claims = crate::claims::tests::sample_claims();
        claims.scopes = vec!["payments:write".to_owned()];
        claims.audience = vec![API.to_owned()];
        claims.configured_audience = Some(API.into());
        claims.confirmation = confirmation;
        AuthInfo::new(std::sync::Arc::new(claims))
    };
    assert_eq!(
        policy.decide(&bound_to(Confirmation::Unbound), None),
        Err(Denied::DpopBindingRequired)
    );
    assert_eq!(
        policy.decide(&bound_to(Confirmation::Other), None),
        Err(Denied::DpopBindingRequired)
    );
    assert_eq!(
        policy.decide(&bound_to(Confirmation::Jkt("thumbprint".into())), None),
        Ok(())
    );
    let allowed = policy.clone().dpop(DpopMode::Allowed);
    assert_eq!(
        allowed.decide(&bound_to(Confirmation::Unbound), None),
        Ok(())
    );
}
