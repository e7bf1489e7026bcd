//! Fetching and compiling a plugin's module, and instantiating it.

use super::component::{Component, ComponentHost};
use super::imports;
use super::instance::{Instance, State};
use super::rewriter::{Refusal, Rewriter};
use super::rewritten;
use crate::host::PluginContext;
use crate::integrity::{self, Integrity};
use crate::offline::{self, File};
use crate::sys;
use js_sys::WebAssembly;
use std::rc::Rc;
use valor_host::guest::exports::{self as checks, Import};
use valor_meter::Limits;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A compiled module (or component), and the SHA-256 of its file.
#[derive(Clone)]
pub struct Compiled {
    /// The module, compiled (rewritten for its limits first, if metered), or the component.
    pub code: Code,
    /// The SHA-256 of the file as fetched, before any rewriting (Subresource Integrity form).
    pub digest: String,
}

/// What a plugin's instances are made from.
#[derive(Clone)]
pub enum Code {
    /// A core module, compiled.
    Module(WebAssembly::Module),
    /// A WASI 0.2 component, compiled by the component host.
    Component(Component),
}

/// How a module is compiled: where it is, and what is done to it first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// Where the module is: the entry's `url`, or for a script the JavaScript engine's.
    pub url: String,
    /// Fuel and memory limits written into it, unless metering is off.
    pub limits: Option<Limits>,
    /// The digests it must match, if its entry gives them.
    pub integrity: Option<Integrity>,
}

/// The module `source` names, kept or from the network (as `offline::open`). Without a kept
/// copy of a module that will be rewritten, the rewriter loads while the module downloads.
pub async fn open(source: &Source, rewriter: &Rewriter, cache: &str) -> Result<File, String> {
    if let Some(file) = offline::kept(cache, &source.url).await {
        if offline::expected(&source.url).is_none_or(|digest| digest == file.digest) {
            return Ok(file);
        }
    }
    if source.limits.is_some() {
        rewriter.preload();
    }
    offline::download(&source.url).await
}

/// The module `source` names, compiled from its kept rewritten copy without reading the module
/// itself: one Cache Storage read on a start, where reading the module too took two. The copy
/// must have been made from a module the entry's integrity allows (by its SHA-256) and, for the
/// runtime's own files, from the version this runtime was built with; its own bytes are checked
/// as every kept copy's are. `None` when there is no such copy or it does not compile (it is
/// then forgotten): the caller reads the module.
pub async fn kept_rewritten(source: &Source, cache: &str) -> Option<Compiled> {
    let limits = source.limits?;
    let url = &source.url;
    let expected = offline::expected(url);
    // Only a SHA-256 can be matched without the bytes: for another algorithm the caller reads
    // them, and a mismatch is refused there, with the digests of the bytes themselves.
    let wanted = |made_from: &str| {
        expected.as_deref().is_none_or(|digest| digest == made_from)
            && integrity::allows_sha256(source.integrity.as_ref(), made_from)
    };
    let (module, digest) = kept_rewritten_module(url, limits, cache, wanted).await?;
    Some(Compiled {
        code: Code::Module(module),
        digest,
    })
}

/// The kept copy of the module at `url` rewritten for `limits`, made from a module `wanted`
/// accepts (by its SHA-256), compiled as it streams in; with that SHA-256. A copy the engine
/// refuses is forgotten, and said.
async fn kept_rewritten_module(
    url: &str,
    limits: Limits,
    cache: &str,
    wanted: impl FnOnce(&str) -> bool,
) -> Option<(WebAssembly::Module, String)> {
    let kept = rewritten::find(cache, url, limits, wanted).await?;
    match JsFuture::from(sys::compile_streaming(&kept.file.response)).await {
        Ok(module) => {
            sys::mark(url.rsplit('/').next().unwrap_or(url), "metered");
            Some((module.unchecked_into(), kept.source))
        }
        Err(error) => {
            // Its bytes are the ones kept (checked): the engine refused them.
            web_sys::console::warn_1(
                &format!(
                    "[valor] the kept rewritten copy of {url} (SHA-256 {}) did not compile: {}; \
                     rewriting it again",
                    kept.file.digest,
                    sys::describe(&error)
                )
                .into(),
            );
            rewritten::forget(cache, url, limits).await;
            None
        }
    }
}

/// Compiles the module `source` names from `file` (its bytes, kept or fetched): checked against
/// its integrity and rewritten for its limits first (unless metering is off), or compiled as it
/// streams in. Servers often send .wasm with the wrong `content-type`, which streaming
/// compilation rejects; then the bytes are compiled, with a console warning.
pub async fn compile(
    source: &Source,
    file: &File,
    rewriter: &Rewriter,
    components: &ComponentHost,
    cache: &str,
) -> Result<Compiled, String> {
    let url = &source.url;
    let name = url.rsplit('/').next().unwrap_or(url);
    let bytes = &file.bytes;
    sys::mark(name, "read");
    let digest = match &source.integrity {
        Some(integrity) => integrity::check(bytes, Some(integrity))
            .await
            .map_err(|reason| format!("{url} was refused: {reason}"))?,
        None => file.digest.clone(),
    };
    sys::mark(name, "checked");
    if offline::is_component(bytes) {
        return component(components, bytes, source.limits, url, digest).await;
    }
    let compiling = match source.limits {
        Some(limits) => rewritten(bytes, &digest, limits, url, rewriter, cache).await?,
        None if file.is_wasm() => sys::compile_streaming(&file.response),
        None => {
            web_sys::console::warn_1(
                &format!(
                    "[valor] {url} is served as {:?}, not application/wasm; compiling it from \
                     its bytes instead of as it streams in (slower). Configure the server to \
                     send application/wasm.",
                    file.content_type().unwrap_or_default()
                )
                .into(),
            );
            WebAssembly::compile(bytes)
        }
    };
    let module = JsFuture::from(compiling).await.map_err(|error| {
        format!(
            "{url} is not a loadable WebAssembly module: {}",
            sys::describe(&error)
        )
    })?;
    Ok(Compiled {
        code: Code::Module(module.unchecked_into()),
        digest,
    })
}

/// `bytes` (from `url`, of SHA-256 `digest`), a component, compiled by the component host.
async fn component(
    components: &ComponentHost,
    bytes: &js_sys::ArrayBuffer,
    limits: Option<Limits>,
    url: &str,
    digest: String,
) -> Result<Compiled, String> {
    let component = components.compile(bytes, limits, url).await?;
    Ok(Compiled {
        code: Code::Component(component),
        digest,
    })
}

/// Compiles the module rewritten for `limits`: the copy kept by an earlier start if there is
/// one (and it compiles), else `bytes` rewritten now, and kept. Resolves to the module.
async fn rewritten(
    bytes: &js_sys::ArrayBuffer,
    digest: &str,
    limits: Limits,
    url: &str,
    rewriter: &Rewriter,
    cache: &str,
) -> Result<js_sys::Promise, String> {
    let made_from = |source: &str| source == digest;
    if let Some((module, _)) = kept_rewritten_module(url, limits, cache, made_from).await {
        return Ok(js_sys::Promise::resolve(&JsValue::from(module)));
    }
    // The rewriting adds globals and functions after the module's own: an invalid module that
    // names indices past its own would reach them once rewritten (and refill its own fuel).
    if !WebAssembly::validate(bytes).unwrap_or(false) {
        return Err(format!("{url} is not a valid WebAssembly module"));
    }
    let metered = rewriter
        .rewrite(bytes, limits)
        .await
        .map_err(|refusal| match refusal {
            Refusal::Refused(reason) => format!("{url} was refused: {reason}"),
            Refusal::Unavailable(why) => {
                let why = format!(
                    "{url} must be rewritten for its limits, and the module rewriter {} (deployed \
                 beside the runtime) could not be loaded: {why}",
                    rewriter.url()
                );
                web_sys::console::error_1(&format!("[valor] {why}").into());
                why
            }
            Refusal::Failed(why) => {
                web_sys::console::error_1(&format!("[valor] {url}: {why} (a bug in Valor)").into());
                format!("{url} could not be rewritten for its limits: {why}")
            }
        })?;
    sys::mark(url.rsplit('/').next().unwrap_or(url), "metered");
    let compiling = WebAssembly::compile(&metered.buffer());
    rewritten::keep(cache, url, digest, limits, metered);
    Ok(compiling)
}

/// A JavaScript plugin's script from `file` (kept or fetched), checked against its integrity:
/// its text and SHA-256.
pub async fn script(
    url: &str,
    file: &File,
    integrity: Option<&Integrity>,
) -> Result<(String, String), String> {
    sys::mark(url.rsplit('/').next().unwrap_or(url), "read");
    let digest = match integrity {
        Some(integrity) => integrity::check(&file.bytes, Some(integrity))
            .await
            .map_err(|reason| format!("{url} was refused: {reason}"))?,
        None => file.digest.clone(),
    };
    let text = js_sys::Uint8Array::new(&file.bytes).to_vec();
    Ok((valor_host::script::source_text(url, text)?, digest))
}

/// A new instance of `module`, checked against the ABI and initialised with `init` (an
/// encoded `valor_abi::init::Init`).
pub async fn instantiate(
    context: &Rc<PluginContext>,
    module: &WebAssembly::Module,
    init: &[u8],
) -> Result<Instance, String> {
    let (state, import_object) = State::new(Rc::clone(context), imports::build);
    let instance = match JsFuture::from(sys::instantiate_module(module, &import_object)).await {
        Ok(instance) => instance,
        Err(error) if error.is_instance_of::<WebAssembly::LinkError>() => {
            return Err(explain_link_error(module, &error))
        }
        Err(error) => {
            return Err(format!(
                "instantiating it failed: {}",
                sys::describe(&error)
            ))
        }
    };
    Instance::new(instance.unchecked_ref(), state, init)
}

/// A module that compiled but could not be linked imports something the runtime does not
/// provide: most often a plugin built for a newer plugin ABI.
fn explain_link_error(module: &WebAssembly::Module, error: &JsValue) -> String {
    let imports = imports_of(module);
    let listed = imports.iter().map(|(module, name, kind)| Import {
        module,
        name,
        function: kind == "function",
    });
    checks::refuse_imports(listed)
        .unwrap_or_else(|| format!("it could not be linked: {}", sys::describe(error)))
}

/// What `module` imports, as `(module, name, kind)`.
fn imports_of(module: &WebAssembly::Module) -> Vec<(String, String, String)> {
    let field = |import: &JsValue, key: &str| {
        js_sys::Reflect::get(import, &key.into())
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    WebAssembly::Module::imports(module)
        .iter()
        .map(|import| {
            let kind = field(&import, "kind");
            (field(&import, "module"), field(&import, "name"), kind)
        })
        .collect()
}
