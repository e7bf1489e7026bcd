//! A mounted plugin: loaded on its first request, re-instantiated after a crash, and given a
//! time limit for each request.

mod abort;
mod imports;
mod instance;
mod load;
mod modules;
mod rewriter;
mod rewritten;
mod slot;

use crate::error::{DispatchError, MAX_DEPTH};
use crate::host::{timer, PluginContext};
use crate::inbound::RequestFrame;
use crate::manifest::PluginSpec;
use crate::reply::{Reply, Tag};
use futures::future::{self, Either, FutureExt, LocalBoxFuture, Shared};
use instance::{Fault, Instance};
use js_sys::WebAssembly;
use slot::Slot;
use valor_host::backoff::Backoff;
use valor_host::quarantine::Quarantine;
pub use valor_host::registry::PluginState;

pub use modules::Modules;
use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;

/// The compiled module and its current instance.
struct Loaded {
    module: WebAssembly::Module,
    /// The SHA-256 of the entry's file, in Subresource Integrity form.
    digest: String,
    /// What `valor_init` is handed: the entry's `config` (JSON), mount and origin; for a
    /// JavaScript plugin, the engine's config with the script.
    init: Rc<[u8]>,
    /// The instance requests go to, or the one being created. Emptied after a trap; the next
    /// request starts a fresh instance from `module`, and every request meanwhile awaits that
    /// same one (a single re-instantiation, however many requests arrive).
    instance: Slot<Rc<Instance>>,
}

type Loading = Shared<LocalBoxFuture<'static, Result<Rc<Loaded>, String>>>;

/// A plugin from the manifest.
pub struct Plugin {
    spec: PluginSpec,
    context: Rc<PluginContext>,
    /// Started by the first request; every later request awaits the same outcome. A failed
    /// load is started again by the first request after its backoff.
    loading: RefCell<Option<Loading>>,
    backoff: Rc<Backoff>,
    quarantine: Quarantine,
    /// Where its module is compiled, shared with the plugins that mount the same file.
    modules: Rc<Modules>,
}

impl valor_host::mounts::AsSpec for Plugin {
    fn as_spec(&self) -> &PluginSpec {
        &self.spec
    }
}

impl Plugin {
    /// A plugin that will be loaded when first needed.
    pub fn new(spec: PluginSpec, context: PluginContext, modules: Rc<Modules>) -> Self {
        Self {
            spec,
            context: Rc::new(context),
            loading: RefCell::new(None),
            backoff: Rc::default(),
            quarantine: Quarantine::default(),
            modules,
        }
    }

    /// The plugin's name, as in the manifest.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Its entry.
    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    /// Where it stands: loaded or not, failed, quarantined.
    pub fn state(&self) -> PluginState {
        let now = js_sys::Date::now();
        if let Some((seconds, _)) = self.quarantine.remaining(|| now) {
            return PluginState::Quarantined { seconds };
        }
        let outcome = self.loading.borrow().as_ref().map(|l| l.peek().cloned());
        match outcome {
            None => PluginState::NotLoaded,
            Some(None) => PluginState::Loading,
            Some(Some(Ok(loaded))) => PluginState::Loaded {
                digest: loaded.digest.clone(),
            },
            Some(Some(Err(reason))) => PluginState::Failed {
                reason,
                retry_in_s: self.backoff.seconds_left(now),
            },
        }
    }

    /// The module its instances are made of: the entry's, or for a script the engine's.
    fn source(&self) -> load::Source {
        let script = valor_host::script::is_script(&self.spec.url);
        load::Source {
            url: match script {
                true => self.modules.script_engine_url().to_owned(),
                false => self.spec.url.clone(),
            },
            limits: self.context.meter_limits(),
            // A script's integrity is checked on the script.
            integrity: self.spec.integrity.clone().filter(|_| !script),
        }
    }

    /// Loads its module now rather than on its first request; why not, if it cannot be.
    pub async fn preload(&self) -> Result<(), DispatchError> {
        self.loaded().await.map(drop)
    }

    /// The largest request body it accepts (its entry's `max_body_bytes`).
    pub fn max_body_bytes(&self) -> u32 {
        self.spec.max_body_bytes
    }

    /// Whether its entry lets it answer page navigations.
    pub fn accepts_navigations(&self) -> bool {
        self.spec.navigations
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
        let tag = self.tag();
        match self.answer(request, depth, page).await {
            Ok(mut reply) => {
                reply.tag(tag);
                reply
            }
            Err(error) => Reply::error(&error, Some(tag)),
        }
    }

    /// What its replies are tagged with.
    pub fn tag(&self) -> Tag<'_> {
        Tag {
            plugin: &self.spec.name,
            sandbox: self.spec.sandbox,
        }
    }

    async fn answer(
        &self,
        request: &RequestFrame,
        depth: u32,
        page: Option<&web_sys::Request>,
    ) -> Result<Reply, DispatchError> {
        if depth > MAX_DEPTH {
            return Err(DispatchError::TooDeep {
                plugin: self.spec.name.clone(),
            });
        }
        // The time limit covers loading too: a module whose fetch never settles must not
        // hold the request for ever.
        let work = pin!(self.run(request, depth));
        let deadline = pin!(timer::sleep(f64::from(self.spec.timeout_ms)));
        let aborted = pin!(match page {
            // (Not `page.clone()`: that is `Request.clone()`, a copy of the request.)
            Some(page) => Either::Left(abort::aborted(Clone::clone(page))),
            None => Either::Right(future::pending()),
        });
        // Whichever comes first; dropping `work` drops the task inside the plugin. `work` is
        // polled first, and most handlers (of a loaded plugin) finish in that first poll: then
        // neither the deadline timer nor the abort listener is ever set up.
        match future::select(work, future::select(deadline, aborted)).await {
            Either::Left((answer, _)) => answer,
            Either::Right((Either::Left(_), _)) => Err(DispatchError::TimedOut {
                plugin: self.spec.name.clone(),
                timeout_ms: self.spec.timeout_ms,
            }),
            Either::Right((Either::Right(_), _)) => Err(DispatchError::Aborted),
        }
    }

    /// Loads the plugin if it is not yet, and runs the request on its current instance.
    async fn run(&self, request: &RequestFrame, depth: u32) -> Result<Reply, DispatchError> {
        if let Some((seconds, strikes)) = self.quarantine.remaining(js_sys::Date::now) {
            return Err(DispatchError::Quarantined {
                plugin: self.spec.name.clone(),
                seconds,
                strikes,
                fuel: self.spec.fuel.unwrap_or_default(),
            });
        }
        let loaded = self.loaded().await?;
        let mut answer = self.attempt(&loaded, request, depth).await?;
        if let Err(Fault::Lost { replayable }) = answer {
            // Another request crashed the instance under this one. If this one cannot have
            // had an effect outside the plugin yet, it runs again, once, on the fresh instance.
            if replayable || request.is_safe() {
                answer = self.attempt(&loaded, request, depth).await?;
            }
        }
        match &answer {
            Ok(_) => self.quarantine.answered(),
            Err(Fault::OutOfFuel) => self.quarantine.ran_out(js_sys::Date::now()),
            Err(_) => {}
        }
        answer.map_err(|fault| fault.into_error(&self.spec))
    }

    /// Runs the encoded request on the current instance; discards the instance if it broke.
    async fn attempt(
        &self,
        loaded: &Loaded,
        request: &RequestFrame,
        depth: u32,
    ) -> Result<Result<Reply, Fault>, DispatchError> {
        let instance = self.instance(loaded).await?;
        let answer = instance.dispatch(request, depth).await;
        if instance.is_broken() {
            // Its memory may be inconsistent now: never reuse it.
            loaded
                .instance
                .clear_if(|current| Rc::ptr_eq(current, &instance));
        }
        Ok(answer)
    }

    async fn loaded(&self) -> Result<Rc<Loaded>, DispatchError> {
        let loading = {
            let mut slot = self.loading.borrow_mut();
            let failed = slot
                .as_ref()
                .is_some_and(|l| matches!(l.peek(), Some(Err(_))));
            if failed && self.backoff.is_over(js_sys::Date::now()) {
                *slot = None;
            }
            slot.get_or_insert_with(|| self.load()).clone()
        };
        loading.await.map_err(|reason| {
            let seconds = self.backoff.seconds_left(js_sys::Date::now());
            self.unavailable(format!(
                "{reason} (it is loaded again on a request in {seconds} s or later)"
            ))
        })
    }

    /// Fetches, compiles and instantiates the module; the outcome feeds the backoff.
    fn load(&self) -> Loading {
        let source = self.source();
        let (spec, context, backoff, modules) = (
            self.spec.clone(),
            Rc::clone(&self.context),
            Rc::clone(&self.backoff),
            Rc::clone(&self.modules),
        );
        async move {
            let loaded = async {
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
                let init: Rc<[u8]> =
                    valor_host::script::init_message(&spec, &context.origin, script).into();
                let instance = load::instantiate(&context, &compiled.module, &init).await?;
                crate::sys::mark(name, "instantiated");
                Ok::<_, String>((compiled, init, instance))
            };
            let (compiled, init, instance) = loaded
                .await
                .inspect_err(|_| backoff.failed(js_sys::Date::now()))?;
            backoff.succeeded();
            let instance = future::ready(Ok(Rc::new(instance))).boxed_local();
            Ok(Rc::new(Loaded {
                module: compiled.module,
                digest: compiled.digest,
                init,
                instance: Slot::holding(instance),
            }))
        }
        .boxed_local()
        .shared()
    }

    async fn instance(&self, loaded: &Loaded) -> Result<Rc<Instance>, DispatchError> {
        // A failure is not kept: the next request tries again rather than repeat it for ever.
        let instance = loaded.instance.get(|| {
            let (context, module, init) = (
                Rc::clone(&self.context),
                loaded.module.clone(),
                Rc::clone(&loaded.init),
            );
            async move {
                let instance = load::instantiate(&context, &module, &init).await?;
                Ok(Rc::new(instance))
            }
            .boxed_local()
        });
        instance.await.map_err(|reason| self.unavailable(reason))
    }

    fn unavailable(&self, reason: String) -> DispatchError {
        DispatchError::Unavailable {
            plugin: self.spec.name.clone(),
            reason,
        }
    }
}
