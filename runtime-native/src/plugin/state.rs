//! What an instance's imports and host operations share: the store's data.
//!
//! It lives inside the wasmtime `Store`, behind the instance's lock: imports reach it through
//! their `Caller`, the host between calls through the store. Nothing here calls the plugin.

use super::instance::{Fault, Instance};
use crate::host::PluginContext;
use futures::future::{AbortHandle, Abortable};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Weak};
use tokio::sync::oneshot;
use valor_host::limits::{self, MAX_OPS_IN_FLIGHT};
use wasmtime::{ResourceLimiter, Result};

/// The data of an instance's store.
pub struct State {
    pub context: Arc<PluginContext>,
    /// Caps its memory at `memory_mb`, and remembers a refused growth.
    pub memory: MemoryCap,
    /// A panic message reported just before a trap.
    pub panic_message: Option<String>,
    /// Set once the instance trapped: it is never called again.
    pub broken: Option<Fault>,
    /// The instance, once created: finished operations deliver their results to it.
    pub instance: Weak<Instance>,
    /// Host operations under way; aborting one drops its future (timers, requests).
    ops: HashMap<u32, AbortHandle>,
    next_op: u32,
    /// Operations refused when started, and why: delivered after the current call returns.
    pub refused: BTreeMap<u32, Arc<str>>,
    /// Whether a delivery of `refused` is scheduled.
    refusals_due: bool,
    /// Dispatches waiting for their task to be woken.
    pub waiters: HashMap<u32, oneshot::Sender<()>>,
    /// Nesting depth of the request whose task is being polled (for plugin-to-plugin fetch).
    pub depth: u32,
    /// The task being polled (0 while none is): the operations it starts are its own.
    pub polling: u32,
    /// Tasks that started an operation with effects outside the plugin; 0 stands for any task
    /// (one started outside a poll). They are not run again when their instance is lost.
    pub effects: HashSet<u32>,
}

impl State {
    pub fn new(context: Arc<PluginContext>) -> Self {
        Self {
            memory: MemoryCap::new(context.memory_bytes()),
            context,
            panic_message: None,
            broken: None,
            instance: Weak::new(),
            ops: HashMap::new(),
            next_op: 1,
            refused: BTreeMap::new(),
            refusals_due: false,
            waiters: HashMap::new(),
            depth: 0,
            polling: 0,
            effects: HashSet::new(),
        }
    }

    /// Starts a host operation and returns its id; its result (the ABI's result bytes) is
    /// delivered when it finishes. Past [`MAX_OPS_IN_FLIGHT`] the operation is refused instead.
    pub fn start_op(&mut self, operation: impl Future<Output = Vec<u8>> + Send + 'static) -> u32 {
        if self.broken.is_some() {
            return 0; // never delivered: the instance is being discarded
        }
        if self.ops.len() >= MAX_OPS_IN_FLIGHT {
            return self.refuse(limits::over_quota(&self.context.name).into());
        }
        let id = self.next_id();
        let (handle, registration) = AbortHandle::new_pair();
        self.ops.insert(id, handle);
        let instance = self.instance.clone();
        tokio::spawn(async move {
            if let Ok(result) = Abortable::new(operation, registration).await {
                if let Some(instance) = instance.upgrade() {
                    instance.complete(id, &result);
                }
            }
        });
        id
    }

    /// An operation that fails without starting: its failure saying `why` is delivered once
    /// the plugin's current call has returned.
    pub fn refuse(&mut self, why: Arc<str>) -> u32 {
        if self.broken.is_some() {
            return 0;
        }
        if self.refused.len() >= MAX_OPS_IN_FLIGHT {
            // Refusals cost the host memory until delivered.
            self.break_down(Fault::Violation(limits::too_many_operations()));
            return 0;
        }
        let id = self.next_id();
        self.refused.insert(id, why);
        if !std::mem::replace(&mut self.refusals_due, true) {
            let instance = self.instance.clone();
            tokio::spawn(async move {
                // On a later turn, never from inside the call that started them.
                tokio::task::yield_now().await;
                if let Some(instance) = instance.upgrade() {
                    instance.deliver_refusals();
                }
            });
        }
        id
    }

    /// The refusals due, in id order; those made meanwhile wait for the next delivery.
    pub fn take_refusals(&mut self) -> Vec<(u32, Vec<u8>)> {
        self.refusals_due = false;
        std::mem::take(&mut self.refused)
            .into_iter()
            .map(|(op, why)| (op, valor_host::result::failed(&why)))
            .collect()
    }

    fn next_id(&mut self) -> u32 {
        let id = self.next_op;
        self.next_op = id.wrapping_add(1).max(1);
        id
    }

    /// The plugin no longer wants `op`.
    pub fn cancel_op(&mut self, op: u32) {
        if let Some(handle) = self.ops.remove(&op) {
            handle.abort();
        }
        self.refused.remove(&op);
    }

    /// Whether `op` finished while the plugin still wanted it (it is then no longer pending).
    pub fn finish_op(&mut self, op: u32) -> bool {
        self.ops.remove(&op).is_some()
    }

    /// The plugin is starting an operation with effects outside it (a fetch, a storage command).
    pub fn record_effect(&mut self) {
        self.effects.insert(self.polling);
    }

    pub fn had_effects(&self, task: u32) -> bool {
        self.effects.contains(&task) || self.effects.contains(&0)
    }

    /// After a trap: remember why, stop every operation, and fail every waiting dispatch.
    /// Returns the fault, for the caller to report.
    pub fn break_down(&mut self, fault: Fault) -> Fault {
        self.broken.get_or_insert(fault.clone());
        self.ops.drain().for_each(|(_, op)| op.abort());
        self.refused.clear();
        // Dropping the senders wakes the receivers with an error: their task was lost.
        self.waiters.clear();
        fault
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
