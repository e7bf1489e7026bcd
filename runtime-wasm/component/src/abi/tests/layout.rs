//! Sizes, alignments and byte layouts worked out by hand from the spec's `elem_size`,
//! `alignment`, `store` and `flatten_variant`.

use super::memory::VecMemory;
use super::round_trip::result_round_trip;
use super::types::{error_code, list, option, own, result, stream_error};
use crate::abi::{align, export_params, size, CoreVal, FuncType, Type, Val};

#[test]
fn sizes_and_alignments() {
    let cases = [
        (Type::Bool, 1, 1),
        (Type::S16, 2, 2),
        (Type::Char, 4, 4),
        (Type::F64, 8, 8),
        (Type::String, 8, 4),
        (list(Type::U64), 8, 4),
        (own("fields"), 4, 4),
        // u8, pad, u16, pad to 4, u32: 8; then u8 and padding to 4: 12.
        (
            Type::Record(vec![Type::U8, Type::U16, Type::U32, Type::U8]),
            12,
            4,
        ),
        (Type::Tuple(vec![Type::U8, Type::U64]), 16, 8),
        (Type::Flags(8), 1, 1),
        (Type::Flags(9), 2, 2),
        (Type::Flags(17), 4, 4),
        (Type::Enum(256), 1, 1),
        (Type::Enum(257), 2, 2),
        (Type::Enum(65537), 4, 4),
        // option<u8>: discriminant, payload at 1.
        (option(Type::U8), 2, 1),
        // option<u64>: discriminant, payload at 8.
        (option(Type::U64), 16, 8),
        // option<string>: discriminant, (ptr, len) at 4.
        (option(Type::String), 12, 4),
        (result(None, None), 1, 1),
        (stream_error(), 8, 4),
        // error-code: u8 discriminant, payload at 8 (option<u64>), the largest payload is
        // option<field-size-payload>: 4 + (12 + 8) = 24.
        (error_code(), 32, 8),
        (
            result(Some(own("outgoing-response")), Some(error_code())),
            40,
            8,
        ),
    ];
    for (ty, expected_size, expected_align) in cases {
        assert_eq!(
            (size(&ty), align(&ty)),
            (expected_size, expected_align),
            "{ty:?}"
        );
    }
}

#[test]
fn a_result_of_a_handle_or_an_error_code_in_memory() {
    let ty = result(Some(own("outgoing-response")), Some(error_code()));
    let ok = Val::Result(Ok(Some(Box::new(Val::Handle(0x0102_0304)))));
    let (_, memory) = result_round_trip(&ty, &ok);
    let mut expected = [0u8; 40];
    expected[8..12].copy_from_slice(&[4, 3, 2, 1]);
    assert_eq!(memory.peek(8, 40), expected);

    // err(DNS-error { rcode: some("ab"), info-code: some(515) })
    let dns = Val::Record(vec![
        Val::Option(Some(Box::new(Val::String("ab".into())))),
        Val::Option(Some(Box::new(Val::U16(515)))),
    ]);
    let err = Val::Result(Err(Some(Box::new(Val::Variant(1, Some(Box::new(dns)))))));
    let (_, memory) = result_round_trip(&ty, &err);
    let block = memory.peek(8, 40);
    assert_eq!(block[0], 1, "result's discriminant");
    assert_eq!(
        block[8], 1,
        "error-code's discriminant, at the result's payload (8)"
    );
    assert_eq!(
        block[16], 1,
        "rcode is some, at the error-code's payload (8 more)"
    );
    let ptr = u32::from_le_bytes(block[20..24].try_into().unwrap());
    assert_eq!(block[24..28], 2u32.to_le_bytes(), "rcode's length");
    assert_eq!(memory.peek(ptr, 2), b"ab");
    assert_eq!(block[28], 1, "info-code is some");
    assert_eq!(
        block[30..32],
        515u16.to_le_bytes(),
        "info-code, at 2 past its discriminant"
    );

    // err(HTTP-request-body-size(some(2^40))): the u64 at the error-code's payload + 8.
    let size = Val::Variant(
        17,
        Some(Box::new(Val::Option(Some(Box::new(Val::U64(1 << 40)))))),
    );
    let (_, memory) = result_round_trip(&ty, &Val::Result(Err(Some(Box::new(size)))));
    let block = memory.peek(8, 40);
    assert_eq!((block[0], block[8], block[16]), (1, 17, 1));
    assert_eq!(block[24..32], (1u64 << 40).to_le_bytes());
}

#[test]
fn a_result_of_a_handle_or_an_error_code_flat() {
    // `[static]response-outparam.set`'s parameters, as the host would pass them to an export
    // of the same type.
    let ty = FuncType {
        params: vec![
            own("response-outparam"),
            result(Some(own("outgoing-response")), Some(error_code())),
        ],
        results: vec![],
    };
    let mut memory = VecMemory::new(1 << 12, 8);
    let ok = Val::Result(Ok(Some(Box::new(Val::Handle(9)))));
    let core = export_params(&ty, &[Val::Handle(1), ok], &mut memory).unwrap();
    use CoreVal::{I32, I64};
    assert_eq!(
        core,
        [
            I32(1),
            I32(0),
            I32(9),
            I32(0),
            I64(0),
            I32(0),
            I32(0),
            I32(0),
            I32(0)
        ]
    );

    let size = Val::Variant(17, Some(Box::new(Val::Option(Some(Box::new(Val::U64(5)))))));
    let err = Val::Result(Err(Some(Box::new(size))));
    let core = export_params(&ty, &[Val::Handle(1), err], &mut memory).unwrap();
    assert_eq!(
        core,
        [
            I32(1),
            I32(1),
            I32(17),
            I32(1),
            I64(5),
            I32(0),
            I32(0),
            I32(0),
            I32(0)
        ]
    );

    // DNS-error's string pointer lands in the slot joined to i64 (zero-extended).
    let dns = Val::Record(vec![
        Val::Option(Some(Box::new(Val::String("ab".into())))),
        Val::Option(Some(Box::new(Val::U16(3)))),
    ]);
    let err = Val::Result(Err(Some(Box::new(Val::Variant(1, Some(Box::new(dns)))))));
    let core = export_params(&ty, &[Val::Handle(1), err], &mut memory).unwrap();
    let I64(ptr) = core[4] else {
        panic!("{core:?}")
    };
    assert_eq!(memory.peek(ptr as u32, 2), b"ab");
    assert_eq!(
        core,
        [
            I32(1),
            I32(1),
            I32(1),
            I32(1),
            I64(ptr),
            I32(2),
            I32(1),
            I32(3),
            I32(0)
        ]
    );
}

#[test]
fn floats_share_slots_with_integers_by_their_bits() {
    use CoreVal::{F32, I32, I64};
    let mut memory = VecMemory::new(64, 8);
    let lower = |ty: Type, val: Val, memory: &mut VecMemory| {
        export_params(
            &FuncType {
                params: vec![ty],
                results: vec![],
            },
            &[val],
            memory,
        )
        .unwrap()
    };
    let f = Val::Variant(0, Some(Box::new(Val::F32(1.5))));
    let bits = 1.5f32.to_bits();
    // Alone, an f32 stays an f32.
    assert_eq!(
        lower(Type::Variant(vec![Some(Type::F32)]), f.clone(), &mut memory),
        [I32(0), F32(1.5)]
    );
    // Joined with an i32: its bits in an i32.
    let ty = Type::Variant(vec![Some(Type::F32), Some(Type::U32)]);
    assert_eq!(
        lower(ty, f.clone(), &mut memory),
        [I32(0), I32(bits as i32)]
    );
    // Joined with an f64: its bits zero-extended in an i64.
    let ty = Type::Variant(vec![Some(Type::F32), Some(Type::F64)]);
    assert_eq!(
        lower(ty.clone(), f, &mut memory),
        [I32(0), I64(i64::from(bits))]
    );
    let d = Val::Variant(1, Some(Box::new(Val::F64(-2.0))));
    assert_eq!(
        lower(ty, d, &mut memory),
        [I32(1), I64((-2.0f64).to_bits() as i64)]
    );
    // A negative i32 in an i64 slot is zero-extended.
    let ty = Type::Variant(vec![Some(Type::S32), Some(Type::S64)]);
    let v = Val::Variant(0, Some(Box::new(Val::S32(-1))));
    assert_eq!(lower(ty, v, &mut memory), [I32(0), I64(0xffff_ffff)]);
}
