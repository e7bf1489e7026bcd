//! A mounted plugin on the server: `valor_host::plugin::Plugin` (loaded on the first request or
//! at start, `eager`; a few instances serving requests concurrently, each replaced after a
//! crash; backoff, quarantine, replays, the time limit of each request) over the server's part,
//! [`Loader`]: reading, checking and compiling its module (or loading its native library), and
//! creating wasmtime instances or native ones.

mod answer;
mod imports;
mod instance;
mod load;
mod memory_cap;
pub use memory_cap::MemoryCap;
mod modules;

use crate::component::{self, Component};
use crate::host::PluginContext;
use crate::native::NativeInstance;
use crate::reply::Reply;
use futures::future::{BoxFuture, FutureExt};
use instance::{Fault, Instance};
use load::Code;
pub use modules::{Modules, ScriptEngineSource};
use std::sync::Arc;
use std::time::Duration;
use valor_host::bodies::Source;
use valor_host::guest;
use valor_host::instances::{Breakable, Instances};
use valor_host::manifest::PluginSpec;
use valor_host::plugin::Load;
use valor_host::streamed::Limits;

pub use answer::{keep, log, sleep};

/// The compiled module (or library) and its instances. Each is created on its first request,
/// and again after it broke.
type Loaded = valor_host::instances::Loaded<Arc<Code>, BoxFuture<'static, Result<Live, String>>>;

/// An instance of either kind of plugin.
#[derive(Clone)]
pub enum Live {
    /// A WebAssembly module's, on wasmtime.
    Wasm(Arc<Instance>),
    /// A native plugin's library.
    Native(Arc<NativeInstance>),
    /// A component's: a store and an instance are made for each request.
    Component(Arc<Component>, Arc<PluginContext>),
}

impl Live {
    /// A new instance of `code`, initialised with `init`.
    async fn new(
        modules: &Modules,
        code: &Code,
        context: Arc<PluginContext>,
        init: &Arc<[u8]>,
    ) -> Result<Self, String> {
        match code {
            Code::Wasm(module) => {
                Instance::new(modules.linker(), module, context, init).map(Live::Wasm)
            }
            Code::Native(library) => NativeInstance::new(library, context, Arc::clone(init))
                .await
                .map(Live::Native),
            Code::Component(component) => Ok(Live::Component(Arc::clone(component), context)),
        }
    }

    async fn dispatch(
        &self,
        request: &[u8],
        body: Option<&Arc<Source>>,
        depth: u32,
        limits: &Arc<Limits>,
    ) -> Result<Reply, Fault> {
        match self {
            Live::Wasm(instance) => {
                let answer = guest::dispatch(Arc::clone(instance), request, body, depth).await?;
                Ok(answer::reply(answer, limits))
            }
            // Boxed, so that the futures of a module's requests are no larger than their own.
            Live::Native(instance) => {
                Box::pin(instance.dispatch(request, body, depth, limits)).await
            }
            Live::Component(component, context) => {
                Box::pin(component::respond(
                    component, context, request, depth, limits,
                ))
                .await
            }
        }
    }
}

impl Breakable for Live {
    fn is_broken(&self) -> bool {
        match self {
            Live::Wasm(instance) => instance.is_broken(),
            Live::Native(instance) => instance.is_broken(),
            // Nothing outlives a request.
            Live::Component(..) => false,
        }
    }
}

/// A plugin from the manifest or the registry.
pub type Plugin = valor_host::plugin::Plugin<Loader>;

/// The server's part of a mounted plugin.
pub struct Loader {
    context: Arc<PluginContext>,
    /// The engine, and the modules compiled for it.
    modules: Arc<Modules>,
    /// How many instances serve it at most.
    instances: usize,
    /// Its entry's limits of a streamed answer and of work after an answer, made once: a
    /// native plugin's requests carry them to its thread.
    limits: Arc<Limits>,
}

/// A plugin that will be loaded when first needed, served by up to `instances` instances (a
/// native plugin by one: its library has one set of statics).
pub fn new(
    spec: PluginSpec,
    context: PluginContext,
    modules: Arc<Modules>,
    instances: usize,
) -> Plugin {
    let instances = if spec.is_native() {
        1
    } else {
        instances.max(1)
    };
    let context = Arc::new(context);
    let limits = Arc::new(Limits::of(&spec));
    Plugin::new(
        spec,
        Loader {
            context,
            modules,
            instances,
            limits,
        },
    )
}

/// The reply of `plugin` to one request (encoded, its URI relative to the mount; `body`, the
/// body it reads as a stream, if it does), tagged; a failure becomes its error reply. `depth`
/// counts plugin-to-plugin hops.
pub async fn respond(
    plugin: &Plugin,
    request: &[u8],
    body: Option<&Arc<Source>>,
    safe: bool,
    depth: u32,
) -> Reply {
    let limits = &plugin.host().limits;
    let run = |instance: Live| async move { instance.dispatch(request, body, depth, limits).await };
    // The clock is read now, the timer set only if the answer is not ready at once.
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(plugin.spec().timeout_ms.into());
    let deadline = async move { tokio::time::sleep_until(deadline).await };
    let answer = plugin.answer(safe, depth, run, deadline).await;
    Reply::tagged(answer, plugin.tag())
}

impl Load for Loader {
    type Code = Arc<Code>;
    type Instance = Live;
    type Create = BoxFuture<'static, Result<Live, String>>;
    type Loaded = Arc<Loaded>;
    type Loading = BoxFuture<'static, Result<Arc<Loaded>, String>>;

    fn now() -> f64 {
        crate::host::now()
    }

    /// Reads, checks and compiles the module, and creates its first instance.
    fn load(&self, spec: &PluginSpec) -> Self::Loading {
        let (spec, modules, context) = (
            spec.clone(),
            Arc::clone(&self.modules),
            Arc::clone(&self.context),
        );
        let instances = self.instances;
        async move {
            let load::Compiled {
                module,
                digest,
                script,
            } = load::compile(&modules, &spec, &context).await?;
            let init: Arc<[u8]> =
                valor_host::script::init_message(&spec, &context.origin, script).into();
            let first = Live::new(&modules, &module, context, &init).await?;
            Ok(Arc::new(Loaded {
                code: Arc::new(module),
                digest,
                init,
                instances: Instances::new(instances, futures::future::ready(Ok(first)).boxed()),
            }))
        }
        .boxed()
    }

    fn create(&self, loaded: &Arc<Loaded>) -> Self::Create {
        let (modules, context) = (Arc::clone(&self.modules), Arc::clone(&self.context));
        let (code, init) = (Arc::clone(&loaded.code), Arc::clone(&loaded.init));
        async move { Live::new(&modules, &code, context, &init).await }.boxed()
    }
}
