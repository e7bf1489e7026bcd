//! The plan of the project's test component, built with the `wasi` crate for `wasm32-wasip2`
//! (wit-component's shape: the main module, the shim and the fixup).

use super::{own_http, resource};
use crate::abi::{core_signature, CoreType, Direction, FuncType, Type};
use crate::plan::{read, CoreFunc, CoreInstance, CoreItem, Plan};
use std::collections::HashMap;
use wasmparser::types::EntityType;
use wasmparser::{ValType, Validator};

/// Where the test script builds the test component.
const COMPONENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/wasm32-wasip2/release/component_http.wasm"
);

/// The test component's bytes.
fn component() -> Vec<u8> {
    std::fs::read(COMPONENT).unwrap_or_else(|error| {
        panic!(
            "{COMPONENT}: {error}: build the test component first, with `cargo build --release \
             --target wasm32-wasip2 -p component-http`"
        )
    })
}

/// The lowered function `name` of `interface`: its type.
fn lowered<'a>(plan: &'a Plan, interface: &str, name: &str) -> &'a FuncType {
    plan.funcs
        .iter()
        .find_map(|func| match func {
            CoreFunc::Lower {
                interface: i,
                name: n,
                ty,
                ..
            } if i == interface && n == name => Some(ty),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{interface} {name} is lowered"))
}

/// Each import of a core module (module name, name): its core signature.
fn module_imports(module: &[u8]) -> HashMap<(String, String), (Vec<ValType>, Vec<ValType>)> {
    let types = Validator::new()
        .validate_all(module)
        .expect("a valid core module");
    let types = types.as_ref();
    let mut imports = HashMap::new();
    for import in types.core_imports().expect("a core module") {
        let (module, name, ty) = import;
        if let EntityType::Func(id) = ty {
            let func = types[id].unwrap_func();
            imports.insert(
                (module.to_string(), name.to_string()),
                (func.params().to_vec(), func.results().to_vec()),
            );
        }
    }
    imports
}

/// A core type as wasmparser says it.
fn val_type(ty: &CoreType) -> ValType {
    match ty {
        CoreType::I32 => ValType::I32,
        CoreType::I64 => ValType::I64,
        CoreType::F32 => ValType::F32,
        CoreType::F64 => ValType::F64,
    }
}

#[test]
fn the_test_component_is_planned() {
    let bytes = component();
    let plan = read(&bytes).unwrap();
    assert_eq!(plan.modules.len(), 3);
    for module in &plan.modules {
        assert_eq!(&bytes[module.start..module.start + 4], b"\0asm");
    }

    // The handler: the main module's export, lifted with the proxy's type.
    let main = plan
        .instances
        .iter()
        .position(|i| matches!(i, CoreInstance::Instantiate { module: 0, .. }));
    let main = main.expect("the main module is instantiated") as u32;
    let CoreFunc::Export(handle) = &plan.funcs[plan.handler.func as usize] else {
        panic!()
    };
    assert_eq!(handle.instance, main);
    assert_eq!(handle.name, "wasi:http/incoming-handler@0.2.12#handle");
    assert_eq!(
        plan.handler.ty.params,
        vec![own_http("incoming-request"), own_http("response-outparam")]
    );
    assert!(plan.handler.ty.results.is_empty());

    // Lowered functions, their interfaces and types resolved through aliases and `eq` bounds.
    let http = "wasi:http/types@0.2.12";
    let error_code = match &lowered(&plan, http, "[static]response-outparam.set").params[..] {
        [outparam, Type::Result {
            ok: Some(ok),
            err: Some(err),
        }] => {
            assert_eq!(outparam, &own_http("response-outparam"));
            assert_eq!(**ok, own_http("outgoing-response"));
            (**err).clone()
        }
        other => panic!("{other:?}"),
    };
    let Type::Variant(cases) = &error_code else {
        panic!("{error_code:?}")
    };
    assert_eq!(cases.len(), 39, "the cases of wasi:http/types error-code");
    assert_eq!(cases[15], None, "HTTP-request-denied");
    assert_eq!(
        cases[38],
        Some(Type::Option(Box::new(Type::String))),
        "internal-error"
    );
    let bytes_list = || Type::List(Box::new(Type::U8));
    assert_eq!(
        lowered(
            &plan,
            "wasi:io/streams@0.2.12",
            "[method]output-stream.write"
        ),
        &FuncType {
            params: vec![
                Type::Borrow(resource("wasi:io/streams", "output-stream")),
                bytes_list()
            ],
            results: vec![Type::Result {
                ok: None,
                err: Some(Box::new(Type::Variant(vec![
                    Some(Type::Own(resource("wasi:io/error", "error"))),
                    None
                ]))),
            }],
        }
    );
    assert_eq!(
        lowered(&plan, http, "[method]fields.entries"),
        &FuncType {
            params: vec![Type::Borrow(resource("wasi:http/types", "fields"))],
            results: vec![Type::List(Box::new(Type::Tuple(vec![
                Type::String,
                bytes_list()
            ])))],
        }
    );
    assert_eq!(
        lowered(&plan, "wasi:cli/stdout@0.2.12", "get-stdout").results,
        vec![Type::Own(resource("wasi:io/streams", "output-stream"))],
        "an `eq` export of another interface's resource is that interface's resource"
    );
    assert!(plan.funcs.contains(&CoreFunc::ResourceDrop(resource(
        "wasi:http/types",
        "fields"
    ))));
    assert!(plan.funcs.contains(&CoreFunc::ResourceDrop(resource(
        "wasi:io/poll",
        "pollable"
    ))));

    // Every lowered function and resource drop a module imports has the core signature the
    // module declares for it.
    let mut checked = 0;
    for instance in &plan.instances {
        let CoreInstance::Instantiate { module, args } = instance else {
            continue;
        };
        let imports = module_imports(&bytes[plan.modules[*module as usize].clone()]);
        for ((module_name, name), (params, results)) in &imports {
            let arg = args
                .iter()
                .find(|(m, _)| m == module_name)
                .expect("every import module is given")
                .1;
            let CoreInstance::FromExports(items) = &plan.instances[arg as usize] else {
                continue;
            };
            let Some((_, CoreItem::Func(func))) = items.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let (want_params, want_results) = match &plan.funcs[*func as usize] {
                CoreFunc::Lower { ty, .. } => core_signature(ty, Direction::Lower),
                CoreFunc::ResourceDrop(_) => (vec![CoreType::I32], vec![]),
                CoreFunc::Export(_) => continue,
            };
            assert_eq!(
                params,
                &want_params.iter().map(val_type).collect::<Vec<_>>(),
                "{module_name} {name}"
            );
            assert_eq!(
                results,
                &want_results.iter().map(val_type).collect::<Vec<_>>(),
                "{module_name} {name}"
            );
            checked += 1;
        }
    }
    let made = plan
        .funcs
        .iter()
        .filter(|f| !matches!(f, CoreFunc::Export(_)))
        .count();
    assert_eq!(
        checked, made,
        "every lowered function and drop is given to a module once"
    );
}
