//! Compiled modules, shared by the plugins that mount the same file with the same limits (the
//! demo mounts `with_state.wasm` twice): each is fetched and compiled once per worker.

use super::load::{self, Compiled, Source};
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

type Compiling = Shared<LocalBoxFuture<'static, Result<Compiled, String>>>;

/// The modules compiled (or being compiled) in this worker.
pub struct Modules {
    /// The Cache Storage cache that keeps modules for starts without the network.
    cache: Rc<str>,
    compiled: RefCell<HashMap<Source, Compiling>>,
}

impl Modules {
    pub fn new(cache: &str) -> Self {
        Self {
            cache: cache.into(),
            compiled: RefCell::default(),
        }
    }

    /// The module `source` names, compiled once however many plugins ask. A failure is not
    /// kept: the next request compiles again (the plugin's backoff decides when).
    pub async fn compile(&self, source: Source) -> Result<Compiled, String> {
        let compiling = self
            .compiled
            .borrow_mut()
            .entry(source.clone())
            .or_insert_with(|| {
                let (cache, source) = (Rc::clone(&self.cache), source.clone());
                async move { load::compile(&source, &cache).await }
                    .boxed_local()
                    .shared()
            })
            .clone();
        let compiled = compiling.clone().await;
        if compiled.is_err() {
            let mut map = self.compiled.borrow_mut();
            if map.get(&source).is_some_and(|c| c.ptr_eq(&compiling)) {
                map.remove(&source);
            }
        }
        compiled
    }

    /// The Cache Storage cache the modules are kept in.
    pub fn cache_name(&self) -> &str {
        &self.cache
    }
}
