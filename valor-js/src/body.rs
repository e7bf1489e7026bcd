//! A streamed answer: a `Response` whose body is the script's `ReadableStream`, sent with
//! `Body::from_stream` over a [`ScriptBody`], which reads the script's stream one chunk each
//! time the host asks for the next (PROTOCOL.md, section 17.2): so the reader of the answer
//! paces the script, whose source's `pull` is called only then.
//!
//! Asked for a chunk, the body calls the prelude's `pullBody(id)`, which reads the stream once
//! and hands back the chunk or the end, with a reason if the stream errored ([`deliver`]:
//! `host.chunk`). A body dropped before its end (the reader went away) calls
//! `cancelBody(id)`, which cancels the stream (its source's `cancel`).

use crate::event_loop::{self, Role};
use crate::life::Life;
use crate::script::{self, Script};
use crate::{after, budget};
use futures::Stream;
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use vlugin::Body;

/// What a streamed body yields: the next bytes, or why it ends early.
type Item = Result<Vec<u8>, String>;

/// A streamed body's state, kept here: `Body::from_stream` wants a stream that is `Send`, and
/// the engine's state is not (it is thread-local, as the instance has one thread), so the
/// stream itself holds only its request's id.
struct Streaming {
    life: Rc<Life>,
    script: Rc<Script>,
    /// The script was asked for the next chunk and has not handed it back yet.
    asked: bool,
    /// What the script handed back since: an item, or `None` at its end.
    delivered: Option<Option<Item>>,
}

thread_local! {
    /// The bodies being streamed (a few: a list is smaller than a map, and as quick).
    static STREAMING: RefCell<Vec<Streaming>> = const { RefCell::new(Vec::new()) };
}

/// `f` of the state of request `id`'s body, if it is streamed.
fn with_streaming<R>(id: &str, f: impl FnOnce(&mut Streaming) -> R) -> Option<R> {
    STREAMING.with_borrow_mut(|all| all.iter_mut().find(|s| s.life.id == id).map(f))
}

/// The body of request `id`'s answer, streamed from the script; `None` if the request is over.
pub fn streamed(id: &str) -> Option<Body> {
    let life = Life::find(id)?;
    let script = script::current().ok()?;
    life.streaming.set(true);
    let streaming = Streaming {
        life,
        script,
        asked: false,
        delivered: None,
    };
    STREAMING.with_borrow_mut(|all| all.push(streaming));
    Some(Body::from_stream(ScriptBody {
        id: id.to_owned(),
        ended: false,
    }))
}

/// The script's next chunk, or the end, for the body of request `id` (which asked for it).
pub fn deliver(id: String, item: Option<Item>) {
    let asked = with_streaming(&id, |streaming| {
        if streaming.asked {
            streaming.delivered = Some(item);
        }
        streaming.asked
    });
    if asked == Some(true) {
        event_loop::wake(&id, Role::Body);
    }
}

/// The script's stream behind an answer's body (its state is in [`STREAMING`]).
struct ScriptBody {
    id: String,
    /// The stream ended (complete or not): nothing to cancel.
    ended: bool,
}

impl Stream for ScriptBody {
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = self.get_mut();
        let Some((life, script)) = with_streaming(&this.id, |streaming| {
            (Rc::clone(&streaming.life), Rc::clone(&streaming.script))
        }) else {
            return Poll::Ready(Some(Err("the engine lost the stream".into())));
        };
        let polled = event_loop::polling(&life, Role::Body, cx, || {
            let polled = step(&life.id, &script);
            if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
                // Its work after the answer, if any, is polled when woken from now on.
                life.streaming.set(false);
            }
            polled
        });
        if let Poll::Ready(item) = &polled {
            event_loop::forget(&life.id, Role::Body);
            this.ended = !matches!(item, Some(Ok(_)));
        }
        // `waitUntil` called while the body streams: its task takes the work on now.
        after::hand_over(&life, &script);
        polled
    }
}

/// Asks the script for the next chunk of request `id`'s body if it has not yet, runs it, and
/// takes what it handed back.
fn step(id: &str, script: &Rc<Script>) -> Poll<Option<Item>> {
    if let Some(why) = script.stopped() {
        return Poll::Ready(Some(Err(event_loop::stopped_reason(why))));
    }
    let ask = with_streaming(id, |streaming| {
        !std::mem::replace(&mut streaming.asked, true)
    });
    if ask == Some(true) {
        if let Err(error) = script.with(|ctx| script.pull_body(ctx, id)) {
            if !budget::spent() {
                return Poll::Ready(Some(Err(error)));
            }
        }
    }
    let delivered = || with_streaming(id, |streaming| streaming.delivered.is_some()) == Some(true);
    if let Some(why) = event_loop::run(script, &delivered) {
        return Poll::Ready(Some(Err(event_loop::stopped_reason(why))));
    }
    let delivered = with_streaming(id, |streaming| {
        let item = streaming.delivered.take()?;
        streaming.asked = false;
        Some(item)
    });
    delivered.flatten().map_or(Poll::Pending, Poll::Ready)
}

impl Drop for ScriptBody {
    fn drop(&mut self) {
        let streaming = STREAMING.with_borrow_mut(|all| {
            let at = all.iter().position(|s| s.life.id == self.id)?;
            Some(all.swap_remove(at))
        });
        let Some(streaming) = streaming else {
            return;
        };
        event_loop::forget(&self.id, Role::Body);
        streaming.life.streaming.set(false);
        let script = &streaming.script;
        if !self.ended && script.stopped().is_none() {
            event_loop::cancel_body(script, &self.id);
        }
    }
}
