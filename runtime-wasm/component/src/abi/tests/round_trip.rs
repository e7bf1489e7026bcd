//! Lowered then lifted, a value is itself: as parameters (the host calls an export, then the
//! instance passes the same core values to an import) and as results (the host returns from an
//! import, then the instance returns the same to the host).

use super::memory::VecMemory;
use super::types::{error_code, list, option, own, result, stream_error};
use crate::abi::{
    core_signature, export_params, export_results, import_args, import_results, CoreVal, Direction,
    FuncType, Type, Val,
};

/// `vals` of `types` lowered as an export's parameters, then lifted as an import's: the core
/// values between, and the memory.
pub(super) fn params_round_trip(types: &[Type], vals: &[Val]) -> (Vec<CoreVal>, VecMemory) {
    let ty = FuncType {
        params: types.to_vec(),
        results: vec![],
    };
    let mut memory = VecMemory::new(1 << 20, 16);
    let core = export_params(&ty, vals, &mut memory).unwrap();
    let signature = core_signature(&ty, Direction::Lift).0;
    assert_eq!(
        core.iter().map(|val| val.ty()).collect::<Vec<_>>(),
        signature
    );
    let lifted = import_args(&ty, &core, &mut memory).unwrap();
    assert_eq!(lifted, vals);
    (core, memory)
}

/// `val` of `ty` lowered as an import's result, then lifted as an export's: the core results
/// between, and the memory.
pub(super) fn result_round_trip(ty: &Type, val: &Val) -> (Vec<CoreVal>, VecMemory) {
    let func = FuncType {
        params: vec![],
        results: vec![ty.clone()],
    };
    let mut memory = VecMemory::new(1 << 20, 1024);
    let (params, _) = core_signature(&func, Direction::Lower);
    // The instance's return area, if the result spills: at 8, below what realloc hands out.
    let params: Vec<CoreVal> = params.iter().map(|_| CoreVal::I32(8)).collect();
    let core = import_results(&func, std::slice::from_ref(val), &params, &mut memory).unwrap();
    let returned = if params.is_empty() {
        core.clone()
    } else {
        vec![CoreVal::I32(8)]
    };
    let lifted = export_results(&func, &returned, &mut memory).unwrap();
    assert_eq!(lifted, std::slice::from_ref(val));
    (core, memory)
}

fn some(val: Val) -> Val {
    Val::Option(Some(Box::new(val)))
}

/// One value of every type, with its type.
pub(super) fn one_of_each() -> Vec<(Type, Val)> {
    vec![
        (Type::Bool, Val::Bool(true)),
        (Type::S8, Val::S8(-5)),
        (Type::U8, Val::U8(250)),
        (Type::S16, Val::S16(-3000)),
        (Type::U16, Val::U16(60000)),
        (Type::S32, Val::S32(i32::MIN)),
        (Type::U32, Val::U32(u32::MAX)),
        (Type::S64, Val::S64(i64::MIN + 1)),
        (Type::U64, Val::U64(u64::MAX - 1)),
        (Type::F32, Val::F32(-1.25)),
        (Type::F64, Val::F64(6.02e23)),
        (Type::Char, Val::Char('€')),
        (Type::String, Val::String("héllo".into())),
        (Type::String, Val::String(String::new())),
        (list(Type::U8), Val::Bytes(vec![0, 1, 255])),
        (list(Type::U8), Val::Bytes(vec![])),
        (list(Type::S16), Val::List(vec![Val::S16(-1), Val::S16(2)])),
        (
            Type::Record(vec![Type::U8, Type::U64]),
            Val::Record(vec![Val::U8(1), Val::U64(2)]),
        ),
        (
            Type::Tuple(vec![Type::String, Type::F32]),
            Val::Tuple(vec![Val::String("t".into()), Val::F32(0.5)]),
        ),
        (Type::Enum(3), Val::Enum(2)),
        (Type::Flags(3), Val::Flags(0b101)),
        (Type::Flags(12), Val::Flags(0xfff)),
        (Type::Flags(32), Val::Flags(0x8000_0001)),
        (own("fields"), Val::Handle(7)),
        (
            Type::Borrow(super::types::resource("fields")),
            Val::Handle(u32::MAX),
        ),
        (option(Type::String), Val::Option(None)),
        (option(Type::String), some(Val::String("s".into()))),
        (result(None, None), Val::Result(Ok(None))),
        (result(None, None), Val::Result(Err(None))),
        (
            result(Some(Type::U64), Some(stream_error())),
            Val::Result(Ok(Some(Box::new(Val::U64(9))))),
        ),
        (
            result(Some(Type::U64), Some(stream_error())),
            Val::Result(Err(Some(Box::new(Val::Variant(
                0,
                Some(Box::new(Val::Handle(3))),
            ))))),
        ),
        (stream_error(), Val::Variant(1, None)),
        (
            error_code(),
            Val::Variant(
                22,
                Some(Box::new(some(Val::Record(vec![
                    some(Val::String("x-big".into())),
                    some(Val::U32(70000)),
                ])))),
            ),
        ),
    ]
}

/// A variant whose cases flatten to different core types, joined.
fn mixed() -> Type {
    Type::Variant(vec![
        Some(Type::F32),
        Some(Type::U32),
        Some(Type::F64),
        Some(Type::Tuple(vec![Type::F32, Type::U64, Type::String])),
        None,
        Some(Type::S64),
    ])
}

fn mixed_values() -> Vec<Val> {
    vec![
        Val::Variant(0, Some(Box::new(Val::F32(-0.75)))),
        Val::Variant(1, Some(Box::new(Val::U32(0xdead_beef)))),
        Val::Variant(2, Some(Box::new(Val::F64(-1e300)))),
        Val::Variant(
            3,
            Some(Box::new(Val::Tuple(vec![
                Val::F32(3.5),
                Val::U64(u64::MAX),
                Val::String("j".into()),
            ]))),
        ),
        Val::Variant(4, None),
        Val::Variant(5, Some(Box::new(Val::S64(-2)))),
    ]
}

#[test]
fn every_type_as_a_parameter() {
    for (ty, val) in one_of_each() {
        params_round_trip(&[ty], &[val]);
    }
}

#[test]
fn every_type_as_a_result() {
    for (ty, val) in one_of_each() {
        result_round_trip(&ty, &val);
    }
}

#[test]
fn every_type_as_a_list_element() {
    for (ty, val) in one_of_each() {
        let elems = if ty == Type::U8 {
            Val::Bytes(vec![3, 4])
        } else {
            Val::List(vec![val.clone(), val])
        };
        params_round_trip(&[list(ty)], &[elems]);
    }
}

#[test]
fn variants_with_mixed_payloads_join() {
    for val in mixed_values() {
        let (core, _) = params_round_trip(&[mixed()], std::slice::from_ref(&val));
        // discriminant, join(f32, u32, f64, f32, s64) = i64, u64 → i64, then the string's two
        assert_eq!(core.iter().map(|v| v.ty()).collect::<Vec<_>>(), {
            use crate::abi::CoreType::*;
            vec![I32, I64, I64, I32, I32]
        });
        result_round_trip(&mixed(), &val);
        params_round_trip(&[list(mixed())], &[Val::List(vec![val.clone(), val])]);
    }
}

#[test]
fn nested_lists_of_records_of_strings() {
    let header = Type::Tuple(vec![Type::String, list(Type::U8)]);
    let ty = list(Type::Record(vec![
        Type::String,
        list(header),
        option(list(Type::String)),
    ]));
    let entry = |name: &str, n: usize| {
        Val::Record(vec![
            Val::String(name.into()),
            Val::List(
                (0..n)
                    .map(|i| {
                        Val::Tuple(vec![
                            Val::String(format!("h{i}")),
                            Val::Bytes(vec![i as u8; i]),
                        ])
                    })
                    .collect(),
            ),
            if n % 2 == 0 {
                Val::Option(None)
            } else {
                some(Val::List(vec![
                    Val::String("a".into()),
                    Val::String(String::new()),
                ]))
            },
        ])
    };
    let val = Val::List((0..5).map(|n| entry(&format!("entry-{n}"), n)).collect());
    params_round_trip(std::slice::from_ref(&ty), std::slice::from_ref(&val));
    result_round_trip(&ty, &val);
    params_round_trip(&[list(Type::String)], &[Val::List(vec![])]);
}

#[test]
fn more_than_sixteen_flat_parameters_spill_into_an_allocated_tuple() {
    // 8 strings: 16 flat values, then one u8 more.
    let mut types = vec![Type::String; 8];
    let mut vals: Vec<Val> = (0..8).map(|i| Val::String(format!("s{i}"))).collect();
    let (core, _) = params_round_trip(&types, &vals);
    assert_eq!(core.len(), 16);
    types.push(Type::U8);
    vals.push(Val::U8(42));
    let (core, memory) = params_round_trip(&types, &vals);
    let [CoreVal::I32(ptr)] = core[..] else {
        panic!("{core:?}")
    };
    // The tuple: eight (ptr, len) pairs, then the u8, padded to 4: allocated first.
    assert_eq!(memory.allocations[0], (4, 8 * 8 + 4));
    assert_eq!(memory.peek(ptr as u32 + 64, 1), [42]);
    assert_eq!(memory.peek(ptr as u32 + 4, 4), 2u32.to_le_bytes());
}

#[test]
fn results_that_flatten_to_more_than_one_value_spill() {
    let ty = result(Some(own("outgoing-body")), None);
    let (core, memory) = result_round_trip(&ty, &Val::Result(Ok(Some(Box::new(Val::Handle(5))))));
    assert!(core.is_empty());
    assert_eq!(memory.peek(8, 8), [0, 0, 0, 0, 5, 0, 0, 0]);
    let (core, _) = result_round_trip(&Type::U64, &Val::U64(1 << 40));
    assert_eq!(core, [CoreVal::I64(1 << 40)]);
}

#[test]
fn a_list_block_is_read_and_written_once() {
    let elem = Type::Record(vec![Type::U32, Type::U64, Type::Bool, Type::Char]);
    let item = |i: u32| {
        Val::Record(vec![
            Val::U32(i),
            Val::U64(u64::from(i) << 33),
            Val::Bool(i % 2 == 0),
            Val::Char('x'),
        ])
    };
    let val = Val::List((0..100).map(item).collect());
    let ty = FuncType {
        params: vec![list(elem)],
        results: vec![],
    };
    let mut memory = VecMemory::new(1 << 16, 8);
    let core = export_params(&ty, std::slice::from_ref(&val), &mut memory).unwrap();
    assert_eq!(memory.writes, 1);
    assert_eq!(import_args(&ty, &core, &mut memory).unwrap(), [val]);
    assert_eq!(memory.reads.get(), 1);

    // A list of strings: its block, then one read per string.
    let ty = FuncType {
        params: vec![list(Type::String)],
        results: vec![],
    };
    let val = Val::List((0..10).map(|i| Val::String(i.to_string())).collect());
    let core = export_params(&ty, std::slice::from_ref(&val), &mut memory).unwrap();
    memory.reads.set(0);
    assert_eq!(import_args(&ty, &core, &mut memory).unwrap(), [val]);
    assert_eq!(memory.reads.get(), 11);
}

#[test]
fn nan_lifts_as_the_canonical_nan() {
    let ty = FuncType {
        params: vec![Type::F32, Type::F64],
        results: vec![],
    };
    let mut memory = VecMemory::new(64, 8);
    let core = [
        CoreVal::F32(f32::from_bits(0xffc0_1234)),
        CoreVal::F64(f64::from_bits(0xfff0_0000_0000_0001)),
    ];
    let [Val::F32(f), Val::F64(d)] = import_args(&ty, &core, &mut memory).unwrap()[..] else {
        panic!()
    };
    assert_eq!(
        (f.to_bits(), d.to_bits()),
        (0x7fc0_0000, 0x7ff8_0000_0000_0000)
    );
}
