//! What an instance's imports and host operations share: the store's data.
//!
//! It lives inside the wasmtime `Store`, behind the instance's lock: imports reach it through
//! their `Caller`, the host between calls through the store. Nothing here calls the plugin.

use super::instance::Instance;
use crate::host::PluginContext;
use futures::future::Abortable;
use std::future::Future;
use std::sync::{Arc, Weak};
use valor_host::guest::{self, Instance as _, Started, Table};
use wasmtime::{ResourceLimiter, Result};

/// The data of an instance's store.
pub struct State {
    /// The plugin's context: its entry's limits, its store, its allowlist.
    pub context: Arc<PluginContext>,
    /// Caps its memory at `memory_mb`, and remembers a refused growth.
    pub memory: MemoryCap,
    /// A panic message reported just before a trap.
    pub panic_message: Option<String>,
    /// Its host operations, as the protocol core keeps them.
    pub table: Table,
    /// The instance, once created: finished operations deliver their results to it.
    pub instance: Weak<Instance>,
}

impl State {
    /// The data of a fresh instance of the plugin of `context`.
    pub fn new(context: Arc<PluginContext>) -> Self {
        Self {
            memory: MemoryCap::new(context.memory_bytes()),
            table: Table::new(&context.name, context.max_body_bytes),
            context,
            panic_message: None,
            instance: Weak::new(),
        }
    }

    /// Starts a host operation and returns its id; its result (the ABI's result bytes) is
    /// delivered when it finishes. Past the quota the operation is refused instead.
    pub fn start_op(&mut self, operation: impl Future<Output = Vec<u8>> + Send + 'static) -> u32 {
        let mut started = self.table.start_op();
        if let Some(registration) = started.run.take() {
            let (instance, op) = (self.instance.clone(), started.op);
            tokio::spawn(async move {
                if let Ok(result) = Abortable::new(operation, registration).await {
                    if let Some(instance) = instance.upgrade() {
                        guest::calls::complete(&mut instance.enter(), op, &result);
                    }
                }
            });
        }
        self.schedule_refusals(&started)
    }

    /// An operation that fails without starting: its failure saying `why` is delivered once
    /// the plugin's current call has returned.
    pub fn refuse(&mut self, why: Arc<str>) -> u32 {
        let started = self.table.refuse(why);
        self.schedule_refusals(&started)
    }

    fn schedule_refusals(&self, started: &Started) -> u32 {
        if started.deliver_refusals {
            let instance = self.instance.clone();
            tokio::spawn(async move {
                // On a later turn, never from inside the call that started them.
                tokio::task::yield_now().await;
                if let Some(instance) = instance.upgrade() {
                    guest::calls::deliver_refusals(&mut instance.enter());
                }
            });
        }
        started.op
    }
}

/// The most elements a table may have: V8's limit, so a table a browser refuses to grow is
/// refused here too (and a plugin cannot take gigabytes of the server's memory through one).
const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// The memory cap of one instance (its entry's `memory_mb`): a growth past it makes
/// `memory.grow` return -1 inside the plugin, as a full memory would.
pub struct MemoryCap {
    bytes: usize,
    /// Whether a growth was refused (a trap after it is reported as out of memory).
    pub refused: bool,
}

impl MemoryCap {
    fn new(bytes: u64) -> Self {
        Self {
            bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
            refused: false,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        let allowed = desired <= self.bytes;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
