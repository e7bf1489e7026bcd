//! `sleep`: a `setTimeout` armed when first polled (a deadline that is never awaited costs
//! nothing) and cleared when the future is dropped (a cancelled request leaves no timer behind).
//!
//! A cleared timer's promise must still be settled: a `JsFuture` frees its callbacks only when
//! its promise settles, so one dropped while pending leaks them for as long as the worker runs
//! (measured: about 0.4 KB per request that a deadline or a plugin's sleep outlived).

use crate::sys;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen_futures::JsFuture;

/// Resolves after a delay.
pub struct Sleep {
    ms: f64,
    armed: Option<Armed>,
}

struct Armed {
    fired: JsFuture,
    timer: i32,
    resolve: js_sys::Function,
}

/// A future that resolves `ms` milliseconds after it is first polled.
pub fn sleep(ms: f64) -> Sleep {
    Sleep { ms, armed: None }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let ms = self.ms;
        let armed = self.armed.get_or_insert_with(|| {
            let mut armed = None;
            let promise = js_sys::Promise::new(&mut |resolve, _reject| {
                armed = Some((sys::set_timeout(&resolve, ms.max(0.0)), resolve));
            });
            let (timer, resolve) = armed.expect("the Promise executor runs at once");
            Armed {
                fired: JsFuture::from(promise),
                timer,
                resolve,
            }
        });
        Pin::new(&mut armed.fired).poll(cx).map(drop)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(armed) = &self.armed {
            sys::clear_timeout(armed.timer);
            // Settles the promise (if it has not fired) so that its `JsFuture` is freed.
            let _ = armed.resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    }
}
