//! A mounted plugin: loaded on its first request, re-instantiated after a crash.

mod instance;
mod load;

use crate::error::DispatchError;
use crate::manifest::PluginSpec;
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use instance::{Fault, Instance};
use js_sys::WebAssembly;
use std::cell::RefCell;
use std::rc::Rc;
use vlugin::abi::codec;
use vlugin::{Request, Response};

/// The compiled module and its current instance.
struct Loaded {
    module: WebAssembly::Module,
    /// `None` after a trap: the next request creates a fresh instance from `module`.
    instance: RefCell<Option<Rc<Instance>>>,
}

type Loading = Shared<LocalBoxFuture<'static, Result<Rc<Loaded>, String>>>;

/// A plugin from the manifest.
pub struct Plugin {
    spec: PluginSpec,
    /// Started by the first request; every later request awaits the same outcome.
    loading: RefCell<Option<Loading>>,
}

impl Plugin {
    /// A plugin that will be loaded when first needed.
    pub fn new(spec: PluginSpec) -> Self {
        Self {
            spec,
            loading: RefCell::new(None),
        }
    }

    /// The plugin's name, as in the manifest.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Handles one request (its URI already relative to the plugin's prefix).
    pub async fn dispatch(&self, request: &Request) -> Result<Response, DispatchError> {
        let loaded = self.loaded().await?;
        let instance = self.instance(&loaded).await?;
        let bytes = instance
            .call(&codec::encode_request(request))
            .map_err(|fault| {
                if matches!(fault, Fault::Trap { .. }) {
                    // Its memory may be inconsistent now: never reuse it.
                    loaded.instance.borrow_mut().take();
                }
                self.fault_error(fault)
            })?;
        codec::decode_response(&bytes).map_err(|e| DispatchError::InvalidResponse {
            plugin: self.spec.name.clone(),
            reason: e.to_string(),
        })
    }

    async fn loaded(&self) -> Result<Rc<Loaded>, DispatchError> {
        let loading = self
            .loading
            .borrow_mut()
            .get_or_insert_with(|| {
                let (name, url) = (self.spec.name.clone(), self.spec.url.clone());
                async move {
                    let (module, instance) = load::fetch_and_instantiate(&name, &url).await?;
                    Ok(Rc::new(Loaded {
                        module,
                        instance: RefCell::new(Some(Rc::new(instance))),
                    }))
                }
                .boxed_local()
                .shared()
            })
            .clone();
        loading.await.map_err(|reason| self.unavailable(reason))
    }

    async fn instance(&self, loaded: &Loaded) -> Result<Rc<Instance>, DispatchError> {
        if let Some(instance) = loaded.instance.borrow().as_ref() {
            return Ok(Rc::clone(instance));
        }
        let instance = Rc::new(
            load::reinstantiate(&loaded.module)
                .await
                .map_err(|reason| self.unavailable(reason))?,
        );
        *loaded.instance.borrow_mut() = Some(Rc::clone(&instance));
        Ok(instance)
    }

    fn unavailable(&self, reason: String) -> DispatchError {
        DispatchError::Unavailable {
            plugin: self.spec.name.clone(),
            reason,
        }
    }

    fn fault_error(&self, fault: Fault) -> DispatchError {
        let plugin = self.spec.name.clone();
        match fault {
            Fault::Trap {
                panic: Some(message),
                ..
            } => DispatchError::Panicked { plugin, message },
            Fault::Trap { error, .. } => DispatchError::Crashed {
                plugin,
                message: error,
            },
            Fault::Stalled => DispatchError::Stalled { plugin },
            Fault::BadFrame(reason) => DispatchError::InvalidResponse { plugin, reason },
        }
    }
}
