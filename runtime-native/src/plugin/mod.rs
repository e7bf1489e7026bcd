//! A mounted plugin: its module loaded on the first request (or at start, `eager`), a few
//! instances of it serving requests concurrently, each replaced after a crash, and a time limit
//! for each request. The same behaviour as the browser runtime's `plugin` module, on wasmtime.

mod imports;
mod instance;
mod load;
mod state;

use crate::host::PluginContext;
use crate::reply::Reply;
use futures::future::{BoxFuture, FutureExt, Shared};
use instance::{Fault, Instance};
pub use load::{Modules, ScriptEngineSource};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use valor_host::backoff::Backoff;
use valor_host::error::{DispatchError, MAX_DEPTH};
use valor_host::manifest::PluginSpec;
use valor_host::quarantine::Quarantine;
use valor_host::registry::PluginState;
use wasmtime::Module;

/// The compiled module and its instances.
struct Loaded {
    module: Arc<Module>,
    /// The SHA-256 of the entry's file, in Subresource Integrity form.
    digest: String,
    /// What `valor_init` is handed: the entry's `config` (JSON), mount and origin; for a
    /// JavaScript plugin, the engine's config with the script.
    init: Arc<[u8]>,
    /// Where requests go: the first instance that has none in flight, else the least busy.
    /// Each is created on its first request, and again after it broke.
    instances: Vec<InstanceSlot>,
}

#[derive(Default)]
struct InstanceSlot {
    instance: tokio::sync::Mutex<Option<Arc<Instance>>>,
    in_flight: AtomicUsize,
}

type Loading = Shared<BoxFuture<'static, Result<Arc<Loaded>, String>>>;

/// A plugin from the manifest or the registry.
pub struct Plugin {
    spec: PluginSpec,
    context: Arc<PluginContext>,
    /// The engine, and the modules compiled for it.
    modules: Arc<Modules>,
    /// How many instances serve it at most.
    instances: usize,
    loading: Mutex<Option<Loading>>,
    backoff: Arc<Mutex<Backoff>>,
    quarantine: Mutex<Quarantine>,
}

impl valor_host::mounts::AsSpec for Plugin {
    fn as_spec(&self) -> &PluginSpec {
        &self.spec
    }
}

impl Plugin {
    /// A plugin that will be loaded when first needed, served by up to `instances` instances.
    pub fn new(
        spec: PluginSpec,
        context: PluginContext,
        modules: Arc<Modules>,
        instances: usize,
    ) -> Self {
        Self {
            spec,
            context: Arc::new(context),
            modules,
            instances: instances.max(1),
            loading: Mutex::new(None),
            backoff: Arc::default(),
            quarantine: Mutex::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    /// Where it stands: loaded or not, failed, quarantined.
    pub fn state(&self) -> PluginState {
        let now = now_ms();
        if let Some((seconds, _)) = lock(&self.quarantine).remaining(|| now) {
            return PluginState::Quarantined { seconds };
        }
        let outcome = lock(&self.loading).as_ref().map(|l| l.peek().cloned());
        match outcome {
            None => PluginState::NotLoaded,
            Some(None) => PluginState::Loading,
            Some(Some(Ok(loaded))) => PluginState::Loaded {
                digest: loaded.digest.clone(),
            },
            Some(Some(Err(reason))) => PluginState::Failed {
                reason,
                retry_in_s: lock(&self.backoff).seconds_left(now),
            },
        }
    }

    /// Loads its module now rather than on its first request.
    pub async fn preload(&self) -> Result<(), DispatchError> {
        self.loaded().await.map(drop)
    }

    /// Answers one request (encoded, its URI relative to the mount); `depth` counts
    /// plugin-to-plugin hops. The time limit covers loading too.
    pub async fn answer(
        &self,
        request: &[u8],
        safe: bool,
        depth: u32,
    ) -> Result<Reply, DispatchError> {
        if depth > MAX_DEPTH {
            return Err(DispatchError::TooDeep {
                plugin: self.spec.name.clone(),
            });
        }
        let limit = Duration::from_millis(self.spec.timeout_ms.into());
        match tokio::time::timeout(limit, self.run(request, safe, depth)).await {
            Ok(answer) => answer,
            Err(_) => Err(DispatchError::TimedOut {
                plugin: self.spec.name.clone(),
                timeout_ms: self.spec.timeout_ms,
            }),
        }
    }

    async fn run(&self, request: &[u8], safe: bool, depth: u32) -> Result<Reply, DispatchError> {
        if let Some((seconds, strikes)) = lock(&self.quarantine).remaining(now_ms) {
            return Err(DispatchError::Quarantined {
                plugin: self.spec.name.clone(),
                seconds,
                strikes,
                fuel: self.spec.fuel.unwrap_or_default(),
            });
        }
        let loaded = self.loaded().await?;
        let slot = loaded.pick();
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        let _done = InFlight(slot);
        let mut answer = self.attempt(slot, &loaded, request, depth).await?;
        if let Err(Fault::Lost { replayable }) = answer {
            // Another request crashed the instance under this one. If this one cannot have
            // had an effect outside the plugin yet, it runs again, once, on a fresh instance.
            if replayable || safe {
                answer = self.attempt(slot, &loaded, request, depth).await?;
            }
        }
        match &answer {
            Ok(_) => lock(&self.quarantine).answered(),
            Err(Fault::OutOfFuel) => lock(&self.quarantine).ran_out(now_ms()),
            Err(_) => {}
        }
        answer.map_err(|fault| fault.into_error(&self.spec))
    }

    /// Runs the request on the slot's instance; discards the instance if it broke.
    async fn attempt(
        &self,
        slot: &InstanceSlot,
        loaded: &Loaded,
        request: &[u8],
        depth: u32,
    ) -> Result<Result<Reply, Fault>, DispatchError> {
        let instance = {
            let mut current = slot.instance.lock().await;
            match current.as_ref() {
                Some(instance) => Arc::clone(instance),
                None => {
                    // A failure is not kept: the next request tries again.
                    let instance = Instance::new(
                        self.modules.engine(),
                        &loaded.module,
                        Arc::clone(&self.context),
                        &loaded.init,
                    )
                    .map_err(|reason| self.unavailable(reason))?;
                    *current = Some(Arc::clone(&instance));
                    instance
                }
            }
        };
        let answer = instance.dispatch(request, depth).await;
        if instance.is_broken() {
            // Its memory may be inconsistent now: never reuse it.
            let mut current = slot.instance.lock().await;
            if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &instance)) {
                *current = None;
            }
        }
        Ok(answer)
    }

    async fn loaded(&self) -> Result<Arc<Loaded>, DispatchError> {
        let loading = {
            let mut slot = lock(&self.loading);
            let failed = slot
                .as_ref()
                .is_some_and(|l| matches!(l.peek(), Some(Err(_))));
            if failed && lock(&self.backoff).is_over(now_ms()) {
                *slot = None;
            }
            slot.get_or_insert_with(|| self.load()).clone()
        };
        loading.await.map_err(|reason| {
            let seconds = lock(&self.backoff).seconds_left(now_ms());
            self.unavailable(format!(
                "{reason} (it is loaded again on a request in {seconds} s or later)"
            ))
        })
    }

    /// Reads, checks and compiles the module, and creates its first instance; the outcome
    /// feeds the backoff.
    fn load(&self) -> Loading {
        let (spec, modules, context, backoff) = (
            self.spec.clone(),
            Arc::clone(&self.modules),
            Arc::clone(&self.context),
            Arc::clone(&self.backoff),
        );
        let instances = self.instances;
        async move {
            let loaded = async {
                let load::Compiled {
                    module,
                    digest,
                    script,
                } = load::compile(&modules, &spec).await?;
                let init: Arc<[u8]> =
                    valor_host::script::init_message(&spec, &context.origin, script).into();
                let first = Instance::new(modules.engine(), &module, context, &init)?;
                let instances: Vec<InstanceSlot> =
                    (0..instances).map(|_| InstanceSlot::default()).collect();
                *instances[0].instance.lock().await = Some(first);
                Ok::<_, String>(Loaded {
                    module,
                    digest,
                    init,
                    instances,
                })
            }
            .await;
            match &loaded {
                Ok(_) => lock(&backoff).succeeded(),
                Err(_) => lock(&backoff).failed(now_ms()),
            }
            loaded.map(Arc::new)
        }
        .boxed()
        .shared()
    }

    fn unavailable(&self, reason: String) -> DispatchError {
        DispatchError::Unavailable {
            plugin: self.spec.name.clone(),
            reason,
        }
    }
}

impl Loaded {
    /// The first instance with no request in flight (so that requests one after another meet
    /// one instance and its memory, as in the browser), else the least busy one.
    fn pick(&self) -> &InstanceSlot {
        self.instances
            .iter()
            .min_by_key(|slot| slot.in_flight.load(Ordering::Relaxed))
            .expect("at least one instance")
    }
}

/// Counts a request out of its instance's slot however it ends.
struct InFlight<'a>(&'a InstanceSlot);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_ms() -> f64 {
    crate::host::now()
}
