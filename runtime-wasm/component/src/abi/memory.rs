//! The instance's linear memory as the canonical ABI uses it, and the checks every pointer the
//! instance hands over goes through.

use super::layout::is_aligned;

/// The instance's linear memory and allocator, as the host sees them. Errors are traps (their
/// message).
pub trait Memory {
    /// `len` bytes from `offset`: `Err` if they are not all inside the memory (checked before
    /// anything is allocated for them).
    fn read(&self, offset: u32, len: u32) -> Result<Vec<u8>, String>;

    /// Writes `bytes` at `offset`: `Err` if they do not all fit inside the memory.
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), String>;

    /// The instance's `realloc` (canonical option): (old_ptr, old_size, align, new_size) -> new
    /// pointer.
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, String>;
}

/// The `len` bytes at `ptr`, which the instance says hold something aligned to `align`.
pub(crate) fn read_block(
    memory: &dyn Memory,
    ptr: u32,
    align: u32,
    len: u32,
) -> Result<Vec<u8>, String> {
    check_aligned(ptr, align)?;
    let block = memory.read(ptr, len)?;
    if block.len() != len as usize {
        return Err(format!(
            "read {} bytes at {ptr}, asked for {len}",
            block.len()
        ));
    }
    Ok(block)
}

/// A fresh block of `len` bytes aligned to `align`, from the instance's `realloc`.
pub(crate) fn allocate(memory: &mut dyn Memory, align: u32, len: u32) -> Result<u32, String> {
    let ptr = memory.realloc(0, 0, align, len)?;
    check_aligned(ptr, align)?;
    Ok(ptr)
}

/// The canonical ABI traps on a misaligned pointer.
pub(crate) fn check_aligned(ptr: u32, align: u32) -> Result<(), String> {
    if is_aligned(ptr, align) {
        Ok(())
    } else {
        Err(format!("pointer {ptr} is not aligned to {align}"))
    }
}
