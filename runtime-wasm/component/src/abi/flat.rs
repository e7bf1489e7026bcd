//! Flattening: the core values a component-level value travels as in a core function's
//! parameters and results, and the core signature of a function.

use super::cases::Cases;
use super::{FuncType, Type};

/// At most this many core parameters: more and the parameters travel in linear memory, as a
/// tuple the one `i32` parameter points to.
pub const MAX_FLAT_PARAMS: usize = 16;

/// At most this many core results: more and the results travel in linear memory.
pub const MAX_FLAT_RESULTS: usize = 1;

/// A core WebAssembly value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

/// A core WebAssembly value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoreVal {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl CoreVal {
    /// The value's type.
    pub fn ty(self) -> CoreType {
        match self {
            CoreVal::I32(_) => CoreType::I32,
            CoreVal::I64(_) => CoreType::I64,
            CoreVal::F32(_) => CoreType::F32,
            CoreVal::F64(_) => CoreType::F64,
        }
    }

    /// The zero of type `ty` (what fills a variant's flat slots its case does not use).
    pub(crate) fn zero(ty: CoreType) -> CoreVal {
        match ty {
            CoreType::I32 => CoreVal::I32(0),
            CoreType::I64 => CoreVal::I64(0),
            CoreType::F32 => CoreVal::F32(0.0),
            CoreType::F64 => CoreVal::F64(0.0),
        }
    }
}

/// Which side of the boundary the core function is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A lowered import (the instance calls the host): results that do not fit are stored at
    /// a return pointer passed as the last parameter.
    Lower,
    /// A lifted export (the host calls the instance): results that do not fit are returned as
    /// a pointer.
    Lift,
}

/// The core signature (parameters, results) of a function of type `ty`.
pub fn core_signature(ty: &FuncType, direction: Direction) -> (Vec<CoreType>, Vec<CoreType>) {
    let mut params = flatten_all(&ty.params);
    if params.len() > MAX_FLAT_PARAMS {
        params = vec![CoreType::I32];
    }
    let mut results = flatten_all(&ty.results);
    if results.len() > MAX_FLAT_RESULTS {
        match direction {
            Direction::Lower => {
                params.push(CoreType::I32);
                results.clear();
            }
            Direction::Lift => results = vec![CoreType::I32],
        }
    }
    (params, results)
}

/// The core types a sequence of values flattens to, one after the other.
pub(crate) fn flatten_all(types: &[Type]) -> Vec<CoreType> {
    let mut flat = Vec::new();
    for ty in types {
        flatten(ty, &mut flat);
    }
    flat
}

/// Appends the core types a value of type `ty` flattens to.
pub(crate) fn flatten(ty: &Type, flat: &mut Vec<CoreType>) {
    match ty {
        Type::Bool
        | Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::Char
        | Type::Flags(_)
        | Type::Own(_)
        | Type::Borrow(_) => flat.push(CoreType::I32),
        Type::S64 | Type::U64 => flat.push(CoreType::I64),
        Type::F32 => flat.push(CoreType::F32),
        Type::F64 => flat.push(CoreType::F64),
        Type::String | Type::List(_) => flat.extend([CoreType::I32, CoreType::I32]),
        Type::Record(fields) | Type::Tuple(fields) => {
            for field in fields {
                flatten(field, flat);
            }
        }
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. } => {
            if let Some(cases) = Cases::of(ty) {
                flat.push(CoreType::I32);
                flat.extend(payload_slots(&cases));
            }
        }
    }
}

/// The flat slots a variant's payloads share, after its discriminant: slot `i` is the `join`
/// of every case's `i`th flat type.
pub(crate) fn payload_slots(cases: &Cases<'_>) -> Vec<CoreType> {
    let mut slots: Vec<CoreType> = Vec::new();
    let mut case_flat = Vec::new();
    for payload in cases.payloads() {
        case_flat.clear();
        flatten(payload, &mut case_flat);
        for (i, &ty) in case_flat.iter().enumerate() {
            match slots.get_mut(i) {
                Some(slot) => *slot = join(*slot, ty),
                None => slots.push(ty),
            }
        }
    }
    slots
}

/// The tightest core type both `a` and `b` can be bit-cast into.
fn join(a: CoreType, b: CoreType) -> CoreType {
    match (a, b) {
        _ if a == b => a,
        (CoreType::I32, CoreType::F32) | (CoreType::F32, CoreType::I32) => CoreType::I32,
        _ => CoreType::I64,
    }
}

/// A case's flat value `val` widened into its variant's slot of type `slot` (lowering).
pub(crate) fn widen(val: CoreVal, slot: CoreType) -> Result<CoreVal, String> {
    Ok(match (val, slot) {
        _ if val.ty() == slot => val,
        (CoreVal::F32(f), CoreType::I32) => CoreVal::I32(f.to_bits() as i32),
        (CoreVal::I32(i), CoreType::I64) => CoreVal::I64(i64::from(i as u32)),
        (CoreVal::F32(f), CoreType::I64) => CoreVal::I64(i64::from(f.to_bits())),
        (CoreVal::F64(f), CoreType::I64) => CoreVal::I64(f.to_bits() as i64),
        _ => {
            return Err(format!(
                "a {:?} does not fit a variant slot of {slot:?}",
                val.ty()
            ))
        }
    })
}

/// A variant's slot value `val` narrowed back to its case's flat type `want` (lifting): the
/// inverse of [`widen`], wrapping an `i64` to its low 32 bits where the case wants 32.
pub(crate) fn narrow(val: CoreVal, want: CoreType) -> Result<CoreVal, String> {
    Ok(match (val, want) {
        _ if val.ty() == want => val,
        (CoreVal::I32(i), CoreType::F32) => CoreVal::F32(f32::from_bits(i as u32)),
        (CoreVal::I64(i), CoreType::I32) => CoreVal::I32(i as i32),
        (CoreVal::I64(i), CoreType::F32) => CoreVal::F32(f32::from_bits(i as u32)),
        (CoreVal::I64(i), CoreType::F64) => CoreVal::F64(f64::from_bits(i as u64)),
        _ => {
            return Err(format!(
                "a variant slot of {:?} does not hold a {want:?}",
                val.ty()
            ))
        }
    })
}
