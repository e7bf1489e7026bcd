//! Lowering to flat values: a value into the core parameters (or results) it travels as.

use super::mismatch;
use super::store::{store_list, store_string};
use crate::abi::cases::Cases;
use crate::abi::flat::{payload_slots, widen};
use crate::abi::layout::flags_mask;
use crate::abi::memory::Memory;
use crate::abi::{CoreVal, Type, Val};

/// Appends to `out` the core values `val`, of type `ty`, travels as; strings and lists are
/// copied into memory allocated with the instance's `realloc`.
pub(crate) fn lower(
    memory: &mut dyn Memory,
    val: &Val,
    ty: &Type,
    out: &mut Vec<CoreVal>,
) -> Result<(), String> {
    let i32 = |i: i32| CoreVal::I32(i);
    match (ty, val) {
        (Type::Bool, Val::Bool(b)) => out.push(i32(i32::from(*b))),
        (Type::S8, Val::S8(i)) => out.push(i32(i32::from(*i))),
        (Type::U8, Val::U8(i)) => out.push(i32(i32::from(*i))),
        (Type::S16, Val::S16(i)) => out.push(i32(i32::from(*i))),
        (Type::U16, Val::U16(i)) => out.push(i32(i32::from(*i))),
        (Type::S32, Val::S32(i)) => out.push(i32(*i)),
        (Type::U32, Val::U32(i)) => out.push(i32(*i as i32)),
        (Type::S64, Val::S64(i)) => out.push(CoreVal::I64(*i)),
        (Type::U64, Val::U64(i)) => out.push(CoreVal::I64(*i as i64)),
        (Type::F32, Val::F32(f)) => out.push(CoreVal::F32(*f)),
        (Type::F64, Val::F64(f)) => out.push(CoreVal::F64(*f)),
        (Type::Char, Val::Char(c)) => out.push(i32(u32::from(*c) as i32)),
        (Type::String, Val::String(s)) => {
            let (ptr, len) = store_string(memory, s)?;
            out.extend([i32(ptr as i32), i32(len as i32)]);
        }
        (Type::List(elem), _) => {
            let (ptr, len) = store_list(memory, val, elem)?;
            out.extend([i32(ptr as i32), i32(len as i32)]);
        }
        (Type::Record(types), Val::Record(vals)) | (Type::Tuple(types), Val::Tuple(vals))
            if types.len() == vals.len() =>
        {
            for (val, ty) in vals.iter().zip(types) {
                lower(memory, val, ty, out)?;
            }
        }
        (Type::Flags(count), Val::Flags(bits)) if bits & !flags_mask(*count) == 0 => {
            out.push(i32(*bits as i32))
        }
        (Type::Own(_) | Type::Borrow(_), Val::Handle(handle)) => out.push(i32(*handle as i32)),
        (Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. }, _) => {
            let cases = Cases::of(ty).ok_or_else(|| mismatch(val, ty))?;
            lower_variant(memory, val, &cases, out)?;
        }
        _ => return Err(mismatch(val, ty)),
    }
    Ok(())
}

/// A variant: its discriminant, then its payload's values widened into the slots all cases
/// share, then zeros for the slots its case does not use.
fn lower_variant(
    memory: &mut dyn Memory,
    val: &Val,
    cases: &Cases<'_>,
    out: &mut Vec<CoreVal>,
) -> Result<(), String> {
    let (case, payload) = cases.split(val)?;
    out.push(CoreVal::I32(case as i32));
    let start = out.len();
    if let (Some(ty), Some(payload)) = (cases.payload(case)?, payload) {
        lower(memory, payload, ty, out)?;
    }
    let slots = payload_slots(cases);
    if out.len() - start > slots.len() {
        return Err(format!(
            "a payload of {val:?} does not fit its variant's slots"
        ));
    }
    for (flat, &slot) in out[start..].iter_mut().zip(&slots) {
        *flat = widen(*flat, slot)?;
    }
    let used = out.len() - start;
    out.extend(slots[used..].iter().map(|&slot| CoreVal::zero(slot)));
    Ok(())
}
