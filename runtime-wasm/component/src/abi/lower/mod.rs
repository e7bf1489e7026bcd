//! Lowering: component-level values into an instance's core values and linear memory.
//!
//! The values come from the host, the memory from `realloc`: a value whose shape does not
//! match its type is a host bug, and an allocation that is misaligned or outside the memory is
//! the instance's; both are errors, never panics.

mod flat;
mod store;

pub(crate) use flat::lower;
pub(crate) use store::store_tuple;

use super::{Type, Val};

/// The error for a value that is not of its type.
fn mismatch(val: &Val, ty: &Type) -> String {
    format!("{val:?} is not a value of {ty:?}")
}
