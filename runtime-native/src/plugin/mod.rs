//! A mounted plugin: its module loaded on the first request (or at start, `eager`), a few
//! instances of it serving requests concurrently, each replaced after a crash, and a time limit
//! for each request. What every host does alike is `valor_host::life`'s; this is the server's
//! part, for wasmtime instances and native plugins alike.

mod imports;
mod instance;
mod load;
mod memory_cap;
mod modules;

use crate::host::PluginContext;
use crate::native::NativeInstance;
use crate::reply::Reply;
use futures::future::{BoxFuture, FutureExt};
use instance::{Fault, Instance};
use load::Code;
pub use modules::{Modules, ScriptEngineSource};
use std::sync::Arc;
use std::time::Duration;
use valor_host::error::DispatchError;
use valor_host::instances::{Breakable, Instances};
use valor_host::life::Life;
use valor_host::manifest::PluginSpec;
use valor_host::registry::PluginState;

/// The compiled module (or library) and its instances. Each is created on its first request,
/// and again after it broke.
type Loaded = valor_host::instances::Loaded<Arc<Code>, BoxFuture<'static, Result<Live, String>>>;

/// An instance of either kind of plugin.
#[derive(Clone)]
enum Live {
    Wasm(Arc<Instance>),
    Native(Arc<NativeInstance>),
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
        }
    }

    async fn dispatch(&self, request: &[u8], depth: u32) -> Result<Reply, Fault> {
        match self {
            Live::Wasm(instance) => instance.dispatch(request, depth).await,
            Live::Native(instance) => instance.dispatch(request, depth).await,
        }
    }
}

impl Breakable for Live {
    fn is_broken(&self) -> bool {
        match self {
            Live::Wasm(instance) => instance.is_broken(),
            Live::Native(instance) => instance.is_broken(),
        }
    }
}

type Loading = BoxFuture<'static, Result<Arc<Loaded>, String>>;

/// A plugin from the manifest or the registry.
pub struct Plugin {
    /// Its entry, loading, backoff, quarantine and replays, as every host has them.
    life: Life<Loading>,
    context: Arc<PluginContext>,
    /// The engine, and the modules compiled for it.
    modules: Arc<Modules>,
    /// How many instances serve it at most.
    instances: usize,
}

impl valor_host::mounts::AsSpec for Plugin {
    fn as_spec(&self) -> &PluginSpec {
        self.life.spec()
    }
}

impl Plugin {
    /// A plugin that will be loaded when first needed, served by up to `instances` instances
    /// (a native plugin by one: its library has one set of statics).
    pub fn new(
        spec: PluginSpec,
        context: PluginContext,
        modules: Arc<Modules>,
        instances: usize,
    ) -> Self {
        let instances = if spec.is_native() { 1 } else { instances };
        Self {
            life: Life::new(spec),
            context: Arc::new(context),
            modules,
            instances: instances.max(1),
        }
    }

    /// The plugin's name, as in its entry.
    pub fn name(&self) -> &str {
        &self.spec().name
    }

    /// Its entry.
    pub fn spec(&self) -> &PluginSpec {
        self.life.spec()
    }

    /// Where it stands: loaded or not, failed, quarantined.
    pub fn state(&self) -> PluginState {
        self.life.state(now_ms(), |loaded| loaded.digest.clone())
    }

    /// Loads its module now rather than on its first request.
    pub async fn preload(&self) -> Result<(), DispatchError> {
        self.life.loaded(now_ms, || self.load()).await.map(drop)
    }

    /// Answers one request (encoded, its URI relative to the mount); `depth` counts
    /// plugin-to-plugin hops. The time limit covers loading too.
    pub async fn answer(
        &self,
        request: &[u8],
        safe: bool,
        depth: u32,
    ) -> Result<Reply, DispatchError> {
        let spec = self.spec();
        let run = self.life.run(
            safe,
            depth,
            now_ms,
            || self.load(),
            // Each attempt goes to the least busy instance: a replay need not meet the instance
            // that was just replaced.
            |loaded| async move { self.attempt(&loaded, request, depth).await },
        );
        let deadline = tokio::time::sleep(Duration::from_millis(spec.timeout_ms.into()));
        self.life.within(run, deadline).await
    }

    /// Runs the request on an instance (a fresh one if the last broke).
    async fn attempt(
        &self,
        loaded: &Loaded,
        request: &[u8],
        depth: u32,
    ) -> Result<Result<Reply, Fault>, DispatchError> {
        let create = || {
            let (modules, context) = (Arc::clone(&self.modules), Arc::clone(&self.context));
            let (code, init) = (Arc::clone(&loaded.code), Arc::clone(&loaded.init));
            async move { Live::new(&modules, &code, context, &init).await }.boxed()
        };
        let run = |instance: Live| async move { instance.dispatch(request, depth).await };
        let attempt = loaded.instances.attempt(create, run);
        attempt
            .await
            .map_err(|reason| self.life.unavailable(reason))
    }

    /// Reads, checks and compiles the module, and creates its first instance.
    fn load(&self) -> Loading {
        let (spec, modules, context) = (
            self.spec().clone(),
            Arc::clone(&self.modules),
            Arc::clone(&self.context),
        );
        let instances = self.instances;
        async move {
            let load::Compiled {
                module,
                digest,
                script,
            } = load::compile(&modules, &spec).await?;
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
}

fn now_ms() -> f64 {
    crate::host::now()
}
