//! Fetching and compiling a plugin's module, and instantiating it.

use super::component::{Component, ComponentHost};
use super::imports;
use super::instance::{Instance, State};
use super::rewriter::{Refusal, Rewriter};
use super::rewritten;
use crate::host::PluginContext;
use crate::integrity::{self, Integrity};
use crate::{offline, sys};
use futures::future;
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

/// Fetches (from the network, or the offline copy) and compiles a module: checked against its
/// integrity and rewritten for its limits first, unless metering is off and no integrity is
/// asked; then it is compiled as it streams in (its digest taken from a copy of the stream).
/// Servers often send .wasm with the wrong `content-type`, which streaming compilation rejects;
/// then the bytes are compiled, with a console warning.
pub async fn compile(
    source: &Source,
    rewriter: &Rewriter,
    components: &ComponentHost,
    cache: &str,
) -> Result<Compiled, String> {
    let (url, integrity) = (&source.url, source.integrity.as_ref());
    let file = url.rsplit('/').next().unwrap_or(url);
    // The copy an earlier start rewrote is compiled while the network says whether the module
    // changed (most starts, it did not).
    // Without a kept copy, the module will be rewritten: the rewriter loads meanwhile too.
    let speculating = async {
        let limits = source.limits?;
        let kept = rewritten::speculate(cache, url, limits).await;
        if kept.is_none() {
            rewriter.preload();
        }
        kept
    };
    let (response, speculation) = future::join(offline::fetch(cache, url), speculating).await;
    let response = answered(response, url)?;
    let content_type = response.headers().get("content-type").ok().flatten();
    let streamable = content_type.as_deref() == Some("application/wasm");
    let (compiled, digest) = if source.limits.is_some() || integrity.is_some() || !streamable {
        // From its bytes, checked (and metered) before any of its code can run.
        let bytes = read(&response, url).await?;
        sys::mark(file, "read");
        let digest = integrity::check(&bytes, integrity)
            .await
            .map_err(|reason| format!("{url} was refused: {reason}"))?;
        sys::mark(file, "checked");
        if is_component(&bytes) {
            return component(components, &bytes, source.limits, url, digest).await;
        }
        let compiled = match source.limits {
            Some(limits) => {
                let kept = Kept { cache, speculation };
                rewritten(&bytes, &digest, limits, url, rewriter, kept).await?
            }
            None if streamable => WebAssembly::compile(&bytes), // read for its integrity check
            None => {
                web_sys::console::warn_1(
                    &format!(
                        "[valor] {url} is served as {:?}, not application/wasm; compiling it \
                         from its bytes instead of as it streams in (slower). Configure the \
                         server to send application/wasm.",
                        content_type.unwrap_or_default()
                    )
                    .into(),
                );
                WebAssembly::compile(&bytes)
            }
        };
        (compiled, digest)
    } else {
        let copy = response.clone().map_err(|e| sys::describe(&e))?;
        let compiled = sys::compile_streaming(&response);
        let bytes = read(&copy, url).await?;
        let digest = integrity::check(&bytes, None).await?;
        if is_component(&bytes) {
            // Its streamed compilation fails, as a component is no module: not an error.
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(compiled).await;
            });
            return component(components, &bytes, source.limits, url, digest).await;
        }
        (compiled, digest)
    };
    let module = JsFuture::from(compiled).await.map_err(|error| {
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

/// Whether `bytes` are a component rather than a core module (by their header).
fn is_component(bytes: &js_sys::ArrayBuffer) -> bool {
    let length = bytes.byte_length().min(8);
    let header = js_sys::Uint8Array::new_with_byte_offset_and_length(bytes, 0, length).to_vec();
    valor_host::component::is_component(&header)
}

/// Where rewritten modules are kept: the cache, and the kept copy whose compilation began while
/// the network answered, if any.
struct Kept<'a> {
    cache: &'a str,
    speculation: Option<rewritten::Speculation>,
}

/// Compiles the module rewritten for `limits`: the copy kept by an earlier start if there is
/// one (and it compiles; `speculation` may have begun compiling it), else `bytes` rewritten
/// now, and kept. Resolves to the module.
async fn rewritten(
    bytes: &js_sys::ArrayBuffer,
    digest: &str,
    limits: Limits,
    url: &str,
    rewriter: &Rewriter,
    Kept { cache, speculation }: Kept<'_>,
) -> Result<js_sys::Promise, String> {
    let file = url.rsplit('/').next().unwrap_or(url);
    let kept = match speculation.filter(|s| s.is_for(url, digest, limits)) {
        Some(speculation) => Some(speculation.compiling),
        None => rewritten::find(cache, url, digest, limits)
            .await
            .map(|kept| sys::compile_streaming(&kept)),
    };
    if let Some(compiling) = kept {
        match JsFuture::from(compiling).await {
            Ok(module) => {
                sys::mark(file, "metered");
                return Ok(js_sys::Promise::resolve(&module));
            }
            Err(_) => rewritten::forget(cache, url, digest, limits).await,
        }
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
    sys::mark(file, "metered");
    let compiling = WebAssembly::compile(&metered.buffer());
    rewritten::keep(cache, url, digest, limits, metered);
    Ok(compiling)
}

/// A JavaScript plugin's script (from the network, or the offline copy), checked against its
/// integrity: its text and SHA-256.
pub async fn script(
    url: &str,
    integrity: Option<&Integrity>,
    cache: &str,
) -> Result<(String, String), String> {
    let response = answered(offline::fetch(cache, url).await, url)?;
    let bytes = read(&response, url).await?;
    sys::mark(url.rsplit('/').next().unwrap_or(url), "read");
    let digest = integrity::check(&bytes, integrity)
        .await
        .map_err(|reason| format!("{url} was refused: {reason}"))?;
    let source = valor_host::script::source_text(url, js_sys::Uint8Array::new(&bytes).to_vec())?;
    Ok((source, digest))
}

/// The response to fetching `url`, if it came and is a success; else why not.
fn answered(
    response: Result<web_sys::Response, JsValue>,
    url: &str,
) -> Result<web_sys::Response, String> {
    let response = response.map_err(|e| format!("fetching {url} failed: {}", sys::describe(&e)))?;
    if !response.ok() {
        return Err(format!(
            "fetching {url} answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

/// The whole body of `response`.
async fn read(response: &web_sys::Response, url: &str) -> Result<js_sys::ArrayBuffer, String> {
    let bytes = response.array_buffer().map_err(|e| sys::describe(&e))?;
    let bytes = JsFuture::from(bytes)
        .await
        .map_err(|e| format!("reading {url} failed: {}", sys::describe(&e)))?;
    Ok(bytes.unchecked_into())
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
