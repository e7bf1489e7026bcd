//! What a task goes on with after its answer, and the frames it makes of it (PROTOCOL.md,
//! section 17.1): its streamed body (`HEAD CHUNK* END`), its work after the answer
//! (`CONTINUES`, then `DONE`). Made only by `Body::from_stream` and `wait_until`.

use super::tasks::{self, Next, Rest, Task};
use crate::body::BodyStream;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use valor_abi::frame::{self, CHUNK, CONTINUES, DONE, END, HEAD, RESPONSE};

/// Work a task goes on with after its answer (`wait_until`).
pub(crate) type Work = Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    /// Work added by `wait_until`, by task, until that task's `Going` takes it: at the answer,
    /// or at the end of the poll that added it.
    static ADDED: RefCell<Vec<(u32, Work)>> = const { RefCell::new(Vec::new()) };
}

/// Adds `work` to the task being polled; `Err(work)` if none is.
pub(crate) fn add_work(work: Work) -> Result<(), Work> {
    let id = tasks::current();
    if id == 0 {
        return Err(work);
    }
    tasks::set_take_rest(take_rest);
    ADDED.with_borrow_mut(|added| added.push((id, work)));
    Ok(())
}

/// The work added to task `id` since it was last taken.
fn take_added(id: u32) -> Vec<Work> {
    ADDED.with_borrow_mut(|added| {
        let mut taken = Vec::new();
        let mut index = 0;
        while index < added.len() {
            if added[index].0 == id {
                taken.push(added.remove(index).1);
            } else {
                index += 1;
            }
        }
        taken
    })
}

/// The rest of task `id` if work was added to it (`tasks::TakeRest`).
fn take_rest(id: u32) -> Option<Pin<Box<dyn Rest>>> {
    let work = take_added(id);
    let going = Going {
        body: None,
        left: (Vec::new(), 0),
        work,
    };
    (!going.work.is_empty()).then(|| Box::pin(going) as Pin<Box<dyn Rest>>)
}

/// Forgets the work of every task: the instance they ran on is gone (`tasks::reset`).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn reset() {
    let gone = ADDED.take();
    drop(gone);
}

/// The most bytes one `CHUNK` carries: a longer item of the body is sent in pieces, so that a
/// chunk fits in what a host accepts of any message (`max_body_bytes` + 1 MiB, PROTOCOL.md
/// section 17.1), whatever the entry's `max_body_bytes`.
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// A task's streamed body, until its end, and its work after the answer, until it finishes.
pub(crate) struct Going {
    body: Option<BodyStream>,
    /// What is left of the body's last item, and where it starts.
    left: (Vec<u8>, usize),
    work: Vec<Work>,
}

impl Going {
    /// Nothing yet: the executor gives it the body with the answer.
    pub(crate) fn boxed() -> Pin<Box<dyn Rest>> {
        Box::pin(Self {
            body: None,
            left: (Vec::new(), 0),
            work: Vec::new(),
        })
    }

    /// Polls each piece of work once, keeping those not finished.
    fn run_work(&mut self, cx: &mut Context<'_>) {
        self.work
            .retain_mut(|work| work.as_mut().poll(cx).is_pending());
        self.take_added(cx);
    }

    /// Takes the work added while this was polled. It is polled on the next poll, which
    /// waking the task asks for.
    fn take_added(&mut self, cx: &mut Context<'_>) {
        let added = take_added(tasks::current());
        if !added.is_empty() {
            self.work.extend(added);
            cx.waker().wake_by_ref();
        }
    }

    /// The body's next bytes (an empty item is skipped), or `Err` with the reason it ended:
    /// empty when complete.
    fn poll_body(body: &mut BodyStream, cx: &mut Context<'_>) -> Poll<Result<Vec<u8>, String>> {
        loop {
            match body.poll_chunk(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => {}
                Poll::Ready(Some(Ok(chunk))) => return Poll::Ready(Ok(chunk)),
                Poll::Ready(Some(Err(reason))) => return Poll::Ready(Err(reason)),
                Poll::Ready(None) => return Poll::Ready(Err(String::new())),
            }
        }
    }

    /// Polls once for the next frame, and whether it is the task's last.
    fn next_frame(&mut self, cx: &mut Context<'_>) -> Poll<(Vec<u8>, bool)> {
        self.run_work(cx);
        let Some(body) = &mut self.body else {
            return match self.work.is_empty() {
                true => Poll::Ready((frame::stream(DONE, b""), true)),
                false => Poll::Pending,
            };
        };
        let polled = match &self.left {
            (left, at) if *at < left.len() => Poll::Ready(Ok(std::mem::take(&mut self.left.0))),
            _ => Self::poll_body(body, cx),
        };
        self.take_added(cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(item)) => {
                let at = std::mem::take(&mut self.left.1);
                let end = item.len().min(at + MAX_CHUNK_BYTES);
                let chunk = frame::stream(CHUNK, &item[at..end]);
                if end < item.len() {
                    self.left = (item, end);
                }
                Poll::Ready((chunk, false))
            }
            Poll::Ready(Err(reason)) => {
                self.body = None; // the producer is done with: dropped now
                let (kind, last) = self.ending(END);
                Poll::Ready((frame::stream(kind, reason.as_bytes()), last))
            }
        }
    }

    /// `kind`, with `CONTINUES` if work goes on after it; and whether it is the last frame.
    fn ending(&self, kind: u8) -> (u8, bool) {
        match self.work.is_empty() {
            true => (kind, true),
            false => (kind | CONTINUES, false),
        }
    }
}

impl Rest for Going {
    fn answer(
        mut self: Pin<Box<Self>>,
        encoded: &[u8],
        body: Option<BodyStream>,
        cx: &mut Context<'_>,
    ) -> (Vec<u8>, Next) {
        if body.is_some() {
            self.body = body;
            return (frame::stream(HEAD, encoded), self);
        }
        // Made without a body, it was made for work: that starts once the answer is sent,
        // and the host polls a task after its answer when it is woken.
        cx.waker().wake_by_ref();
        (frame::stream(RESPONSE | CONTINUES, encoded), self)
    }
}

impl Task for Going {
    fn poll_frame(mut self: Pin<Box<Self>>, cx: &mut Context<'_>) -> (Poll<Vec<u8>>, Option<Next>) {
        match self.next_frame(cx) {
            Poll::Ready((frame, true)) => (Poll::Ready(frame), None),
            Poll::Ready((frame, false)) => (Poll::Ready(frame), Some(self)),
            Poll::Pending => (Poll::Pending, Some(self)),
        }
    }
}
