//! Nested components with core code of their own (as compositions make), instantiated with
//! interfaces, types and functions, once or twice.

use super::{component, export, func, handle_type, instance_of, item, read_wat, resource, MAIN};
use crate::abi::{FuncType, Type};
use crate::plan::{CoreFunc, CoreInstance, Plan};

/// A nested component with core code of its own (as a composition makes), its module taken
/// from the outer component by an outer alias, its resources those of the interface given to
/// it; `inner` is the nested component's imports and aliases.
fn nested(inner_imports: &str, with: &str) -> Plan {
    read_wat(&format!(
        r#"(component $root {imports}
        {MAIN}
        (component $inner
          {inner_imports}
          (alias outer $root $main (core module $main))
          (core instance $i (instantiate $main))
          (alias core export $i "memory" (core memory $memory))
          (alias core export $i "cabi_realloc" (core func $realloc))
          (core func $entries (canon lower (func $entries) (memory $memory) (realloc $realloc)))
          (core module $user (import "host" "entries" (func (param i32 i32))))
          (core instance $host (export "entries" (func $entries)))
          (core instance (instantiate $user (with "host" (instance $host))))
          (func $handle (param "request" (own $rq)) (param "response-out" (own $ro))
            (canon lift (core func $i "handle")))
          (export "handle" (func $handle)))
        (instance $inner-instance (instantiate $inner {with}))
        (alias export $inner-instance "handle" (func $handle))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler)))"#,
        imports = super::IMPORTS,
    ))
    .unwrap()
}

/// Checks the plan of [`nested`].
fn check_nested(plan: &Plan) {
    assert_eq!(plan.modules.len(), 2);
    let (main, _) = instance_of(plan, 0);
    let (_, user_args) = instance_of(plan, 1);
    let [(name, host)] = user_args else {
        panic!("{user_args:?}")
    };
    assert_eq!(name, "host");
    let CoreFunc::Lower {
        interface,
        name,
        ty,
        options,
    } = func(plan, item(plan, *host, "entries"))
    else {
        panic!()
    };
    assert_eq!(
        (interface.as_str(), name.as_str()),
        ("wasi:http/types@0.2.3", "[method]fields.entries")
    );
    let entry = Type::Tuple(vec![Type::String, Type::List(Box::new(Type::U8))]);
    assert_eq!(
        ty,
        &FuncType {
            params: vec![Type::Borrow(resource("wasi:http/types", "fields"))],
            results: vec![Type::List(Box::new(entry))],
        }
    );
    assert_eq!(
        plan.memories[options.memory.unwrap() as usize],
        export(main, "memory")
    );
    assert_eq!(
        plan.funcs[options.realloc.unwrap() as usize],
        CoreFunc::Export(export(main, "cabi_realloc"))
    );
    assert_eq!(
        plan.funcs[plan.handler.func as usize],
        CoreFunc::Export(export(main, "handle"))
    );
    assert_eq!(plan.handler.ty, handle_type());
}

#[test]
fn a_nested_component_with_core_code_given_an_interface() {
    check_nested(&nested(
        r#"(import "types" (instance $t
            (export "fields" (type $f (sub resource)))
            (export "incoming-request" (type (sub resource)))
            (export "response-outparam" (type (sub resource)))
            (export "[method]fields.entries" (func (param "self" (borrow $f))
              (result (list (tuple string (list u8))))))))
          (alias export $t "[method]fields.entries" (func $entries))
          (alias export $t "incoming-request" (type $rq))
          (alias export $t "response-outparam" (type $ro))"#,
        r#"(with "types" (instance $types))"#,
    ));
}

#[test]
fn a_nested_component_with_core_code_given_types_and_a_function() {
    check_nested(&nested(
        r#"(import "fields" (type $f (sub resource)))
          (import "request" (type $rq (sub resource)))
          (import "outparam" (type $ro (sub resource)))
          (import "entries" (func $entries (param "self" (borrow $f))
            (result (list (tuple string (list u8))))))"#,
        r#"(with "fields" (type $fields)) (with "request" (type $request))
          (with "outparam" (type $outparam))
          (with "entries" (func $types "[method]fields.entries"))"#,
    ));
}

#[test]
fn a_nested_component_instantiated_twice_has_its_core_instances_twice() {
    let plan = read_wat(&component(&format!(
        r#"
        (component $inner
          (import "request" (type $rq (sub resource)))
          (import "outparam" (type $ro (sub resource)))
          {MAIN}
          (core instance $i (instantiate $main))
          (func $handle (param "request" (own $rq)) (param "response-out" (own $ro))
            (canon lift (core func $i "handle")))
          (export "handle" (func $handle)))
        (instance $unused (instantiate $inner (with "request" (type $request)) (with "outparam" (type $outparam))))
        (instance $used (instantiate $inner (with "request" (type $request)) (with "outparam" (type $outparam))))
        (export "wasi:http/incoming-handler@0.2.3" (instance $used))"#
    )))
    .unwrap();
    assert_eq!(plan.modules.len(), 1);
    let made = CoreInstance::Instantiate {
        module: 0,
        args: vec![],
    };
    assert_eq!(plan.instances, vec![made.clone(), made]);
    assert_eq!(
        plan.funcs[plan.handler.func as usize],
        CoreFunc::Export(export(1, "handle"))
    );
    assert_eq!(plan.handler.ty, handle_type());
}
