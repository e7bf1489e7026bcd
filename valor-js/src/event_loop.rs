//! The engine's event loop. Requests wait here for the script's reply, and the host
//! operations the script started (timers, fetches, storage) run here as futures.
//!
//! The host polls only request tasks, so every request's poll drives the whole loop: it
//! settles the operations that finished, runs the promise jobs, and then looks for its own
//! reply. An operation that finishes wakes one waiting request (any: each drives all); a reply
//! wakes the request it answers. Between requests nothing runs: a timer set by a script fires
//! while one of its requests is in flight.

use crate::budget;
use crate::exchange::{self, Outcome};
use crate::script::{self, Script, Stop};
use futures::future::{AbortHandle, Abortable, LocalBoxFuture};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use vlugin::{Request, Response, StatusCode};

type Operation = LocalBoxFuture<'static, (u32, Result<Outcome, String>)>;

/// What a request is answered with: the script's reply, or why it failed.
type Answer = Result<Response, String>;

#[derive(Default)]
struct Operations {
    running: FuturesUnordered<Operation>,
    cancels: HashMap<u32, AbortHandle>,
    last: u32,
}

thread_local! {
    static OPERATIONS: RefCell<Operations> = RefCell::default();
    /// Requests waiting for a reply, with the wakers of their tasks.
    static WAITING: RefCell<Vec<(String, Waker)>> = const { RefCell::new(Vec::new()) };
    static ANSWERS: RefCell<HashMap<String, Answer>> = RefCell::default();
    /// The request whose task is being polled: it looks for its reply itself afterwards.
    static POLLING: RefCell<Option<String>> = const { RefCell::new(None) };
    /// An operation finished during the poll: the loop goes round again.
    static PROGRESS: Cell<bool> = const { Cell::new(false) };
    static LAST_REQUEST: Cell<u64> = const { Cell::new(0) };
    /// Requests the host gave up on while the script held them: it forgets them on the next
    /// poll (not from `drop`, which may run while the script is busy).
    static ABANDONED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Answers `request` with the script: the engine's handler.
pub async fn dispatch(request: Request) -> Response {
    Exchange {
        id: next_id(),
        state: State::New(Box::new(request)),
    }
    .await
}

fn next_id() -> String {
    let id = LAST_REQUEST.get() + 1;
    LAST_REQUEST.set(id);
    id.to_string()
}

enum State {
    New(Box<Request>),
    Waiting(Rc<Script>),
    Done,
}

/// One request, from its dispatch to the script until its reply.
struct Exchange {
    id: String,
    state: State,
}

impl Future for Exchange {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.get_mut();
        budget::new_call();
        POLLING.set(Some(this.id.clone()));
        let answer = this.step(cx);
        POLLING.set(None);
        match answer {
            Some(response) => {
                this.state = State::Done;
                Poll::Ready(response)
            }
            None => Poll::Pending,
        }
    }
}

impl Exchange {
    fn step(&mut self, cx: &mut Context<'_>) -> Option<Response> {
        set_waker(&self.id, cx.waker());
        if matches!(self.state, State::New(_)) {
            let State::New(request) = std::mem::replace(&mut self.state, State::Done) else {
                unreachable!("matched above");
            };
            let script = match script::current() {
                Ok(script) => script,
                Err(reason) => return Some(exchange::text(StatusCode::BAD_GATEWAY, &reason)),
            };
            let dispatched = script.with(|ctx| {
                let data = exchange::request_data(ctx, &self.id, &request)?;
                script.dispatch(ctx, &self.id, data)
            });
            if let Err(error) = dispatched {
                if !budget::spent() {
                    return Some(exchange::text(StatusCode::INTERNAL_SERVER_ERROR, &error));
                }
            }
            self.state = State::Waiting(script);
        }
        let State::Waiting(script) = &self.state else {
            return None;
        };
        let script = Rc::clone(script);
        if !budget::spent() {
            drive(&script);
        }
        if budget::spent() {
            script.stop(Stop::OutOfBudget);
        }
        if let Some(why) = script.stopped() {
            wake_all();
            return Some(stopped(why));
        }
        let answer = ANSWERS.with_borrow_mut(|answers| answers.remove(&self.id))?;
        Some(
            answer
                .unwrap_or_else(|error| exchange::text(StatusCode::INTERNAL_SERVER_ERROR, &error)),
        )
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        WAITING.with_borrow_mut(|waiting| waiting.retain(|(id, _)| *id != self.id));
        let answered = ANSWERS
            .with_borrow_mut(|answers| answers.remove(&self.id))
            .is_some();
        if matches!(self.state, State::Waiting(_)) && !answered {
            ABANDONED.with_borrow_mut(|abandoned| abandoned.push(std::mem::take(&mut self.id)));
        }
    }
}

/// The answer of a request whose script was stopped.
fn stopped(why: Stop) -> Response {
    let file = crate::settings::get().map_or("the script", |s| s.file_name());
    match why {
        Stop::OutOfBudget => exchange::text(
            StatusCode::GATEWAY_TIMEOUT,
            &format!(
                "{file} used up its CPU budget ({} interrupt polls per call, from its entry's \
                 `fuel`) and was stopped; the script is started afresh for the next request",
                budget::per_call()
            ),
        ),
        Stop::OutOfMemory => exchange::text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "{file} ran out of memory (its entry's `memory_mb`) and was stopped; the script \
                 is started afresh for the next request"
            ),
        ),
    }
}

/// Settles the operations that finished and runs the promise jobs, until neither is left.
fn drive(script: &Rc<Script>) {
    let abandoned = ABANDONED.take();
    if !abandoned.is_empty() {
        let forgotten =
            script.with(|ctx| abandoned.iter().try_for_each(|id| script.abandon(ctx, id)));
        if let Err(error) = forgotten {
            vlugin::log::error!("the engine could not forget abandoned requests: {error}");
        }
    }
    loop {
        PROGRESS.set(false);
        let finished = OPERATIONS.with_borrow_mut(|operations| {
            let waker = loop_waker();
            let mut cx = Context::from_waker(&waker);
            let mut finished = Vec::new();
            while let Poll::Ready(Some((op, outcome))) = operations.running.poll_next_unpin(&mut cx)
            {
                operations.cancels.remove(&op);
                finished.push((op, outcome));
            }
            finished
        });
        if !finished.is_empty() {
            let settled = script.with(|ctx| {
                for (op, outcome) in finished {
                    let value = match outcome {
                        Ok(outcome) => Ok(outcome.into_js(ctx)?),
                        Err(message) => Err(message),
                    };
                    script.settle(ctx, op, value)?;
                }
                Ok(())
            });
            if let Err(error) = settled {
                vlugin::log::error!("the engine could not settle an operation: {error}");
            }
        }
        script.run_jobs();
        if budget::spent() || script.stopped().is_some() {
            return;
        }
        let more = OPERATIONS.with_borrow(|operations| !operations.running.is_empty());
        if (!PROGRESS.get() || !more) && !script.has_jobs() {
            return;
        }
    }
}

/// Starts a host operation for the script; returns its id.
pub fn start(operation: impl Future<Output = Result<Outcome, String>> + 'static) -> u32 {
    OPERATIONS.with_borrow_mut(|operations| {
        operations.last = operations.last.wrapping_add(1).max(1);
        let op = operations.last;
        let (cancel, registration) = AbortHandle::new_pair();
        operations.cancels.insert(op, cancel);
        let operation = Abortable::new(operation, registration)
            .map(move |result| (op, result.unwrap_or_else(|_| Err("cancelled".into()))));
        operations.running.push(operation.boxed_local());
        PROGRESS.set(true);
        op
    })
}

/// Cancels operation `op` (a cleared timer): its host operation is dropped.
pub fn cancel(op: u32) {
    let handle = OPERATIONS.with_borrow_mut(|operations| operations.cancels.remove(&op));
    if let Some(handle) = handle {
        handle.abort();
    }
}

/// The script's reply to request `id`.
pub fn answer(id: String, answer: Answer) {
    let waiting = WAITING.with_borrow(|waiting| waiting.iter().any(|(w, _)| *w == id));
    if !waiting {
        return; // given up by the host meanwhile
    }
    wake(&id);
    ANSWERS.with_borrow_mut(|answers| answers.insert(id, answer));
}

/// The script failed request `id` (an exception, a rejected promise): 500 with the error. An
/// exhausted heap also stops the script, so that the next request starts with an empty one.
pub fn fail(id: String, error: String) {
    if error.starts_with("Uncaught InternalError: out of memory") {
        if let Ok(script) = script::current() {
            script.stop(Stop::OutOfMemory);
        }
    }
    answer(id, Err(error));
}

fn set_waker(id: &str, waker: &Waker) {
    WAITING.with_borrow_mut(|waiting| match waiting.iter_mut().find(|(w, _)| w == id) {
        Some((_, old)) => old.clone_from(waker),
        None => waiting.push((id.to_owned(), waker.clone())),
    });
}

/// Wakes the task of request `id`, unless it is the one being polled (it looks itself).
fn wake(id: &str) {
    if POLLING.with_borrow(|polling| polling.as_deref() == Some(id)) {
        return;
    }
    let waker = WAITING.with_borrow(|waiting| {
        waiting
            .iter()
            .find(|(w, _)| w == id)
            .map(|(_, waker)| waker.clone())
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

fn wake_all() {
    let wakers: Vec<Waker> =
        WAITING.with_borrow(|waiting| waiting.iter().map(|(_, w)| w.clone()).collect());
    for waker in wakers {
        waker.wake();
    }
}

/// What finished operations wake: during a poll, the loop goes round again; otherwise one
/// waiting request is woken to drive the loop (if none waits, the next request will).
fn loop_waker() -> Waker {
    fn woken() {
        PROGRESS.set(true);
        if POLLING.with_borrow(Option::is_some) {
            return;
        }
        let first = WAITING.with_borrow(|waiting| waiting.first().map(|(_, w)| w.clone()));
        if let Some(waker) = first {
            waker.wake();
        }
    }
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        |_| RawWaker::new(std::ptr::null(), &VTABLE),
        |_| woken(),
        |_| woken(),
        |_| {},
    );
    // SAFETY: the vtable never dereferences the data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}
