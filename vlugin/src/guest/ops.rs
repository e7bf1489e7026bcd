//! Host operations as futures: started by an import ([`host`]), finished by `valor_complete`.

use super::host;
use crate::Error;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use valor_abi::outcome;

enum State {
    Waiting(Option<Waker>),
    Done(Vec<u8>),
}

/// The operations in flight, by id: few (the runtime allows 4,096), so a list, whose code is a
/// tenth of a `BTreeMap`'s (~4 KB of wasm).
struct Ops(Vec<(u32, State)>);

impl Ops {
    fn insert(&mut self, id: u32, state: State) {
        self.0.push((id, state));
    }

    fn get_mut(&mut self, id: u32) -> Option<&mut State> {
        self.0
            .iter_mut()
            .find_map(|(op, state)| (*op == id).then_some(state))
    }

    fn remove(&mut self, id: u32) -> Option<State> {
        let index = self.0.iter().position(|(op, _)| *op == id)?;
        Some(self.0.swap_remove(index).1)
    }
}

thread_local! {
    static OPS: RefCell<Ops> = const { RefCell::new(Ops(Vec::new())) };
}

/// A started host operation; resolves to its raw result (outcome byte + payload).
/// Dropping it before it finishes cancels the operation in the runtime.
pub(crate) struct HostOp {
    id: u32,
    finished: bool,
}

impl HostOp {
    /// The operation an import of [`host`] started.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn new(id: host::Started) -> Self {
        OPS.with_borrow_mut(|ops| ops.insert(id, State::Waiting(None)));
        Self {
            id,
            finished: false,
        }
    }

    /// The operation a native host started, or the test host (outside wasm32) has already
    /// finished.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn new(started: host::Started) -> Self {
        thread_local! {
            static NEXT: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
        }
        let (id, state) = match started {
            host::Started::Op(id) => (id, State::Waiting(None)),
            host::Started::Finished(result) => (
                NEXT.replace(NEXT.get().wrapping_add(1).max(1)),
                State::Done(result),
            ),
        };
        OPS.with_borrow_mut(|ops| ops.insert(id, state));
        Self {
            id,
            finished: false,
        }
    }

    /// Awaits the result and splits off its outcome: `Ok(payload)` or the error it describes,
    /// with `failed` making the error for an operation that failed.
    pub(crate) async fn result(self, failed: fn(String) -> Error) -> Result<Vec<u8>, Error> {
        let mut bytes = self.await;
        if bytes.is_empty() {
            return Err(Error::Protocol("an empty operation result".into()));
        }
        let code = bytes.remove(0);
        let message = || String::from_utf8_lossy(&bytes).into_owned();
        match code {
            outcome::OK => Ok(bytes),
            outcome::DENIED => Err(Error::Denied(message())),
            outcome::FAILED => Err(failed(message())),
            other => Err(Error::Protocol(format!("unknown outcome {other}"))),
        }
    }
}

impl Future for HostOp {
    type Output = Vec<u8>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<u8>> {
        let id = self.id;
        let ready = OPS.with_borrow_mut(|ops| match ops.remove(id) {
            Some(State::Done(bytes)) => Some(bytes),
            Some(State::Waiting(_)) | None => {
                ops.insert(id, State::Waiting(Some(cx.waker().clone())));
                None
            }
        });
        match ready {
            Some(bytes) => {
                self.finished = true;
                Poll::Ready(bytes)
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for HostOp {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let removed = OPS.with_borrow_mut(|ops| ops.remove(self.id));
        if matches!(removed, Some(State::Waiting(_))) {
            host::cancel(self.id);
        }
    }
}

/// `valor_complete`: stores the result and wakes the task waiting for it. A result for an
/// operation nobody waits for (cancelled meanwhile) is dropped.
pub(crate) fn complete(id: u32, result: Vec<u8>) {
    let waker = OPS.with_borrow_mut(|ops| match ops.get_mut(id) {
        Some(state @ State::Waiting(_)) => match std::mem::replace(state, State::Done(result)) {
            State::Waiting(waker) => waker,
            State::Done(_) => None,
        },
        _ => None,
    });
    // Woken outside the borrow: waking only records the task id, but keep the rule simple.
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Forgets every operation: the instance they belonged to is gone (a native plugin bound to a
/// fresh instance after a panic). Their results will never come.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn reset() {
    let forgotten = OPS.with_borrow_mut(|ops| std::mem::take(&mut ops.0));
    drop(forgotten); // outside the borrow: dropping a waker may touch the tasks
}
