//! Fuzz target `discovery_document`: see `harness::discovery_document` for the input format and oracle.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::discovery_document(data);
});
