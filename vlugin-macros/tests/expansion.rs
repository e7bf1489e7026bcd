//! The expansion as a plugin crate sees it: compiled (and linted by `cargo clippy --all-targets`)
//! as ordinary code, with its exports linked into this test binary.
#![cfg(not(target_arch = "wasm32"))]

use vlugin::*;

#[vlugin]
async fn hello(_req: Request) -> impl IntoResponse {
    "OK response from a plugin"
}

unsafe extern "C" {
    fn valor_abi_version() -> u32;
}

#[test]
fn exports_the_abi_version() {
    // SAFETY: defined by `#[vlugin]` above with this signature.
    assert_eq!(unsafe { valor_abi_version() }, valor_abi::ABI_VERSION);
}
