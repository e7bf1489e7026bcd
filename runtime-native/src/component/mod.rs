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

use std::sync::Arc;
use wasmtime::component::Linker;
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// A component compiled and linked with the host's imports, ready to be instantiated per
/// request.
pub struct Component {
    pre: ProxyPre<State>,
}

impl Component {
    /// `bytes` (from `url`) compiled and linked, or why not (in words for the plugin's author:
    /// an import this host does not give is named).
    pub fn new(linker: &Linker<State>, url: &str, bytes: &[u8]) -> Result<Self, String> {
        let component = wasmtime::component::Component::new(linker.engine(), bytes)
            .map_err(|e| format!("{url} is not a valid WebAssembly component: {e:#}"))?;
        let pre = linker
            .instantiate_pre(&component)
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
}

/// The imports a component may use, for `engine` (see [`linker::new`]).
pub fn new_linker(engine: &Engine) -> Arc<Linker<State>> {
    Arc::new(linker::new(engine).expect("the WASI interfaces link once each"))
}
