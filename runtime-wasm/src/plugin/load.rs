//! Fetching, compiling and instantiating a plugin module.

use super::instance::{Instance, State};
use crate::host::PluginContext;
use crate::integrity::{self, Integrity};
use crate::{meter, sys};
use js_sys::WebAssembly;
use std::rc::Rc;
use vlugin::abi::{imports, ABI_VERSION, IMPORT_MODULE};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A module fetched and instantiated: compiled, its first instance, and its SHA-256 (in
/// Subresource Integrity form).
pub struct Fetched {
    pub module: WebAssembly::Module,
    pub instance: Instance,
    pub digest: String,
}

/// Fetches the module at `url`, checks its `integrity` if the entry gives one, rewrites it to
/// count fuel and cap its memory (unless its entry turned metering off), and instantiates it.
///
/// An unmetered module without `integrity` is instantiated with `instantiateStreaming` (its
/// digest is taken from a copy of the stream meanwhile). Servers often send .wasm with the wrong
/// `content-type`, which `instantiateStreaming` rejects; then the bytes are instantiated, with a
/// console warning.
pub async fn fetch_and_instantiate(
    context: &Rc<PluginContext>,
    url: &str,
    config: &[u8],
    integrity: Option<&Integrity>,
) -> Result<Fetched, String> {
    let name = &context.name;
    let response = JsFuture::from(sys::fetch_url(url))
        .await
        .map_err(|e| format!("fetching {url} failed: {}", sys::describe(&e)))?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!(
            "fetching {url} answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let content_type = response.headers().get("content-type").ok().flatten();
    let streamable = content_type.as_deref() == Some("application/wasm");
    let limits = context.meter_limits();
    let (state, imports) = State::new(Rc::clone(context));
    let (instantiated, digest) = if limits.is_some() || integrity.is_some() || !streamable {
        // From its bytes, checked (and metered) before any of its code runs.
        let bytes = read(&response, url).await?;
        let digest = integrity::check(&bytes, integrity)
            .await
            .map_err(|reason| format!("{url} was refused: {reason}"))?;
        let bytes = match limits {
            Some(limits) => {
                let metered = meter::instrument(&js_sys::Uint8Array::new(&bytes).to_vec(), limits)
                    .map_err(|reason| format!("{url} was refused: {reason}"))?;
                sys::copy_to_js(&metered).buffer()
            }
            None => {
                if !streamable {
                    web_sys::console::warn_1(
                        &format!(
                            "[valor] plugin '{name}': {url} is served as {:?}, not \
                             application/wasm; instantiating from its bytes instead of \
                             streaming (slower). Configure the server to send application/wasm.",
                            content_type.unwrap_or_default()
                        )
                        .into(),
                    );
                }
                bytes
            }
        };
        (sys::instantiate_bytes(&bytes, &imports), digest)
    } else {
        let copy = response.clone().map_err(|e| sys::describe(&e))?;
        let instantiated = sys::instantiate_streaming(&response, &imports);
        let digest = integrity::check(&read(&copy, url).await?, None).await?;
        (instantiated, digest)
    };
    let result = match JsFuture::from(instantiated).await {
        Ok(result) => result,
        Err(error) if error.is_instance_of::<WebAssembly::LinkError>() => {
            return Err(explain_link_error(url, &error).await)
        }
        Err(error) => {
            return Err(format!(
                "{url} is not a loadable WebAssembly module: {}",
                sys::describe(&error)
            ))
        }
    };
    let field = |key: &str| {
        js_sys::Reflect::get(&result, &JsValue::from_str(key)).map_err(|e| sys::describe(&e))
    };
    let module: WebAssembly::Module = field("module")?.unchecked_into();
    let instance: WebAssembly::Instance = field("instance")?.unchecked_into();
    Ok(Fetched {
        module,
        instance: Instance::new(&instance, state, config)?,
        digest,
    })
}

/// The whole body of `response`.
async fn read(response: &web_sys::Response, url: &str) -> Result<js_sys::ArrayBuffer, String> {
    let bytes = response.array_buffer().map_err(|e| sys::describe(&e))?;
    let bytes = JsFuture::from(bytes)
        .await
        .map_err(|e| format!("reading {url} failed: {}", sys::describe(&e)))?;
    Ok(bytes.unchecked_into())
}

/// A new instance of a module that was loaded before (after the previous one trapped).
pub async fn reinstantiate(
    context: &Rc<PluginContext>,
    module: &WebAssembly::Module,
    config: &[u8],
) -> Result<Instance, String> {
    let (state, imports) = State::new(Rc::clone(context));
    let instance = JsFuture::from(sys::instantiate_module(module, &imports))
        .await
        .map_err(|e| format!("re-instantiating failed: {}", sys::describe(&e)))?;
    Instance::new(instance.unchecked_ref(), state, config)
}

/// A module that compiled but could not be linked imports something the runtime does not
/// provide: most often a plugin built for a newer plugin ABI. The module is fetched again (the
/// streamed one is gone; this path is rare) to name what it imports.
async fn explain_link_error(url: &str, error: &JsValue) -> String {
    let unknown = match foreign_imports(url).await {
        Ok(unknown) if !unknown.is_empty() => unknown,
        _ => return format!("{url} could not be linked: {}", sys::describe(error)),
    };
    let newer = unknown
        .iter()
        .any(|name| name.starts_with(&format!("{IMPORT_MODULE}.")));
    let listed = unknown.join(", ");
    if newer {
        format!(
            "it imports {listed}, which this runtime does not provide: the plugin was built for \
             another plugin ABI version than this runtime's ({ABI_VERSION}); rebuild it with a \
             vlugin release for ABI version {ABI_VERSION}, or update the runtime"
        )
    } else {
        format!(
            "it imports {listed}: a plugin may import only the runtime's `{IMPORT_MODULE}` \
             functions (build it with vlugin, without wasm-bindgen or WASI)"
        )
    }
}

/// The imports of the module at `url` that are not functions of this ABI, as `module.name`.
async fn foreign_imports(url: &str) -> Result<Vec<String>, JsValue> {
    let response: web_sys::Response = JsFuture::from(sys::fetch_url(url)).await?.unchecked_into();
    let bytes = JsFuture::from(response.array_buffer()?).await?;
    let module: WebAssembly::Module = JsFuture::from(WebAssembly::compile(&bytes))
        .await?
        .unchecked_into();
    let field = |import: &JsValue, key: &str| {
        js_sys::Reflect::get(import, &key.into())
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    Ok(WebAssembly::Module::imports(&module)
        .iter()
        .map(|import| (field(&import, "module"), field(&import, "name")))
        .filter(|(module, name)| module != IMPORT_MODULE || !imports::ALL.contains(&name.as_str()))
        .map(|(module, name)| format!("{module}.{name}"))
        .collect())
}
