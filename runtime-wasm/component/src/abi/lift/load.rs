//! Loading: values out of linear memory. A list's (or a spilled tuple's) whole block is read
//! with one [`Memory::read`](super::Memory::read) and its elements decoded from that copy.

use super::{
    canonical_f32, canonical_f64, char_of, Lifter, MAX_LIST_BYTES, MAX_STRING_BYTES, VAL_COST,
};
use crate::abi::cases::Cases;
use crate::abi::layout::{
    align, discriminant_size, fields, fields_align, fields_size, flags_mask, payload_offset, size,
};
use crate::abi::memory::read_block;
use crate::abi::{Type, Val};

impl Lifter<'_> {
    /// The values of a tuple of `types` at `ptr` (spilled parameters or results).
    pub(crate) fn load_tuple(&mut self, ptr: u32, types: &[Type]) -> Result<Vec<Val>, String> {
        let block = read_block(self.memory, ptr, fields_align(types), fields_size(types))?;
        self.load_fields(&block, 0, types)
    }

    /// The string of `len` bytes at `ptr`.
    pub(crate) fn load_string(&mut self, ptr: u32, len: u32) -> Result<String, String> {
        if len > MAX_STRING_BYTES {
            return Err(format!("a string of {len} bytes is over the limit"));
        }
        self.charge(u64::from(len))?;
        let bytes = read_block(self.memory, ptr, 1, len)?;
        String::from_utf8(bytes).map_err(|e| format!("a string is not UTF-8: {e}"))
    }

    /// The list of `len` elements of type `elem` at `ptr`.
    pub(crate) fn load_list(&mut self, ptr: u32, len: u32, elem: &Type) -> Result<Val, String> {
        let elem_size = size(elem);
        let bytes = u64::from(len) * u64::from(elem_size);
        if bytes > MAX_LIST_BYTES {
            return Err(format!(
                "a list of {len} elements of {elem_size} bytes is over the limit"
            ));
        }
        if *elem == Type::U8 {
            self.charge(bytes)?;
            return Ok(Val::Bytes(read_block(self.memory, ptr, 1, len)?));
        }
        if elem_size == 0 && len > 0 {
            return Err("a list of elements of no size".into());
        }
        self.charge(u64::from(len) * VAL_COST)?;
        // `bytes` fits: it is under MAX_LIST_BYTES.
        let block = read_block(self.memory, ptr, align(elem), bytes as u32)?;
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            items.push(self.load(&block, i * elem_size, elem)?);
        }
        Ok(Val::List(items))
    }

    /// The value of type `ty` at offset `at` of `block` (a copy of linear memory).
    fn load(&mut self, block: &[u8], at: u32, ty: &Type) -> Result<Val, String> {
        Ok(match ty {
            Type::Bool => Val::Bool(u8::from_le_bytes(bytes(block, at)?) != 0),
            Type::S8 => Val::S8(i8::from_le_bytes(bytes(block, at)?)),
            Type::U8 => Val::U8(u8::from_le_bytes(bytes(block, at)?)),
            Type::S16 => Val::S16(i16::from_le_bytes(bytes(block, at)?)),
            Type::U16 => Val::U16(u16::from_le_bytes(bytes(block, at)?)),
            Type::S32 => Val::S32(i32::from_le_bytes(bytes(block, at)?)),
            Type::U32 => Val::U32(u32_at(block, at)?),
            Type::S64 => Val::S64(i64::from_le_bytes(bytes(block, at)?)),
            Type::U64 => Val::U64(u64::from_le_bytes(bytes(block, at)?)),
            Type::F32 => Val::F32(canonical_f32(f32::from_bits(u32_at(block, at)?))),
            Type::F64 => Val::F64(canonical_f64(f64::from_le_bytes(bytes(block, at)?))),
            Type::Char => Val::Char(char_of(u32_at(block, at)?)?),
            Type::String => {
                let (ptr, len) = (u32_at(block, at)?, u32_at(block, at.saturating_add(4))?);
                Val::String(self.load_string(ptr, len)?)
            }
            Type::List(elem) => {
                let (ptr, len) = (u32_at(block, at)?, u32_at(block, at.saturating_add(4))?);
                self.load_list(ptr, len, elem)?
            }
            Type::Record(types) => Val::Record(self.load_fields(block, at, types)?),
            Type::Tuple(types) => Val::Tuple(self.load_fields(block, at, types)?),
            Type::Flags(count) => {
                let bits = match size(ty) {
                    1 => u32::from(u8::from_le_bytes(bytes(block, at)?)),
                    2 => u32::from(u16::from_le_bytes(bytes(block, at)?)),
                    _ => u32_at(block, at)?,
                };
                Val::Flags(bits & flags_mask(*count))
            }
            Type::Own(_) | Type::Borrow(_) => Val::Handle(u32_at(block, at)?),
            Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. } => {
                let cases = Cases::of(ty).ok_or("not a variant")?;
                self.load_variant(block, at, &cases)?
            }
        })
    }

    /// The fields of a record of `types` at offset `at` of `block`.
    fn load_fields(&mut self, block: &[u8], at: u32, types: &[Type]) -> Result<Vec<Val>, String> {
        self.charge(types.len() as u64 * VAL_COST)?;
        fields(types)
            .map(|(offset, ty)| self.load(block, at.saturating_add(offset), ty))
            .collect()
    }

    /// The variant at offset `at` of `block`.
    fn load_variant(&mut self, block: &[u8], at: u32, cases: &Cases<'_>) -> Result<Val, String> {
        let case = match discriminant_size(cases) {
            1 => u32::from(u8::from_le_bytes(bytes(block, at)?)),
            2 => u32::from(u16::from_le_bytes(bytes(block, at)?)),
            _ => u32_at(block, at)?,
        };
        let payload = match cases.payload(case)? {
            Some(ty) => {
                self.charge(VAL_COST)?;
                Some(self.load(block, at.saturating_add(payload_offset(cases)), ty)?)
            }
            None => None,
        };
        Ok(cases.join(case, payload))
    }
}

/// The `N` bytes at offset `at` of `block`.
fn bytes<const N: usize>(block: &[u8], at: u32) -> Result<[u8; N], String> {
    let at = at as usize;
    block
        .get(at..at.saturating_add(N))
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            format!(
                "{N} bytes at {at} are past the end of a block of {}",
                block.len()
            )
        })
}

/// The `u32` at offset `at` of `block`.
fn u32_at(block: &[u8], at: u32) -> Result<u32, String> {
    bytes(block, at).map(u32::from_le_bytes)
}
