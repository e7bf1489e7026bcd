//! Work after the answer: a script's `event.waitUntil(promise)` (or `ctx.waitUntil`), as the
//! SDK's `wait_until` (PROTOCOL.md, section 17.5). The prelude counts the request's promises
//! that have not settled ([`extend`]); while any has not, the request's task runs an [`After`]
//! future, which drives the script's event loop (the promises' jobs, timers and fetches) and
//! finishes when the last one settles. The task takes it at its answer, or later from its
//! streamed body, whichever polls it first once a promise is waited for.

use crate::event_loop::{self, Role};
use crate::life::Life;
use crate::script::Script;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// `host.extend(id, more)`: one more promise of request `id` to wait for (`more`), or one
/// fewer. `false` if the request is over: its answer was sent, its body ended and the work it
/// waited for is done, so nothing would wait for the promise (the prelude throws).
pub fn extend(id: String, more: bool) -> bool {
    let Some(life) = Life::find(&id) else {
        return false;
    };
    let waits = &life.waits;
    if more {
        waits.set(waits.get() + 1);
    } else {
        waits.set(waits.get().saturating_sub(1));
        if waits.get() == 0 {
            event_loop::wake(&id, Role::After);
        }
    }
    true
}

/// Hands the request's `waitUntil` promises to its task as work after the answer, unless it
/// has none or has them already. Called while the task is polled.
pub fn hand_over(life: &Rc<Life>, script: &Rc<Script>) {
    if life.waits.get() == 0 || life.extended.get() || script.stopped().is_some() {
        return;
    }
    life.extended.set(true);
    vlugin::wait_until(After {
        life: Rc::clone(life),
        script: Rc::clone(script),
    });
}

/// A request's work after its answer: done when its `waitUntil` promises have settled.
struct After {
    life: Rc<Life>,
    script: Rc<Script>,
}

impl Future for After {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let life = &self.life;
        let settled = || life.waits.get() == 0;
        let stopped = event_loop::polling(life, Role::After, cx, || {
            event_loop::run(&self.script, &settled)
        });
        if let Some(why) = stopped {
            vlugin::log::warn!(
                "the work after an answer was lost: {}",
                event_loop::stopped_reason(why)
            );
        } else if life.waits.get() > 0 {
            return Poll::Pending;
        }
        event_loop::forget(&life.id, Role::After);
        life.extended.set(false);
        Poll::Ready(())
    }
}

impl Drop for After {
    fn drop(&mut self) {
        event_loop::forget(&self.life.id, Role::After);
        self.life.extended.set(false);
    }
}
