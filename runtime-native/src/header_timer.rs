//! The timer behind a connection's header-read timeout: one tokio timer per connection, moved
//! on lazily, rather than one registered and cancelled for every request.
//!
//! hyper asks its timer for a new sleep each time it starts reading a request's headers, polls
//! it while they have not all arrived (on a keep-alive connection, while it waits for the next
//! request), and drops it once they have. With tokio's timer that is a timer registered in the
//! runtime's wheel and taken out again per request. Here the sleeps of one connection share one
//! tokio timer: a sleep only says when it ends; the shared timer, armed for an earlier sleep's
//! end, is moved on to the later one when it fires, so it is re-registered once per timeout
//! period at most, whatever the number of requests.

use hyper::rt::{Sleep, Timer};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The shared tokio timer, made by the first sleep polled.
type Armed = Arc<Mutex<Option<Pin<Box<tokio::time::Sleep>>>>>;

/// One connection's timer (hyper keeps at most one sleep of it at a time).
#[derive(Default, Clone)]
pub struct ConnectionTimer {
    armed: Armed,
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(self.now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(SharedSleep {
            armed: Arc::clone(&self.armed),
            deadline: deadline.into(),
        })
    }

    fn now(&self) -> Instant {
        // tokio's clock, as hyper's own tokio timer reads it (tests can pause it).
        tokio::time::Instant::now().into_std()
    }
}

/// A sleep until `deadline` on its connection's shared timer.
struct SharedSleep {
    armed: Armed,
    deadline: tokio::time::Instant,
}

impl Sleep for SharedSleep {}

impl Future for SharedSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        // Only the connection's task polls it: the lock is never contended.
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let timer = armed.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // Armed for a later end than this sleep's (not how hyper uses it): moved back.
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        }
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if timer.deadline() >= deadline {
                return Poll::Ready(());
            }
            // It fired for an earlier sleep's end: on to this one's.
            timer.as_mut().reset(deadline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleep_ends_at_its_own_deadline_on_a_timer_armed_earlier() {
        let timer = ConnectionTimer::default();
        let start = timer.now();
        // The first sleep arms the shared timer for 100 ms, and is dropped unfinished.
        let mut first = timer.sleep_until(start + Duration::from_millis(100));
        assert!(futures::poll!(first.as_mut()).is_pending());
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The next ends 150 ms later, not when the timer first fires.
        let second = timer.sleep(Duration::from_millis(150));
        second.await;
        let slept = timer.now() - start;
        assert!(slept >= Duration::from_millis(200), "{slept:?}");
    }

    #[tokio::test]
    async fn a_sleep_ending_before_the_armed_timer_ends_on_time() {
        let timer = ConnectionTimer::default();
        let start = timer.now();
        let mut long = timer.sleep(Duration::from_secs(10));
        assert!(futures::poll!(long.as_mut()).is_pending());
        drop(long);
        timer.sleep(Duration::from_millis(10)).await;
        let slept = timer.now() - start;
        assert!(slept < Duration::from_secs(1), "{slept:?}");
    }
}
