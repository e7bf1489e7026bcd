//! The engine's event loop. Requests wait here for the script's reply, and the host
//! operations the script started (timers, fetches, storage) run here as futures.
//!
//! The host polls only request tasks, so every poll of one drives the whole loop: it settles
//! the operations that finished, runs the promise jobs, and then looks for what it waits for.
//! A request's task waits, in turn, for the script's reply (here), for the next chunk of a
//! streamed body ([`body`](crate::body)), and for the script's `waitUntil` promises
//! ([`after`](crate::after)): each is a waiter while it waits. An operation that finishes wakes
//! one waiter the host will poll when woken (any: each drives all); a reply, a chunk or the
//! last settled promise wakes its own. Between requests nothing runs: a timer set by a script
//! fires while one of its requests is in flight (or a streamed body of one is read).

use crate::after;
use crate::budget;
use crate::exchange::{self, Outcome};
use crate::life::Life;
use crate::reading;
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
    /// Finished, to be settled by the next poll (see `drive`).
    finished: Vec<(u32, Result<Outcome, String>)>,
}

/// What a request's task waits for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// The script's reply.
    Answer,
    /// The next chunk of its streamed body, which the body's reader asked for.
    Body,
    /// Its `waitUntil` promises.
    After,
}

/// A waiter: a request's task waiting for something, and its waker.
struct Waiter {
    life: Rc<Life>,
    role: Role,
    waker: Waker,
}

impl Waiter {
    fn is(&self, id: &str, role: Role) -> bool {
        self.role == role && self.life.id == id
    }

    /// Whether the host polls its task when it is woken: not while its body is streamed and
    /// its reader has not asked for more (then only the `Body` waiter is polled when woken).
    fn polled_when_woken(&self) -> bool {
        self.role != Role::After || !self.life.streaming.get()
    }
}

thread_local! {
    static OPERATIONS: RefCell<Operations> = RefCell::default();
    /// What requests' tasks wait for, with their wakers.
    static WAITING: RefCell<Vec<Waiter>> = const { RefCell::new(Vec::new()) };
    static ANSWERS: RefCell<HashMap<String, Answer>> = RefCell::default();
    /// The waiter being polled: it looks for what it waits for itself afterwards.
    static POLLING: RefCell<Option<(String, Role)>> = const { RefCell::new(None) };
    /// An operation finished during the poll: the loop goes round again.
    static PROGRESS: Cell<bool> = const { Cell::new(false) };
    /// The poll stopped the loop with work left, as what it waited for was there.
    static LEFT: Cell<bool> = const { Cell::new(false) };
    static LAST_REQUEST: Cell<u64> = const { Cell::new(0) };
    /// Requests the host gave up on while the script held them: it forgets them on the next
    /// poll (not from `drop`, which may run while the script is busy).
    static ABANDONED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Streamed bodies dropped while the script was busy: cancelled on the next poll.
    static DROPPED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Answers `request` with the script: the engine's handler.
pub async fn dispatch(request: Request) -> Response {
    Exchange {
        life: Life::begin(next_id()),
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
    life: Rc<Life>,
    state: State,
}

impl Future for Exchange {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.get_mut();
        let life = Rc::clone(&this.life);
        let Some(response) = polling(&life, Role::Answer, cx, || this.step()) else {
            return Poll::Pending;
        };
        forget(&life.id, Role::Answer);
        if let State::Waiting(script) = std::mem::replace(&mut this.state, State::Done) {
            after::hand_over(&life, &script);
        }
        Poll::Ready(response)
    }
}

impl Exchange {
    fn step(&mut self) -> Option<Response> {
        if matches!(self.state, State::New(_)) {
            let State::New(mut request) = std::mem::replace(&mut self.state, State::Done) else {
                unreachable!("matched above");
            };
            let script = match script::current() {
                Ok(script) => script,
                Err(reason) => return Some(exchange::text(StatusCode::BAD_GATEWAY, &reason)),
            };
            tidy(&script);
            let id = &self.life.id;
            let dispatched = script.with(|ctx| {
                let data = exchange::request_data(ctx, id, &mut request)?;
                script.dispatch(ctx, id, data)
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
        let id = &self.life.id;
        let answered = || ANSWERS.with_borrow(|answers| answers.contains_key(id));
        if let Some(why) = run(script, &answered) {
            return Some(stopped(why));
        }
        let answer = ANSWERS.with_borrow_mut(|answers| answers.remove(id))?;
        Some(
            answer
                .unwrap_or_else(|error| exchange::text(StatusCode::INTERNAL_SERVER_ERROR, &error)),
        )
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let id = &self.life.id;
        forget(id, Role::Answer);
        let answered = ANSWERS
            .with_borrow_mut(|answers| answers.remove(id))
            .is_some();
        if matches!(self.state, State::Waiting(_)) && !answered {
            ABANDONED.with_borrow_mut(|abandoned| abandoned.push(id.clone()));
        }
    }
}

/// Polls a waiter, request `life`'s task waiting for `role`, as a call into the plugin: with a
/// full CPU budget, registered with its task's waker until it [`forget`]s it. If the poll left
/// work in the loop, another waiter is woken to go on with it.
pub fn polling<R>(life: &Rc<Life>, role: Role, cx: &Context<'_>, poll: impl FnOnce() -> R) -> R {
    budget::new_call();
    POLLING.set(Some((life.id.clone(), role)));
    set_waker(life, role, cx.waker());
    let polled = poll();
    POLLING.set(None);
    if LEFT.take() {
        let next = WAITING.with_borrow(|waiting| {
            waiting
                .iter()
                .find(|w| !w.is(&life.id, role) && w.polled_when_woken())
                .map(|w| w.waker.clone())
        });
        if let Some(waker) = next {
            waker.wake();
        }
    }
    polled
}

/// Runs what is ready in `script` (in [`polling`]) until `done`: what the waiter waits for is
/// there, and goes first (operations that progressed meanwhile are the next poll's); why the
/// script was stopped, if it was (then every waiter is woken to see it).
pub fn run(script: &Rc<Script>, done: &dyn Fn() -> bool) -> Option<Stop> {
    if !budget::spent() {
        drive(script, done);
    }
    if budget::spent() {
        script.stop(Stop::OutOfBudget);
    }
    let stopped = script.stopped();
    if stopped.is_some() {
        wake_all();
    }
    stopped
}

/// The answer of a request whose script was stopped.
fn stopped(why: Stop) -> Response {
    let status = match why {
        Stop::OutOfBudget => StatusCode::GATEWAY_TIMEOUT,
        Stop::OutOfMemory => StatusCode::SERVICE_UNAVAILABLE,
    };
    exchange::text(status, &stopped_reason(why))
}

/// Why the script was stopped, in words.
pub fn stopped_reason(why: Stop) -> String {
    let file = crate::settings::get().map_or("the script", |s| s.file_name());
    match why {
        Stop::OutOfBudget => format!(
            "{file} used up its CPU budget ({} interrupt polls per call, from its entry's \
             `fuel`) and was stopped; the script is started afresh for the next request",
            budget::per_call()
        ),
        Stop::OutOfMemory => format!(
            "{file} ran out of memory (its entry's `memory_mb`) and was stopped; the script is \
             started afresh for the next request"
        ),
    }
}

/// Cancels the script's stream behind the body of request `id`, whose reader went away, and
/// runs the promise jobs that sets off: at once, unless the script is busy (the body was
/// dropped from inside a poll), then on the next poll.
pub fn cancel_body(script: &Rc<Script>, id: &str) {
    if POLLING.with_borrow(Option::is_some) {
        DROPPED.with_borrow_mut(|dropped| dropped.push(id.to_owned()));
        return;
    }
    budget::new_call();
    let cancelled = script.with(|ctx| script.cancel_body(ctx, id));
    // What the cancel sets off (a writer's writes failing, its loop ending) runs now, as a
    // browser runs its microtasks after a task, not at the next request.
    script.run_jobs();
    if budget::spent() {
        script.stop(Stop::OutOfBudget);
        wake_all();
    } else if let Err(error) = cancelled {
        vlugin::log::error!("the engine could not cancel a streamed body: {error}");
    }
}

/// Tells the script of the requests the host gave up on and the bodies whose reader went
/// away while it was busy; collects its garbage if fetched bodies pile up.
fn tidy(script: &Rc<Script>) {
    if reading::collection_due() {
        script.collect_garbage();
        reading::collected();
    }
    let abandoned = ABANDONED.take();
    let dropped = DROPPED.take();
    if abandoned.is_empty() && dropped.is_empty() {
        return;
    }
    let told = script.with(|ctx| {
        abandoned
            .iter()
            .try_for_each(|id| script.abandon(ctx, id))?;
        dropped
            .iter()
            .try_for_each(|id| script.cancel_body(ctx, id))
    });
    if let Err(error) = told {
        vlugin::log::error!("the engine could not forget abandoned requests: {error}");
    }
}

/// Settles the operations that finished and runs the promise jobs (all of them, as a browser
/// runs its microtasks), until neither is left or `done`.
fn drive(script: &Rc<Script>, done: &dyn Fn() -> bool) {
    tidy(script);
    loop {
        PROGRESS.set(false);
        let finished = poll_operations();
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
        if done() {
            // What the waiter waits for goes first. The operations the jobs started are set
            // going (a write not waited for is sent now); the next poll settles them.
            PROGRESS.set(false);
            let finished = poll_operations();
            LEFT.set(PROGRESS.get() || !finished.is_empty());
            OPERATIONS.with_borrow_mut(|operations| operations.finished = finished);
            return;
        }
        let more = OPERATIONS.with_borrow(|operations| !operations.running.is_empty());
        if (!PROGRESS.get() || !more) && !script.has_jobs() {
            return;
        }
    }
}

/// Polls the operations: those that finished (with those left from the last poll).
fn poll_operations() -> Vec<(u32, Result<Outcome, String>)> {
    OPERATIONS.with_borrow_mut(|operations| {
        let waker = loop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut finished = std::mem::take(&mut operations.finished);
        while let Poll::Ready(Some((op, outcome))) = operations.running.poll_next_unpin(&mut cx) {
            operations.cancels.remove(&op);
            finished.push((op, outcome));
        }
        finished
    })
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
    if !is_waiting(&id, Role::Answer) {
        return; // given up by the host meanwhile
    }
    wake(&id, Role::Answer);
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

fn set_waker(life: &Rc<Life>, role: Role, waker: &Waker) {
    WAITING.with_borrow_mut(
        |waiting| match waiting.iter_mut().find(|w| w.is(&life.id, role)) {
            Some(waiter) => waiter.waker.clone_from(waker),
            None => waiting.push(Waiter {
                life: Rc::clone(life),
                role,
                waker: waker.clone(),
            }),
        },
    );
}

/// Whether request `id`'s task waits for `role`.
pub fn is_waiting(id: &str, role: Role) -> bool {
    WAITING.with_borrow(|waiting| waiting.iter().any(|w| w.is(id, role)))
}

/// Request `id`'s task no longer waits for `role`.
pub fn forget(id: &str, role: Role) {
    let gone = WAITING.with_borrow_mut(|waiting| {
        let at = waiting.iter().position(|w| w.is(id, role))?;
        Some(waiting.remove(at))
    });
    drop(gone); // outside the borrow: it may hold the last of its request's `Life`
}

/// Wakes the task of request `id` waiting for `role`, unless that waiter is the one being
/// polled (it looks itself).
pub fn wake(id: &str, role: Role) {
    let polled =
        POLLING.with_borrow(|polling| polling.as_ref().is_some_and(|(p, r)| *r == role && p == id));
    if polled {
        return;
    }
    let waker = WAITING.with_borrow(|waiting| {
        waiting
            .iter()
            .find(|w| w.is(id, role))
            .map(|w| w.waker.clone())
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

fn wake_all() {
    let wakers: Vec<Waker> =
        WAITING.with_borrow(|waiting| waiting.iter().map(|w| w.waker.clone()).collect());
    for waker in wakers {
        waker.wake();
    }
}

/// What finished operations wake: during a poll, the loop goes round again; otherwise one
/// waiter whose task the host polls when woken is woken to drive the loop (if none waits, the
/// next poll will).
fn loop_waker() -> Waker {
    fn woken() {
        PROGRESS.set(true);
        if POLLING.with_borrow(Option::is_some) {
            return;
        }
        let first = WAITING.with_borrow(|waiting| {
            waiting
                .iter()
                .find(|w| w.polled_when_woken())
                .map(|w| w.waker.clone())
        });
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
