//! Where a value of each type sits in linear memory: its size, its alignment, and the offsets
//! of its parts.
//!
//! Sizes saturate rather than overflow: a component's types are small (validation bounds
//! them), and a type too large to lay out makes every access fail its bounds check instead.

use super::cases::Cases;
use super::Type;

/// The size in bytes of a value of type `ty` in linear memory (as an element of a list).
pub fn size(ty: &Type) -> u32 {
    match ty {
        Type::Bool | Type::S8 | Type::U8 => 1,
        Type::S16 | Type::U16 => 2,
        Type::S32 | Type::U32 | Type::F32 | Type::Char | Type::Own(_) | Type::Borrow(_) => 4,
        Type::S64 | Type::U64 | Type::F64 | Type::String | Type::List(_) => 8,
        Type::Record(fields) | Type::Tuple(fields) => fields_size(fields),
        Type::Flags(count) => flags_size(*count),
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. } => {
            Cases::of(ty).map_or(0, |cases| variant_size(&cases))
        }
    }
}

/// The alignment in bytes of a value of type `ty` in linear memory.
pub fn align(ty: &Type) -> u32 {
    match ty {
        Type::Bool | Type::S8 | Type::U8 => 1,
        Type::S16 | Type::U16 => 2,
        Type::S32
        | Type::U32
        | Type::F32
        | Type::Char
        | Type::Own(_)
        | Type::Borrow(_)
        | Type::String
        | Type::List(_) => 4,
        Type::S64 | Type::U64 | Type::F64 => 8,
        Type::Record(fields) | Type::Tuple(fields) => fields_align(fields),
        Type::Flags(count) => flags_size(*count),
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. } => {
            Cases::of(ty).map_or(1, |cases| variant_align(&cases))
        }
    }
}

/// `at` rounded up to a multiple of `align` (a power of two).
pub(crate) fn align_to(at: u32, align: u32) -> u32 {
    let mask = align.max(1) - 1;
    at.saturating_add(mask) & !mask
}

/// Whether `at` is a multiple of `align`.
pub(crate) fn is_aligned(at: u32, align: u32) -> bool {
    at & (align.max(1) - 1) == 0
}

/// The fields of a record or tuple (or the parameters of a function, as a tuple), each with
/// its offset from the start of the record.
pub(crate) fn fields(types: &[Type]) -> impl Iterator<Item = (u32, &Type)> {
    let mut end = 0u32;
    types.iter().map(move |ty| {
        let at = align_to(end, align(ty));
        end = at.saturating_add(size(ty));
        (at, ty)
    })
}

/// The size of a record or tuple of `types`.
pub(crate) fn fields_size(types: &[Type]) -> u32 {
    let end = fields(types)
        .last()
        .map_or(0, |(at, ty)| at.saturating_add(size(ty)));
    align_to(end, fields_align(types))
}

/// The alignment of a record or tuple of `types`.
pub(crate) fn fields_align(types: &[Type]) -> u32 {
    types.iter().map(align).max().unwrap_or(1)
}

/// The size (and alignment) of flags: the smallest of 1, 2 or 4 bytes that holds them all.
fn flags_size(count: u32) -> u32 {
    match count {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    }
}

/// The bits flags use: one per flag, from the lowest (bits beyond are ignored when lifting).
pub(crate) fn flags_mask(count: u32) -> u32 {
    match count {
        0..=31 => (1 << count) - 1,
        _ => u32::MAX,
    }
}

/// The size of a variant's discriminant: the smallest of 1, 2 or 4 bytes that numbers its
/// cases.
pub(crate) fn discriminant_size(cases: &Cases<'_>) -> u32 {
    match cases.count() {
        0..=0x100 => 1,
        0x101..=0x1_0000 => 2,
        _ => 4,
    }
}

/// Where a variant's payload starts, from the start of the variant.
pub(crate) fn payload_offset(cases: &Cases<'_>) -> u32 {
    let payload_align = cases.payloads().map(align).max().unwrap_or(1);
    align_to(discriminant_size(cases), payload_align)
}

fn variant_size(cases: &Cases<'_>) -> u32 {
    let payload_size = cases.payloads().map(size).max().unwrap_or(0);
    align_to(
        payload_offset(cases).saturating_add(payload_size),
        variant_align(cases),
    )
}

fn variant_align(cases: &Cases<'_>) -> u32 {
    cases
        .payloads()
        .map(align)
        .fold(discriminant_size(cases), u32::max)
}
