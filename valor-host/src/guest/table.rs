//! The host operations of one instance: their ids, the quota, refusals, which tasks had effects
//! outside the plugin, and the dispatches waiting for their task to be woken. Nothing here calls
//! the plugin: its imports ([`imports`](super::imports)) start and cancel operations, the host
//! runs them, the core delivers their results.

use crate::bodies::Source;
use crate::error::MAX_DEPTH;
use crate::fault::Fault;
use crate::limits::{self, MAX_OPS_IN_FLIGHT};
use crate::result;
use futures::channel::oneshot;
use futures::future::{AbortHandle, AbortRegistration};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The bookkeeping of one instance.
#[derive(Debug)]
pub struct Table {
    /// Host operations under way; aborting one drops its future (timers, requests).
    ops: HashMap<u32, AbortHandle>,
    next_op: u32,
    /// Operations refused when started, and why: delivered after the current call returns
    /// (an import must not call back into the plugin).
    refused: BTreeMap<u32, Arc<str>>,
    /// Whether a delivery of `refused` is scheduled.
    refusals_due: bool,
    /// The message of an operation refused for [`MAX_OPS_IN_FLIGHT`].
    over_quota: Arc<str>,
    /// Dispatches waiting for their task to be woken.
    waiters: HashMap<u32, oneshot::Sender<()>>,
    /// How many live tasks serve requests at each depth (plugin-to-plugin hops).
    live_at_depth: [u32; DEPTHS],
    /// The depth of the request the current call into the plugin is made for.
    depth: u32,
    /// The task being polled (0 while none is): the operations it starts are its own.
    polling: u32,
    /// Tasks that started an operation with effects outside the plugin; 0 stands for any task
    /// (one started outside a poll). They are not run again when their instance is lost.
    effects: HashSet<u32>,
    /// Set once the instance faulted: it is never called again.
    broken: Option<Fault>,
    /// The message of the plugin's panic, reported (`panic`) just before its trap.
    panic: Option<String>,
    /// The largest body a response may have (the entry's `max_body_bytes`).
    pub(super) max_body_bytes: u32,
    /// The streamed bodies the plugin may read (section 18), by handle.
    bodies: HashMap<u32, Arc<Source>>,
    next_body: u32,
    /// The body each `fetch_stream` under way will hand over: closed if it fails or is
    /// cancelled (the plugin never learns its handle).
    fetching: HashMap<u32, u32>,
}

/// An operation the plugin asked for, as the table took it.
#[derive(Debug)]
pub struct Started {
    /// Its id, for the plugin (0 if the instance is being discarded: nothing is delivered).
    pub op: u32,
    /// Where to run it: the host spawns it ([`Host::spawn`](super::imports::Host::spawn)),
    /// abortable with this, and hands its result to [`calls::complete`](super::calls::complete).
    /// `None` when it was refused.
    pub run: Option<AbortRegistration>,
    /// Whether the host must schedule [`calls::deliver_refusals`](super::calls::deliver_refusals)
    /// on a later turn of its event loop (never from inside the current call).
    pub deliver_refusals: bool,
}

impl Table {
    /// The table of a fresh instance of `plugin`, whose entry allows `max_body_bytes`.
    pub fn new(plugin: &str, max_body_bytes: u32) -> Self {
        Self {
            ops: HashMap::new(),
            next_op: 1,
            refused: BTreeMap::new(),
            refusals_due: false,
            over_quota: limits::over_quota(plugin).into(),
            waiters: HashMap::new(),
            live_at_depth: [0; DEPTHS],
            depth: 0,
            polling: 0,
            effects: HashSet::new(),
            broken: None,
            panic: None,
            max_body_bytes,
            bodies: HashMap::new(),
            next_body: 1,
            fetching: HashMap::new(),
        }
    }

    /// Why the instance is broken, if it is.
    pub fn broken(&self) -> Option<&Fault> {
        self.broken.as_ref()
    }

    /// Whether the instance is broken (and must be replaced).
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// The depth of the request the current call into the plugin is made for: an outbound
    /// request it starts is one level deeper.
    pub(super) fn depth(&self) -> u32 {
        self.depth
    }

    /// Starts an operation. Past [`MAX_OPS_IN_FLIGHT`] it is refused instead.
    pub(super) fn start_op(&mut self) -> Started {
        if self.broken.is_some() {
            return Started::discarded();
        }
        if self.ops.len() >= MAX_OPS_IN_FLIGHT {
            return self.refuse(Arc::clone(&self.over_quota));
        }
        let op = self.next_id();
        let (handle, registration) = AbortHandle::new_pair();
        self.ops.insert(op, handle);
        Started {
            op,
            run: Some(registration),
            deliver_refusals: false,
        }
    }

    /// An operation that fails without starting (it takes no room in the quota), saying `why`
    /// once the plugin's current call has returned.
    pub(super) fn refuse(&mut self, why: Arc<str>) -> Started {
        if self.broken.is_some() {
            return Started::discarded();
        }
        if self.refused.len() >= MAX_OPS_IN_FLIGHT {
            // Refusals cost the host memory until delivered: a plugin that keeps starting
            // operations in one call is stopped rather than let it take the host's memory.
            self.break_down(Fault::Violation(limits::too_many_operations()));
            return Started::discarded();
        }
        let op = self.next_id();
        self.refused.insert(op, why);
        Started {
            op,
            run: None,
            deliver_refusals: !std::mem::replace(&mut self.refusals_due, true),
        }
    }

    /// The refusals due, in id order, as results; those made meanwhile wait for the next
    /// delivery.
    pub(super) fn take_refusals(&mut self) -> Vec<(u32, Vec<u8>)> {
        self.refusals_due = false;
        std::mem::take(&mut self.refused)
            .into_iter()
            .map(|(op, why)| (op, result::failed(&why)))
            .collect()
    }

    fn next_id(&mut self) -> u32 {
        let id = self.next_op;
        self.next_op = id.wrapping_add(1).max(1);
        id
    }

    /// The plugin no longer wants `op` (`cancel`).
    pub(super) fn cancel_op(&mut self, op: u32) {
        if let Some(handle) = self.ops.remove(&op) {
            handle.abort();
        }
        self.refused.remove(&op);
        if let Some(body) = self.fetching.remove(&op) {
            self.close_body(body);
        }
    }

    /// Whether `op` finished while the plugin still wanted it (it is then no longer pending);
    /// `streamed` is the body its result hands over, if it does (a `fetch_stream` that failed,
    /// or was answered whole, hands over none: its body is closed).
    pub(super) fn finish_op(&mut self, op: u32, streamed: Option<u32>) -> bool {
        let wanted = self.ops.remove(&op).is_some();
        if let Some(body) = self.fetching.remove(&op) {
            if !(wanted && streamed == Some(body)) {
                self.close_body(body);
            }
        }
        wanted
    }

    /// Opens a streamed body for the plugin to read: its handle, or `None` past
    /// [`MAX_OPS_IN_FLIGHT`] bodies open.
    pub(super) fn open_body(&mut self, source: Arc<Source>) -> Option<u32> {
        if self.bodies.len() >= MAX_OPS_IN_FLIGHT {
            return None;
        }
        let mut handle = self.next_body;
        while self.bodies.contains_key(&handle) {
            handle = handle.wrapping_add(1).max(1);
        }
        self.next_body = handle.wrapping_add(1).max(1);
        self.bodies.insert(handle, source);
        Some(handle)
    }

    /// The body `fetch_stream` operation `op` hands over as `handle`, closed unless it succeeds.
    pub(super) fn fetching(&mut self, op: u32, handle: u32) {
        self.fetching.insert(op, handle);
    }

    /// Streamed body `handle`, if it is open.
    pub(super) fn body(&self, handle: u32) -> Option<Arc<Source>> {
        self.bodies.get(&handle).cloned()
    }

    /// Closes streamed body `handle` (`close`, or its task dropped): once no read holds it, its
    /// source is let go.
    pub(super) fn close_body(&mut self, handle: u32) {
        self.bodies.remove(&handle);
    }

    /// How many streamed bodies are open.
    pub fn bodies_open(&self) -> usize {
        self.bodies.len()
    }

    /// Whether `op` is under way (started, and neither finished, cancelled nor refused).
    pub(super) fn is_running(&self, op: u32) -> bool {
        self.ops.contains_key(&op)
    }

    /// How many operations are under way.
    pub fn ops_in_flight(&self) -> usize {
        self.ops.len()
    }

    /// Keeps the message of the plugin's panic, for the trap that follows.
    pub(super) fn panicked(&mut self, message: String) {
        self.panic = Some(message);
    }

    /// The message of the panic the plugin reported before the call that failed, if it did.
    pub fn take_panic(&mut self) -> Option<String> {
        self.panic.take()
    }

    /// The plugin is starting an operation with effects outside it (a fetch, a storage command).
    pub(super) fn record_effect(&mut self) {
        self.effects.insert(self.polling);
    }

    /// Whether `task` (or a call outside any poll) started an operation with effects.
    pub(super) fn had_effects(&self, task: u32) -> bool {
        self.effects.contains(&task) || self.effects.contains(&0)
    }

    /// The next calls into the plugin are made for a request at `depth`, polling `task` (0: none).
    pub(super) fn calling(&mut self, depth: u32, task: u32) {
        self.depth = depth;
        self.polling = task;
    }

    /// The depth of calls made for no request in particular (delivering a result, draining
    /// woken tasks): the deepest request in flight, so that no entry point escapes the nesting
    /// limit.
    pub(super) fn deepest(&self) -> u32 {
        let deepest = self.live_at_depth.iter().rposition(|&live| live > 0);
        deepest.map_or(0, |depth| depth as u32)
    }

    /// A dispatch started a task for a request at `depth`.
    pub(super) fn task_started(&mut self, depth: u32) {
        self.live_at_depth[level(depth)] += 1;
    }

    /// A dispatch waits for `task` to be woken: `Err` (`Canceled`) if the instance breaks.
    pub(super) fn wait(&mut self, task: u32) -> oneshot::Receiver<()> {
        let (wake, woken) = oneshot::channel();
        self.waiters.insert(task, wake);
        woken
    }

    /// Wakes the dispatch waiting for `task`, if one is.
    pub(super) fn wake(&mut self, task: u32) {
        if let Some(waiter) = self.waiters.remove(&task) {
            let _ = waiter.send(());
        }
    }

    /// Forgets `task`, whose dispatch (for a request at `depth`) ended.
    pub(super) fn task_ended(&mut self, task: u32, depth: u32) {
        // Most tasks end having waited for nothing and started nothing: no key to hash.
        if !self.waiters.is_empty() {
            self.waiters.remove(&task);
        }
        if !self.effects.is_empty() {
            self.effects.remove(&task);
        }
        let live = &mut self.live_at_depth[level(depth)];
        *live = live.saturating_sub(1);
    }

    /// After a fault: remember why, stop every operation, and fail every waiting dispatch.
    /// Returns the fault, for the caller to report.
    pub fn break_down(&mut self, fault: Fault) -> Fault {
        self.broken.get_or_insert(fault.clone());
        self.ops.drain().for_each(|(_, op)| op.abort());
        self.refused.clear();
        self.bodies.clear();
        self.fetching.clear();
        // Dropping the senders wakes the receivers with an error: their task was lost.
        self.waiters.clear();
        fault
    }
}

/// The depths counted apart: every depth a request may have, and one for those past it (they are
/// refused before they reach an instance).
const DEPTHS: usize = MAX_DEPTH as usize + 2;

fn level(depth: u32) -> usize {
    (depth as usize).min(DEPTHS - 1)
}

impl Started {
    /// Nothing to run or deliver: the instance is being discarded.
    fn discarded() -> Self {
        Self {
            op: 0,
            run: None,
            deliver_refusals: false,
        }
    }
}
