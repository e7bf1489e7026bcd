//! Host operations on the server, for each of its guests (wasmtime instances and native
//! plugins): run on tokio, abortable, and their results handed to the plugin through the
//! protocol core, never from inside the call that started them.

use futures::future::Abortable;
use std::future::Future;
use std::sync::Weak;
use valor_host::guest::{self, Started};

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

/// Runs what the operation table made of an operation the plugin asked for (`started`), and
/// returns its id for the plugin: `operation` is spawned unless it was refused.
pub fn start(
    mut started: Started,
    instance: &Weak<dyn Deliver>,
    operation: impl Future<Output = Vec<u8>> + Send + 'static,
) -> u32 {
    if let Some(registration) = started.run.take() {
        let (instance, op) = (instance.clone(), started.op);
        tokio::spawn(async move {
            if let Ok(result) = Abortable::new(operation, registration).await {
                if let Some(instance) = instance.upgrade() {
                    instance.complete(op, &result);
                }
            }
        });
    }
    refused(&started, instance)
}

/// Schedules the delivery of refusals if the table asked for one, and returns the operation's
/// id for the plugin.
pub fn refused(started: &Started, instance: &Weak<dyn Deliver>) -> u32 {
    if started.deliver_refusals {
        let instance = instance.clone();
        tokio::spawn(async move {
            // On a later turn, never from inside the call that started them.
            tokio::task::yield_now().await;
            if let Some(instance) = instance.upgrade() {
                instance.deliver_refusals();
            }
        });
    }
    started.op
}
