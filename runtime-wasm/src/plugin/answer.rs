//! A plugin's answer as the worker sends it (PROTOCOL.md, section 17): a whole one as a reply; a
//! streamed one as a reply whose body is a `ReadableStream` pulling each chunk from the task
//! when the page reads; work after the answer spawned, bounded by the entry's `timeout_ms`.
//! The fetch event's `waitUntil` holds a promise until a streamed body and the work after an
//! answer are done, so that the browser does not stop the worker meanwhile.

use super::instance::State;
use crate::host::timer;
use crate::manifest::PluginSpec;
use crate::reply::Reply;
use futures::StreamExt;
use std::rc::Rc;
use valor_host::guest::{Answer, Task};
use valor_host::streamed::{self, Limits};
use wasm_bindgen::JsValue;

/// The reply for `answer`, from the plugin of `spec`, to a page's request of fetch event
/// `event` (none for a plugin's request to another).
pub fn reply(
    answer: Answer<Rc<State>>,
    spec: &PluginSpec,
    event: Option<&web_sys::ExtendableEvent>,
) -> Reply {
    match answer {
        Answer::Whole { frame, after } => {
            if let Some(task) = after {
                keep(task, Limits::of(spec), event.map(Lifetime::extend));
            }
            Reply::from_frame(frame)
        }
        Answer::Streamed { head, body } => {
            let event_stream = streamed::is_event_stream(&head);
            let lifetime = event.map(Lifetime::extend).map(Rc::new);
            let (limits, held) = (Limits::of(spec), lifetime.clone());
            let after = limits.clone();
            let chunks = streamed::body(body, event_stream, limits, sleep, log, |task| {
                keep(task, after, held)
            });
            // The stream holds the lifetime until it is dropped (read to its end, or cancelled).
            let chunks = chunks.map(move |chunk| {
                let _held = &lifetime;
                chunk
            });
            Reply::streamed(head, chunks.boxed_local())
        }
    }
}

/// Lets `task` finish the work it goes on with after its answer, holding `lifetime` (a
/// [`Lifetime`], shared or not) meanwhile.
fn keep(task: Task<Rc<State>>, limits: Limits, lifetime: impl Sized + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        let deadline = sleep(limits.after_ms());
        if let Err(why) = streamed::finish(task, &limits, deadline).await {
            log(&why);
        }
        drop(lifetime);
    });
}

fn sleep(ms: u32) -> timer::Sleep {
    timer::sleep(f64::from(ms))
}

fn log(why: &str) {
    web_sys::console::warn_1(&format!("[valor] {why}").into());
}

/// A promise the fetch event waits for (`waitUntil`), settled when this is dropped.
struct Lifetime {
    settle: js_sys::Function,
}

impl Lifetime {
    fn extend(event: &web_sys::ExtendableEvent) -> Self {
        let mut settle = None;
        let promise = js_sys::Promise::new(&mut |resolve, _| settle = Some(resolve));
        // Refused only once the event is over, which its answer being made rules out.
        let _ = event.wait_until(&promise);
        Self {
            settle: settle.expect("the promise's executor runs at once"),
        }
    }
}

impl Drop for Lifetime {
    fn drop(&mut self) {
        let _ = self.settle.call0(&JsValue::UNDEFINED);
    }
}
