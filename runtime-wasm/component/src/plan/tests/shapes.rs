//! Components of the shapes toolchains emit, and of others the component model allows.

use super::{component, own_http, read_wat, resource, HANDLE_TYPE, MAIN};
use crate::abi::{FuncType, Type};
use crate::plan::{CoreExport, CoreFunc, CoreInstance, CoreItem, Lift, Options, Plan};

/// `func(request: own<incoming-request>, response-out: own<response-outparam>)`.
fn handle_type() -> FuncType {
    FuncType {
        params: vec![own_http("incoming-request"), own_http("response-outparam")],
        results: vec![],
    }
}

/// The export `name` of the core instance `instance`.
fn export(instance: u32, name: &str) -> CoreExport {
    CoreExport {
        instance,
        name: name.to_string(),
    }
}

/// The core instance that instantiates `module`.
fn instance_of(plan: &Plan, module: u32) -> (u32, &[(String, u32)]) {
    plan.instances
        .iter()
        .enumerate()
        .find_map(|(index, instance)| match instance {
            CoreInstance::Instantiate { module: m, args } if *m == module => {
                Some((index as u32, &args[..]))
            }
            _ => None,
        })
        .expect("the module is instantiated")
}

/// The item `name` of the bag of items `instance`.
fn item(plan: &Plan, instance: u32, name: &str) -> CoreItem {
    let CoreInstance::FromExports(items) = &plan.instances[instance as usize] else {
        panic!(
            "instance {instance} is not a bag of items: {:?}",
            plan.instances[instance as usize]
        );
    };
    items
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, item)| *item)
        .expect("the item is there")
}

/// The function `item` is.
fn func(plan: &Plan, item: CoreItem) -> &CoreFunc {
    let CoreItem::Func(index) = item else {
        panic!("{item:?} is not a function")
    };
    &plan.funcs[index as usize]
}

#[test]
fn a_handler_exported_from_a_bag_of_items() {
    let plan = read_wat(&component(&format!(
        r#"{MAIN}
        (core instance $m (instantiate $main))
        (func $handle {HANDLE_TYPE} (canon lift (core func $m "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#
    )))
    .unwrap();
    assert_eq!(plan.modules.len(), 1);
    assert_eq!(
        plan.instances,
        vec![CoreInstance::Instantiate {
            module: 0,
            args: vec![]
        }]
    );
    assert_eq!(plan.funcs, vec![CoreFunc::Export(export(0, "handle"))]);
    assert_eq!(
        plan.handler,
        Lift {
            func: 0,
            ty: handle_type(),
            options: Options::default()
        }
    );
}

#[test]
fn the_shape_wit_component_emits() {
    // Lowered functions given straight or through the shim's table (filled by the fixup after
    // the main module is instantiated, once its memory exists), resource drops, and the
    // handler exported through a nested component that ascribes its type.
    let plan = read_wat(&component(
        r#"
        (core module $main
          (import "wasi:http/types@0.2.3" "[constructor]fields" (func (result i32)))
          (import "wasi:http/types@0.2.3" "[method]fields.append" (func (param i32 i32 i32 i32 i32 i32)))
          (import "wasi:http/types@0.2.3" "[resource-drop]fields" (func (param i32)))
          (memory (export "memory") 1)
          (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
          (func (export "handle") (param i32 i32))
          (func (export "cabi_post_handle")))
        (core module $shim
          (type $append (func (param i32 i32 i32 i32 i32 i32)))
          (table (export "$imports") 1 1 funcref)
          (func (export "0") (type $append)
            local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5
            i32.const 0 call_indirect (type $append)))
        (core module $fixup
          (type $append (func (param i32 i32 i32 i32 i32 i32)))
          (import "" "0" (func (type $append)))
          (import "" "$imports" (table 1 1 funcref))
          (elem (i32.const 0) func 0))
        (core instance $shim (instantiate $shim))
        (alias export $types "[constructor]fields" (func $new-fields))
        (core func $new-fields (canon lower (func $new-fields)))
        (core func $drop-fields (canon resource.drop $fields))
        (alias core export $shim "0" (core func $indirect-append))
        (core instance $types-core
          (export "[constructor]fields" (func $new-fields))
          (export "[method]fields.append" (func $indirect-append))
          (export "[resource-drop]fields" (func $drop-fields)))
        (core instance $m (instantiate $main (with "wasi:http/types@0.2.3" (instance $types-core))))
        (alias core export $m "memory" (core memory $memory))
        (alias core export $m "cabi_realloc" (core func $realloc))
        (alias export $types "[method]fields.append" (func $append))
        (core func $append (canon lower (func $append) (memory $memory) (realloc $realloc) string-encoding=utf8))
        (alias core export $shim "$imports" (core table $shim-table))
        (core instance $fixup-args (export "$imports" (table $shim-table)) (export "0" (func $append)))
        (core instance (instantiate $fixup (with "" (instance $fixup-args))))
        (alias core export $m "handle" (core func $handle-core))
        (alias core export $m "cabi_post_handle" (core func $post))
        (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
          (canon lift (core func $handle-core) (memory $memory) (post-return $post)))
        (alias export $types "incoming-request" (type $request2))
        (alias export $types "response-outparam" (type $outparam2))
        (component $shim-component
          (import "import-type-incoming-request" (type $r (sub resource)))
          (import "import-type-response-outparam" (type $o (sub resource)))
          (import "import-type-incoming-request0" (type $r0 (eq $r)))
          (import "import-type-response-outparam0" (type $o0 (eq $o)))
          (import "import-func-handle" (func $f (param "request" (own $r0)) (param "response-out" (own $o0))))
          (export $r2 "incoming-request" (type $r))
          (export $o2 "response-outparam" (type $o))
          (export "handle" (func $f) (func (param "request" (own $r2)) (param "response-out" (own $o2)))))
        (instance $shim-instance (instantiate $shim-component
          (with "import-func-handle" (func $handle))
          (with "import-type-incoming-request" (type $request2))
          (with "import-type-response-outparam" (type $outparam2))
          (with "import-type-incoming-request0" (type $request))
          (with "import-type-response-outparam0" (type $outparam))))
        (export "wasi:http/incoming-handler@0.2.3" (instance $shim-instance))"#,
    ))
    .unwrap();
    assert_eq!(plan.modules.len(), 3);
    let (shim, _) = instance_of(&plan, 1);
    let (main, main_args) = instance_of(&plan, 0);
    let [(name, types_core)] = main_args else {
        panic!("{main_args:?}")
    };
    assert_eq!(name, "wasi:http/types@0.2.3");
    let fields = resource("wasi:http/types", "fields");
    assert_eq!(
        func(&plan, item(&plan, *types_core, "[constructor]fields")),
        &CoreFunc::Lower {
            interface: "wasi:http/types@0.2.3".to_string(),
            name: "[constructor]fields".to_string(),
            ty: FuncType {
                params: vec![],
                results: vec![Type::Own(fields.clone())]
            },
            options: Options::default(),
        }
    );
    assert_eq!(
        func(&plan, item(&plan, *types_core, "[method]fields.append")),
        &CoreFunc::Export(export(shim, "0"))
    );
    assert_eq!(
        func(&plan, item(&plan, *types_core, "[resource-drop]fields")),
        &CoreFunc::ResourceDrop(fields.clone())
    );

    let (_, fixup_args) = instance_of(&plan, 2);
    let [(name, fixup_items)] = fixup_args else {
        panic!("{fixup_args:?}")
    };
    assert_eq!(name, "");
    let CoreItem::Table(table) = item(&plan, *fixup_items, "$imports") else {
        panic!()
    };
    assert_eq!(plan.tables[table as usize], export(shim, "$imports"));
    let CoreFunc::Lower {
        interface,
        name,
        ty,
        options,
    } = func(&plan, item(&plan, *fixup_items, "0"))
    else {
        panic!()
    };
    assert_eq!(
        (interface.as_str(), name.as_str()),
        ("wasi:http/types@0.2.3", "[method]fields.append")
    );
    let header_error = Type::Variant(vec![None, None]);
    assert_eq!(
        ty,
        &FuncType {
            params: vec![
                Type::Borrow(fields),
                Type::String,
                Type::List(Box::new(Type::U8))
            ],
            results: vec![Type::Result {
                ok: None,
                err: Some(Box::new(header_error))
            }],
        }
    );
    let memory = options.memory.expect("a memory");
    assert_eq!(plan.memories[memory as usize], export(main, "memory"));
    let realloc = options.realloc.expect("a realloc");
    assert_eq!(
        plan.funcs[realloc as usize],
        CoreFunc::Export(export(main, "cabi_realloc"))
    );
    assert_eq!(options.post_return, None);

    assert_eq!(
        plan.funcs[plan.handler.func as usize],
        CoreFunc::Export(export(main, "handle"))
    );
    assert_eq!(plan.handler.ty, handle_type());
    assert_eq!(plan.handler.options.memory, Some(memory));
    let post = plan.handler.options.post_return.expect("a post-return");
    assert_eq!(
        plan.funcs[post as usize],
        CoreFunc::Export(export(main, "cabi_post_handle"))
    );
}

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
fn a_type_equal_to_a_resource_is_that_resource() {
    let plan = read_wat(&component(&format!(
        r#"{MAIN}
        (core instance $m (instantiate $main))
        (alias export $types "[constructor]outgoing-response" (func $new-response))
        (core func (canon lower (func $new-response)))
        (func $handle {HANDLE_TYPE} (canon lift (core func $m "handle")))
        (instance $handler (export "handle" (func $handle)))
        (export "wasi:http/incoming-handler@0.2.3" (instance $handler))"#
    )))
    .unwrap();
    let lowered = plan.funcs.iter().find_map(|func| match func {
        CoreFunc::Lower { ty, .. } => Some(ty),
        _ => None,
    });
    assert_eq!(
        lowered,
        Some(&FuncType {
            params: vec![own_http("fields")],
            results: vec![own_http("outgoing-response")]
        })
    );
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
