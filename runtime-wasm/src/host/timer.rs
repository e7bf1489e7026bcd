//! `sleep`: a `setTimeout` that is cleared when the future is dropped (a cancelled request
//! leaves no timer behind).

use crate::sys;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen_futures::JsFuture;

/// Resolves after a delay.
pub struct Sleep {
    fired: JsFuture,
    timer: i32,
}

/// A future that resolves after `ms` milliseconds.
pub fn sleep(ms: f64) -> Sleep {
    let mut timer = 0;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        timer = sys::set_timeout(&resolve, ms.max(0.0));
    });
    Sleep {
        fired: JsFuture::from(promise),
        timer,
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.fired).poll(cx).map(drop)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        sys::clear_timeout(self.timer);
    }
}
