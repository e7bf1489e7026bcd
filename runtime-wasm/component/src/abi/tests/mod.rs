//! Tests of the canonical ABI, on a memory backed by a `Vec<u8>`.

mod hostile;
mod layout;
mod memory;
// proptest is a native dev-dependency only.
#[cfg(not(target_arch = "wasm32"))]
mod props;
mod round_trip;
mod types;
mod wasi;
