//! A task inside a plugin instance, owned by what waits for its frames: polled until it hands
//! over its next frame, and dropped inside the plugin (`valor_drop`) when its owner drops it,
//! however that ends (an answer, a fault, a timeout, a reader gone).

use super::calls::{self, call};
use super::read::{self, Piece};
use super::{Guest, Instance};
use crate::fault::Fault;
use std::ops::Deref;
use valor_abi::PENDING;

/// A started task of the instance `P` points to (an `Rc` or `Arc` of it).
pub struct Task<P>
where
    P: Deref,
    P::Target: Instance,
{
    instance: P,
    id: u32,
    depth: u32,
    /// The streamed body of its request, closed with it.
    body: Option<u32>,
}

/// The body of a frame read from the instance `P` points to.
pub type BodyOf<P> = <<P as Deref>::Target as Instance>::Body;

impl<P> Task<P>
where
    P: Deref,
    P::Target: Instance,
{
    /// Owns task `id` of `instance`, started for a request at `depth` whose streamed body (if
    /// it has one) is `body`.
    pub(super) fn new(instance: P, id: u32, depth: u32, body: Option<u32>) -> Self {
        Self {
            instance,
            id,
            depth,
            body,
        }
    }

    /// Polls the task until it hands over its next frame, waiting for it to be woken between
    /// polls, and reads that frame.
    pub async fn next(&self) -> Result<Piece<BodyOf<P>>, Fault> {
        let (id, depth) = (self.id, self.depth);
        // Whether the task was woken (`None` before its first poll).
        let mut woken: Option<bool> = None;
        loop {
            let waiting = {
                let mut guest = self.instance.enter();
                // Woken, another task may have broken the instance before this one is polled
                // again (several woken in one turn of the event loop): this one did not fail,
                // it is lost.
                if let Some(woken) = woken {
                    if !woken || guest.table(|table| table.is_broken()) {
                        let replayable = !guest.table(|table| table.had_effects(id));
                        return Err(Fault::Lost { replayable });
                    }
                }
                let frame = call(&mut guest, depth, id, |guest| guest.poll(id))?;
                if let Some(fault) = guest.table(|table| table.broken().cloned()) {
                    return Err(fault); // broken by one of its imports during the poll
                }
                if guest.over_memory_cap() {
                    return Err(guest.table(|table| table.break_down(Fault::OutOfMemory)));
                }
                // Polling may have woken other tasks (a channel between requests, say).
                calls::wake_woken(&mut guest)?;
                if frame != u64::from(PENDING) {
                    let max_body_bytes = guest.table(|table| table.max_body_bytes);
                    return read::read_piece(&mut guest, frame, max_body_bytes);
                }
                guest.table(|table| table.wait(id))
            };
            // The instance is left before waiting: other requests run on it meanwhile.
            woken = Some(waiting.await.is_ok());
        }
    }
}

impl<P> Drop for Task<P>
where
    P: Deref,
    P::Target: Instance,
{
    fn drop(&mut self) {
        let mut guest = self.instance.enter();
        let (task, depth) = (self.id, self.depth);
        let body = self.body;
        let broken = guest.table(|table| {
            table.task_ended(task, depth);
            if let Some(body) = body {
                table.close_body(body);
            }
            table.is_broken()
        });
        if !broken {
            let _ = call(&mut guest, depth, 0, |guest| guest.drop_task(task));
        }
    }
}
