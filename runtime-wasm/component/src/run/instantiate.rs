//! Creating a run's core instances: the adapter first, then the plan's instances in order,
//! each import object built from earlier instances' exports, bags of items and the adapter's
//! functions. `new WebAssembly.Instance` is synchronous, which workers allow for any size.

use super::adapter::{self, HOST_CALL, HOST_MODULE, SLOTS_EXPORT};
use super::errors::describe;
use super::state::{Meter, RunState};
use crate::plan::{CoreFunc, CoreInstance, CoreItem};
use js_sys::{Function, Object, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::{JsCast, JsValue};

/// Why instantiation did not complete.
pub enum Failure {
    /// The modules do not link (a missing or mistyped import).
    Link(String),
    /// A module's start function threw this (a trap, or the host stopping the run).
    Threw(String),
}

/// Creates the adapter, whose host calls go to `call`, and every core instance of the plan.
pub fn instantiate(state: &RunState, call: &Function) -> Result<(), Failure> {
    let host = Object::new();
    set(&host, HOST_CALL, call);
    let imports = Object::new();
    set(&imports, HOST_MODULE, &host);
    let exports = new_instance(&state.compiled.adapter_module, &imports)?;
    let slots = Reflect::get(&exports, &SLOTS_EXPORT.into())
        .ok()
        .and_then(|memory| memory.dyn_into::<WebAssembly::Memory>().ok())
        .ok_or_else(|| Failure::Link("the adapter has no slots".into()))?;
    let _ = state.slots.set(Uint8Array::new(&slots.buffer()));
    let _ = state.adapter.set(exports);
    for instance in &state.compiled.plan.instances {
        let exports = match instance {
            CoreInstance::Instantiate { module, args } => {
                let imports = Object::new();
                for (name, from) in args {
                    let from = state.instances.borrow().get(*from as usize).cloned();
                    let from = from.ok_or_else(|| {
                        Failure::Link(format!("core instance {name} is created later"))
                    })?;
                    set(&imports, name, &from);
                }
                let module = state.compiled.modules.get(*module as usize);
                let module = module.ok_or_else(|| Failure::Link("no such core module".into()))?;
                new_instance(module, &imports)?
            }
            CoreInstance::FromExports(items) => {
                let bag = Object::new();
                for (name, item) in items {
                    set(
                        &bag,
                        name,
                        &self::item(state, *item).map_err(Failure::Link)?,
                    );
                }
                bag
            }
        };
        let meter = Meter::of(&exports);
        state.instances.borrow_mut().push(exports.clone());
        if let Some(meter) = meter {
            state.meters.borrow_mut().push(meter);
            run_start(&exports)?;
        }
    }
    Ok(())
}

/// Calls the start function a metered module exports instead of running it (see
/// `valor_meter::START_EXPORT`): as the engine would have, right after instantiating.
fn run_start(exports: &Object) -> Result<(), Failure> {
    let start = Reflect::get(exports, &valor_meter::START_EXPORT.into())
        .ok()
        .and_then(|start| start.dyn_into::<Function>().ok());
    match start {
        Some(start) => start
            .call0(&JsValue::UNDEFINED)
            .map(drop)
            .map_err(|thrown| Failure::Threw(describe(&thrown))),
        None => Ok(()),
    }
}

/// An item of a core index space, from the instances created so far or the adapter.
fn item(state: &RunState, item: CoreItem) -> Result<JsValue, String> {
    let plan = &state.compiled.plan;
    let missing = |space: &str, index: u32| format!("there is no core {space} {index}");
    let export = match item {
        CoreItem::Func(index) => match plan.funcs.get(index as usize) {
            Some(CoreFunc::Export(export)) => export,
            Some(_) => return adapted(state, index),
            None => return Err(missing("function", index)),
        },
        CoreItem::Memory(index) => plan
            .memories
            .get(index as usize)
            .ok_or(missing("memory", index))?,
        CoreItem::Table(index) => plan
            .tables
            .get(index as usize)
            .ok_or(missing("table", index))?,
        CoreItem::Global(index) => plan
            .globals
            .get(index as usize)
            .ok_or(missing("global", index))?,
    };
    state.export(export)
}

/// The adapter function that stands for core function `index` (a lowered import or a
/// resource drop).
fn adapted(state: &RunState, index: u32) -> Result<JsValue, String> {
    let adapter_index = state.compiled.adapter.of_func[index as usize]
        .ok_or_else(|| format!("core function {index} has no adapter"))?;
    let exports = state.adapter.get().ok_or("the adapter is not created")?;
    Reflect::get(exports, &adapter::export_name(adapter_index).into()).map_err(|e| describe(&e))
}

fn new_instance(module: &WebAssembly::Module, imports: &Object) -> Result<Object, Failure> {
    WebAssembly::Instance::new(module, imports)
        .map(|instance| instance.exports())
        .map_err(|e| Failure::Link(describe(&e)))
}

fn set(object: &Object, name: &str, value: &JsValue) {
    // Setting a property of a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}
