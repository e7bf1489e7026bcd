//! A component made ready to run: read into its plan, each core module metered and compiled,
//! every import it lowers resolved to its host function, its adapter generated and
//! instantiated, and how to link each run worked out.

use super::adapter::{self, Adapter};
use super::adapter_instance::AdapterInstance;
use super::errors::describe;
use super::link::Linker;
use super::outside::WebOutside;
use crate::host::{Host, HostFunc};
use crate::plan::{self, CoreFunc, Plan};
use crate::wasi::{IncomingRequest, Session};
use js_sys::{Uint8Array, WebAssembly};
use std::rc::Rc;
use valor_meter::Limits;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A compiled component.
pub struct Compiled {
    /// Its plan.
    pub plan: Plan,
    /// Its adapter's functions.
    pub adapter: Adapter,
    /// The host function of each adapter function (`None`: a resource drop).
    pub host_funcs: Vec<Option<HostFunc>>,
    /// Its adapter, instantiated (shared by every run).
    pub adapter_instance: AdapterInstance,
    /// How each run's core instances are made.
    pub linker: Linker,
    /// The limits its modules were metered with.
    pub limits: Limits,
}

/// Compiles the component `bytes` with `limits`, or says why it cannot run here.
pub async fn compile(bytes: &[u8], limits: Limits) -> Result<Compiled, String> {
    let plan = plan::read(bytes)?;
    let adapter = adapter::generate(&plan)?;
    // The host of a request with nothing in it: resolving names needs no request.
    let probe = Session::new(
        empty_request(),
        Rc::new(WebOutside::new(JsValue::UNDEFINED)),
    );
    let host_funcs = resolve(&plan, &adapter, &probe)?;
    let mut modules = Vec::with_capacity(plan.modules.len());
    for (index, range) in plan.modules.iter().enumerate() {
        let module = bytes
            .get(range.clone())
            .ok_or_else(|| format!("core module {index} lies outside the component"))?;
        // The rewriter expects a valid module (see `valor_meter::instrument`).
        if !WebAssembly::validate(&Uint8Array::from(module)).unwrap_or(false) {
            return Err(format!("core module {index} is not valid WebAssembly"));
        }
        let metered = valor_meter::instrument(module, limits)
            .map_err(|why| format!("core module {index} cannot be metered: {why}"))?;
        modules.push(compile_module(&metered).await?);
    }
    let adapter_module = compile_module(&adapter.bytes).await?;
    let adapter_instance = AdapterInstance::new(&adapter, &adapter_module)?;
    let linker = Linker::new(&plan, &modules, (&adapter, &adapter_instance));
    Ok(Compiled {
        plan,
        adapter,
        host_funcs,
        adapter_instance,
        linker,
        limits,
    })
}

/// The host function of each adapter function (`None` for a resource drop), or the first
/// import `host` does not provide. Any session resolves a name alike: this is done once.
fn resolve(
    plan: &Plan,
    adapter: &Adapter,
    host: &impl Host,
) -> Result<Vec<Option<HostFunc>>, String> {
    adapter
        .entries
        .iter()
        .map(|entry| match &plan.funcs[entry.func as usize] {
            CoreFunc::Lower {
                interface, name, ..
            } => host.resolve(interface, name).map(Some).ok_or_else(|| {
                format!(
                    "the component imports `{name}` of `{interface}`, which Valor does not provide"
                )
            }),
            _ => Ok(None),
        })
        .collect()
}

fn empty_request() -> IncomingRequest {
    IncomingRequest {
        method: "GET".into(),
        scheme: "https".into(),
        authority: String::new(),
        path_with_query: "/".into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

async fn compile_module(bytes: &[u8]) -> Result<WebAssembly::Module, String> {
    let compiled = JsFuture::from(WebAssembly::compile(&Uint8Array::from(bytes)))
        .await
        .map_err(|e| format!("compiling a core module failed: {}", describe(&e)))?;
    Ok(compiled.unchecked_into())
}
