//! A task inside a plugin instance, owned by what waits for its frames: polled until it hands
//! over its next frame, and dropped inside the plugin (`valor_drop`) when its owner drops it,
//! however that ends (an answer, a fault, a timeout, a reader gone).

use super::calls::{self, call};
use super::read::{self, Piece};
use super::{Guest, Instance};
use crate::fault::Fault;
use futures::channel::oneshot;
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
        // Scoped so that nothing of the first poll but its waiter outlives it (a body need not
        // be `Send`), and the instance is left before any wait.
        let waiting = {
            let first = step(&mut self.instance.enter(), self.id, self.depth, None)?;
            match first {
                Step::Read(piece) => return Ok(piece),
                Step::Waiting(waiting) => waiting,
            }
        };
        self.after(waiting).await
    }

    /// Once `waiting` says the task was woken, polls it again, until it hands over its next
    /// frame, and reads that frame.
    pub(super) async fn after(
        &self,
        mut waiting: oneshot::Receiver<()>,
    ) -> Result<Piece<BodyOf<P>>, Fault> {
        loop {
            // The instance was left before waiting: other requests run on it meanwhile.
            let woken = Some(waiting.await.is_ok());
            waiting = {
                let next = step(&mut self.instance.enter(), self.id, self.depth, woken)?;
                match next {
                    Step::Read(piece) => return Ok(piece),
                    Step::Waiting(waiting) => waiting,
                }
            };
        }
    }
}

/// What one poll of a task came to.
pub(super) enum Step<B> {
    /// The frame it handed over, read.
    Read(Piece<B>),
    /// Nothing yet: it is polled again once this says it was woken.
    Waiting(oneshot::Receiver<()>),
}

/// Polls task `id` (started for a request at `depth`) of the instance `guest` entered, once:
/// the frame it hands over, or what to wait for. `woken` says whether the task was woken since
/// its last poll (`None` before its first).
pub(super) fn step<G: Guest>(
    guest: &mut G,
    id: u32,
    depth: u32,
    woken: Option<bool>,
) -> Result<Step<G::Body>, Fault> {
    // Woken, another task may have broken the instance before this one is polled again
    // (several woken in one turn of the event loop): this one did not fail, it is lost.
    if let Some(woken) = woken {
        if !woken || guest.table(|table| table.is_broken()) {
            let replayable = !guest.table(|table| table.had_effects(id));
            return Err(Fault::Lost { replayable });
        }
    }
    let frame = call(guest, depth, id, |guest| guest.poll(id))?;
    if let Some(fault) = guest.table(|table| table.broken().cloned()) {
        return Err(fault); // broken by one of its imports during the poll
    }
    if guest.over_memory_cap() {
        return Err(guest.table(|table| table.break_down(Fault::OutOfMemory)));
    }
    // Polling may have woken other tasks (a channel between requests, say).
    calls::wake_woken(guest)?;
    if frame != u64::from(PENDING) {
        let max_body_bytes = guest.table(|table| table.max_body_bytes);
        return read::read_piece(guest, frame, max_body_bytes).map(Step::Read);
    }
    Ok(Step::Waiting(guest.table(|table| table.wait(id))))
}

/// Ends task `id` (started for a request at `depth`, whose streamed body, if any, is `body`) in
/// the instance `guest` entered: forgotten by the table, and dropped inside the plugin unless
/// the instance broke.
pub(super) fn end<G: Guest>(guest: &mut G, id: u32, depth: u32, body: Option<u32>) {
    let broken = guest.table(|table| {
        table.task_ended(id, depth);
        if let Some(body) = body {
            table.close_body(body);
        }
        table.is_broken()
    });
    if !broken {
        let _ = call(guest, depth, 0, |guest| guest.drop_task(id));
    }
}

impl<P> Drop for Task<P>
where
    P: Deref,
    P::Target: Instance,
{
    fn drop(&mut self) {
        end(&mut self.instance.enter(), self.id, self.depth, self.body);
    }
}
