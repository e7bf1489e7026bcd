//! One request through one instance: written into the plugin, its task started and polled until
//! it answers, and dropped inside the plugin however the dispatch ends (an answer, a fault, a
//! timeout or a client gone: dropping the future).

use super::calls::{self, call};
use super::read::{self, Frame};
use super::{Guest, Instance};
use crate::fault::Fault;
use valor_abi::PENDING;

/// Runs `request` (a request at `depth` plugin-to-plugin hops) through the instance, and reads
/// its response.
pub async fn dispatch<I: Instance>(
    instance: &I,
    request: &I::Request,
    depth: u32,
) -> Result<Frame<I::Body>, Fault> {
    let task = {
        let mut guest = instance.enter();
        if guest.table(|table| table.is_broken()) {
            // Another request broke it a moment ago: this one never ran.
            return Err(Fault::Lost { replayable: true });
        }
        let len = I::Guest::request_len(request);
        let ptr = calls::alloc(&mut guest, len, depth)?;
        guest
            .write_request(ptr, request)
            .map_err(|fault| guest.table(|table| table.break_down(fault)))?;
        let task = call(&mut guest, depth, 0, |guest| guest.start(ptr, len))?;
        guest.table(|table| table.task_started(depth));
        task
    };
    let task = TaskGuard {
        instance,
        task,
        depth,
    };
    // Whether the task was woken (`None` before its first poll).
    let mut woken: Option<bool> = None;
    loop {
        let waiting = {
            let mut guest = instance.enter();
            // Woken, another task may have broken the instance before this one is polled again
            // (several woken in one turn of the event loop): this one did not fail, it is lost.
            if let Some(woken) = woken {
                if !woken || guest.table(|table| table.is_broken()) {
                    let replayable = !guest.table(|table| table.had_effects(task.task));
                    return Err(Fault::Lost { replayable });
                }
            }
            let frame = call(&mut guest, depth, task.task, |guest| guest.poll(task.task))?;
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
                return read::read(&mut guest, frame, max_body_bytes);
            }
            guest.table(|table| table.wait(task.task))
        };
        // The instance is left before waiting: other requests run on it meanwhile.
        woken = Some(waiting.await.is_ok());
    }
}

/// Drops the plugin's task when its dispatch ends, however it ends.
struct TaskGuard<'a, I: Instance> {
    instance: &'a I,
    task: u32,
    depth: u32,
}

impl<I: Instance> Drop for TaskGuard<'_, I> {
    fn drop(&mut self) {
        let mut guest = self.instance.enter();
        let (task, depth) = (self.task, self.depth);
        let broken = guest.table(|table| {
            table.task_ended(task, depth);
            table.is_broken()
        });
        if !broken {
            let _ = call(&mut guest, depth, 0, |guest| guest.drop_task(task));
        }
    }
}
