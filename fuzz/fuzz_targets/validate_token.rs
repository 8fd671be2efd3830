//! Fuzz target `validate_token`: see `harness::validate_token` for the input format and oracle.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

use std::sync::OnceLock;

static TARGET: OnceLock<harness::TokenTarget> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    TARGET
        .get_or_init(harness::TokenTarget::new)
        .validate_token(data);
});
