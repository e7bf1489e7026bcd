//! The component's `wasi:http/incoming-handler.handle`, found among its exports and checked
//! against the type the host calls it with.

use super::frame::{Entity, Func, Instance};
use super::names::{check_wasi_version, without_version};
use super::parse::{Definition, Item};
use super::Lift;
use crate::abi::{FuncType, Resource, Type};
use std::collections::HashMap;

/// The interface a `wasi:http/proxy` component exports.
const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// The name of the outermost component's export of the incoming handler (read before the
/// component is instantiated, so that a component of another world is told so first).
pub(super) fn exported(root: &Definition<'_>) -> Result<String, String> {
    let mut names = Vec::new();
    for item in &root.items {
        let Item::Export(export) = item else { continue };
        if without_version(export.name.name) == INCOMING_HANDLER {
            check_wasi_version(export.name.name)
                .map_err(|why| format!("this component cannot run here: {why}"))?;
            return Ok(export.name.name.to_string());
        }
        names.push(format!("`{}`", export.name.name));
    }
    names.sort();
    let names = if names.is_empty() {
        "nothing".to_string()
    } else {
        names.join(", ")
    };
    Err(format!(
        "not a wasi:http/proxy component: it exports {names} (a wasi:http/proxy component \
         exports `{INCOMING_HANDLER}@0.2.x` with a `handle` function)"
    ))
}

/// The lifted `handle` of the export `name` of the outermost component.
pub(super) fn handler(exports: &HashMap<String, Entity<'_>>, name: &str) -> Result<Lift, String> {
    let entity = exports
        .get(name)
        .ok_or_else(|| format!("the export `{name}` is missing"))?;
    let handle = match entity {
        Entity::Instance(instance) => match &**instance {
            Instance::Exports(items) => items.get("handle"),
            Instance::Host(_) => None,
        },
        _ => None,
    };
    let lift = match handle {
        Some(Entity::Func(Func::Lifted(lift))) => lift,
        Some(Entity::Func(Func::Host { interface, .. })) => {
            return Err(format!(
                "not a wasi:http/proxy component: its `{name}` passes on the `handle` of the \
                 `{interface}` it imports, instead of its own"
            ));
        }
        _ => {
            return Err(format!(
                "not a wasi:http/proxy component: its `{name}` export has no `handle` function"
            ));
        }
    };
    if lift.ty != handle_type() {
        return Err(format!(
            "not a wasi:http/proxy component: its `{name}` `handle` has the type {:?}, not \
             `func(request: own<incoming-request>, response-out: own<response-outparam>)`",
            lift.ty
        ));
    }
    Ok(lift.clone())
}

/// `handle`'s type: `func(request: own<incoming-request>, response-out: own<response-outparam>)`.
fn handle_type() -> FuncType {
    let http = |name: &str| {
        Type::Own(Resource {
            interface: "wasi:http/types".into(),
            name: name.into(),
        })
    };
    FuncType {
        params: vec![http("incoming-request"), http("response-outparam")],
        results: vec![],
    }
}
