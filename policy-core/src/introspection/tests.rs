//! Introspection against a `TestIssuer`, where a unit test sees more than
//! HTTP shows: the logs.

use tracing::Level;

use crate::Introspection;
use crate::test_support::logged_at;
use crate::testing::TestIssuer;

#[test]
fn a_refused_client_credential_is_logged_as_a_configuration_error_without_secret_or_token() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::with_algorithms(&[crate::Algorithm::ES256]));
    let token = issuer.token().opaque();
    let wrong = Introspection::new(TestIssuer::INTROSPECTION_CLIENT_ID, "the-wrong-secret");
    let validator = issuer
        .validator_builder("https://api.example.com")
        .introspection(wrong)
        .build()
        .unwrap();
    let mut outcome = None;
    let logs = logged_at(Level::WARN, || {
        outcome = Some(runtime.block_on(validator.validate(&token)));
    });
    let error = outcome.unwrap().unwrap_err();
    assert_eq!(error.code(), "introspection_unavailable");
    assert!(logs.contains("ERROR"), "{logs}");
    assert!(logs.contains("misconfigured"), "{logs}");
    assert!(logs.contains(TestIssuer::INTROSPECTION_CLIENT_ID), "{logs}");
    assert!(!logs.contains("the-wrong-secret"), "{logs}");
    assert!(!logs.contains(&token), "{logs}");
    assert!(!format!("{error:?}").contains("the-wrong-secret"));
}

#[test]
fn the_debug_form_of_the_configuration_hides_the_secret() {
    let config = Introspection::new("api", "s3cr3t-value");
    let shown = format!("{config:?}");
    assert!(shown.contains("api"), "{shown}");
    assert!(!shown.contains("s3cr3t-value"), "{shown}");
}
