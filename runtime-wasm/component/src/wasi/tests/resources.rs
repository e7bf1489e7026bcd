//! The table: stale and wrong-typed handles, children, its bound.

use super::fake::*;
use crate::abi::Val;
use crate::wasi::table::TABLE_LIMIT;

#[test]
fn a_stale_handle_traps_naming_the_function() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let f = handle(val(&mut s, TYPES, "[constructor]fields", vec![]));
    drop_handle(&mut s, "wasi:http/types", "fields", f).unwrap();
    let why = trap(call(
        &mut s,
        TYPES,
        "[method]fields.get",
        vec![h(f), self::s("a")],
    ));
    assert_eq!(
        why,
        format!("[method]fields.get: handle {f} is not a live resource")
    );
    let why = drop_handle(&mut s, "wasi:http/types", "fields", f).unwrap_err();
    assert!(
        format!("{why:?}").contains("[resource-drop]fields: handle"),
        "{why:?}"
    );
    let why = trap(call(&mut s, TYPES, "[method]fields.entries", vec![h(0)]));
    assert_eq!(
        why,
        "[method]fields.entries: handle 0 is not a live resource"
    );
    // An own handle given to the host is gone.
    let f = handle(val(&mut s, TYPES, "[constructor]fields", vec![]));
    val(&mut s, TYPES, "[constructor]outgoing-response", vec![h(f)]);
    trap(call(&mut s, TYPES, "[method]fields.entries", vec![h(f)]));
}

#[test]
fn a_handle_of_another_type_traps() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let (request, out) = s.begin_run();
    let why = trap(call(
        &mut s,
        TYPES,
        "[method]fields.entries",
        vec![h(request)],
    ));
    assert_eq!(
        why,
        format!(
            "[method]fields.entries: handle {request} is a wasi:http/types.incoming-request, not \
             a wasi:http/types.fields"
        )
    );
    let why = drop_handle(&mut s, "wasi:io/poll", "pollable", out).unwrap_err();
    assert!(
        format!("{why:?}").contains("is a wasi:http/types.response-outparam"),
        "{why:?}"
    );
    let why = drop_handle(&mut s, "wasi:filesystem/types", "descriptor", out).unwrap_err();
    assert!(
        format!("{why:?}").contains("[resource-drop]descriptor"),
        "{why:?}"
    );
}

#[test]
fn a_resource_with_live_children_cannot_go() {
    let (mut s, _) = session(request("POST", "/", &[], b"abc"));
    let (request, _) = s.begin_run();
    let body = handle(val(
        &mut s,
        TYPES,
        "[method]incoming-request.consume",
        vec![h(request)],
    ));
    let stream = handle(val(
        &mut s,
        TYPES,
        "[method]incoming-body.stream",
        vec![h(body)],
    ));
    assert_eq!(
        val(&mut s, TYPES, "[method]incoming-body.stream", vec![h(body)]),
        err(None)
    );
    let pollable = handle(val(
        &mut s,
        STREAMS,
        "[method]input-stream.subscribe",
        vec![h(stream)],
    ));
    let why = trap(call(
        &mut s,
        TYPES,
        "[static]incoming-body.finish",
        vec![h(body)],
    ));
    assert!(why.contains("still has resources made from it"), "{why}");
    drop_handle(&mut s, "wasi:io/streams", "input-stream", stream).unwrap_err();
    drop_handle(&mut s, "wasi:io/poll", "pollable", pollable).unwrap();
    drop_handle(&mut s, "wasi:io/streams", "input-stream", stream).unwrap();
    val(&mut s, TYPES, "[static]incoming-body.finish", vec![h(body)]);
}

#[test]
fn the_table_is_bounded_and_slots_are_used_again() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let first = handle(val(&mut s, TYPES, "[constructor]fields", vec![]));
    drop_handle(&mut s, "wasi:http/types", "fields", first).unwrap();
    assert_eq!(
        handle(val(&mut s, TYPES, "[constructor]fields", vec![])),
        first
    );
    for _ in 3..TABLE_LIMIT {
        val(&mut s, TYPES, "[constructor]fields", vec![]);
    }
    let why = trap(call(&mut s, TYPES, "[constructor]fields", vec![]));
    assert_eq!(
        why,
        "[constructor]fields: the component holds 100000 resources, the most this host allows"
    );
    // A new run starts from an empty table.
    let (request, out) = s.begin_run();
    assert_eq!((request, out), (1, 2));
    assert_eq!(handle(val(&mut s, TYPES, "[constructor]fields", vec![])), 3);
    let _ = Val::Bool(true);
}
