//! One request through one instance: written into the plugin, its task started and polled until
//! it answers. The task is dropped inside the plugin however the dispatch ends (an answer, a
//! fault, a timeout or a client gone: dropping the future), unless its answer streams or it
//! goes on working after it: then the [`Task`] is handed on with the answer.

use super::calls::{self, call};
use super::read::{Frame, Piece};
use super::task::{self, BodyOf, Step, Task};
use super::{Guest, Instance};
use crate::bodies::Source;
use crate::fault::Fault;
use crate::frame::FrameHead;
use crate::limits;
use std::ops::Deref;
use std::sync::Arc;

/// What a plugin's task answered.
pub enum Answer<P>
where
    P: Deref,
    P::Target: Instance,
{
    /// A whole answer; `after` holds the task if it goes on working after it (until `DONE`).
    Whole {
        /// The answer.
        frame: Frame<BodyOf<P>>,
        /// The task, if it goes on working.
        after: Option<Task<P>>,
    },
    /// The status and headers of an answer whose body the task goes on producing.
    Streamed {
        /// The status and headers.
        head: FrameHead,
        /// The task, polled for each chunk.
        body: Task<P>,
    },
}

impl<P> std::fmt::Debug for Answer<P>
where
    P: Deref,
    P::Target: Instance,
    BodyOf<P>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Whole { frame, after } => f
                .debug_struct("Whole")
                .field("frame", frame)
                .field("continues", &after.is_some())
                .finish(),
            Answer::Streamed { head, .. } => {
                f.debug_struct("Streamed").field("head", head).finish()
            }
        }
    }
}

/// Runs `request` (a request at `depth` plugin-to-plugin hops) through the instance `instance`
/// points to, and reads its answer.
///
/// A request whose body the plugin reads as a stream (section 18) comes with `body`, its source;
/// the host encoded its body field as a streamed body of handle 0 (`codec::streamed_body_field`),
/// and the handle the instance gives the body is written in its place. The body is the task's:
/// closed when the task is dropped.
pub async fn dispatch<P>(
    instance: P,
    request: &<P::Target as Instance>::Request,
    body: Option<&Arc<Source>>,
    depth: u32,
) -> Result<Answer<P>, Fault>
where
    P: Deref,
    P::Target: Instance,
{
    // Scoped so that nothing of the first poll but its waiter is held across a wait (a body
    // need not be `Send`).
    let (task, waiting) = {
        let (id, handle, first) = {
            let mut guest = instance.enter();
            if guest.table(|table| table.is_broken()) {
                // Another request broke it a moment ago: this one never ran.
                return Err(Fault::Lost { replayable: true });
            }
            let len = <P::Target as Instance>::Guest::request_len(request);
            let ptr = calls::alloc(&mut guest, len, depth)?;
            guest
                .write_request(ptr, request)
                .map_err(|fault| guest.table(|table| table.break_down(fault)))?;
            let handle = match body {
                Some(body) => Some(open_request_body(&mut guest, ptr, len, body)?),
                None => None,
            };
            let task = call(&mut guest, depth, 0, |guest| guest.start(ptr, len));
            let task = task.inspect_err(|_| {
                if let Some(handle) = handle {
                    guest.table(|table| table.close_body(handle));
                }
            })?;
            guest.table(|table| table.task_started(depth));
            // Its first poll, still inside: most answers come whole from it, and then the task
            // ends here too, the instance entered once for the whole request.
            match task::step(&mut guest, task, depth, None) {
                Ok(Step::Read(Piece::Whole {
                    frame,
                    continues: false,
                })) => {
                    task::end(&mut guest, task, depth, handle);
                    return Ok(Answer::Whole { frame, after: None });
                }
                Err(fault) => {
                    task::end(&mut guest, task, depth, handle);
                    return Err(fault);
                }
                Ok(step) => (task, handle, step),
            }
        };
        let task = Task::new(instance, id, depth, handle);
        match first {
            Step::Read(piece) => return first_answer(piece, task),
            Step::Waiting(waiting) => (task, waiting),
        }
    };
    let piece = task.after(waiting).await?;
    first_answer(piece, task)
}

/// The answer that `piece`, the first frame of `task`, begins.
fn first_answer<P>(piece: Piece<BodyOf<P>>, task: Task<P>) -> Result<Answer<P>, Fault>
where
    P: Deref,
    P::Target: Instance,
{
    match piece {
        Piece::Whole { frame, continues } => Ok(Answer::Whole {
            frame,
            after: continues.then_some(task),
        }),
        Piece::Head(head) => Ok(Answer::Streamed { head, body: task }),
        _ => Err(Fault::BadFrame(
            "the first frame of a task is a CHUNK, END or DONE".into(),
        )),
    }
}

/// Opens `body` for the task about to start, and writes its handle over the placeholder that ends
/// the request at `ptr` (`len` bytes).
fn open_request_body<G: Guest>(
    guest: &mut G,
    ptr: super::Address,
    len: u32,
    body: &Arc<Source>,
) -> Result<u32, Fault> {
    let Some(handle) = guest.table(|table| table.open_body(Arc::clone(body))) else {
        let fault = Fault::Violation(limits::too_many_bodies("this plugin"));
        return Err(guest.table(|table| table.break_down(fault)));
    };
    let at = ptr + u64::from(len.saturating_sub(4));
    guest
        .write(at, &handle.to_le_bytes())
        .map_err(|fault| guest.table(|table| table.break_down(fault)))?;
    Ok(handle)
}
