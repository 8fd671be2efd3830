//! Fuzz target `pem_keys`: see `harness::pem_keys` for the input format and oracle.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::pem_keys(data);
});
