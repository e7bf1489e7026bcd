//! The shapes toolchains emit: the handler exported from a bag of items, wit-component's (a shim
//! and a fixup around the main module, the handler's type ascribed by a nested component).

use super::{
    component, export, func, handle_type, instance_of, item, own_http, read_wat, resource,
    HANDLE_TYPE, MAIN,
};
use crate::abi::{FuncType, Type};
use crate::plan::{CoreFunc, CoreInstance, CoreItem, Lift, Options};

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
