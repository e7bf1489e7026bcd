//! A mounted plugin in the browser: `valor_host::plugin::Plugin` (loaded once, backoff,
//! quarantine, replays, its instance replaced after a crash, the time limit of each request)
//! over the worker's part, [`Loader`]: fetching, checking, rewriting and compiling its module,
//! instantiating it, and a page's abort signal.

mod abort;
mod answer;
mod component;
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
use crate::reply::Reply;
use futures::future::{self, Either, FutureExt, LocalBoxFuture};
use instance::{Instance, State};
use load::Code;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use valor_host::fault::Fault;
use valor_host::instances::{Breakable, Instances};
use valor_host::plugin::Load;

pub use modules::Modules;
pub use rewritten::SOURCE_HEADER as REWRITTEN_FROM_HEADER;

/// A plugin from the manifest or the registry.
pub type Plugin = valor_host::plugin::Plugin<Loader>;

/// The compiled module and its instance: one, a worker runs on one thread. After a trap the
/// next request starts a fresh instance from the module, and every request meanwhile awaits
/// that same one. (A component's host makes an instance per request.)
type Loaded = valor_host::instances::Loaded<Code, Making<Live>>;

/// What makes a value shared by the callers meanwhile (see `valor_host::slot`).
type Making<T> = LocalBoxFuture<'static, Result<T, String>>;
type Slot<T> = valor_host::slot::Slot<Making<T>>;

/// A plugin ready to answer: a module's instance, or a component.
#[derive(Clone)]
pub enum Live {
    /// A module's instance.
    Module(Rc<Instance>),
    /// A component, and the context of its plugin: its host makes an instance per request.
    Component(component::Component, Rc<PluginContext>),
}

/// What a plugin answered: a module's answer (whole or streamed), or a component's response.
enum Answered {
    Module(valor_host::guest::Answer<Rc<State>>),
    Component(Reply),
}

impl Live {
    async fn dispatch(&self, request: &RequestFrame, depth: u32) -> Result<Answered, Fault> {
        match self {
            Live::Module(instance) => instance
                .dispatch(request, depth)
                .await
                .map(Answered::Module),
            Live::Component(component, context) => component
                .respond(context, request, depth)
                .await
                .map(Answered::Component),
        }
    }
}

impl Breakable for Live {
    fn is_broken(&self) -> bool {
        match self {
            Live::Module(instance) => instance.is_broken(),
            // Nothing outlives a request.
            Live::Component(..) => false,
        }
    }
}

/// The worker's part of a mounted plugin.
pub struct Loader {
    context: Rc<PluginContext>,
    /// Where its module is compiled, shared with the plugins that mount the same file.
    modules: Rc<Modules>,
}

/// A plugin that will be loaded when first needed.
pub fn new(spec: PluginSpec, context: PluginContext, modules: Rc<Modules>) -> Plugin {
    let context = Rc::new(context);
    Plugin::new(spec, Loader { context, modules })
}

/// A page's request, as a plugin answers it.
pub struct Page<'a> {
    /// The request, whose abort signal cancels the plugin's task.
    pub request: &'a web_sys::Request,
    /// Its fetch event, which holds the worker while the answer streams or the plugin works on
    /// after it (none where the caller has no event: a test).
    pub event: Option<&'a web_sys::ExtendableEvent>,
}

/// Answers one request with `plugin` (its URI relative to the plugin's prefix), tagged with the
/// plugin's name; failures become their error replies. `depth` counts plugin-to-plugin hops,
/// and `page` is the page's request, if any.
pub async fn respond(
    plugin: &Plugin,
    request: &RequestFrame,
    depth: u32,
    page: Option<Page<'_>>,
) -> Reply {
    let run = |live: Live| async move { live.dispatch(request, depth).await };
    let deadline = timer::sleep(f64::from(plugin.spec().timeout_ms));
    let answer = plugin.answer(request.is_safe(), depth, run, deadline);
    let aborted = match &page {
        // (Not `request.clone()`: that is `Request.clone()`, a copy of the request.)
        Some(page) => Either::Left(abort::aborted(Clone::clone(page.request))),
        None => Either::Right(future::pending()),
    };
    // Dropping `answer` drops the task inside the plugin. It is polled first: most handlers
    // (of a loaded plugin) finish in that first poll, and then neither the deadline timer nor
    // the abort listener is ever set up.
    let answer = match future::select(pin!(answer), pin!(aborted)).await {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => Err(DispatchError::Aborted),
    };
    let event = page.and_then(|page| page.event);
    let reply = answer.map(|answer| match answer {
        Answered::Module(answer) => answer::reply(answer, plugin.spec(), event),
        Answered::Component(reply) => reply,
    });
    Reply::tagged(reply, plugin.tag())
}

impl Load for Loader {
    type Code = Code;
    type Instance = Live;
    type Create = Making<Live>;
    type Loaded = Rc<Loaded>;
    type Loading = Making<Rc<Loaded>>;

    fn now() -> f64 {
        js_sys::Date::now()
    }

    /// Fetches, compiles and instantiates the module.
    fn load(&self, spec: &PluginSpec) -> Self::Loading {
        let source = self.source(spec);
        let (spec, context, modules) = (
            spec.clone(),
            Rc::clone(&self.context),
            Rc::clone(&self.modules),
        );
        async move {
            if spec.is_native() {
                return Err(valor_host::manifest::native_in_browser(&spec.url));
            }
            let name = &context.name;
            crate::sys::mark(name, "load");
            let (compiled, script) = if valor_host::script::is_script(&spec.url) {
                let fetched = modules.script(&spec.url, spec.integrity.as_ref());
                let (script, engine) = future::join(fetched, modules.compile(source)).await;
                let (text, digest) = script?;
                let mut engine = engine?;
                engine.digest = digest;
                let config = valor_host::script::engine_config(&spec, &text);
                (engine, Some(config))
            } else {
                (modules.compile(source).await?, None)
            };
            crate::sys::mark(name, "compiled");
            let init: Arc<[u8]> =
                valor_host::script::init_message(&spec, &context.origin, script).into();
            if spec.stream_requests && matches!(compiled.code, Code::Component(_)) {
                return Err(valor_host::component::no_stream_requests(&spec.url));
            }
            let instance = Live::new(&context, &compiled.code, &init).await?;
            crate::sys::mark(name, "instantiated");
            let instance = future::ready(Ok(instance)).boxed_local();
            Ok(Rc::new(Loaded {
                code: compiled.code,
                digest: compiled.digest,
                init,
                instances: Instances::new(1, instance),
            }))
        }
        .boxed_local()
    }

    fn create(&self, loaded: &Rc<Loaded>) -> Self::Create {
        let (context, code, init) = (
            Rc::clone(&self.context),
            loaded.code.clone(),
            Arc::clone(&loaded.init),
        );
        async move { Live::new(&context, &code, &init).await }.boxed_local()
    }
}

impl Live {
    /// A plugin made of `code`: a module instantiated and initialised with `init`.
    async fn new(context: &Rc<PluginContext>, code: &Code, init: &[u8]) -> Result<Live, String> {
        match code {
            Code::Module(module) => Ok(Live::Module(Rc::new(
                load::instantiate(context, module, init).await?,
            ))),
            Code::Component(component) => {
                Ok(Live::Component(component.clone(), Rc::clone(context)))
            }
        }
    }
}

impl Loader {
    /// The module the instances of the plugin of `spec` are made of: the entry's, or for a
    /// script the engine's.
    fn source(&self, spec: &PluginSpec) -> load::Source {
        let script = valor_host::script::is_script(&spec.url);
        load::Source {
            url: match script {
                true => self.modules.script_engine_url().to_owned(),
                false => spec.url.clone(),
            },
            limits: crate::host::meter_limits(&self.context),
            // A script's integrity is checked on the script.
            integrity: spec.integrity.clone().filter(|_| !script),
        }
    }
}
