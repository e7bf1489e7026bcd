//! Tests of the canonical ABI, on a memory backed by a `Vec<u8>`.

mod hostile;
mod layout;
mod memory;
mod props;
mod round_trip;
mod types;
mod wasi;
