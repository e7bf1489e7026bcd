//! The memory cap of one instance: wasmtime asks it before every growth of the plugin's memory
//! or tables.

use wasmtime::{ResourceLimiter, Result};

/// The most elements a table may have: V8's limit, so a table a browser refuses to grow is
/// refused here too (and a plugin cannot take gigabytes of the server's memory through one).
const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// The memory cap of one instance (its entry's `memory_mb`): a growth past it makes
/// `memory.grow` return -1 inside the plugin, as a full memory would.
pub struct MemoryCap {
    bytes: usize,
    /// Whether a growth was refused (a trap after it is reported as out of memory).
    pub refused: bool,
}

impl MemoryCap {
    /// A cap of `bytes` (the entry's `memory_mb`, in bytes).
    pub fn new(bytes: u64) -> Self {
        Self {
            bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
            refused: false,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        let allowed = desired <= self.bytes;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
