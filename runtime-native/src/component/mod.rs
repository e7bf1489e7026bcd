//! WASI 0.2 `wasi:http/proxy` components on the server, run by wasmtime-wasi-http (the
//! reference implementation of `wasi:http`): compiled and linked once ([`Component`], a
//! `ProxyPre`), then a store and an instance per request ([`respond`]), as `wasmtime serve`
//! does. What Valor adds: the entry's limits (fuel for the whole request, `memory_mb`,
//! `timeout_ms`), outgoing requests through the plugin's allowlist and the app's own plugins
//! ([`outgoing`]), the component's output in the server's log, and the imports a host of this
//! world gives (see [`linker`]).

mod linker;
mod outgoing;
mod respond;
mod state;

pub use respond::respond;
pub use state::State;

use crate::host::PluginContext;
use std::sync::Arc;
use wasmtime::component::Linker;
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// A component compiled and linked with the host's imports, ready to be instantiated per
/// request.
pub struct Component {
    pre: ProxyPre<State>,
}

/// `bytes` (from `url`) compiled for `engine`, or why not.
pub fn compile(
    engine: &Engine,
    url: &str,
    bytes: &[u8],
) -> Result<wasmtime::component::Component, String> {
    wasmtime::component::Component::new(engine, bytes)
        .map_err(|e| format!("{url} is not a valid WebAssembly component: {e:#}"))
}

impl Component {
    /// `component` (from `url`) linked with the host's imports, or why not (in words for the
    /// plugin's author: an import this host does not give is named).
    pub fn link(
        linker: &Linker<State>,
        url: &str,
        component: &wasmtime::component::Component,
    ) -> Result<Self, String> {
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| format!("{url} cannot be linked: {e:#}"))?;
        let pre = ProxyPre::new(pre).map_err(|e| {
            format!("{url} is not a wasi:http/proxy component (it must export wasi:http/incoming-handler@0.2): {e:#}")
        })?;
        Ok(Self { pre })
    }

    /// The engine it was compiled for.
    pub fn engine(&self) -> &Engine {
        self.pre.engine()
    }

    /// Whether its memories fit `memory_mb` before it runs: an instance made and dropped, as
    /// a module whose memory starts larger than its entry allows is refused when loaded (502),
    /// not at each request (503).
    pub async fn check_memory(&self, context: &Arc<PluginContext>) -> Result<(), String> {
        let mut store = wasmtime::Store::new(self.engine(), State::new(Arc::clone(context), 0));
        store.limiter(|state| &mut state.memory);
        let _ = store.set_fuel(u64::MAX);
        match self.pre.instantiate_async(&mut store).await {
            Err(_) if store.data().memory.refused => Err(format!(
                "its memory starts larger than its memory_mb allows ({} MiB)",
                context.memory_mb
            )),
            _ => Ok(()),
        }
    }
}

/// The imports a component may use, on an engine of their own (see [`engine`]).
pub fn new_linker() -> Result<Arc<Linker<State>>, String> {
    let linker = linker::new(&engine()?).map_err(|e| format!("linking WASI failed: {e}"))?;
    Ok(Arc::new(linker))
}

/// How much of an instance's memory is reset in place for the next one (see [`engine`]).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// How many requests to components may run at once, server-wide: the pooling allocator's
/// slots (a request past them fails to instantiate).
const CONCURRENT_INSTANCES: u32 = 1000;

/// The engine of components: the plugins' settings, with wasmtime's pooling allocator, as an
/// instance is made for every request (mapping a fresh memory each time, the default, took
/// most of a request's time: about 150 microseconds on the project's machine).
fn engine() -> Result<Engine, String> {
    let mut pooling = wasmtime::PoolingAllocationConfig::new();
    pooling
        .total_component_instances(CONCURRENT_INSTANCES)
        // A Rust component instantiates 3 core modules, a JavaScript one (StarlingMonkey) 4.
        .total_core_instances(CONCURRENT_INSTANCES * 4)
        .total_memories(CONCURRENT_INSTANCES * 2)
        .total_tables(CONCURRENT_INSTANCES * 4)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        // Reset by writing zeros rather than handing the pages back to the kernel: each
        // madvise made every thread's TLB flush (inter-processor interrupts, 20% of the time).
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES / 16);
    let mut config = crate::serve::engine_config();
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pooling));
    // The pool reserves its address space at once: where a limit forbids it, components run
    // on wasmtime's default allocation, slower.
    Engine::new(&config).or_else(|error| {
        tracing::warn!("components run without wasmtime's pooling allocator: {error}");
        Engine::new(&crate::serve::engine_config())
            .map_err(|e| format!("starting wasmtime for components failed: {e}"))
    })
}
