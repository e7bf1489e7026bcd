//! The host table a native plugin was bound with (`valor_native_bind`), if any: one per loaded
//! library (the host loads a private copy of the library for each plugin, so this static is that
//! plugin's). The imports call through it; outside a native host (`cargo test`) nothing is bound.

use std::sync::Mutex;
pub use valor_abi::native::Host;

static BOUND: Mutex<Option<Host>> = Mutex::new(None);

/// The bound host's table.
pub(crate) fn host() -> Option<Host> {
    *BOUND
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Binds `host` (`None`: unbinds).
pub(super) fn set_host(host: Option<Host>) {
    *BOUND
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = host;
}
