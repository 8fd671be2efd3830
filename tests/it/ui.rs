//! Compile-time behaviour of `#[requires]`: every misuse fails with a
//! helpful, well-placed message (`tests/ui/fail/*.stderr`), and every form
//! of the grammar compiles (`tests/ui/pass`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
