//! The functions a plugin imports (`valor_abi::imports`), linked with their exact signatures;
//! those the protocol core writes (`valor_host::guest::imports`) reach the instance through
//! [`Host`].
//!
//! They run *inside* a call into the plugin: they read and write its memory and start host
//! operations, but never call back into it. A range outside its memory reads as empty.

use super::instance::State;
use crate::host::{self, operations, PluginContext};
use futures::future::AbortRegistration;
use valor_abi::{imports, IMPORT_MODULE};
use valor_host::guest::imports::{self as import, Host, Operation};
use valor_host::guest::{Address, Table};
use wasmtime::{Caller, Engine, Extern, Linker};

/// The eight functions of the ABI, for instances of `engine`.
pub fn linker(engine: &Engine) -> Linker<State> {
    let mut linker = Linker::new(engine);
    let defined = (|| -> wasmtime::Result<()> {
        linker.func_wrap(
            IMPORT_MODULE,
            imports::PANIC,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                let message = import::text(&mut Inside(&mut caller), ptr.into(), len);
                caller.data_mut().panic_message = Some(message);
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::LOG,
            |mut caller: Caller<'_, State>, level: u32, ptr: u32, len: u32| {
                let line = import::text(&mut Inside(&mut caller), ptr.into(), len);
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
            |mut caller: Caller<'_, State>, ms: f64| import::sleep(&mut Inside(&mut caller), ms),
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::FETCH,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                import::fetch(&mut Inside(&mut caller), ptr.into(), len)
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::KV,
            |mut caller: Caller<'_, State>, ptr: u32, len: u32| {
                import::kv(&mut Inside(&mut caller), ptr.into(), len)
            },
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::CANCEL,
            |mut caller: Caller<'_, State>, op: u32| import::cancel(&mut Inside(&mut caller), op),
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

/// The instance, as the imports the protocol core writes reach it during a call into it.
struct Inside<'a, 'b>(&'a mut Caller<'b, State>);

impl Host for Inside<'_, '_> {
    type Bindings = host::Bindings;

    fn context(&self) -> &PluginContext {
        &self.0.data().context
    }

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut self.0.data_mut().table)
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        let Some(memory) = memory(self.0) else {
            return Vec::new();
        };
        let at = usize::try_from(ptr).unwrap_or(usize::MAX);
        memory
            .data(&*self.0)
            .get(at..at.saturating_add(len as usize))
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    fn spawn(&mut self, op: u32, run: AbortRegistration, operation: Operation) {
        let state = self.0.data();
        operations::spawn(&state.context, &state.instance, op, run, operation);
    }

    fn deliver_refusals_later(&mut self) {
        operations::deliver_refusals_later(&self.0.data().instance);
    }
}
