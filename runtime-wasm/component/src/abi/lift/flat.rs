//! Lifting from flat values: a value out of the core parameters (or results) it travelled as.

use super::{canonical_f32, canonical_f64, char_of, Lifter, VAL_COST};
use crate::abi::cases::Cases;
use crate::abi::flat::{flatten, narrow, payload_slots};
use crate::abi::layout::flags_mask;
use crate::abi::{CoreType, CoreVal, Type, Val};

/// Core values, read in order.
pub(crate) struct Flat<'a> {
    vals: &'a [CoreVal],
}

impl<'a> Flat<'a> {
    /// Reads `vals` from the first.
    pub(crate) fn new(vals: &'a [CoreVal]) -> Self {
        Flat { vals }
    }

    /// The next value, which must be of type `want`.
    fn next(&mut self, want: CoreType) -> Result<CoreVal, String> {
        let (&first, rest) = self.vals.split_first().ok_or("too few core values")?;
        if first.ty() != want {
            return Err(format!(
                "a core {:?} where the signature says {want:?}",
                first.ty()
            ));
        }
        self.vals = rest;
        Ok(first)
    }

    fn i32(&mut self) -> Result<i32, String> {
        match self.next(CoreType::I32)? {
            CoreVal::I32(i) => Ok(i),
            _ => Err("not an i32".into()),
        }
    }

    fn i64(&mut self) -> Result<i64, String> {
        match self.next(CoreType::I64)? {
            CoreVal::I64(i) => Ok(i),
            _ => Err("not an i64".into()),
        }
    }

    /// A pointer and a length, as strings and lists travel.
    fn ptr_len(&mut self) -> Result<(u32, u32), String> {
        Ok((self.i32()? as u32, self.i32()? as u32))
    }
}

impl Lifter<'_> {
    /// The value of type `ty` that the next of `flat` hold. Integers narrower than their core
    /// type keep their low bits, as the spec says.
    pub(crate) fn lift(&mut self, flat: &mut Flat<'_>, ty: &Type) -> Result<Val, String> {
        Ok(match ty {
            Type::Bool => Val::Bool(flat.i32()? != 0),
            Type::S8 => Val::S8(flat.i32()? as i8),
            Type::U8 => Val::U8(flat.i32()? as u8),
            Type::S16 => Val::S16(flat.i32()? as i16),
            Type::U16 => Val::U16(flat.i32()? as u16),
            Type::S32 => Val::S32(flat.i32()?),
            Type::U32 => Val::U32(flat.i32()? as u32),
            Type::S64 => Val::S64(flat.i64()?),
            Type::U64 => Val::U64(flat.i64()? as u64),
            Type::F32 => match flat.next(CoreType::F32)? {
                CoreVal::F32(f) => Val::F32(canonical_f32(f)),
                _ => return Err("not an f32".into()),
            },
            Type::F64 => match flat.next(CoreType::F64)? {
                CoreVal::F64(f) => Val::F64(canonical_f64(f)),
                _ => return Err("not an f64".into()),
            },
            Type::Char => Val::Char(char_of(flat.i32()? as u32)?),
            Type::String => {
                let (ptr, len) = flat.ptr_len()?;
                Val::String(self.load_string(ptr, len)?)
            }
            Type::List(elem) => {
                let (ptr, len) = flat.ptr_len()?;
                self.load_list(ptr, len, elem)?
            }
            Type::Record(types) => Val::Record(self.lift_fields(flat, types)?),
            Type::Tuple(types) => Val::Tuple(self.lift_fields(flat, types)?),
            Type::Flags(count) => Val::Flags(flat.i32()? as u32 & flags_mask(*count)),
            Type::Own(_) | Type::Borrow(_) => Val::Handle(flat.i32()? as u32),
            Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. } => {
                let cases = Cases::of(ty).ok_or("not a variant")?;
                self.lift_variant(flat, &cases)?
            }
        })
    }

    fn lift_fields(&mut self, flat: &mut Flat<'_>, types: &[Type]) -> Result<Vec<Val>, String> {
        self.charge(types.len() as u64 * VAL_COST)?;
        types.iter().map(|ty| self.lift(flat, ty)).collect()
    }

    /// A variant: its discriminant, then the slots all its cases share, of which its case reads
    /// the first few (bit-cast back from the joined types).
    fn lift_variant(&mut self, flat: &mut Flat<'_>, cases: &Cases<'_>) -> Result<Val, String> {
        let case = flat.i32()? as u32;
        let slots = payload_slots(cases)
            .into_iter()
            .map(|slot| flat.next(slot))
            .collect::<Result<Vec<_>, _>>()?;
        let payload = match cases.payload(case)? {
            Some(ty) => {
                let mut wanted = Vec::new();
                flatten(ty, &mut wanted);
                let own = wanted
                    .iter()
                    .zip(&slots)
                    .map(|(&want, &slot)| narrow(slot, want))
                    .collect::<Result<Vec<_>, _>>()?;
                self.charge(VAL_COST)?;
                Some(self.lift(&mut Flat::new(&own), ty)?)
            }
            None => None,
        };
        Ok(cases.join(case, payload))
    }
}
