//! The executor inside a plugin: one task per request, polled when the runtime asks.
//!
//! Single-threaded (a wasm instance has one thread), so state lives in a `thread_local!`.
//! A task id is its slot index + 1, so that 0 never names a task.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// A request's future; its output is the encoded response.
type TaskFuture = Pin<Box<dyn Future<Output = Vec<u8>>>>;

enum Slot {
    Vacant,
    /// The future, or `None` while it is being polled (so a re-entrant call finds it busy).
    Running(Option<TaskFuture>),
    /// The encoded response frame: `u32` little-endian length, then the bytes.
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
}

/// Adds a task and returns its id.
pub(crate) fn spawn(future: TaskFuture) -> u32 {
    insert(Slot::Running(Some(future)))
}

/// Adds a task that is already finished, with its encoded response.
pub(crate) fn spawn_done(response: &[u8]) -> u32 {
    insert(Slot::Done(frame(response)))
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

/// Polls a task until it finishes or waits without having woken itself.
/// Returns the address of its response frame, or null ([`PENDING`](valor_abi::PENDING)).
/// An unknown id also answers `PENDING`: the runtime only polls ids it was given.
pub(crate) fn poll(id: u32) -> *const u8 {
    loop {
        let Some(mut future) = take_future(id) else {
            return frame_address(id);
        };
        let waker = task_waker(id);
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(response) => {
                finish(id, &response);
                return frame_address(id);
            }
            Poll::Pending => {
                put_back(id, future);
                if !take_wake(id) {
                    return std::ptr::null();
                }
            }
        }
    }
}

/// Frees a task whatever its state; dropping a running future cancels it.
pub(crate) fn drop_task(id: u32) {
    let removed = TASKS.with_borrow_mut(|tasks| {
        let index = (id as usize).checked_sub(1)?;
        let slot = tasks.slots.get_mut(index)?;
        let removed = std::mem::replace(slot, Slot::Vacant);
        tasks.vacant.push(index);
        tasks.woken.retain(|&woken| woken != id);
        Some(removed)
    });
    // Dropped outside the borrow: a future's destructor may touch the task table.
    drop(removed);
}

fn with_slot<R>(id: u32, f: impl FnOnce(&mut Slot) -> R) -> Option<R> {
    TASKS.with_borrow_mut(|tasks| {
        let index = (id as usize).checked_sub(1)?;
        tasks.slots.get_mut(index).map(f)
    })
}

fn take_future(id: u32) -> Option<TaskFuture> {
    with_slot(id, |slot| match slot {
        Slot::Running(future) => future.take(),
        _ => None,
    })
    .flatten()
}

fn put_back(id: u32, future: TaskFuture) {
    with_slot(id, |slot| {
        if let Slot::Running(empty) = slot {
            *empty = Some(future);
        }
    });
}

fn finish(id: u32, response: &[u8]) {
    let frame = frame(response);
    with_slot(id, |slot| *slot = Slot::Done(frame));
}

/// The response as the runtime reads it: `u32` little-endian length, then the encoding.
fn frame(encoded: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + encoded.len());
    frame.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
    frame.extend_from_slice(encoded);
    frame
}

fn frame_address(id: u32) -> *const u8 {
    with_slot(id, |slot| match slot {
        Slot::Done(frame) => frame.as_ptr(),
        _ => std::ptr::null(),
    })
    .unwrap_or(std::ptr::null())
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

fn take_wake(id: u32) -> bool {
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
    // Dropped outside the borrow: a future's destructor may touch the task table.
    drop(gone);
}
