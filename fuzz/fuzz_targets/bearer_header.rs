//! Fuzz target `bearer_header`: see `harness::bearer_header` for the input format and oracle.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::bearer_header(data);
});
