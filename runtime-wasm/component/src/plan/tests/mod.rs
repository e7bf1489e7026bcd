//! The plan of hand-written components of each shape, of each refusal, and of the project's
//! test component.

mod nested;
mod real;
mod refusals;
mod shapes;

use super::{read, CoreExport, CoreFunc, CoreInstance, CoreItem, Plan};
use crate::abi::{FuncType, Resource, Type};

/// Reads a component written in the text format.
fn read_wat(text: &str) -> Result<Plan, String> {
    read(&wat::parse_str(text).expect("the test's component assembles"))
}

/// The resource `name` of the interface `interface` (without its version).
fn resource(interface: &str, name: &str) -> Resource {
    Resource {
        interface: interface.into(),
        name: name.into(),
    }
}

/// `own<name>` of `wasi:http/types`.
fn own_http(name: &str) -> Type {
    Type::Own(resource("wasi:http/types", name))
}

/// The imports of a minimal `wasi:http/proxy` component: `wasi:http/types` with the handler's
/// two resources and `fields` (its constructor and methods, and `headers`, equal to it), then aliases of them.
const IMPORTS: &str = r#"
  (import "wasi:http/types@0.2.3" (instance $types
    (export "fields" (type $fields (sub resource)))
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
    (export "headers" (type $headers (eq $fields)))
    (export "[constructor]fields" (func (result (own $fields))))
    (type $header-error' (variant (case "invalid-syntax") (case "forbidden")))
    (export "header-error" (type $header-error (eq $header-error')))
    (export "[method]fields.append" (func (param "self" (borrow $fields)) (param "name" string)
      (param "value" (list u8)) (result (result (error $header-error)))))
    (export "[method]fields.entries" (func (param "self" (borrow $fields))
      (result (list (tuple string (list u8))))))
    (export "outgoing-response" (type $response (sub resource)))
    (export "[constructor]outgoing-response" (func (param "headers" (own $headers))
      (result (own $response))))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $types "fields" (type $fields))
"#;

/// A component of `body` after [`IMPORTS`].
fn component(body: &str) -> String {
    format!("(component {IMPORTS} {body})")
}

/// A core module with a memory, a `cabi_realloc` and a `handle(i32, i32)` export.
const MAIN: &str = r#"
  (core module $main
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
    (func (export "handle") (param i32 i32))
  )
"#;

/// The handler's type, as `canon lift` gives it.
const HANDLE_TYPE: &str =
    r#"(param "request" (own $request)) (param "response-out" (own $outparam))"#;

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
