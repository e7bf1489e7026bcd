//! One request to a component: a store and an instance of its own, the handler run on a task
//! of its own (a `wasi:http` handler may go on writing its body after it set its response),
//! and the response passed on as soon as it is set.

use super::{Component, State};
use crate::host::PluginContext;
use crate::reply::Reply;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use valor_abi::codec;
use valor_host::component::{answered_error, error_code_text, panic_message, unanswered};
use valor_host::fault::Fault;
use valor_host::streamed::{Chunk, Limits};
use wasmtime::{Store, Trap};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

/// How much fuel a component burns between two chances for the server to stop it (its
/// `timeout_ms` passed, its client went away): a few tenths of a millisecond.
const FUEL_BETWEEN_YIELDS: u64 = 100_000;

/// The reply of `component` (the plugin of `context`) to `request` (encoded, its URI relative
/// to the mount), `depth` plugin-to-plugin hops deep.
pub async fn respond(
    component: &Component,
    context: &Arc<PluginContext>,
    request: &[u8],
    depth: u32,
    limits: &Limits,
) -> Result<Reply, Fault> {
    let (scheme, request) = incoming(context, request)?;
    let mut store = Store::new(component.engine(), State::new(Arc::clone(context), depth));
    store.limiter(|state| &mut state.memory);
    // Fuel bounds the whole request (its entry's `fuel`), not each call as for a module.
    let _ = store.set_fuel(context.fuel.unwrap_or(u64::MAX));
    let _ = store.fuel_async_yield_interval(Some(FUEL_BETWEEN_YIELDS));
    let (sender, answered) = oneshot::channel();
    let http = &mut store.data_mut().http();
    let (request, out) = http
        .new_incoming_request(scheme, request)
        .and_then(|request| Ok((request, http.new_response_outparam(sender)?)))
        .map_err(|e| crashed(&e))?;
    let pre = component.pre.clone();
    let plugin = context.name.clone();
    // The handler may run on after its response (writing its body), for as long again as the
    // entry's `timeout_ms`; before the response, the plugin's own deadline stops it.
    // (`after_ms` is the entry's `timeout_ms`.)
    let lifetime = Duration::from_millis(u64::from(limits.after_ms()) * 2);
    let run = tokio::spawn(async move {
        let handled = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, out)
                .await
        };
        let result = match tokio::time::timeout(lifetime, handled).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(classify(&mut store, &error)),
            Err(_) => Err(Fault::Trap {
                panic: None,
                error: "it was still running after its timeout_ms, twice over".into(),
            }),
        };
        log_output(&plugin, &store);
        result
    });
    // Whoever stops waiting for this request (its deadline, its client) stops the handler.
    let running = AbortOnDrop(run.abort_handle());
    match answered.await {
        Ok(Ok(response)) => Ok(reply(response, running)),
        Ok(Err(code)) => Err(answered_error(&error_code_text(&format!("{code:?}")))),
        // The handler's store is gone without an answer: why is the task's result.
        Err(_) => match run.await {
            Ok(Ok(())) => Err(unanswered()),
            Ok(Err(fault)) => Err(fault),
            Err(join) => Err(Fault::Trap {
                panic: None,
                error: join.to_string(),
            }),
        },
    }
}

/// The request for the component: its URI absolute again (the component sees the scheme and
/// authority of the app's origin, and its path relative to the plugin's prefix).
fn incoming(
    context: &PluginContext,
    bytes: &[u8],
) -> Result<(Scheme, http::Request<WasiBody>), Fault> {
    let request =
        codec::decode_request::<Vec<u8>>(bytes).map_err(|e| Fault::BadFrame(e.to_string()))?;
    let (mut parts, body) = request.into_parts();
    let origin = context.origin.trim_end_matches('/');
    let uri = format!("{origin}{}", parts.uri);
    parts.uri = uri
        .parse()
        .map_err(|_| Fault::BadFrame(format!("invalid request URI {uri}")))?;
    let scheme = match parts.uri.scheme_str() {
        Some("http") => Scheme::Http,
        _ => Scheme::Https,
    };
    let body = Full::new(Bytes::from(body)).map_err(never).boxed_unsync();
    Ok((scheme, http::Request::from_parts(parts, body)))
}

/// The reply carrying `response`: its body streams from the handler as it writes it.
fn reply(
    response: http::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>,
    running: AbortOnDrop,
) -> Reply {
    let (parts, body) = response.into_parts();
    let mut reply = Reply::new(parts.status.as_u16());
    for (name, value) in &parts.headers {
        reply.header(name.as_str(), value.as_bytes());
    }
    let chunks = body.into_data_stream().map(move |chunk| {
        // The handler runs for as long as its body is read.
        let _running = &running;
        chunk
            .map(|bytes| Chunk::Plugin(bytes.to_vec()))
            .map_err(|e| format!("the component's body failed: {e}"))
    });
    reply.with_stream(chunks.boxed())
}

/// Why the handler failed: fuel used up, a panic (its message, from standard error), memory
/// refused, or another trap.
fn classify(store: &mut Store<State>, error: &wasmtime::Error) -> Fault {
    let state = store.data();
    Fault::of_failed_call(
        error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel),
        || panic_message(&String::from_utf8_lossy(&state.output.stderr.contents())),
        || state.memory.refused,
        || crashed_text(error),
    )
}

fn crashed(error: &wasmtime::Error) -> Fault {
    Fault::Trap {
        panic: None,
        error: crashed_text(error),
    }
}

/// An error as one line: a trap's description, or the error of the host function that
/// failed (a limit of wasmtime-wasi-http's), without the wasm backtrace around it.
fn crashed_text(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    }
}

/// What the component wrote to its standard output and error, in the server's log.
fn log_output(plugin: &str, store: &Store<State>) {
    let output = &store.data().output;
    for (level, pipe) in [(3, &output.stdout), (2, &output.stderr)] {
        let text = pipe.contents();
        for line in String::from_utf8_lossy(&text).lines() {
            crate::host::log(plugin, level, line);
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A whole body's error, which cannot happen.
fn never(never: Infallible) -> wasmtime_wasi_http::Error {
    match never {}
}
