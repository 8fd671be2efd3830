//! Fuzz target `dpop_proof`: see `harness::dpop_proof` for the input format and oracle.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::dpop_proof(data);
});
