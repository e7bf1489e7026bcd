//! A linear memory of bytes with a bump allocator, counting the crossings a browser would pay.

use crate::abi::Memory;
use std::cell::Cell;

/// A memory of a fixed size whose `realloc` bumps a pointer.
pub(super) struct VecMemory {
    pub(super) bytes: Vec<u8>,
    next: u32,
    /// How many `read`s (each one crossing into JavaScript in the browser).
    pub(super) reads: Cell<u32>,
    /// How many `write`s.
    pub(super) writes: u32,
    /// Every allocation, as (align, size).
    pub(super) allocations: Vec<(u32, u32)>,
    /// Added to each pointer `realloc` returns (a broken allocator).
    pub(super) skew: u32,
}

impl VecMemory {
    /// A memory of `size` zero bytes that allocates from `start`.
    pub(super) fn new(size: usize, start: u32) -> Self {
        VecMemory {
            bytes: vec![0; size],
            next: start,
            reads: Cell::new(0),
            writes: 0,
            allocations: Vec::new(),
            skew: 0,
        }
    }

    /// Puts `bytes` at `offset` (the instance's own writes).
    pub(super) fn poke(&mut self, offset: u32, bytes: &[u8]) {
        self.bytes[offset as usize..offset as usize + bytes.len()].copy_from_slice(bytes);
    }

    /// The `len` bytes at `offset`, without counting a read.
    pub(super) fn peek(&self, offset: u32, len: u32) -> &[u8] {
        &self.bytes[offset as usize..(offset + len) as usize]
    }

    fn range(&self, offset: u32, len: u64) -> Result<std::ops::Range<usize>, String> {
        let end = u64::from(offset) + len;
        if end > self.bytes.len() as u64 {
            return Err(format!("{len} bytes at {offset} are out of bounds"));
        }
        Ok(offset as usize..end as usize)
    }
}

impl Memory for VecMemory {
    fn read(&self, offset: u32, len: u32) -> Result<Vec<u8>, String> {
        self.reads.set(self.reads.get() + 1);
        let range = self.range(offset, u64::from(len))?;
        Ok(self.bytes[range].to_vec())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), String> {
        self.writes += 1;
        let range = self.range(offset, bytes.len() as u64)?;
        self.bytes[range].copy_from_slice(bytes);
        Ok(())
    }

    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, String> {
        assert_eq!(
            (old_ptr, old_size),
            (0, 0),
            "the host only allocates afresh"
        );
        assert!(align.is_power_of_two(), "align {align}");
        self.allocations.push((align, new_size));
        let ptr = self.next.div_ceil(align) * align;
        let end = u64::from(ptr) + u64::from(new_size);
        if end > self.bytes.len() as u64 {
            return Err(format!("out of memory allocating {new_size}"));
        }
        self.next = end as u32;
        Ok(ptr + self.skew)
    }
}
