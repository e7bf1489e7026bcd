//! Lifting: component-level values out of an instance's core values and linear memory.
//!
//! Everything here comes from an untrusted instance: every pointer is checked for alignment and
//! bounds, every length against the spec's limits, and what the values cost the host is
//! charged to a budget before it is allocated, so that no claim of the instance (a list of
//! 2^31 elements, the same megabyte string referenced a million times) can make the host
//! allocate more than [`MAX_LIFTED_BYTES`].

mod flat;
mod load;

use super::memory::Memory;
use super::Val;
pub(crate) use flat::Flat;

/// The most host memory the values of one lift (a call's arguments, or its results) may take:
/// an implementation limit, as large as the largest string or list the spec lets one lift.
pub(crate) const MAX_LIFTED_BYTES: u64 = 1 << 28;

/// The spec's limit on a string's length in bytes (`MAX_STRING_BYTE_LENGTH`).
const MAX_STRING_BYTES: u32 = (1 << 28) - 1;

/// The spec's limit on a list's length in bytes (`MAX_LIST_BYTE_LENGTH`).
const MAX_LIST_BYTES: u64 = (1 << 28) - 1;

/// What one value costs, charged for every element and field built.
const VAL_COST: u64 = std::mem::size_of::<Val>() as u64;

/// One lift: the memory it reads and the budget it has left.
pub(crate) struct Lifter<'a> {
    memory: &'a dyn Memory,
    left: u64,
}

impl<'a> Lifter<'a> {
    /// A lift from `memory`, with the whole budget.
    pub(crate) fn new(memory: &'a dyn Memory) -> Self {
        Lifter {
            memory,
            left: MAX_LIFTED_BYTES,
        }
    }

    /// Takes `bytes` from the budget, before they are allocated.
    fn charge(&mut self, bytes: u64) -> Result<(), String> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(format!(
                "the values lifted in one call take more than {MAX_LIFTED_BYTES} bytes"
            )),
        }
    }
}

/// The spec's one NaN for floats lifted.
fn canonical_f32(f: f32) -> f32 {
    if f.is_nan() {
        f32::from_bits(0x7fc0_0000)
    } else {
        f
    }
}

/// The spec's one NaN for doubles lifted.
fn canonical_f64(f: f64) -> f64 {
    if f.is_nan() {
        f64::from_bits(0x7ff8_0000_0000_0000)
    } else {
        f
    }
}

/// The `char` of code point `code`: the spec traps on surrogates and beyond U+10FFFF.
fn char_of(code: u32) -> Result<char, String> {
    char::from_u32(code).ok_or_else(|| format!("{code:#x} is not a Unicode scalar value"))
}
