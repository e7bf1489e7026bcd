//! The component's `wasi:http/incoming-handler.handle`, found among its exports and checked
//! against the type the host calls it with.

use super::frame::{Entity, Func, Instance};
use super::names::{check_wasi_version, without_version};
use super::Lift;
use crate::abi::{FuncType, Resource, Type};
use std::collections::HashMap;

/// The interface a `wasi:http/proxy` component exports.
const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// The lifted `handle` the outermost component exports.
pub(super) fn handler(exports: &HashMap<String, Entity<'_>>) -> Result<Lift, String> {
    let found = exports
        .iter()
        .find(|(name, _)| without_version(name) == INCOMING_HANDLER);
    let Some((name, entity)) = found else {
        let mut names: Vec<String> = exports.keys().map(|name| format!("`{name}`")).collect();
        names.sort();
        let names = if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        };
        return Err(format!(
            "not a wasi:http/proxy component: it exports {names} (a wasi:http/proxy component \
             exports `{INCOMING_HANDLER}@0.2.x` with a `handle` function)"
        ));
    };
    check_wasi_version(name).map_err(|why| format!("this component cannot run here: {why}"))?;
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
