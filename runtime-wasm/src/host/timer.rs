//! `sleep`: every timer of the runtime (requests' deadlines, plugins' sleeps) on one
//! `setTimeout`, armed for the earliest. With a thousand requests in flight, each has a deadline
//! and each sleeping handler a sleep: one JavaScript timer for all of them, rather than a timer,
//! a promise and a closure each (measured: a third of the runtime's time per pending request).
//!
//! A sleep is registered when first polled (a deadline that is never awaited costs nothing) and
//! forgotten when dropped (a cancelled request leaves nothing behind).

use crate::sys;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// The longest delay `setTimeout` takes (a longer one fires at once): longer sleeps are armed
/// for this, and again when it passes.
const LONGEST_DELAY_MS: f64 = 2_147_483_647.0;

/// Resolves after a delay.
pub struct Sleep {
    ms: f64,
    /// Its place in the queue, once polled.
    entry: Option<Entry>,
}

/// When a sleep is due (ms since the epoch), and its number: the queue's order.
type Entry = (u64, u64);

/// A future that resolves `ms` milliseconds after it is first polled (at once for 0 or less,
/// on a later turn of the event loop all the same).
pub fn sleep(ms: f64) -> Sleep {
    Sleep { ms, entry: None }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let waker = cx.waker().clone();
        match self.entry {
            None => {
                let ms = if self.ms.is_nan() {
                    0.0
                } else {
                    self.ms.max(0.0)
                };
                self.entry = Some(TIMERS.with(|timers| timers.add(ms, waker)));
                Poll::Pending
            }
            Some(entry) => TIMERS.with(|timers| {
                if timers.wait(entry, waker) {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = self.entry {
            // (Not during the thread's teardown, when the queue may be gone already.)
            let _ = TIMERS.try_with(|timers| timers.queue.borrow_mut().pending.remove(&entry));
        }
    }
}

thread_local! {
    static TIMERS: Timers = Timers::new();
}

/// The sleeps under way, and the one `setTimeout` armed for the earliest.
struct Timers {
    queue: RefCell<Queue>,
    /// What the `setTimeout` calls: made once.
    fire: Closure<dyn FnMut()>,
}

#[derive(Default)]
struct Queue {
    pending: BTreeMap<Entry, Waker>,
    next: u64,
    /// The armed timer, and when it fires.
    armed: Option<(i32, u64)>,
}

impl Timers {
    fn new() -> Self {
        Self {
            queue: RefCell::default(),
            fire: Closure::new(|| TIMERS.with(Timers::fire)),
        }
    }

    /// Queues a sleep of `ms`; returns its entry.
    fn add(&self, ms: f64, waker: Waker) -> Entry {
        let now = js_sys::Date::now();
        let entry = {
            let mut queue = self.queue.borrow_mut();
            queue.next += 1;
            let entry = ((now + ms).ceil() as u64, queue.next);
            queue.pending.insert(entry, waker);
            entry
        };
        self.arm(now);
        entry
    }

    /// Whether `entry` is still waiting (then `waker` is the one to wake).
    fn wait(&self, entry: Entry, waker: Waker) -> bool {
        match self.queue.borrow_mut().pending.get_mut(&entry) {
            Some(waiting) => {
                *waiting = waker;
                true
            }
            None => false,
        }
    }

    /// Wakes the sleeps that are due, and arms the timer for the next.
    fn fire(&self) {
        let now = js_sys::Date::now();
        let due = {
            let mut queue = self.queue.borrow_mut();
            queue.armed = None;
            let later = queue.pending.split_off(&(now as u64 + 1, 0));
            std::mem::replace(&mut queue.pending, later)
        };
        // Outside the borrow: a woken task may queue a sleep.
        due.into_values().for_each(Waker::wake);
        self.arm(now);
    }

    /// Arms the timer for the earliest sleep, unless it is armed for that already or sooner.
    fn arm(&self, now: f64) {
        let mut queue = self.queue.borrow_mut();
        let Some(&(earliest, _)) = queue.pending.keys().next() else {
            return;
        };
        if let Some((timer, at)) = queue.armed {
            if at <= earliest {
                return;
            }
            sys::clear_timeout(timer);
        }
        let delay = (earliest as f64 - now).clamp(0.0, LONGEST_DELAY_MS);
        let timer = sys::set_timeout(self.fire.as_ref().unchecked_ref(), delay);
        queue.armed = Some((timer, earliest));
    }
}
