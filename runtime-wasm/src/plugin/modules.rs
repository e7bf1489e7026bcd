//! Compiled modules, shared by the plugins that mount the same file with the same limits (the
//! demo mounts `with_state.wasm` twice): each is fetched and compiled once per worker.

use super::component::{self, ComponentHost};
use super::load::{self, Compiled, Source};
use super::rewriter::Rewriter;
use super::Slot;
use futures::future::FutureExt;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use valor_host::script::ENGINE_FILE;

/// The modules compiled (or being compiled) in this worker.
pub struct Modules {
    /// The Cache Storage cache that keeps modules for starts without the network.
    cache: Rc<str>,
    /// Rewrites modules for their limits.
    rewriter: Rc<Rewriter>,
    /// Runs components (`valor_component_bg.wasm`, beside the rewriter).
    components: Rc<ComponentHost>,
    /// The JavaScript engine module (`valor_js.wasm`, beside the rewriter), which runs `.js`
    /// and `.mjs` plugins.
    script_engine: String,
    compiled: RefCell<HashMap<Source, Rc<Slot<Compiled>>>>,
}

impl Modules {
    /// Modules kept in the Cache Storage cache `cache`, rewritten by the rewriter at
    /// `rewriter_url` (`valor_meter.wasm`).
    pub fn new(cache: &str, rewriter_url: &str) -> Self {
        let script_engine = web_sys::Url::new_with_base(ENGINE_FILE, rewriter_url)
            .map(|url| url.href())
            .unwrap_or_else(|_| ENGINE_FILE.to_owned());
        let components = web_sys::Url::new_with_base(component::HOST_FILE, rewriter_url)
            .map(|url| url.href())
            .unwrap_or_else(|_| component::HOST_FILE.to_owned());
        Self {
            cache: cache.into(),
            rewriter: Rc::new(Rewriter::new(rewriter_url, cache)),
            components: Rc::new(ComponentHost::new(&components, cache)),
            script_engine,
            compiled: RefCell::default(),
        }
    }

    /// The module `source` names, compiled once however many plugins ask. A failure is not
    /// kept: the next request compiles again (the plugin's backoff decides when).
    pub async fn compile(&self, source: Source) -> Result<Compiled, String> {
        let slot = Rc::clone(
            self.compiled
                .borrow_mut()
                .entry(source.clone())
                .or_default(),
        );
        slot.get(|| {
            let (cache, rewriter) = (Rc::clone(&self.cache), Rc::clone(&self.rewriter));
            let components = Rc::clone(&self.components);
            async move { load::compile(&source, &rewriter, &components, &cache).await }
                .boxed_local()
        })
        .await
    }

    /// The Cache Storage cache the modules are kept in.
    pub fn cache_name(&self) -> &str {
        &self.cache
    }

    /// Where the module rewriter is (kept for offline starts with the plugins' modules).
    pub fn rewriter_url(&self) -> &str {
        self.rewriter.url()
    }

    /// Where the component host's module is (kept for offline starts with the plugins').
    pub fn component_host_url(&self) -> &str {
        self.components.url()
    }

    /// Where the JavaScript engine module is.
    pub fn script_engine_url(&self) -> &str {
        &self.script_engine
    }
}
