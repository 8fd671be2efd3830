//! No token, `sub`, client id or organization id reaches a metric label or a
//! span field, for every decision class. In a test binary of its own: it
//! reads span fields through the process's global `tracing` subscriber,
//! which no other test may set or disturb.

// Test code: a failed unwrap is a failed test, as in the `it` binary.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use bearer_policy::{Policy, Requirements};
use metrics_util::debugging::DebuggingRecorder;

use common::telemetry::{authorize, read};
use common::{API, bearer, fast, start_issuer};

/// The fixtures of the `it` binary, of which this one uses a few; helpers
/// outside `#[test]` functions may unwrap and panic, as there.
#[allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#[path = "it/common/mod.rs"]
mod common;

/// Every span field any subscriber would see, as `name.field=value` lines.
#[derive(Clone, Default)]
struct SpanFields(Arc<Mutex<Vec<String>>>);

struct Visitor<'a>(&'a str, &'a mut Vec<String>);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.1
            .push(format!("{}.{}={value:?}", self.0, field.name()));
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanFields
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = self.0.lock().unwrap();
        attrs.record(&mut Visitor(attrs.metadata().name(), &mut fields));
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let name = context.span(id).map_or("?", |span| span.name());
        values.record(&mut Visitor(name, &mut self.0.lock().unwrap()));
    }
}

// One test: the subscriber is the process's.
#[tokio::test]
async fn no_token_subject_client_or_organization_reaches_a_label_or_a_span_field() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let spans = SpanFields::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    // The process's only subscriber, set before any span exists: a
    // thread-local one would share the global callsite interest cache with
    // every test running beside it, and could miss spans.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    let (sub, client, org) = ("sub-7d3f9e1a", "client-5a1b2c3d", "org-9c2e4f6a");
    let token = |org_id: &str, scopes: &[&str]| {
        issuer
            .token()
            .for_org_resource(API, org_id)
            .scopes(scopes.iter().copied())
            .subject(sub)
            .client_id(client)
            .sign()
    };
    let allowed = token("acme", &["api:read"]);
    let other_org = token(org, &["api:read"]);
    let no_scope = token("acme", &[]);
    let expired = issuer
        .token()
        .subject(sub)
        .client_id(client)
        .organization(org)
        .expires_at(1_000)
        .sign();
    let policy = Policy::new(bearer_policy::Model::OrgResource)
        .scopes(["api:read"])
        .organization(bearer_policy::OrgSource::PathParam("org_id".into()));
    let requirements = Requirements::new(policy);
    for (token, status) in [
        (&allowed, Ok(())),
        (&allowed, Ok(())),
        (&other_org, Err(403)),
        (&no_scope, Err(403)),
        (&expired, Err(401)),
    ] {
        assert_eq!(
            authorize(&requirements, &validator, Some(&bearer(token))).await,
            status
        );
    }

    let fields = spans.0.lock().unwrap().join("\n");
    let labels: Vec<String> = read(&snapshotter)
        .into_iter()
        .flat_map(|s| s.labels.into_iter().map(|(k, v)| format!("{k}={v}")))
        .collect();
    let labels = labels.join("\n");
    // Not vacuous: the spans and labels carry the decision, code and issuer.
    for seen in [
        "authorize.decision=\"allowed\"",
        "authorize.code=\"organization_mismatch\"",
        "authorize.code=\"insufficient_scope\"",
        "authorize.code=\"token_expired\"",
        &format!("authorize.issuer=\"{}\"", issuer.issuer()),
        "key_set_refresh.outcome=\"ok\"",
    ] {
        assert!(fields.contains(seen), "{seen} missing from\n{fields}");
    }
    assert!(labels.contains("code=organization_mismatch"), "{labels}");
    for secret in [sub, client, org, "acme"] {
        assert!(
            !fields.contains(secret),
            "{secret} in a span field:\n{fields}"
        );
        assert!(!labels.contains(secret), "{secret} in a label:\n{labels}");
    }
    for token in [&allowed, &other_org, &no_scope, &expired] {
        for part in token.split('.') {
            assert!(
                !fields.contains(part) && !labels.contains(part),
                "a token part leaked"
            );
        }
    }
}
