//! Promises rejected with no handler, reported as a browser reports them: once the promise jobs
//! have run, not at the rejection. A handler attached meanwhile takes the report back, as when
//! `asyncFunction().catch(...)` attaches it after the function threw, or a stream's read is
//! rejected by the `pull` it started.

use crate::script::describe;
use rquickjs::runtime::RejectionTracker;
use rquickjs::{Persistent, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// The rejections without a handler so far: each promise, and its reason as text.
type Unhandled = Vec<(Persistent<Value<'static>>, String)>;

/// The rejections a script's runtime noted (its tracker holds the other handle).
#[derive(Default)]
pub struct Rejections(Rc<RefCell<Unhandled>>);

impl Rejections {
    /// The runtime's tracker, noting into these.
    pub fn tracker(&self) -> RejectionTracker {
        let unhandled = Rc::clone(&self.0);
        Box::new(move |ctx, promise, reason, handled| {
            let Ok(mut unhandled) = unhandled.try_borrow_mut() else {
                return;
            };
            if handled {
                unhandled.retain(|(noted, _)| {
                    noted
                        .clone()
                        .restore(&ctx)
                        .map_or(true, |noted| noted != promise)
                });
            } else {
                let text = describe(&ctx, reason);
                unhandled.push((Persistent::save(&ctx, promise), text));
            }
        })
    }

    /// Logs the rejections still without a handler, and forgets them: when no promise job is
    /// left to attach one.
    pub fn report(&self) {
        for text in self.take() {
            vlugin::log::error!("Uncaught (in promise) {text}");
        }
    }

    /// The reasons of the rejections still without a handler, forgotten.
    fn take(&self) -> Vec<String> {
        self.0.take().into_iter().map(|(_, text)| text).collect()
    }

    /// Forgets them without a word: the runtime is going.
    pub fn forget(&self) {
        self.0.take();
    }
}

#[cfg(test)]
mod tests {
    use super::Rejections;
    use rquickjs::{Context, Runtime};

    #[test]
    fn a_rejection_handled_by_a_later_job_is_not_reported() {
        let runtime = Runtime::new().unwrap();
        let rejections = Rejections::default();
        runtime.set_host_promise_rejection_tracker(Some(rejections.tracker()));
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let script = r#"
                Promise.reject('never handled');
                (async () => { throw 'thrown, then caught'; })().catch(() => {});
                const later = Promise.reject('handled by a job');
                Promise.resolve().then(() => later.catch(() => {}));
            "#;
            ctx.eval::<(), _>(script).unwrap();
            while ctx.execute_pending_job() {}
        });
        assert_eq!(rejections.take(), ["never handled"]);
        drop(context);
    }
}
