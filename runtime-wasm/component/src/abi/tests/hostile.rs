//! What a hostile instance (or a buggy host) can hand over: every case an error, none a panic
//! or an allocation of what was claimed.

use super::memory::VecMemory;
use super::types::{list, option, own, result};
use crate::abi::{
    export_params, export_results, import_args, import_results, CoreVal, FuncType, Type, Val,
};
use CoreVal::{I32, I64};

fn takes(params: Vec<Type>) -> FuncType {
    FuncType {
        params,
        results: vec![],
    }
}

fn lift(ty: Type, core: &[CoreVal], memory: &mut VecMemory) -> Result<Val, String> {
    import_args(&takes(vec![ty]), core, memory).map(|mut vals| vals.remove(0))
}

fn err_of(result: Result<impl std::fmt::Debug, String>) -> String {
    result.expect_err("should fail")
}

#[test]
fn pointers_out_of_bounds() {
    let mut memory = VecMemory::new(1024, 8);
    err_of(lift(Type::String, &[I32(1020), I32(5)], &mut memory));
    err_of(lift(Type::String, &[I32(-2), I32(5)], &mut memory));
    err_of(lift(list(Type::U8), &[I32(2000), I32(0)], &mut memory));
    err_of(lift(list(Type::U32), &[I32(1020), I32(2)], &mut memory));
    assert_eq!(
        lift(Type::String, &[I32(1024), I32(0)], &mut memory),
        Ok(Val::String(String::new()))
    );
    // Spilled parameters at a pointer past the end.
    err_of(import_args(
        &takes(vec![Type::U64; 17]),
        &[I32(1000)],
        &mut memory,
    ));
    // A result returned through a pointer past the end.
    let returns = FuncType {
        params: vec![],
        results: vec![Type::String],
    };
    err_of(export_results(&returns, &[I32(1020)], &mut memory));
}

#[test]
fn misaligned_pointers() {
    let mut memory = VecMemory::new(1024, 8);
    err_of(lift(list(Type::U32), &[I32(2), I32(1)], &mut memory));
    err_of(lift(list(Type::String), &[I32(6), I32(1)], &mut memory));
    err_of(lift(list(Type::U64), &[I32(4), I32(1)], &mut memory));
    assert!(lift(list(Type::U16), &[I32(2), I32(1)], &mut memory).is_ok());
    err_of(import_args(
        &takes(vec![Type::U64; 17]),
        &[I32(4)],
        &mut memory,
    ));
    let returns = FuncType {
        params: vec![],
        results: vec![Type::String],
    };
    err_of(export_results(&returns, &[I32(2)], &mut memory));
    // A return pointer that is not aligned for the results.
    let ty = FuncType {
        params: vec![],
        results: vec![result(Some(Type::U64), None)],
    };
    let ok = Val::Result(Ok(Some(Box::new(Val::U64(1)))));
    err_of(import_results(&ty, &[ok], &[I32(12)], &mut memory));
}

#[test]
fn a_broken_realloc() {
    let ty = takes(vec![Type::String]);
    let mut memory = VecMemory::new(64, 8);
    err_of(export_params(
        &ty,
        &[Val::String("x".repeat(100))],
        &mut memory,
    ));
    let mut memory = VecMemory::new(1024, 8);
    memory.skew = 1;
    err_of(export_params(
        &takes(vec![list(Type::U32)]),
        &[Val::List(vec![Val::U32(1)])],
        &mut memory,
    ));
    memory.skew = 2000;
    err_of(export_params(&ty, &[Val::String("x".into())], &mut memory));
}

#[test]
fn bad_utf8_and_bad_chars() {
    let mut memory = VecMemory::new(1024, 8);
    memory.poke(100, &[b'a', 0xff, b'b']);
    err_of(lift(Type::String, &[I32(100), I32(3)], &mut memory));
    memory.poke(100, &[0xe2, 0x82]); // a truncated '€'
    err_of(lift(Type::String, &[I32(100), I32(2)], &mut memory));
    err_of(lift(Type::Char, &[I32(0xd800)], &mut memory));
    err_of(lift(Type::Char, &[I32(0x11_0000)], &mut memory));
    err_of(lift(Type::Char, &[I32(-1)], &mut memory));
    memory.poke(200, &0xdfffu32.to_le_bytes());
    err_of(lift(list(Type::Char), &[I32(200), I32(1)], &mut memory));
}

#[test]
fn bad_discriminants() {
    let mut memory = VecMemory::new(1024, 8);
    err_of(lift(option(Type::U32), &[I32(2), I32(0)], &mut memory));
    err_of(lift(Type::Enum(3), &[I32(3)], &mut memory));
    err_of(lift(result(None, None), &[I32(-1)], &mut memory));
    err_of(lift(
        Type::Variant(vec![Some(Type::U64), None]),
        &[I32(2), I64(0)],
        &mut memory,
    ));
    memory.poke(100, &[2, 0]);
    err_of(lift(
        list(option(Type::U8)),
        &[I32(100), I32(1)],
        &mut memory,
    ));
    // A result spilled: a bad discriminant at the pointer returned.
    let ty = FuncType {
        params: vec![],
        results: vec![result(Some(own("fields")), None)],
    };
    memory.poke(104, &[7, 0, 0, 0, 1, 0, 0, 0]);
    err_of(export_results(&ty, &[I32(104)], &mut memory));
}

#[test]
fn what_the_spec_accepts_and_normalizes() {
    let mut memory = VecMemory::new(1024, 8);
    assert_eq!(
        lift(Type::Bool, &[I32(7)], &mut memory),
        Ok(Val::Bool(true))
    );
    assert_eq!(
        lift(Type::U8, &[I32(0x1ff)], &mut memory),
        Ok(Val::U8(0xff))
    );
    assert_eq!(
        lift(Type::S8, &[I32(0x180)], &mut memory),
        Ok(Val::S8(-128))
    );
    assert_eq!(
        lift(Type::U16, &[I32(-1)], &mut memory),
        Ok(Val::U16(0xffff))
    );
    assert_eq!(
        lift(Type::Flags(3), &[I32(0xff)], &mut memory),
        Ok(Val::Flags(0b111))
    );
    memory.poke(100, &[0x80, 0, 2, 0xff]);
    let bools = Val::List(vec![
        Val::Bool(true),
        Val::Bool(false),
        Val::Bool(true),
        Val::Bool(true),
    ]);
    assert_eq!(
        lift(list(Type::Bool), &[I32(100), I32(4)], &mut memory),
        Ok(bools)
    );
    assert_eq!(
        lift(list(Type::Flags(2)), &[I32(103), I32(1)], &mut memory),
        Ok(Val::List(vec![Val::Flags(3)]))
    );
    // An i64 slot's high bits are dropped when its case wants an i32.
    let ty = Type::Variant(vec![Some(Type::U32), Some(Type::U64)]);
    let lifted = lift(ty, &[I32(0), I64(0x1_0000_0005)], &mut memory);
    assert_eq!(lifted, Ok(Val::Variant(0, Some(Box::new(Val::U32(5))))));
}

#[test]
fn huge_lengths_fail_before_anything_is_allocated() {
    let mut memory = VecMemory::new(1 << 16, 8);
    let record = Type::Tuple(vec![Type::U64, Type::U64]);
    err_of(lift(
        list(record.clone()),
        &[I32(8), I32(1 << 31)],
        &mut memory,
    ));
    err_of(lift(list(record), &[I32(8), I32(-1)], &mut memory));
    err_of(lift(list(Type::U8), &[I32(0), I32(-1)], &mut memory));
    err_of(lift(Type::String, &[I32(0), I32(1 << 28)], &mut memory));
    // Under the spec's length limit, but past the memory: fails on bounds.
    err_of(lift(list(Type::U8), &[I32(0), I32(1 << 27)], &mut memory));
    // Small in memory, large in values: over the lift budget before the block is read.
    memory.reads.set(0);
    err_of(lift(list(Type::U32), &[I32(8), I32(1 << 25)], &mut memory));
    assert_eq!(memory.reads.get(), 0);
}

#[test]
fn the_same_string_many_times_is_charged_each_time() {
    // 16 KiB of list: 2048 strings, each the same 256 KiB.
    let mut memory = VecMemory::new(1 << 19, 8);
    let string = 1u32 << 18;
    for i in 0..2048u32 {
        memory.poke(
            64 + i * 8,
            &[string.to_le_bytes(), string.to_le_bytes()].concat(),
        );
    }
    let error = err_of(lift(list(Type::String), &[I32(64), I32(2048)], &mut memory));
    assert!(error.contains("bytes"), "{error}");
    // A few of them are fine.
    let lifted = lift(list(Type::String), &[I32(64), I32(4)], &mut memory);
    assert!(matches!(lifted, Ok(Val::List(items)) if items.len() == 4));
}

#[test]
fn core_values_not_of_the_signature() {
    let mut memory = VecMemory::new(1024, 8);
    err_of(lift(Type::U32, &[I64(1)], &mut memory));
    err_of(lift(Type::U32, &[], &mut memory));
    err_of(lift(Type::U32, &[I32(1), I32(2)], &mut memory));
    err_of(lift(Type::U64, &[I32(1)], &mut memory));
    let ty = FuncType {
        params: vec![],
        results: vec![result(None, Some(Type::U8))],
    };
    err_of(import_results(
        &ty,
        &[Val::Result(Ok(None))],
        &[],
        &mut memory,
    ));
    err_of(import_results(
        &ty,
        &[Val::Result(Ok(None))],
        &[I64(8)],
        &mut memory,
    ));
    err_of(export_results(&ty, &[I64(8)], &mut memory));
}

#[test]
fn host_values_not_of_their_type() {
    let mut memory = VecMemory::new(1 << 12, 8);
    let mismatched = [
        (Type::U32, Val::S32(1)),
        (Type::String, Val::Bytes(vec![])),
        (list(Type::U8), Val::List(vec![Val::U8(1)])),
        (list(Type::U16), Val::Bytes(vec![1])),
        (list(Type::U16), Val::List(vec![Val::U32(1)])),
        (
            Type::Record(vec![Type::U8, Type::U8]),
            Val::Record(vec![Val::U8(1)]),
        ),
        (Type::Record(vec![Type::U8]), Val::Tuple(vec![Val::U8(1)])),
        (Type::Flags(3), Val::Flags(0b1000)),
        (Type::Enum(2), Val::Enum(2)),
        (
            option(Type::U8),
            Val::Variant(1, Some(Box::new(Val::U8(1)))),
        ),
        (result(Some(Type::U8), None), Val::Result(Ok(None))),
        (
            result(Some(Type::U8), None),
            Val::Result(Err(Some(Box::new(Val::U8(1))))),
        ),
        (
            Type::Variant(vec![None, Some(Type::U8)]),
            Val::Variant(1, Some(Box::new(Val::String("x".into())))),
        ),
        (own("fields"), Val::U32(1)),
    ];
    for (ty, val) in mismatched {
        // Flat, in memory (as a list element), and as a result at a return pointer.
        err_of(export_params(
            &takes(vec![ty.clone()]),
            std::slice::from_ref(&val),
            &mut memory,
        ));
        let elems = Val::List(vec![val.clone()]);
        err_of(export_params(
            &takes(vec![list(ty.clone())]),
            &[elems],
            &mut memory,
        ));
        let returns = FuncType {
            params: vec![],
            results: vec![Type::Tuple(vec![ty, Type::U64])],
        };
        let tuple = Val::Tuple(vec![val, Val::U64(0)]);
        err_of(import_results(&returns, &[tuple], &[I32(64)], &mut memory));
    }
    err_of(export_params(&takes(vec![Type::U8]), &[], &mut memory));
    let returns = FuncType {
        params: vec![],
        results: vec![Type::U8],
    };
    err_of(import_results(&returns, &[], &[], &mut memory));
}
