//! Compile-time behaviour of `#[vlugin]`: what it accepts, and the errors it gives otherwise.
#![cfg(not(target_arch = "wasm32"))]

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/*-pass.rs");
    cases.compile_fail("tests/ui/*-fail.rs");
}
