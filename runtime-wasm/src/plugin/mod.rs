//! A mounted plugin: loaded on its first request, re-instantiated after a crash, and given a
//! time limit for each request.

mod abort;
mod imports;
mod instance;
mod load;
mod modules;
mod rewriter;
mod rewritten;

use crate::error::DispatchError;
use crate::host::{timer, PluginContext};
use crate::inbound::RequestFrame;
use crate::manifest::PluginSpec;
use crate::reply::{Reply, Tag};
use futures::future::{self, Either, FutureExt, LocalBoxFuture};
use instance::{Fault, Instance};
use js_sys::WebAssembly;
use valor_host::instances::{Breakable, Instances};
use valor_host::life::Life;
pub use valor_host::registry::PluginState;

pub use modules::Modules;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;

/// The compiled module and its instance: one, a worker runs on one thread. After a trap the
/// next request starts a fresh instance from the module, and every request meanwhile awaits
/// that same one.
type Loaded = valor_host::instances::Loaded<WebAssembly::Module, Making<Rc<Instance>>>;

/// What makes a value shared by the callers meanwhile (see `valor_host::slot`).
type Making<T> = LocalBoxFuture<'static, Result<T, String>>;
type Slot<T> = valor_host::slot::Slot<Making<T>>;
type Loading = Making<Rc<Loaded>>;

impl Breakable for Instance {
    fn is_broken(&self) -> bool {
        Instance::is_broken(self)
    }
}

/// A plugin from the manifest.
pub struct Plugin {
    /// Its entry, loading, backoff, quarantine and replays, as every host has them.
    life: Life<Loading>,
    context: Rc<PluginContext>,
    /// Where its module is compiled, shared with the plugins that mount the same file.
    modules: Rc<Modules>,
}

impl valor_host::mounts::AsSpec for Plugin {
    fn as_spec(&self) -> &PluginSpec {
        self.life.spec()
    }
}

impl Plugin {
    /// A plugin that will be loaded when first needed.
    pub fn new(spec: PluginSpec, context: PluginContext, modules: Rc<Modules>) -> Self {
        Self {
            life: Life::new(spec),
            context: Rc::new(context),
            modules,
        }
    }

    /// The plugin's name, as in the manifest.
    pub fn name(&self) -> &str {
        &self.spec().name
    }

    /// Its entry.
    pub fn spec(&self) -> &PluginSpec {
        self.life.spec()
    }

    /// Where it stands: loaded or not, failed, quarantined.
    pub fn state(&self) -> PluginState {
        self.life
            .state(js_sys::Date::now(), |loaded| loaded.digest.clone())
    }

    /// The module its instances are made of: the entry's, or for a script the engine's.
    fn source(&self) -> load::Source {
        let script = valor_host::script::is_script(&self.spec().url);
        load::Source {
            url: match script {
                true => self.modules.script_engine_url().to_owned(),
                false => self.spec().url.clone(),
            },
            limits: crate::host::meter_limits(&self.context),
            // A script's integrity is checked on the script.
            integrity: self.spec().integrity.clone().filter(|_| !script),
        }
    }

    /// Loads its module now rather than on its first request; why not, if it cannot be.
    pub async fn preload(&self) -> Result<(), DispatchError> {
        let loaded = self.life.loaded(js_sys::Date::now, || self.load());
        loaded.await.map(drop)
    }

    /// The largest request body it accepts (its entry's `max_body_bytes`).
    pub fn max_body_bytes(&self) -> u32 {
        self.spec().max_body_bytes
    }

    /// Whether its entry lets it answer page navigations.
    pub fn accepts_navigations(&self) -> bool {
        self.spec().navigations
    }

    /// Answers one request (its URI relative to the plugin's prefix), tagged with the plugin's
    /// name; failures become their error replies. `depth` counts plugin-to-plugin hops, and
    /// `page` is the page's request, whose abort signal cancels this one, if any.
    pub async fn respond(
        &self,
        request: &RequestFrame,
        depth: u32,
        page: Option<&web_sys::Request>,
    ) -> Reply {
        Reply::tagged(self.answer(request, depth, page).await, self.tag())
    }

    /// What its replies are tagged with.
    pub fn tag(&self) -> Tag<'_> {
        Tag::of(self.spec())
    }

    async fn answer(
        &self,
        request: &RequestFrame,
        depth: u32,
        page: Option<&web_sys::Request>,
    ) -> Result<Reply, DispatchError> {
        let run = self.life.run(
            request.is_safe(),
            depth,
            js_sys::Date::now,
            || self.load(),
            |loaded| async move { self.attempt(&loaded, request, depth).await },
        );
        let aborted = match page {
            // (Not `page.clone()`: that is `Request.clone()`, a copy of the request.)
            Some(page) => Either::Left(abort::aborted(Clone::clone(page))),
            None => Either::Right(future::pending()),
        };
        // Dropping `run` drops the task inside the plugin. It is polled first: most handlers
        // (of a loaded plugin) finish in that first poll, and then neither the abort listener
        // nor the deadline timer is ever set up.
        let work = async {
            match future::select(pin!(run), pin!(aborted)).await {
                Either::Left((answer, _)) => answer,
                Either::Right(_) => Err(DispatchError::Aborted),
            }
        };
        // The time limit covers loading too: a module whose fetch never settles must not
        // hold the request for ever.
        let deadline = timer::sleep(f64::from(self.spec().timeout_ms));
        self.life.within(work, deadline).await
    }

    /// Runs the encoded request on the instance (a fresh one if the last broke).
    async fn attempt(
        &self,
        loaded: &Loaded,
        request: &RequestFrame,
        depth: u32,
    ) -> Result<Result<Reply, Fault>, DispatchError> {
        let create = || {
            let (context, module, init) = (
                Rc::clone(&self.context),
                loaded.code.clone(),
                Arc::clone(&loaded.init),
            );
            async move { Ok(Rc::new(load::instantiate(&context, &module, &init).await?)) }
                .boxed_local()
        };
        let run = |instance: Rc<Instance>| async move { instance.dispatch(request, depth).await };
        let attempt = loaded.instances.attempt(create, run);
        attempt
            .await
            .map_err(|reason| self.life.unavailable(reason))
    }

    /// Fetches, compiles and instantiates the module; the outcome feeds the backoff.
    fn load(&self) -> Loading {
        let source = self.source();
        let (spec, context, modules) = (
            self.spec().clone(),
            Rc::clone(&self.context),
            Rc::clone(&self.modules),
        );
        async move {
            let loaded = async {
                if spec.is_native() {
                    return Err(valor_host::manifest::native_in_browser(&spec.url));
                }
                let name = &context.name;
                crate::sys::mark(name, "load");
                let (compiled, script) = if valor_host::script::is_script(&spec.url) {
                    let cache = modules.cache_name();
                    let fetched = load::script(&spec.url, spec.integrity.as_ref(), cache);
                    let (script, engine) = future::join(fetched, modules.compile(source)).await;
                    let (text, digest) = script?;
                    let mut engine = engine?;
                    engine.digest = digest;
                    (
                        engine,
                        Some(valor_host::script::engine_config(&spec, &text)),
                    )
                } else {
                    (modules.compile(source).await?, None)
                };
                crate::sys::mark(name, "compiled");
                let init: Arc<[u8]> =
                    valor_host::script::init_message(&spec, &context.origin, script).into();
                let instance = load::instantiate(&context, &compiled.module, &init).await?;
                crate::sys::mark(name, "instantiated");
                Ok::<_, String>((compiled, init, instance))
            };
            let (compiled, init, instance) = loaded.await?;
            let instance = future::ready(Ok(Rc::new(instance))).boxed_local();
            Ok(Rc::new(Loaded {
                code: compiled.module,
                digest: compiled.digest,
                init,
                instances: Instances::new(1, instance),
            }))
        }
        .boxed_local()
    }
}
