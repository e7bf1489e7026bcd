//! The plugin's QuickJS runtime: the prelude's globals, then the plugin's script; and the
//! entry points the engine calls into it. Re-created after the script is stopped.
//!
//! The prelude's native functions are handed in at [`start`] ([`Natives`]), not named here:
//! they start operations in the event loop, which drives this script, so this module stays
//! below both.

use crate::budget;
use crate::rejections::Rejections;
use crate::settings::{self, Settings};
use rquickjs::context::{intrinsic, EvalOptions};
use rquickjs::{
    qjs, Context, Ctx, Exception, FromJs, Function, Module, Object, Persistent, Runtime, Value,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

/// The prelude: a script whose value is a function of the host object and the plugin's site,
/// which installs the globals and returns the entry points (`prelude/*.js`, laid out and
/// compiled to QuickJS bytecode by `build.rs`).
static PRELUDE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/prelude.bin"));

/// The most shadow stack QuickJS may use before it throws `RangeError` (a deep recursion):
/// well inside the engine's 1 MiB stack, and shallow enough that the wasm engines' own stacks
/// are not exhausted first (about 1 KiB of wasm stack per level of a script's recursion: 256
/// KiB overflowed wasmtime's default 512 KiB, so the server gives wasm 2 MiB; the browsers'
/// hold it, as `wasm-pack-tests/tests/scripts.rs` checks).
const MAX_STACK_BYTES: usize = 128 * 1024;

/// Memory the engine keeps for itself beyond the script's heap: its code's data, its stack,
/// the requests and responses it holds.
const ENGINE_BYTES: usize = 8 << 20;

/// Why a script was stopped: its requests answer with it, and the next request starts the
/// script afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A call used up its CPU budget.
    OutOfBudget,
    /// The script's heap reached its limit.
    OutOfMemory,
}

/// The entry points of the prelude, kept between calls.
struct Entries {
    dispatch: Persistent<Function<'static>>,
    settle: Persistent<Function<'static>>,
    abandon: Persistent<Function<'static>>,
    pull_body: Persistent<Function<'static>>,
    cancel_body: Persistent<Function<'static>>,
}

/// One running script. (Field order is drop order: handles before their runtime.)
pub struct Script {
    entries: Entries,
    rejections: Rejections,
    context: Context,
    runtime: Runtime,
    stopped: RefCell<Option<Stop>>,
}

/// Makes the `host` object the prelude is given: the native functions behind its globals.
pub type Natives = for<'js> fn(&Ctx<'js>) -> rquickjs::Result<Object<'js>>;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Script>>> = const { RefCell::new(None) };
}

/// The natives [`start`] was given, for every script started afterwards.
static NATIVES: OnceLock<Natives> = OnceLock::new();

/// `#[vlugin(init)]`'s work: starts the script when the plugin is created, with `natives`
/// behind the prelude, so that a script that does not evaluate fails the plugin's load (502,
/// with the error and its line).
pub fn start(natives: Natives) -> Result<(), String> {
    let natives = *NATIVES.get_or_init(|| natives);
    let settings = settings::get()?;
    budget::configure(settings.fuel);
    budget::new_call();
    let script = Script::new(settings, natives)?;
    CURRENT.set(Some(Rc::new(script)));
    Ok(())
}

/// The running script, started afresh if the last one was stopped.
pub fn current() -> Result<Rc<Script>, String> {
    if let Some(script) = CURRENT.with_borrow(Clone::clone) {
        return Ok(script);
    }
    let natives = *NATIVES
        .get()
        .ok_or("the JavaScript engine was asked for its script before it was started")?;
    let script = Rc::new(Script::new(settings::get()?, natives)?);
    CURRENT.set(Some(Rc::clone(&script)));
    Ok(script)
}

impl Script {
    fn new(settings: &Settings, natives: Natives) -> Result<Self, String> {
        let failed = |error: rquickjs::Error| format!("the JavaScript engine failed: {error}");
        let runtime = Runtime::new().map_err(failed)?;
        let memory = (settings.memory_mb as usize).saturating_mul(1 << 20);
        runtime.set_memory_limit(memory.saturating_sub(ENGINE_BYTES).max(1 << 20));
        runtime.set_max_stack_size(MAX_STACK_BYTES);
        runtime.set_interrupt_handler(Some(Box::new(budget::interrupt)));
        let rejections = Rejections::default();
        runtime.set_host_promise_rejection_tracker(Some(rejections.tracker()));
        let context = Context::custom::<(
            intrinsic::Date,
            intrinsic::Eval,
            intrinsic::RegExpCompiler,
            intrinsic::RegExp,
            intrinsic::Json,
            intrinsic::Proxy,
            intrinsic::MapSet,
            intrinsic::TypedArrays,
            intrinsic::Promise,
            intrinsic::Performance,
            intrinsic::WeakRef,
            intrinsic::DOMException,
        )>(&runtime)
        .map_err(failed)?;
        let entries = context.with(|ctx| evaluate(&ctx, settings, natives));
        rejections.report();
        Ok(Script {
            entries: entries?,
            rejections,
            context,
            runtime,
            stopped: RefCell::new(None),
        })
    }

    /// Why the script was stopped, if it was.
    pub fn stopped(&self) -> Option<Stop> {
        *self.stopped.borrow()
    }

    /// Stops the script: its requests answer with `why`, and the next request starts a new one.
    pub fn stop(self: &Rc<Self>, why: Stop) {
        self.stopped.borrow_mut().get_or_insert(why);
        CURRENT.with_borrow_mut(|current| {
            if current.as_ref().is_some_and(|c| Rc::ptr_eq(c, self)) {
                *current = None;
            }
        });
    }

    /// Runs `f` in the script's context; an exception thrown out of it is described.
    pub fn with<R>(
        &self,
        f: impl for<'js> FnOnce(&Ctx<'js>) -> rquickjs::Result<R>,
    ) -> Result<R, String> {
        self.context
            .with(|ctx| f(&ctx).map_err(|error| failure(&ctx, error)))
    }

    /// Hands request `id` to the script.
    pub fn dispatch<'js>(
        &self,
        ctx: &Ctx<'js>,
        id: &str,
        data: Object<'js>,
    ) -> rquickjs::Result<()> {
        let dispatch = self.entries.dispatch.clone().restore(ctx)?;
        dispatch.call((id, data))
    }

    /// Forgets request `id`, which the host gave up on (its time limit): a late reply to it is
    /// dropped like any reply to an unknown id.
    pub fn abandon<'js>(&self, ctx: &Ctx<'js>, id: &str) -> rquickjs::Result<()> {
        let abandon = self.entries.abandon.clone().restore(ctx)?;
        abandon.call((id,))
    }

    /// Asks the script for the next chunk of request `id`'s streamed body (see `body`).
    pub fn pull_body<'js>(&self, ctx: &Ctx<'js>, id: &str) -> rquickjs::Result<()> {
        let pull = self.entries.pull_body.clone().restore(ctx)?;
        pull.call((id,))
    }

    /// Cancels the script's stream behind request `id`'s body: its reader went away.
    pub fn cancel_body<'js>(&self, ctx: &Ctx<'js>, id: &str) -> rquickjs::Result<()> {
        let cancel = self.entries.cancel_body.clone().restore(ctx)?;
        cancel.call((id,))
    }

    /// Settles host operation `op` in the script: `Ok(value)` resolves, `Err` rejects.
    pub fn settle<'js>(
        &self,
        ctx: &Ctx<'js>,
        op: u32,
        outcome: Result<Value<'js>, String>,
    ) -> rquickjs::Result<()> {
        let settle = self.entries.settle.clone().restore(ctx)?;
        match outcome {
            Ok(value) => settle.call((op, rquickjs::Undefined, value)),
            Err(message) => settle.call((op, message)),
        }
    }

    /// Collects the script's garbage (cycles included), then runs the jobs that sets off (its
    /// `FinalizationRegistry` callbacks).
    pub fn collect_garbage(&self) {
        self.runtime.run_gc();
        self.run_jobs();
    }

    /// Whether promise jobs are ready to run.
    pub fn has_jobs(&self) -> bool {
        self.runtime.is_job_pending()
    }

    /// Runs the promise jobs that are ready (reactions to settled promises), then reports the
    /// promises rejected without a handler.
    pub fn run_jobs(&self) {
        while self.runtime.is_job_pending() {
            if !self.context.with(|ctx| ctx.execute_pending_job()) {
                return; // stopped (its budget): the rest is lost with the script
            }
        }
        self.rejections.report();
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        // Its handles on promises go before the runtime does.
        self.rejections.forget();
    }
}

/// Installs the prelude over `natives`, then evaluates the plugin's script.
fn evaluate(ctx: &Ctx<'_>, settings: &Settings, natives: Natives) -> Result<Entries, String> {
    let installed = (|| {
        let site = Object::new(ctx.clone())?;
        let config = serde_json::to_string(&settings.config).unwrap_or_else(|_| "null".into());
        site.set("config", ctx.json_parse(config)?)?;
        site.set("mount", vlugin::mount())?;
        site.set("origin", vlugin::origin())?;
        let entries: Object = prelude(ctx)?.call((natives(ctx)?, site))?;
        Ok(entries)
    })()
    .map_err(|error| format!("the engine's prelude failed: {}", failure(ctx, error)))?;
    let file = settings.file_name();
    let source = settings.source.as_str();
    let evaluated = if settings.is_module() {
        evaluate_module(ctx, file, source, &installed).map_err(|e| failure(ctx, e))
    } else {
        let mut options = EvalOptions::default();
        options.strict = false;
        options.filename = Some(file.into());
        match ctx
            .eval_with_options::<(), _>(source, options)
            .map_err(|e| failure(ctx, e))
        {
            // Nothing ran: a syntax error stops a script before it starts.
            Err(classic) if needs_module(&classic) => {
                evaluate_module(ctx, file, source, &installed).map_err(|e| failure(ctx, e))
            }
            evaluated => evaluated,
        }
    };
    evaluated.map_err(|error| {
        if budget::spent() {
            return format!("{file} did not finish evaluating within its CPU budget");
        }
        format!("{file} does not evaluate: {error}")
    })?;
    let entry = |name: &str| -> Result<Persistent<Function<'static>>, String> {
        let function: Function = installed.get(name).map_err(|e| failure(ctx, e))?;
        Ok(Persistent::save(ctx, function))
    };
    Ok(Entries {
        dispatch: entry("dispatch")?,
        settle: entry("settle")?,
        abandon: entry("abandon")?,
        pull_body: entry("pullBody")?,
        cancel_body: entry("cancelBody")?,
    })
}

/// The prelude's function, read from its bytecode and run.
fn prelude<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `PRELUDE` is bytecode written by this QuickJS (`build.rs`), which reads it
    // into a new function object; running it takes that object and returns the script's
    // value, which `Value` then owns. A failure leaves an exception pending in `ctx`.
    let value = unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            PRELUDE.as_ptr(),
            PRELUDE.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(rquickjs::Error::Exception);
        }
        Value::from_raw(ctx.clone(), qjs::JS_EvalFunction(raw, function))
    };
    if value.is_exception() {
        return Err(rquickjs::Error::Exception);
    }
    Function::from_js(ctx, value)
}

/// Whether a classic script's syntax error is module syntax: then the file is a module.
fn needs_module(error: &str) -> bool {
    error.starts_with("SyntaxError")
        && ["import", "export", "await"]
            .iter()
            .any(|word| error.contains(word))
}

/// Evaluates an ES module (top-level `await` included) and hands its exports to the prelude.
/// It may not import anything: no module loader is installed.
fn evaluate_module<'js>(
    ctx: &Ctx<'js>,
    file: &str,
    source: &str,
    prelude: &Object<'js>,
) -> rquickjs::Result<()> {
    let (module, evaluated) = Module::declare(ctx.clone(), file, source)?.eval()?;
    while ctx.execute_pending_job() {}
    evaluated.finish::<()>()?;
    let set_module: Function = prelude.get("setModule")?;
    set_module.call((module.namespace()?,))
}

/// An error out of QuickJS, as text: the exception's name, message and stack when it is one.
pub fn failure(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    match error {
        rquickjs::Error::Exception => describe(ctx, ctx.catch()),
        other => other.to_string(),
    }
}

/// A thrown value, as text.
pub fn describe<'js>(_ctx: &Ctx<'js>, value: Value<'js>) -> String {
    if let Some(exception) = value
        .as_object()
        .and_then(|o| Exception::from_object(o.clone()))
    {
        let name: String = exception.get("name").unwrap_or_else(|_| "Error".into());
        let message = exception.message().unwrap_or_default();
        let stack = exception.stack().unwrap_or_default();
        let stack = stack.trim_end();
        return if stack.is_empty() {
            format!("{name}: {message}")
        } else {
            format!("{name}: {message}\n{stack}")
        };
    }
    value
        .as_string()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| format!("{value:?}"))
}
