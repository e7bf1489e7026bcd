//! Real WASI 0.2 functions: their core signatures as `wit-component` made them for a Rust
//! component (the core module types of `hello.wasm`, built for wasm32-wasip2), and a call of
//! `[method]fields.set` as an instance makes it.

use super::memory::VecMemory;
use super::types::{borrow, error_code, header_error, list, option, own, result, stream_error};
use crate::abi::CoreType::{self, I32, I64};
use crate::abi::{
    core_signature, import_args, import_results, CoreVal, Direction, FuncType, Type, Val,
};

fn func(params: Vec<Type>, results: Vec<Type>) -> FuncType {
    FuncType { params, results }
}

fn fields_set() -> FuncType {
    let ok_or = result(None, Some(header_error()));
    func(
        vec![borrow("fields"), Type::String, list(list(Type::U8))],
        vec![ok_or],
    )
}

#[test]
fn core_signatures_of_wasi_imports() {
    let outparam_set = func(
        vec![
            own("response-outparam"),
            result(Some(own("outgoing-response")), Some(error_code())),
        ],
        vec![],
    );
    let blocking_write_and_flush = func(
        vec![borrow("output-stream"), list(Type::U8)],
        vec![result(None, Some(stream_error()))],
    );
    let check_write = func(
        vec![borrow("output-stream")],
        vec![result(Some(Type::U64), Some(stream_error()))],
    );
    let body = func(
        vec![borrow("outgoing-response")],
        vec![result(Some(own("outgoing-body")), None)],
    );
    let finish = func(
        vec![own("outgoing-body"), option(own("fields"))],
        vec![result(None, Some(error_code()))],
    );
    let new_fields = func(vec![], vec![own("fields")]);
    let new_response = func(vec![own("fields")], vec![own("outgoing-response")]);
    let cases: [(FuncType, &[CoreType], &[CoreType]); 7] = [
        (
            outparam_set,
            &[I32, I32, I32, I32, I64, I32, I32, I32, I32],
            &[],
        ),
        (fields_set(), &[I32; 6], &[]),
        (blocking_write_and_flush, &[I32; 4], &[]),
        (check_write, &[I32; 2], &[]),
        (body, &[I32; 2], &[]),
        (finish, &[I32; 4], &[]),
        (new_fields, &[], &[I32]),
    ];
    for (ty, params, results) in cases {
        assert_eq!(
            core_signature(&ty, Direction::Lower),
            (params.to_vec(), results.to_vec()),
            "{ty:?}"
        );
    }
    assert_eq!(
        core_signature(&new_response, Direction::Lower),
        (vec![I32], vec![I32])
    );
}

#[test]
fn core_signatures_of_exports() {
    let handle = func(
        vec![own("incoming-request"), own("response-outparam")],
        vec![],
    );
    assert_eq!(
        core_signature(&handle, Direction::Lift),
        (vec![I32, I32], vec![])
    );
    let spilled = func(vec![], vec![Type::String]);
    assert_eq!(
        core_signature(&spilled, Direction::Lift),
        (vec![], vec![I32])
    );
    let many = func(vec![Type::U64; 17], vec![]);
    assert_eq!(core_signature(&many, Direction::Lift), (vec![I32], vec![]));
}

#[test]
fn fields_set_as_an_instance_calls_it() {
    let mut memory = VecMemory::new(1024, 512);
    // name "content-type" at 100; value: one field-value "text/plain" at 200, its list at 64.
    memory.poke(100, b"content-type");
    memory.poke(200, b"text/plain");
    memory.poke(64, &[200, 0, 0, 0, 10, 0, 0, 0]);
    let params = [5, 100, 12, 64, 1, 32].map(CoreVal::I32);
    let args = import_args(&fields_set(), &params, &mut memory).unwrap();
    assert_eq!(
        args,
        [
            Val::Handle(5),
            Val::String("content-type".into()),
            Val::List(vec![Val::Bytes(b"text/plain".to_vec())]),
        ]
    );

    // err(forbidden), at the return pointer 32: its discriminant, then header-error's.
    let err = Val::Result(Err(Some(Box::new(Val::Variant(1, None)))));
    let returned = import_results(&fields_set(), &[err], &params, &mut memory).unwrap();
    assert!(returned.is_empty());
    assert_eq!(memory.peek(32, 2), [1, 1]);
    assert!(memory.allocations.is_empty());
}
