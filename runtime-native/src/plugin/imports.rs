//! The functions a plugin imports (`valor_abi::imports`), linked with their exact signatures.
//!
//! They run *inside* a call into the plugin: they read and write its memory and start host
//! operations, but never call back into it. A range outside its memory reads as empty.

use super::instance::State;
use crate::host::{self, kv, outbound};
use std::sync::Arc;
use valor_abi::{imports, IMPORT_MODULE};
use valor_host::limits;
use wasmtime::{Caller, Engine, Extern, Linker};

/// The eight functions of the ABI, for instances of `engine`.
pub fn linker(engine: &Engine) -> Linker<State> {
    let mut linker = Linker::new(engine);
    let defined = (|| -> wasmtime::Result<()> {
        linker.func_wrap(
            IMPORT_MODULE,
            imports::PANIC,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                let message = read_text(&mut caller, ptr, len);
                caller.data_mut().panic_message = Some(message);
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::LOG,
            |mut caller: Caller<'_, State>, level: u32, ptr: u32, len: u32| {
                let line = read_text(&mut caller, ptr, len);
                host::log(&caller.data().context.name, level, &line);
            },
        )?;
        linker.func_wrap(IMPORT_MODULE, imports::NOW, host::now)?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::RANDOM,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                let name = caller.data().context.name.clone();
                let filled = len <= host::MAX_RANDOM_BYTES
                    && memory(&mut caller).is_some_and(|memory| {
                        let bytes = memory.data_mut(&mut caller);
                        let range = ptr as usize..(ptr as usize).saturating_add(len as usize);
                        bytes
                            .get_mut(range)
                            .is_some_and(|bytes| getrandom::fill(bytes).is_ok())
                    });
                if !filled {
                    // Never hand out predictable bytes silently: the plugin must not use them.
                    tracing::error!(plugin = %name, "random: could not fill {len} bytes");
                }
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::SLEEP,
            |mut caller: Caller<'_, State>, ms: f64| {
                caller.data_mut().start_op(async move {
                    host::sleep(ms).await;
                    vec![valor_abi::outcome::OK]
                })
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::FETCH,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                if let Some(why) = too_large(caller.data(), "an outbound request", len) {
                    return caller.data_mut().refuse(why);
                }
                let request = read_bytes(&mut caller, ptr, len);
                let state = caller.data_mut();
                state.table.record_effect();
                let (context, depth) = (Arc::clone(&state.context), state.table.depth());
                state.start_op(outbound::fetch(context, request, depth))
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::KV,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                if let Some(why) = too_large(caller.data(), "a storage command", len) {
                    return caller.data_mut().refuse(why);
                }
                let command = read_bytes(&mut caller, ptr, len);
                let state = caller.data_mut();
                state.table.record_effect();
                state.start_op(kv::run(Arc::clone(&state.context), command))
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::CANCEL,
            |mut caller: Caller<'_, State>, op: u32| {
                caller.data_mut().table.cancel_op(op);
            },
        )?;
        Ok(())
    })();
    defined.expect("the ABI's imports are defined once each");
    linker
}

fn memory(caller: &mut Caller<'_, State>) -> Option<wasmtime::Memory> {
    match caller.get_export(valor_abi::exports::MEMORY) {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// Why a message of `len` bytes is refused, if it is more than the plugin may hand the host:
/// it is refused before anything is copied.
fn too_large(state: &State, what: &str, len: u32) -> Option<Arc<str>> {
    let context = &state.context;
    limits::message_too_large(&context.name, context.max_body_bytes, what, len).map(Into::into)
}

/// Bytes the plugin points at; empty if it points outside its memory (the operation then fails
/// on malformed input, with a message, rather than trapping the host).
fn read_bytes(caller: &mut Caller<'_, State>, ptr: u32, len: u32) -> Vec<u8> {
    let Some(memory) = memory(caller) else {
        return Vec::new();
    };
    let range = ptr as usize..(ptr as usize).saturating_add(len as usize);
    memory
        .data(&*caller)
        .get(range)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

/// A log line or panic message: at most `MAX_TEXT_BYTES` of it are read, whatever length the
/// plugin names.
fn read_text(caller: &mut Caller<'_, State>, ptr: u32, len: u32) -> String {
    valor_host::result::text(len, |kept| read_bytes(caller, ptr, kept))
}
