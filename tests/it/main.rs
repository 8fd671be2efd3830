//! The integration tests, linked into one binary (as jsonwebtoken's
//! `tests/lib.rs` does): one module per concern, helpers in `common`.
//! Run one concern with `cargo test --test it <module>::`.

// Helpers outside `#[test]` functions may unwrap and panic: that is how tests fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod actix;
mod attacks;
mod axum;
mod check_fn;
mod common;
mod dpop;
mod e2e;
mod example_smoke;
mod fuzz_corpus;
mod introspection;
mod issuer_faults;
mod issuers;
mod key_rotation;
mod key_sets;
mod mcp;
mod metrics;
mod openapi;
mod properties;
mod requires;
mod static_keys;
mod token_cache;
mod tower;
mod typed_claims;
mod ui;
mod validation;
