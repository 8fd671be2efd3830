//! Unit tests of `policy`: each model's allow and deny matrix, the
//! organization sources, logging of denials, and serialisation.

use super::*;

const API: &str = "https://api.example.com";

fn auth(audience: &[&str], scopes: &[&str], org: Option<&str>) -> AuthInfo {
    AuthInfo::for_tests(audience, scopes, org, Some(API))
}

#[test]
fn global_api_allow_deny_matrix() {
    let policy = Policy::new(Model::GlobalApi).scopes(["api:read"]);
    assert_eq!(
        policy.check(&auth(&[API], &["api:read"], None), None),
        Ok(())
    );
    assert_eq!(
        policy.check(&auth(&["https://other"], &["api:read"], None), None),
        Err(Denied::WrongAudience)
    );
    assert_eq!(
        policy.check(&auth(&[API], &["api:write"], None), None),
        Err(Denied::MissingScopes {
            missing: vec!["api:read".into()]
        })
    );
    assert_eq!(
        policy.check(&auth(&[API], &["api:read"], Some("org-1")), None),
        Err(Denied::OrganizationTokenNotAllowed)
    );
    // The audience is one of several.
    assert_eq!(
        policy.check(&auth(&["x", API], &["api:read"], None), None),
        Ok(())
    );
}

#[test]
fn org_permission_allow_deny_matrix() {
    let policy = Policy::new(Model::OrgPermission).scopes(["invite:member"]);
    let org_token = auth(&["urn:logto:organization:acme"], &["invite:member"], None);
    assert_eq!(policy.check(&org_token, Some("acme")), Ok(()));
    assert_eq!(
        policy.check(&org_token, Some("other")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.check(&org_token, None),
        Err(Denied::MissingOrganization)
    );
    // Prefix tricks do not match: the id is compared exactly.
    assert_eq!(
        policy.check(&org_token, Some("acm")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.check(&auth(&[API], &["invite:member"], None), Some("acme")),
        Err(Denied::WrongAudience)
    );
    assert_eq!(
        policy.check(
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
    assert_eq!(policy.check(&token, Some("acme")), Ok(()));
    assert_eq!(
        policy.check(&token, Some("other")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(policy.check(&token, None), Err(Denied::MissingOrganization));
    assert_eq!(
        policy.check(&auth(&[API], &["api:read"], None), Some("acme")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.check(
            &auth(&["https://other"], &["api:read"], Some("acme")),
            Some("acme")
        ),
        Err(Denied::WrongAudience)
    );
    // Unicode look-alikes are different organizations: no normalisation.
    assert_eq!(
        policy.check(&token, Some("acme\u{200b}")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        policy.check(&auth(&[API], &["api:read"], Some("аcme")), Some("acme")),
        Err(Denied::OrganizationMismatch)
    );
}

#[test]
fn any_scopes_need_one_of_them() {
    let policy = Policy::new(Model::GlobalApi).any_scopes(["admin", "support"]);
    assert_eq!(
        policy.check(&auth(&[API], &["support"], None), None),
        Ok(())
    );
    assert_eq!(
        policy.check(&auth(&[API], &["api:read"], None), None),
        Err(Denied::NoneOfScopes {
            any_of: vec!["admin".into(), "support".into()]
        })
    );
}

#[test]
fn missing_scopes_are_all_listed() {
    let policy = Policy::new(Model::GlobalApi).scopes(["a", "b", "c"]);
    assert_eq!(
        policy.check(&auth(&[API], &["b"], None), None),
        Err(Denied::MissingScopes {
            missing: vec!["a".into(), "c".into()]
        })
    );
}

#[test]
fn policy_audience_overrides_the_configured_one() {
    let policy = Policy::new(Model::GlobalApi).audience("https://billing");
    assert_eq!(
        policy.check(&auth(&["https://billing"], &[], None), None),
        Ok(())
    );
    assert_eq!(
        policy.check(&auth(&[API], &[], None), None),
        Err(Denied::WrongAudience)
    );
    let unconfigured = AuthInfo::for_tests(&[API], &[], None, None);
    assert_eq!(
        Policy::new(Model::GlobalApi).check(&unconfigured, None),
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
        header.check_request(&token, None),
        Err(Denied::MissingOrganization)
    );
    let with_header = token
        .clone()
        .with_request(RequestContext::new().with_header("x-organization-id", "acme"));
    assert_eq!(header.check_request(&with_header, None), Ok(()));
    assert_eq!(
        query.check_request(&with_header, None),
        Err(Denied::MissingOrganization)
    );
    let with_query =
        token.with_request(RequestContext::new().with_query("organization_id", "other"));
    assert_eq!(
        query.check_request(&with_query, None),
        Err(Denied::OrganizationMismatch)
    );
}

#[test]
fn check_request_reads_each_organization_from_its_own_source() {
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
    assert_eq!(set.check_request(&header("acme"), Some("acme")), Ok(()));
    assert_eq!(
        set.check_request(&header("acme"), Some("other")),
        Err(Denied::OrganizationMismatch)
    );
    assert_eq!(
        set.check_request(&header("other"), Some("acme")),
        Err(Denied::OrganizationMismatch)
    );
    // The path's id never stands in for a missing header.
    assert_eq!(
        set.check_request(&token, Some("acme")),
        Err(Denied::MissingOrganization)
    );
    assert_eq!(
        set.check_request(&header("acme"), None),
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
            path.check_request(token, Some("")),
            Err(Denied::MissingOrganization),
            "{model}"
        );
        assert_eq!(
            path.check(token, Some("")),
            Err(Denied::MissingOrganization)
        );
        let header = Policy::new(model).organization(OrgSource::Header("X-Org".into()));
        let empty_header = (*token)
            .clone()
            .with_request(RequestContext::new().with_header("x-org", ""));
        assert_eq!(
            header.check_request(&empty_header, None),
            Err(Denied::MissingOrganization),
            "{model}"
        );
        let query = Policy::new(model).organization(OrgSource::Query("org".into()));
        let empty_query = (*token)
            .clone()
            .with_request(RequestContext::new().with_query("org", ""));
        assert_eq!(
            query.check_request(&empty_query, None),
            Err(Denied::MissingOrganization),
            "{model}"
        );
    }
}

/// What `f` logs at `level` and above, as text.
fn logged_at(level: tracing::Level, f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = buffer.0.lock().unwrap().clone();
    String::from_utf8(text).unwrap()
}

#[test]
fn denials_are_logged_at_debug_not_info() {
    let policy = Policy::new(Model::GlobalApi).scopes(["api:write"]);
    let reader = auth(&[API], &["api:read"], None);
    let deny = || {
        for _ in 0..100 {
            assert!(policy.check(&reader, None).is_err());
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
                policy.check_request(&token, None),
                Err(Denied::MissingOrganization)
            );
        }
    });
    assert_eq!(logs.matches("tenant_id_never_bound").count(), 1, "{logs}");
    // With the path segment there is nothing to warn about.
    let bound = Policy::new(Model::OrgResource)
        .organization(OrgSource::PathParam("tenant_id_bound".into()));
    let logs = logged_at(tracing::Level::WARN, || {
        assert_eq!(bound.check_request(&token, Some("acme")), Ok(()));
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
        set.check_request(&auth(&[API], &["a", "b"], None), None),
        Ok(())
    );
    assert!(
        set.check_request(&auth(&[API], &["a"], None), None)
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
