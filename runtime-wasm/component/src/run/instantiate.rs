//! Creating a run's core instances: the plan's instances in order, each import object made of
//! what every run shares (see `link`) and of earlier instances' exports. The adapter's instance
//! is the compiled component's. `new WebAssembly.Instance` is synchronous, which workers allow
//! for any size.

use super::errors::describe;
use super::link::{Parts, Source, Step};
use super::plain;
use super::state::{Meter, RunState};
use js_sys::{Function, Object, WebAssembly};
use wasm_bindgen::{JsCast, JsValue};

/// Why instantiation did not complete.
pub enum Failure {
    /// The modules do not link (a missing or mistyped import).
    Link(String),
    /// A module's start function threw this (a trap, or the host stopping the run).
    Threw(String),
}

/// Creates every core instance of the plan.
pub fn instantiate(state: &RunState) -> Result<(), Failure> {
    for step in &state.linker().steps {
        let exports = match step {
            Step::Instantiate(module, imports) => {
                let imports = object(state, imports)?;
                let module = module.as_ref().map_err(|why| Failure::Link(why.clone()))?;
                new_instance(module, &imports)?
            }
            Step::Bag(items) => object(state, items)?,
        };
        let meter = match step {
            Step::Instantiate(..) => Meter::of(&exports, state.linker()),
            // A bag's items are other instances' exports: their meters are counted there.
            Step::Bag(_) => None,
        };
        state.instances.borrow_mut().push(exports.clone());
        if let Some(meter) = meter {
            state.meters.borrow_mut().push(meter);
            run_start(state, &exports)?;
        }
    }
    Ok(())
}

/// The object of `parts` for this run: the shared one itself if the run adds nothing to it,
/// else one that inherits the shared properties (WebAssembly reads imports with `Get`, which
/// follows the prototype chain) and has the run's own.
fn object(state: &RunState, parts: &Parts) -> Result<Object, Failure> {
    if parts.own.is_empty() {
        return Ok(parts.shared.clone());
    }
    let object = Object::create(&parts.shared);
    for (name, source) in &parts.own {
        plain::set(&object, name, &value(state, source)?);
    }
    Ok(object)
}

/// An item of the run's own, from the instances created so far.
fn value(state: &RunState, source: &Source) -> Result<JsValue, Failure> {
    match source {
        Source::Instance { index, name } => state
            .instances
            .borrow()
            .get(*index as usize)
            .map(|exports| exports.into())
            .ok_or_else(|| Failure::Link(format!("core instance {name} is created later"))),
        Source::Export(export, key) => state.export(export, key).map_err(Failure::Link),
        Source::Missing(why) => Err(Failure::Link(why.clone())),
    }
}

/// Calls the start function a metered module exports instead of running it (see
/// `valor_meter::START_EXPORT`): as the engine would have, right after instantiating.
fn run_start(state: &RunState, exports: &Object) -> Result<(), Failure> {
    let start = plain::get(exports, &state.linker().start_key)
        .dyn_into::<Function>()
        .ok();
    match start {
        Some(start) => start
            .call0(&JsValue::UNDEFINED)
            .map(drop)
            .map_err(|thrown| Failure::Threw(describe(&thrown))),
        None => Ok(()),
    }
}

fn new_instance(module: &WebAssembly::Module, imports: &Object) -> Result<Object, Failure> {
    WebAssembly::Instance::new(module, imports)
        .map(|instance| instance.exports())
        .map_err(|e| Failure::Link(describe(&e)))
}
