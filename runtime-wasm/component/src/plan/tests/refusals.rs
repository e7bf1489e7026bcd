//! What this host cannot run is refused when read, with a message a plugin's author can act on.

use super::{component, read_wat, HANDLE_TYPE, MAIN};
use crate::plan::{read, Plan};

/// The refusal of the component `body` (after the usual imports), which exports a handler.
fn refusal(body: &str) -> String {
    with_handler(body).expect_err("refused")
}

/// The plan of the component `body` (after the usual imports), which exports a handler.
fn with_handler(body: &str) -> Result<Plan, String> {
    let text = component(&format!(
        r#"{body}
        {MAIN}
        (core instance $handler-core (instantiate $main))
        (func $handle {HANDLE_TYPE} (canon lift (core func $handler-core "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#
    ));
    read_wat(&text)
}

#[test]
fn a_core_module_is_a_valor_plugin() {
    let why = read(&wat::parse_str("(module)").unwrap()).unwrap_err();
    assert!(
        why.contains("core WebAssembly module, not a component"),
        "{why}"
    );
    assert!(why.contains("Valor plugin"), "{why}");
}

#[test]
fn bytes_that_are_no_component_are_refused_without_a_panic() {
    for bytes in [
        &b""[..],
        b"\0asm",
        b"\0asm\x0d\0\x01\0\x07",
        b"not wasm at all",
    ] {
        let why = read(bytes).unwrap_err();
        assert!(why.starts_with("not a valid component"), "{why}");
    }
    // A component cut anywhere is refused (by the parser or the validator), never a panic.
    let whole = wat::parse_str(component(&format!(
        r#"{MAIN}
        (core instance $m (instantiate $main))
        (func $handle {HANDLE_TYPE} (canon lift (core func $m "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#
    )))
    .unwrap();
    let plan = read(&whole).unwrap();
    for end in 0..whole.len() {
        // (A cut that only drops custom sections at the end leaves the same component.)
        if let Ok(cut) = read(&whole[..end]) {
            assert_eq!(cut, plan, "cut at {end}");
        }
    }
    // Any byte changed: read or refused, never a panic.
    for at in 0..whole.len() {
        for byte in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut changed = whole.clone();
            changed[at] = byte;
            let _ = read(&changed);
        }
    }
}

#[test]
fn a_component_without_the_incoming_handler_is_not_a_proxy() {
    let why = read_wat(&component(
        r#"(core module $m (func (export "run") (result i32) i32.const 0))
        (core instance $i (instantiate $m))
        (func $run (result (result)) (canon lift (core func $i "run")))
        (instance $cli (export "run" (func $run)))
        (export "wasi:cli/run@0.2.3" (instance $cli))"#,
    ))
    .unwrap_err();
    assert!(
        why.starts_with("not a wasi:http/proxy component: it exports `wasi:cli/run@0.2.3`"),
        "{why}"
    );
    let why = read_wat(&component("")).unwrap_err();
    assert!(
        why.starts_with("not a wasi:http/proxy component: it exports nothing"),
        "{why}"
    );
}

#[test]
fn a_handle_of_another_type_is_not_a_proxy() {
    let why = read_wat(&component(&format!(
        r#"{MAIN}
        (core instance $m (instantiate $main))
        (func $handle (param "request" (own $request)) (canon lift (core func $m "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#
    )))
    .unwrap_err();
    // (The core function takes two parameters, the lifted one one: the validator refuses that
    // first, so the mismatch is checked here with a core function of one parameter.)
    assert!(
        why.contains("not a valid component") || why.contains("`handle` has the type"),
        "{why}"
    );
    let why = read_wat(&component(
        r#"(core module $one (func (export "handle") (param i32)))
        (core instance $m (instantiate $one))
        (func $handle (param "request" (own $request)) (canon lift (core func $m "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#,
    ))
    .unwrap_err();
    assert!(why.starts_with("not a wasi:http/proxy component"), "{why}");
    assert!(why.contains("`handle` has the type"), "{why}");
}

#[test]
fn an_incoming_handler_without_handle_is_not_a_proxy() {
    let why = read_wat(&component(
        r#"(instance $handler)
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#,
    ))
    .unwrap_err();
    assert!(why.contains("has no `handle` function"), "{why}");
}

#[test]
fn wasi_of_another_version_is_refused() {
    let why = refusal(r#"(import "wasi:clocks/monotonic-clock@0.3.0" (instance))"#);
    assert!(
        why.contains("`wasi:clocks/monotonic-clock@0.3.0`, of WASI 0.3.0"),
        "{why}"
    );
    let why = read_wat(&format!(
        r#"(component {imports}
        {MAIN}
        (core instance $m (instantiate $main))
        (func $handle {HANDLE_TYPE} (canon lift (core func $m "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.3.0" (instance $handler)))"#,
        imports = super::IMPORTS
    ))
    .unwrap_err();
    assert!(why.contains("WASI 0.3.0"), "{why}");
}

#[test]
fn an_import_that_is_not_an_interface_is_refused() {
    let why = refusal(r#"(import "log" (func (param "line" string)))"#);
    assert!(why.contains("it imports `log`, a function"), "{why}");
}

#[test]
fn strings_in_utf16_are_refused() {
    let why = refusal(
        r#"(core module $mem (memory (export "memory") 1))
        (core instance $mem (instantiate $mem))
        (alias core export $mem "memory" (core memory $memory))
        (alias export $types "[method]fields.append" (func $append))
        (core func (canon lower (func $append) (memory $memory) string-encoding=utf16))"#,
    );
    assert!(why.contains("UTF-16"), "{why}");
}

#[test]
fn resources_of_its_own_are_refused() {
    let why = refusal(
        r#"(type $mine (resource (rep i32)))
        (core func (canon resource.new $mine))"#,
    );
    assert!(why.contains("canonical built-in `resource.new`"), "{why}");
    let why = refusal(
        r#"(type $mine (resource (rep i32)))
        (core func (canon resource.drop $mine))"#,
    );
    assert!(why.contains("a resource it defines itself"), "{why}");
}

#[test]
fn component_model_async_is_refused() {
    let why = refusal(
        r#"(core module $cb (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0)
          (func (export "run") (result i32) i32.const 0))
        (core instance $cb (instantiate $cb))
        (func async (result u32) (canon lift (core func $cb "run") async (callback (core func $cb "cb"))))"#,
    );
    assert!(why.contains("component-model async"), "{why}");
    let why = refusal(
        r#"(import "wasi:io/things@0.2.3" (instance $things
          (export "watch" (func (result (stream u8))))))
        (alias export $things "watch" (func $watch))
        (core func (canon lower (func $watch)))"#,
    );
    assert!(why.contains("component-model async"), "{why}");
}

#[test]
fn a_call_between_components_of_a_composition_is_refused() {
    let why = refusal(
        r#"(core module $f (func (export "f")))
        (core instance $f (instantiate $f))
        (func $f (canon lift (core func $f "f")))
        (core func (canon lower (func $f)))"#,
    );
    assert!(why.contains("a composition"), "{why}");
}

/// An interface `local:deep/types` whose function `f` takes a value of the type `levels` types
/// deep, each made of two of the one below (`tuple`) or of one (`list`).
fn deep_import(levels: usize, tuple: bool) -> String {
    let mut types = String::from("(type $t0 (list u8))");
    for level in 1..=levels {
        let below = format!("$t{}", level - 1);
        let ty = if tuple {
            format!("(tuple {below} {below})")
        } else {
            format!("(list {below})")
        };
        types.push_str(&format!("(type $t{level} {ty})"));
    }
    format!(
        r#"(import "local:deep/types" (instance $deep {types}
          (export "f" (func (param "x" $t{levels})))))
        (alias export $deep "f" (func $f))"#
    )
}

#[test]
fn types_too_deep_are_refused_without_overflowing_the_stack() {
    // (The validator refuses them before the conversion's own bound does.)
    let why = refusal(&format!(
        "{} (core func (canon lower (func $f)))",
        deep_import(150, false)
    ));
    assert!(why.contains("too deep"), "{why}");
}

#[test]
fn types_too_many_to_convert_are_refused() {
    // Each lowering of `f` converts 393,215 types: twice goes, thrice is too many.
    let lowered = |times: usize| {
        with_handler(&format!(
            r#"{}
            (core module $memory (memory (export "memory") 1))
            (core instance $memory (instantiate $memory))
            (alias core export $memory "memory" (core memory $memory))
            {}"#,
            deep_import(17, true),
            "(core func (canon lower (func $f) (memory $memory)))".repeat(times)
        ))
    };
    assert!(lowered(2).is_ok());
    let why = lowered(3).unwrap_err();
    assert!(why.contains("too large to plan"), "{why}");
}

#[test]
fn instantiating_exponentially_many_components_is_refused() {
    // Each component instantiates the one before twice: 2^20 instantiations of the first.
    let mut components = String::from("(component $c0)");
    for level in 1..=20 {
        let below = level - 1;
        components.push_str(&format!(
            "(component $c{level} (alias outer $root $c{below} (component $below))
              (instance (instantiate $below)) (instance (instantiate $below)))"
        ));
    }
    let why = read_wat(&format!(
        r#"(component $root {} {components} (instance (instantiate $c20))
          {MAIN}
          (core instance $m (instantiate $main))
          (func $handle {HANDLE_TYPE} (canon lift (core func $m "handle")))
          (instance $handler (export "handle" (func $handle)))
          (export "wasi:http/incoming-handler@0.2.3" (instance $handler)))"#,
        super::IMPORTS
    ))
    .unwrap_err();
    assert!(why.contains("too many components"), "{why}");
}
