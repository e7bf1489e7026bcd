//! `sleep`: a `setTimeout` armed when first polled (a deadline that is never awaited costs
//! nothing) and cleared when the future is dropped (a cancelled request leaves no timer behind).

use crate::sys;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen_futures::JsFuture;

/// Resolves after a delay.
pub struct Sleep {
    ms: f64,
    armed: Option<(JsFuture, i32)>,
}

/// A future that resolves `ms` milliseconds after it is first polled.
pub fn sleep(ms: f64) -> Sleep {
    Sleep { ms, armed: None }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let ms = self.ms;
        let (fired, _) = self.armed.get_or_insert_with(|| {
            let mut timer = 0;
            let promise = js_sys::Promise::new(&mut |resolve, _reject| {
                timer = sys::set_timeout(&resolve, ms.max(0.0));
            });
            (JsFuture::from(promise), timer)
        });
        Pin::new(fired).poll(cx).map(drop)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((_, timer)) = self.armed {
            sys::clear_timeout(timer);
        }
    }
}
