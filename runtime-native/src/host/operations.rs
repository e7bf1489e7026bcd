//! Host operations on the server, for each of its guests (wasmtime instances and native
//! plugins): run on tokio, abortable, and their results handed to the plugin through the
//! protocol core, never from inside the call that started them.

use super::{kv, outbound, PluginContext};
use futures::future::{AbortRegistration, Abortable};
use std::future::Future;
use std::sync::{Arc, Weak};
use valor_host::bodies;
use valor_host::guest;
use valor_host::guest::imports::{self, Operation};

/// An instance the results of its operations are delivered to.
pub trait Deliver: Send + Sync {
    /// Hands the plugin the result of operation `op`, unless it no longer wants it.
    fn complete(&self, op: u32, result: &[u8]);
    /// Hands the plugin the failures of the operations refused since the last delivery.
    fn deliver_refusals(&self);
}

impl<I> Deliver for I
where
    I: guest::Instance + Send + Sync,
{
    fn complete(&self, op: u32, result: &[u8]) {
        guest::calls::complete(&mut self.enter(), op, result);
    }

    fn deliver_refusals(&self) {
        guest::calls::deliver_refusals(&mut self.enter());
    }
}

/// Runs `operation`, which the plugin of `context` asked for and its table started as `op`
/// (abortable with `run`), on tokio; its result goes to `instance`.
pub fn spawn(
    context: &Arc<PluginContext>,
    instance: &Weak<dyn Deliver>,
    op: u32,
    run: AbortRegistration,
    operation: Operation,
) {
    let context = || Arc::clone(context);
    match operation {
        Operation::Sleep(ms) => run_op(instance, op, run, imports::slept(super::sleep(ms))),
        Operation::Fetch { request, depth } => {
            let fetch = outbound::fetch(context(), request, depth);
            run_op(instance, op, run, fetch)
        }
        Operation::Kv(command) => run_op(instance, op, run, kv::run(context(), command)),
        Operation::Read {
            body,
            handle,
            idle_ms,
        } => {
            let idle = super::sleep(f64::from(idle_ms));
            run_op(instance, op, run, bodies::read(body, handle, idle, idle_ms))
        }
        Operation::FetchStream {
            request,
            depth,
            handle,
            body,
        } => {
            let fetch = outbound::fetch_stream(context(), request, depth, handle, body);
            run_op(instance, op, run, fetch)
        }
    }
}

/// Runs `operation` until it finishes or `run` aborts it, and delivers its result.
fn run_op(
    instance: &Weak<dyn Deliver>,
    op: u32,
    run: AbortRegistration,
    operation: impl Future<Output = Vec<u8>> + Send + 'static,
) {
    let instance = instance.clone();
    tokio::spawn(async move {
        if let Ok(result) = Abortable::new(operation, run).await {
            if let Some(instance) = instance.upgrade() {
                instance.complete(op, &result);
            }
        }
    });
}

/// Delivers the refusals made since the last delivery to `instance`, on a later turn (never
/// from inside the call that made them).
pub fn deliver_refusals_later(instance: &Weak<dyn Deliver>) {
    let instance = instance.clone();
    tokio::spawn(async move {
        tokio::task::yield_now().await;
        if let Some(instance) = instance.upgrade() {
            instance.deliver_refusals();
        }
    });
}
