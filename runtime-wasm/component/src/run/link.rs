//! How each core instance of a run is made, worked out once per compiled component: the
//! import objects as far as they hold what every run shares (the adapter's functions, and bags
//! of nothing else), and where each of a run's own items comes from, every name already a
//! JavaScript string. A run then only looks up its own instances' exports (see `instantiate`).

use super::adapter::Adapter;
use super::adapter_instance::AdapterInstance;
use crate::plan::{CoreExport, CoreFunc, CoreInstance, CoreItem, Plan};
use js_sys::{Object, Reflect, WebAssembly};
use wasm_bindgen::JsValue;

/// The adapter, and its instance.
type Adapted<'a> = (&'a Adapter, &'a AdapterInstance);

/// The steps of every run's instantiation, and the names a run looks its exports up by.
pub struct Linker {
    /// One per core instance of the plan, in its order.
    pub steps: Vec<Step>,
    /// For each core function of the plan that is an instance's export, its name.
    pub func_keys: Vec<Option<JsValue>>,
    /// For each core memory of the plan, its name.
    pub memory_keys: Vec<JsValue>,
    /// The meter's exports (see `valor_meter`): fuel, growth, start.
    pub fuel_key: JsValue,
    /// See `fuel_key`.
    pub grown_key: JsValue,
    /// See `fuel_key`.
    pub start_key: JsValue,
}

/// How one core instance of a run is made.
pub enum Step {
    /// Instantiating a core module with this import object (or why there is no such module).
    Instantiate(Result<WebAssembly::Module, String>, Parts),
    /// A bag of items.
    Bag(Parts),
}

/// An object whose properties are partly the same for every run, partly the run's own.
pub struct Parts {
    /// The properties every run gives alike.
    pub shared: Object,
    /// The others: (name, where from).
    pub own: Vec<(JsValue, Source)>,
}

/// Where one of a run's own items comes from.
pub enum Source {
    /// The exports of core instance `index`, given as the import module `name`.
    Instance {
        /// The core instance.
        index: u32,
        /// The import module's name.
        name: String,
    },
    /// An export of one of the run's instances.
    Export(CoreExport, JsValue),
    /// Nowhere: why (the run does not link).
    Missing(String),
}

impl Linker {
    /// The linker of `plan`, whose core modules are `modules` and whose lowered imports and
    /// resource drops are the functions of `adapter`.
    pub fn new(plan: &Plan, modules: &[WebAssembly::Module], adapter: Adapted) -> Self {
        let mut steps: Vec<Step> = Vec::with_capacity(plan.instances.len());
        for (index, instance) in plan.instances.iter().enumerate() {
            let step = match instance {
                CoreInstance::Instantiate { module, args } => {
                    let mut parts = Parts::new();
                    for (name, from) in args {
                        // A bag made of shared items only is shared too, once created.
                        let shared = (*from as usize) < index;
                        match steps.get(*from as usize).filter(|_| shared) {
                            Some(Step::Bag(bag)) if bag.own.is_empty() => {
                                parts.share(name, &bag.shared)
                            }
                            _ => parts.own(
                                name,
                                Source::Instance {
                                    index: *from,
                                    name: name.clone(),
                                },
                            ),
                        }
                    }
                    let module = modules.get(*module as usize).cloned();
                    Step::Instantiate(module.ok_or_else(|| "no such core module".into()), parts)
                }
                CoreInstance::FromExports(items) => {
                    let mut parts = Parts::new();
                    for (name, item) in items {
                        match source(plan, adapter, *item) {
                            Ok(function) => parts.share(name, &function),
                            Err(source) => parts.own(name, source),
                        }
                    }
                    Step::Bag(parts)
                }
            };
            steps.push(step);
        }
        let key = |export: &CoreExport| JsValue::from_str(&export.name);
        Linker {
            steps,
            func_keys: plan
                .funcs
                .iter()
                .map(|func| match func {
                    CoreFunc::Export(export) => Some(key(export)),
                    _ => None,
                })
                .collect(),
            memory_keys: plan.memories.iter().map(key).collect(),
            fuel_key: valor_meter::FUEL_EXPORT.into(),
            grown_key: valor_meter::GROWN_EXPORT.into(),
            start_key: valor_meter::START_EXPORT.into(),
        }
    }
}

impl Parts {
    fn new() -> Self {
        Parts {
            shared: Object::new(),
            own: Vec::new(),
        }
    }

    fn share(&mut self, name: &str, value: &JsValue) {
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&self.shared, &JsValue::from_str(name), value);
    }

    fn own(&mut self, name: &str, source: Source) {
        self.own.push((JsValue::from_str(name), source));
    }
}

/// An item of a bag: an adapter function (`Ok`, the same for every run), or where a run finds
/// it.
fn source(plan: &Plan, adapter: Adapted, item: CoreItem) -> Result<JsValue, Source> {
    let missing =
        |space: &str, index: u32| Source::Missing(format!("there is no core {space} {index}"));
    let export = match item {
        CoreItem::Func(index) => match plan.funcs.get(index as usize) {
            Some(CoreFunc::Export(export)) => export,
            Some(_) => {
                return match adapter_function(&adapter, index) {
                    Some(function) => Ok(function),
                    None => Err(Source::Missing(format!(
                        "core function {index} has no adapter"
                    ))),
                }
            }
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
    Err(Source::Export(
        export.clone(),
        JsValue::from_str(&export.name),
    ))
}

/// The adapter function that stands for core function `index` (a lowered import or a resource
/// drop).
fn adapter_function(adapter: &Adapted, index: u32) -> Option<JsValue> {
    let (adapter, instance) = adapter;
    let at = (*adapter.of_func.get(index as usize)?)?;
    instance.functions.get(at as usize).cloned()
}
