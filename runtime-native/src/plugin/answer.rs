//! A plugin's answer as the server sends it (PROTOCOL.md, section 17): a whole one as a reply; a
//! streamed one as a reply whose body pulls each chunk from the task when the connection is
//! ready for it; work after the answer on a task of its own, bounded by the entry's
//! `timeout_ms`.

use crate::reply::Reply;
use futures::StreamExt;
use std::ops::Deref;
use std::time::Duration;
use valor_host::guest::{Answer, Instance, Task};
use valor_host::streamed::{self, Limits};

/// The reply for `answer`, from a plugin of these `limits`.
pub fn reply<P>(answer: Answer<P>, limits: &Limits) -> Reply
where
    P: Deref + Send + Sync + 'static,
    P::Target: Instance<Body = Vec<u8>> + Sync,
{
    match answer {
        Answer::Whole { frame, after } => {
            if let Some(task) = after {
                keep(task, limits.clone());
            }
            Reply::from_frame(frame)
        }
        Answer::Streamed { head, body } => {
            let event_stream = streamed::is_event_stream(&head);
            let after = limits.clone();
            let chunks = streamed::body(body, event_stream, limits.clone(), sleep, log, |task| {
                keep(task, after)
            });
            Reply::streamed(head, chunks.boxed())
        }
    }
}

/// Lets `task` finish the work it goes on with after its answer, on a task of its own.
pub fn keep<P>(task: Task<P>, limits: Limits)
where
    P: Deref + Send + Sync + 'static,
    P::Target: Instance + Sync,
{
    tokio::spawn(async move {
        let deadline = sleep(limits.after_ms());
        if let Err(why) = streamed::finish(task, &limits, deadline).await {
            log(&why);
        }
    });
}

/// The server's timer, for a stream's limits.
pub fn sleep(ms: u32) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms.into()))
}

/// Where the server says why a stream ended early or work after an answer stopped short.
pub fn log(why: &str) {
    tracing::warn!("{why}");
}
