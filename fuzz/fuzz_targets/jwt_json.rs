//! Fuzz target `jwt_json`: see `harness::jwt_json` for the input format and oracle.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::jwt_json(data);
});
