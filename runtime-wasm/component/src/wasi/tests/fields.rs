//! `fields`: wasmtime-wasi-http's rules and its size limit.

use super::fake::*;
use crate::abi::Val;
use crate::wasi::Session;

fn variant(case: u32) -> Val {
    Val::Variant(case, None)
}

const INVALID: u32 = 0;
const FORBIDDEN: u32 = 1;

fn append(s: &mut Session, f: u32, name: &str, value: &[u8]) -> Val {
    val(
        s,
        TYPES,
        "[method]fields.append",
        vec![h(f), self::s(name), b(value)],
    )
}

fn names(s: &mut Session, f: u32) -> Vec<String> {
    let Val::List(entries) = val(s, TYPES, "[method]fields.entries", vec![h(f)]) else {
        panic!()
    };
    entries
        .into_iter()
        .map(|e| match e {
            Val::Tuple(pair) => match &pair[0] {
                Val::String(n) => n.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn names_and_values_are_checked_as_wasmtime_checks_them() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let f = handle(val(&mut s, TYPES, "[constructor]fields", vec![]));
    assert_eq!(
        append(&mut s, f, "Host", b"x"),
        err(Some(variant(FORBIDDEN)))
    );
    assert_eq!(
        append(&mut s, f, "transfer-encoding", b"chunked"),
        err(Some(variant(FORBIDDEN)))
    );
    assert_eq!(append(&mut s, f, "a b", b"x"), err(Some(variant(INVALID))));
    assert_eq!(append(&mut s, f, "", b"x"), err(Some(variant(INVALID))));
    assert_eq!(append(&mut s, f, "x", b"a\nb"), err(Some(variant(INVALID))));
    assert_eq!(append(&mut s, f, "x", b"tab\tand \xff"), ok(None));
    assert_eq!(
        append(&mut s, f, "content-length", b"+1"),
        err(Some(variant(INVALID)))
    );
    assert_eq!(append(&mut s, f, "content-length", b"12"), ok(None));
    assert_eq!(
        append(&mut s, f, "content-length", b"12"),
        err(Some(variant(INVALID)))
    );
    let two = Val::List(vec![b(b"1"), b(b"2")]);
    let set = val(
        &mut s,
        TYPES,
        "[method]fields.set",
        vec![h(f), self::s("content-length"), two],
    );
    assert_eq!(set, err(Some(variant(INVALID))));
    let delete = val(
        &mut s,
        TYPES,
        "[method]fields.delete",
        vec![h(f), self::s("upgrade")],
    );
    assert_eq!(delete, err(Some(variant(FORBIDDEN))));
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]fields.get",
            vec![h(f), self::s("a b")]
        ),
        Val::List(vec![])
    );
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]fields.has",
            vec![h(f), self::s("X")]
        ),
        Val::Bool(true)
    );
    let list = Val::List(vec![
        Val::Tuple(vec![self::s("ok"), b(b"1")]),
        Val::Tuple(vec![self::s("keep-alive"), b(b"1")]),
    ]);
    assert_eq!(
        val(&mut s, TYPES, "[static]fields.from-list", vec![list]),
        err(Some(variant(FORBIDDEN)))
    );
}

#[test]
fn deleting_a_name_moves_the_last_into_its_place() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let f = fields(
        &mut s,
        &[("a", b"1"), ("b", b"2"), ("c", b"3"), ("b", b"4")],
    );
    assert_eq!(names(&mut s, f), ["a", "b", "b", "c"]);
    val(
        &mut s,
        TYPES,
        "[method]fields.delete",
        vec![h(f), self::s("a")],
    );
    assert_eq!(names(&mut s, f), ["c", "b", "b"]);
    let none = Val::List(vec![]);
    val(
        &mut s,
        TYPES,
        "[method]fields.set",
        vec![h(f), self::s("c"), none],
    );
    assert_eq!(names(&mut s, f), ["b", "b"]);
    let one = Val::List(vec![b(b"5")]);
    val(
        &mut s,
        TYPES,
        "[method]fields.set",
        vec![h(f), self::s("B"), one],
    );
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]fields.get",
            vec![h(f), self::s("b")]
        ),
        Val::List(vec![b(b"5")])
    );
}

#[test]
fn a_copy_of_immutable_headers_is_mutable() {
    let (mut s, _) = session(request("GET", "/", &[("x-a", "1")], b""));
    let (request, _) = s.begin_run();
    let headers = handle(val(
        &mut s,
        TYPES,
        "[method]incoming-request.headers",
        vec![h(request)],
    ));
    let delete = val(
        &mut s,
        TYPES,
        "[method]fields.delete",
        vec![h(headers), self::s("x-a")],
    );
    assert_eq!(delete, err(Some(variant(2))));
    let copy = handle(val(&mut s, TYPES, "[method]fields.clone", vec![h(headers)]));
    assert_eq!(append(&mut s, copy, "x-b", b"2"), ok(None));
    assert_eq!(names(&mut s, copy), ["x-a", "x-b"]);
    // A response's headers are immutable once it is made.
    let response = handle(val(
        &mut s,
        TYPES,
        "[constructor]outgoing-response",
        vec![h(copy)],
    ));
    let own = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-response.headers",
        vec![h(response)],
    ));
    assert_eq!(append(&mut s, own, "x-c", b"3"), err(Some(variant(2))));
}

#[test]
fn a_map_past_128_kib_traps_where_wasmtime_s_would() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let f = handle(val(&mut s, TYPES, "[constructor]fields", vec![]));
    let value = vec![b'v'; 1000];
    // wasmtime counts 32 bytes per name and 40 per value besides their bytes: the name once
    // (5 + 32) and each value (1000 + 40) fit 125 times in 131072 bytes.
    for _ in 0..125 {
        assert_eq!(append(&mut s, f, "x-big", &value), ok(None));
    }
    let why = trap(call(
        &mut s,
        TYPES,
        "[method]fields.append",
        vec![h(f), self::s("x-big"), b(&value)],
    ));
    assert!(
        why.starts_with("[method]fields.append: total size of fields exceeds limit"),
        "{why}"
    );
    // Removing makes room again.
    val(
        &mut s,
        TYPES,
        "[method]fields.delete",
        vec![h(f), self::s("x-big")],
    );
    assert_eq!(append(&mut s, f, "x-big", &value), ok(None));
}
