//! The functions a plugin imports (`valor_abi::imports`), linked with their exact signatures:
//! `now` is the server's, the others the protocol core's (`valor_host::guest::imports`),
//! reaching the instance through [`Host`].
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

/// The functions of the ABI, for instances of `engine`.
pub fn linker(engine: &Engine) -> Linker<State> {
    let mut linker = Linker::new(engine);
    let defined = (|| -> wasmtime::Result<()> {
        linker.func_wrap(
            IMPORT_MODULE,
            imports::PANIC,
            |caller: Call, ptr: u32, len: u32| import::panic(&mut Inside(caller), ptr.into(), len),
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::LOG,
            |caller: Call, level: u32, ptr: u32, len: u32| {
                import::log(&mut Inside(caller), level, ptr.into(), len)
            },
        )?;
        linker.func_wrap(IMPORT_MODULE, imports::NOW, host::now)?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::RANDOM,
            |caller: Call, ptr: u32, len: u32| import::random(&mut Inside(caller), ptr.into(), len),
        )?;
        linker.func_wrap(IMPORT_MODULE, imports::SLEEP, |caller: Call, ms: f64| {
            import::sleep(&mut Inside(caller), ms)
        })?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::FETCH,
            |caller: Call, ptr: u32, len: u32| import::fetch(&mut Inside(caller), ptr.into(), len),
        )?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::KV,
            |caller: Call, ptr: u32, len: u32| import::kv(&mut Inside(caller), ptr.into(), len),
        )?;
        linker.func_wrap(IMPORT_MODULE, imports::CANCEL, |caller: Call, op: u32| {
            import::cancel(&mut Inside(caller), op)
        })?;
        linker.func_wrap(IMPORT_MODULE, imports::READ, |caller: Call, body: u32| {
            import::read(&mut Inside(caller), body)
        })?;
        linker.func_wrap(IMPORT_MODULE, imports::CLOSE, |caller: Call, body: u32| {
            import::close(&mut Inside(caller), body)
        })?;
        linker.func_wrap(
            IMPORT_MODULE,
            imports::FETCH_STREAM,
            |caller: Call, ptr: u32, len: u32| {
                import::fetch_stream(&mut Inside(caller), ptr.into(), len)
            },
        )?;
        Ok(())
    })();
    defined.expect("the ABI's imports are defined once each");
    linker
}

/// What an import is called with: the instance, during a call into it.
type Call<'a> = Caller<'a, State>;

/// The instance, as the imports the protocol core writes reach it during a call into it.
struct Inside<'a>(Call<'a>);

impl Inside<'_> {
    /// The `len` bytes of its memory at `ptr`, if they lie inside it.
    fn bytes(&mut self, ptr: Address, len: u32) -> Option<&mut [u8]> {
        let Some(Extern::Memory(memory)) = self.0.get_export(valor_abi::exports::MEMORY) else {
            return None;
        };
        let at = usize::try_from(ptr).ok()?;
        let range = at..at.checked_add(len as usize)?;
        memory.data_mut(&mut self.0).get_mut(range)
    }
}

impl Host for Inside<'_> {
    type Bindings = host::Bindings;

    fn context(&self) -> &PluginContext {
        &self.0.data().context
    }

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut self.0.data_mut().table)
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        self.bytes(ptr, len)
            .map_or_else(Vec::new, |bytes| bytes.to_vec())
    }

    fn spawn(&mut self, op: u32, run: AbortRegistration, operation: Operation) {
        let state = self.0.data();
        operations::spawn(&state.context, &state.instance, op, run, operation);
    }

    fn deliver_refusals_later(&mut self) {
        operations::deliver_refusals_later(&self.0.data().instance);
    }

    fn fill_random(&mut self, ptr: Address, len: u32) -> bool {
        self.bytes(ptr, len)
            .is_some_and(|bytes| getrandom::fill(bytes).is_ok())
    }

    fn log(&mut self, level: u32, line: &str) {
        host::log(&self.0.data().context.name, level, line);
    }
}
