//! The canonical ABI of the component model, for the types WASI 0.2 uses: how a component-level
//! value is laid out in a core instance's flat parameters and linear memory.
//!
//! Types arrive resolved ([`Type`]: no type indices, no aliases), so the layout, flattening,
//! lifting and lowering here need nothing but the type and the instance's memory.

mod call;
mod cases;
mod flat;
mod layout;
mod lift;
mod lower;
mod memory;
#[cfg(test)]
mod tests;

pub use call::{export_params, export_results, import_args, import_results};
pub use flat::{core_signature, CoreType, CoreVal, Direction, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
pub use layout::{align, size};
pub use memory::Memory;
use std::rc::Rc;

/// A component-level value type, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// `string` (UTF-8: the only encoding this host accepts in canonical options).
    String,
    /// `list<T>`.
    List(Box<Type>),
    /// `record { ... }`: its fields' types in order (names do not matter to the ABI).
    Record(Vec<Type>),
    /// `tuple<...>`.
    Tuple(Vec<Type>),
    /// `variant { ... }`: each case's payload type, if it has one.
    Variant(Vec<Option<Type>>),
    /// `enum { ... }`: how many cases.
    Enum(u32),
    /// `option<T>`.
    Option(Box<Type>),
    /// `result<ok, err>`.
    Result {
        /// The payload of `ok`, if any.
        ok: Option<Box<Type>>,
        /// The payload of `err`, if any.
        err: Option<Box<Type>>,
    },
    /// `flags { ... }`: how many flags (at most 32 here).
    Flags(u32),
    /// `own<R>`.
    Own(Resource),
    /// `borrow<R>`.
    Borrow(Resource),
}

/// A resource type the host defines, named by the interface that exports it, without the
/// interface's version (`wasi:http/types`, `fields`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The interface, without `@version`: `wasi:io/streams`.
    pub interface: Rc<str>,
    /// The resource's name in it: `output-stream`.
    pub name: Rc<str>,
}

/// A function's type: its parameters and results (WASI 0.2 functions have at most one result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncType {
    /// The parameters' types in order.
    pub params: Vec<Type>,
    /// The results' types in order.
    pub results: Vec<Type>,
}

/// A component-level value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `bool`.
    Bool(bool),
    /// `s8`.
    S8(i8),
    /// `u8`.
    U8(u8),
    /// `s16`.
    S16(i16),
    /// `u16`.
    U16(u16),
    /// `s32`.
    S32(i32),
    /// `u32`.
    U32(u32),
    /// `s64`.
    S64(i64),
    /// `u64`.
    U64(u64),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// `char`.
    Char(char),
    /// `string`.
    String(String),
    /// A `list<u8>`, kept as bytes (bodies and header values travel as these).
    Bytes(Vec<u8>),
    /// A list of any other element type.
    List(Vec<Val>),
    /// A record's fields in order.
    Record(Vec<Val>),
    /// A tuple's members.
    Tuple(Vec<Val>),
    /// A variant: its case index and payload.
    Variant(u32, Option<Box<Val>>),
    /// An enum's case index.
    Enum(u32),
    /// An option.
    Option(Option<Box<Val>>),
    /// A result and its payload.
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// Flags, bit `i` for the `i`th flag.
    Flags(u32),
    /// A resource handle (`own` or `borrow`, as the type says): an index in the session's table
    /// of resources. The instance sees the same number.
    Handle(u32),
}
