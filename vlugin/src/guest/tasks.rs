//! The executor inside a plugin: one task per request, polled when the runtime asks.
//!
//! Single-threaded (a wasm instance has one thread), so state lives in a `thread_local!`.
//! A task id is its slot index + 1, so that 0 never names a task.
//!
//! A task answers once: its handler's future ends with an [`Answer`]. A buffered answer is a
//! response frame, and the task is done. A task that streams its body or goes on working after
//! its answer (`wait_until`) has a [`Rest`], which makes its later frames (PROTOCOL.md,
//! section 17): it is a trait object, made only by `Body::from_stream` and `wait_until`, so that
//! a plugin that uses neither links none of that code.

use crate::body::BodyStream;
use crate::response::Answer;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use valor_abi::frame;

/// What a task polls: its handler's future (any future of an [`Answer`]) until the answer,
/// then what it goes on with after it, if anything.
pub(crate) trait Task {
    /// Polls once for the task's next frame; gives back what to poll next, if anything (no
    /// more after its last frame).
    fn poll_frame(self: Pin<Box<Self>>, cx: &mut Context<'_>) -> (Poll<Vec<u8>>, Option<Next>);
}

/// What a task polls next.
pub(crate) type Next = Pin<Box<dyn Task>>;

/// What a task goes on with after its answer: its streamed body, its work after the answer.
pub(crate) trait Rest {
    /// The frame of the answer (`encoded`), whose body is `body` if it is streamed; then what
    /// the task polls next.
    fn answer(
        self: Pin<Box<Self>>,
        encoded: &[u8],
        body: Option<BodyStream>,
        cx: &mut Context<'_>,
    ) -> (Vec<u8>, Next);
}

/// Takes the rest that `wait_until` made for a task, if any: set by the first `wait_until`,
/// so that a plugin that never calls it links none of that code.
pub(crate) type TakeRest = fn(u32) -> Option<Pin<Box<dyn Rest>>>;

impl<F: Future<Output = Answer> + 'static> Task for F {
    fn poll_frame(mut self: Pin<Box<Self>>, cx: &mut Context<'_>) -> (Poll<Vec<u8>>, Option<Next>) {
        match self.as_mut().poll(cx) {
            Poll::Ready(answer) => {
                let (frame, rest) = answered(answer, cx);
                (Poll::Ready(frame), rest)
            }
            Poll::Pending => (Poll::Pending, Some(self)),
        }
    }
}

/// The answer's frame, and the rest that goes on after it: none for a whole answer whose task
/// called no `wait_until`, the plain response frame of ABI 3.
fn answered(answer: Answer, cx: &mut Context<'_>) -> (Vec<u8>, Option<Next>) {
    let made = TAKE_REST.get().and_then(|take| take(CURRENT.get()));
    let rest = match (made, &answer.body) {
        (Some(rest), _) => rest,
        (None, Some(body)) => (body.sender)(),
        (None, None) => return (frame::response_from(answer.encoded), None),
    };
    let (frame, next) = rest.answer(&answer.encoded, answer.body, cx);
    (frame, Some(next))
}

enum Slot {
    Vacant,
    /// A task before its last frame: what it polls (`None` while it is being polled, so that a
    /// re-entrant call finds it busy), and the frame it returned last (empty if none).
    Running(Option<Next>, Vec<u8>),
    /// Its last frame.
    Done(Vec<u8>),
}

#[derive(Default)]
struct Tasks {
    slots: Vec<Slot>,
    vacant: Vec<usize>,
    /// Tasks woken since they were last polled.
    woken: Vec<u32>,
}

thread_local! {
    static TASKS: RefCell<Tasks> = RefCell::default();
    /// The task being polled, or 0.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
    static TAKE_REST: Cell<Option<TakeRest>> = const { Cell::new(None) };
}

/// Adds a task and returns its id.
pub(crate) fn spawn(task: Next) -> u32 {
    insert(Slot::Running(Some(task), Vec::new()))
}

/// Adds a task that is already finished, with its encoded response.
pub(crate) fn spawn_done(response: &[u8]) -> u32 {
    insert(Slot::Done(frame::response(response)))
}

fn insert(slot: Slot) -> u32 {
    TASKS.with_borrow_mut(|tasks| {
        let index = match tasks.vacant.pop() {
            Some(index) => {
                tasks.slots[index] = slot;
                index
            }
            None => {
                tasks.slots.push(slot);
                tasks.slots.len() - 1
            }
        };
        index as u32 + 1
    })
}

/// Polls a task until it has its next frame or waits without having woken itself.
/// Returns the address of that frame, or null ([`PENDING`](valor_abi::PENDING)).
/// An unknown id also answers `PENDING`: the runtime only polls ids it was given. A task that
/// is done answers its last frame again.
pub(crate) fn poll(id: u32) -> *const u8 {
    loop {
        let Some(task) = take_task(id) else {
            return frame_address(id);
        };
        let waker = task_waker(id);
        CURRENT.set(id);
        let (polled, next) = task.poll_frame(&mut Context::from_waker(&waker));
        CURRENT.set(0);
        let ready = polled.is_ready();
        let frame = put_back(id, next, polled);
        if ready {
            return frame;
        }
        if !take_wake(id) {
            return std::ptr::null();
        }
    }
}

/// The task being polled, or 0.
pub(crate) fn current() -> u32 {
    CURRENT.get()
}

/// How to take the rest that `wait_until` made for a task, from now on.
pub(crate) fn set_take_rest(take_rest: TakeRest) {
    TAKE_REST.set(Some(take_rest));
}

/// Frees a task whatever its state; dropping a running future, a body's stream or work after
/// the answer cancels it.
pub(crate) fn drop_task(id: u32) {
    let removed = TASKS.with_borrow_mut(|tasks| {
        let index = (id as usize).checked_sub(1)?;
        let slot = tasks.slots.get_mut(index)?;
        if matches!(slot, Slot::Vacant) {
            return None;
        }
        let removed = std::mem::replace(slot, Slot::Vacant);
        tasks.vacant.push(index);
        tasks.woken.retain(|&woken| woken != id);
        Some(removed)
    });
    let made = TAKE_REST.get().and_then(|take| take(id));
    // Dropped outside the borrow: a future's destructor may touch the task table.
    drop((removed, made));
}

fn with_slot<R>(id: u32, f: impl FnOnce(&mut Slot) -> R) -> Option<R> {
    TASKS.with_borrow_mut(|tasks| {
        let index = (id as usize).checked_sub(1)?;
        tasks.slots.get_mut(index).map(f)
    })
}

/// What the task polls, taken out of its slot, whose last frame is freed: the runtime has
/// read it. `None` if there is none (the task is done, or being polled).
fn take_task(id: u32) -> Option<Next> {
    with_slot(id, |slot| match slot {
        Slot::Running(task, frame) => {
            *frame = Vec::new();
            task.take()
        }
        Slot::Vacant | Slot::Done(_) => None,
    })
    .flatten()
}

/// Puts a polled task back into its slot with its new frame, if any: done if nothing is left
/// to poll. A task dropped from inside its own poll stays dropped: what was polled is dropped
/// then, outside the borrow. Returns the address of the frame now in the slot (null if none).
fn put_back(id: u32, next: Option<Next>, polled: Poll<Vec<u8>>) -> *const u8 {
    let frame = match polled {
        Poll::Ready(frame) => frame,
        Poll::Pending => Vec::new(),
    };
    let put = with_slot(id, |slot| {
        if matches!(slot, Slot::Vacant) {
            return (Some(next), std::ptr::null());
        }
        *slot = match next {
            Some(next) => Slot::Running(Some(next), frame),
            None => Slot::Done(frame),
        };
        (None, address_in(slot))
    });
    let (dropped, address) = put.unwrap_or((None, std::ptr::null()));
    drop(dropped);
    address
}

/// The address of the frame in `slot`, or null if it has none.
fn address_in(slot: &Slot) -> *const u8 {
    match slot {
        Slot::Running(_, frame) | Slot::Done(frame) if !frame.is_empty() => frame.as_ptr(),
        _ => std::ptr::null(),
    }
}

fn frame_address(id: u32) -> *const u8 {
    with_slot(id, |slot| address_in(slot)).unwrap_or(std::ptr::null())
}

/// The frame at `address` (from [`poll`]), copied: how the test host reads it.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn frame_at(id: u32, address: *const u8) -> Option<Vec<u8>> {
    with_slot(id, |slot| match slot {
        Slot::Running(_, frame) | Slot::Done(frame) if frame.as_ptr() == address => {
            Some(frame.clone())
        }
        _ => None,
    })
    .flatten()
}

/// `valor_woken`: the next task woken since the runtime last asked, or 0.
pub(crate) fn pop_woken() -> u32 {
    TASKS.with_borrow_mut(|tasks| {
        if tasks.woken.is_empty() {
            0
        } else {
            tasks.woken.remove(0)
        }
    })
}

/// Whether task `id` was woken since it was last polled (and forgets that it was).
pub(crate) fn take_wake(id: u32) -> bool {
    TASKS.with_borrow_mut(|tasks| {
        let before = tasks.woken.len();
        tasks.woken.retain(|&woken| woken != id);
        tasks.woken.len() != before
    })
}

fn wake(id: u32) {
    // A waker may fire while the table is borrowed (from a destructor); then the wake is moot.
    TASKS.with(|tasks| {
        if let Ok(mut tasks) = tasks.try_borrow_mut() {
            if !tasks.woken.contains(&id) {
                tasks.woken.push(id);
            }
        }
    });
}

/// A waker that records the task id in the woken list; it owns no memory.
fn task_waker(id: u32) -> Waker {
    fn raw(id: u32) -> RawWaker {
        RawWaker::new(id as usize as *const (), &VTABLE)
    }
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        |data| raw(data as usize as u32),
        |data| wake(data as usize as u32),
        |data| wake(data as usize as u32),
        |_| {},
    );
    // SAFETY: the vtable functions treat the data pointer as a plain integer, never dereference it.
    unsafe { Waker::from_raw(raw(id)) }
}

/// Drops every task: the instance they ran on is gone (a native plugin bound to a fresh
/// instance after a panic). Their futures are dropped, as a dropped request's are.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn reset() {
    let gone = TASKS.with_borrow_mut(std::mem::take);
    CURRENT.set(0);
    // Dropped outside the borrow: a future's destructor may touch the task table.
    drop(gone);
}
