//! Storing: values into linear memory. A list (or a spilled tuple) is built in a host buffer
//! and written with one [`Memory::write`].

use super::mismatch;
use crate::abi::cases::Cases;
use crate::abi::layout::{
    align, discriminant_size, fields, fields_align, fields_size, flags_mask, payload_offset, size,
};
use crate::abi::memory::{allocate, check_aligned, Memory};
use crate::abi::{Type, Val};

/// The most bytes one string or list may take in the instance's memory (the spec's
/// `REALLOC_I32_MAX`).
const MAX_STORED_BYTES: u64 = u32::MAX as u64;

/// Stores `vals`, of `types`, as a tuple at `ptr` (spilled parameters or results).
pub(crate) fn store_tuple(
    memory: &mut dyn Memory,
    vals: &[Val],
    types: &[Type],
    ptr: u32,
) -> Result<(), String> {
    check_aligned(ptr, fields_align(types))?;
    let mut block = vec![0; fields_size(types) as usize];
    store_fields(memory, vals, types, &mut block, 0)?;
    memory.write(ptr, &block)
}

/// Copies `s` into a fresh allocation: its pointer and length.
pub(crate) fn store_string(memory: &mut dyn Memory, s: &str) -> Result<(u32, u32), String> {
    store_bytes(memory, s.as_bytes())
}

/// Copies `val`, a list of `elem`, into a fresh allocation: its pointer and length.
pub(crate) fn store_list(
    memory: &mut dyn Memory,
    val: &Val,
    elem: &Type,
) -> Result<(u32, u32), String> {
    match (elem, val) {
        (Type::U8, Val::Bytes(bytes)) => store_bytes(memory, bytes),
        (_, Val::List(items)) if *elem != Type::U8 => {
            let elem_size = size(elem);
            let len = stored_len(items.len(), elem_size)?;
            let ptr = allocate(memory, align(elem), len * elem_size)?;
            let mut block = vec![0; (len * elem_size) as usize];
            for (i, item) in (0..len).zip(items) {
                store(memory, item, elem, &mut block, i * elem_size)?;
            }
            memory.write(ptr, &block)?;
            Ok((ptr, len))
        }
        _ => Err(mismatch(val, &Type::List(Box::new(elem.clone())))),
    }
}

fn store_bytes(memory: &mut dyn Memory, bytes: &[u8]) -> Result<(u32, u32), String> {
    let len = stored_len(bytes.len(), 1)?;
    let ptr = allocate(memory, 1, len)?;
    memory.write(ptr, bytes)?;
    Ok((ptr, len))
}

/// `count` elements of `elem_size` bytes, if they fit in a 32-bit memory.
fn stored_len(count: usize, elem_size: u32) -> Result<u32, String> {
    match u32::try_from(count) {
        Ok(len) if u64::from(len) * u64::from(elem_size) <= MAX_STORED_BYTES => Ok(len),
        _ => Err(format!(
            "a list of {count} elements of {elem_size} bytes is too large"
        )),
    }
}

/// Stores `val`, of type `ty`, at offset `at` of `block` (to be written to memory).
fn store(
    memory: &mut dyn Memory,
    val: &Val,
    ty: &Type,
    block: &mut [u8],
    at: u32,
) -> Result<(), String> {
    match (ty, val) {
        (Type::Bool, Val::Bool(b)) => put(block, at, &[u8::from(*b)]),
        (Type::S8, Val::S8(i)) => put(block, at, &i.to_le_bytes()),
        (Type::U8, Val::U8(i)) => put(block, at, &i.to_le_bytes()),
        (Type::S16, Val::S16(i)) => put(block, at, &i.to_le_bytes()),
        (Type::U16, Val::U16(i)) => put(block, at, &i.to_le_bytes()),
        (Type::S32, Val::S32(i)) => put(block, at, &i.to_le_bytes()),
        (Type::U32, Val::U32(i)) => put(block, at, &i.to_le_bytes()),
        (Type::S64, Val::S64(i)) => put(block, at, &i.to_le_bytes()),
        (Type::U64, Val::U64(i)) => put(block, at, &i.to_le_bytes()),
        (Type::F32, Val::F32(f)) => put(block, at, &f.to_le_bytes()),
        (Type::F64, Val::F64(f)) => put(block, at, &f.to_le_bytes()),
        (Type::Char, Val::Char(c)) => put(block, at, &u32::from(*c).to_le_bytes()),
        (Type::String, Val::String(s)) => {
            let (ptr, len) = store_string(memory, s)?;
            put_ptr_len(block, at, ptr, len)
        }
        (Type::List(elem), _) => {
            let (ptr, len) = store_list(memory, val, elem)?;
            put_ptr_len(block, at, ptr, len)
        }
        (Type::Record(types), Val::Record(vals)) | (Type::Tuple(types), Val::Tuple(vals)) => {
            store_fields(memory, vals, types, block, at)
        }
        (Type::Flags(count), Val::Flags(bits)) if bits & !flags_mask(*count) == 0 => {
            let bytes = bits.to_le_bytes();
            put(block, at, &bytes[..size(ty).min(4) as usize])
        }
        (Type::Own(_) | Type::Borrow(_), Val::Handle(handle)) => {
            put(block, at, &handle.to_le_bytes())
        }
        (Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. }, _) => {
            let cases = Cases::of(ty).ok_or_else(|| mismatch(val, ty))?;
            let (case, payload) = cases.split(val)?;
            let disc = case.to_le_bytes();
            put(
                block,
                at,
                &disc[..discriminant_size(&cases).min(4) as usize],
            )?;
            match (cases.payload(case)?, payload) {
                (Some(ty), Some(payload)) => {
                    let at = at.saturating_add(payload_offset(&cases));
                    store(memory, payload, ty, block, at)
                }
                _ => Ok(()),
            }
        }
        _ => Err(mismatch(val, ty)),
    }
}

/// Stores the fields `vals` of a record of `types` at offset `at` of `block`.
fn store_fields(
    memory: &mut dyn Memory,
    vals: &[Val],
    types: &[Type],
    block: &mut [u8],
    at: u32,
) -> Result<(), String> {
    if vals.len() != types.len() {
        return Err(format!(
            "{} values for {} fields of {types:?}",
            vals.len(),
            types.len()
        ));
    }
    for ((offset, ty), val) in fields(types).zip(vals) {
        store(memory, val, ty, block, at.saturating_add(offset))?;
    }
    Ok(())
}

fn put_ptr_len(block: &mut [u8], at: u32, ptr: u32, len: u32) -> Result<(), String> {
    put(block, at, &ptr.to_le_bytes())?;
    put(block, at.saturating_add(4), &len.to_le_bytes())
}

/// Copies `bytes` to offset `at` of `block`: the layout sized the block, so this fits unless
/// the layout is wrong.
fn put(block: &mut [u8], at: u32, bytes: &[u8]) -> Result<(), String> {
    let at = at as usize;
    let len = block.len();
    block
        .get_mut(at..at.saturating_add(bytes.len()))
        .ok_or_else(|| {
            format!(
                "{} bytes at {at} are past the end of a block of {len}",
                bytes.len()
            )
        })?
        .copy_from_slice(bytes);
    Ok(())
}
