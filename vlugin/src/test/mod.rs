//! Testing a handler with plain `cargo test`, without a browser: an in-memory host that
//! answers the host API as the runtime would. Its store is a map, its clock moves only when
//! the handler sleeps (so a `sleep(60_000)` takes no time), and `fetch` is answered by a stub
//! of yours. Everything goes through the same encodings as in the runtime, so a handler that
//! passes here meets the same messages there.
//!
//! ```
//! use vlugin::prelude::*;
//! use vlugin::test::{block_on, request, Host};
//!
//! #[vlugin]
//! async fn hits(_req: Request) -> vlugin::Result<String> {
//!     let n = kv::update_json("hits", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
//!     Ok(format!("hit {n} of {}", url_for("/")))
//! }
//!
//! # fn main() {
//! let host = Host::new().origin("https://example.com").mount("/api/hits").install();
//! let response = block_on(hits(request("GET", "/", ""))).into_response();
//! assert_eq!(response.body().text().unwrap(), "hit 1 of https://example.com/api/hits");
//! assert_eq!(host.kv_get("hits").as_deref(), Some(&b"1"[..]));
//! # }
//! ```
//!
//! A host is installed for the current thread (each `#[test]` runs on its own) until the
//! [`Installed`] guard is dropped. Without one, the host API fails with an error saying so.
//!
//! [`serve`] runs a handler as a host does, through the plugin's executor: for a streamed body
//! (read chunk by chunk) and work after the answer ([`wait_until`](crate::wait_until)).
//! [`Installed::streamed_request`] makes a request whose body the plugin reads as it arrives
//! (a [`StreamedBody`] of the test's chunks), and says what the plugin read; a
//! [`fetch_stream`](crate::fetch_stream) is answered by the [`fetch`](Host::fetch) stub, whose
//! body is read a chunk at a time (a [`Body::from_stream`] one item per read).

pub(crate) mod answers;
mod bodies;
mod serve;
mod streamed;

use crate::{Body, IntoResponse, Request};
use answers::{FetchStub, State};
pub use serve::{serve, Frame, Served};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
pub use streamed::{BodyReads, StreamedBody};
use valor_abi::storage::Failure;

/// An in-memory host for tests: configure it, then [`install`](Host::install) it.
pub struct Host {
    config: serde_json::Value,
    mount: String,
    origin: String,
    store: BTreeMap<String, Vec<u8>>,
    store_failure: Option<Failure>,
    now_ms: f64,
    fetch: Option<FetchStub>,
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Host {
    /// A host with no config (`null`), mounted at `/` of `http://localhost`, an empty store,
    /// the clock at the real time, and no `fetch` stub (every fetch fails as unreachable).
    pub fn new() -> Self {
        Self {
            config: serde_json::Value::Null,
            mount: String::new(),
            origin: "http://localhost".to_owned(),
            store: BTreeMap::new(),
            store_failure: None,
            now_ms: answers::system_time_ms(),
            fetch: None,
        }
    }

    /// The manifest entry's `config`, as [`config`](crate::config) returns it.
    pub fn config(mut self, config: impl serde::Serialize) -> Self {
        self.config = serde_json::to_value(config).expect("a test config serializes to JSON");
        self
    }

    /// The mount prefix, as [`mount`](crate::mount) returns it (`/api/todos`).
    pub fn mount(mut self, mount: &str) -> Self {
        self.mount = mount.to_owned();
        self
    }

    /// The app's origin, as [`origin`](crate::origin) returns it (`https://example.com`).
    pub fn origin(mut self, origin: &str) -> Self {
        self.origin = origin.to_owned();
        self
    }

    /// A value already in the store.
    pub fn kv(mut self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.store.insert(key.to_owned(), value.as_ref().to_vec());
        self
    }

    /// Makes every `kv` command fail as `failure` does on a real host: the store unreachable
    /// (Redis restarting), full (a disk or quota used up), or failing otherwise.
    pub fn kv_failing(mut self, failure: Failure) -> Self {
        self.store_failure = Some(failure);
        self
    }

    /// Where the clock starts, in milliseconds since the Unix epoch.
    pub fn now(mut self, ms: f64) -> Self {
        self.now_ms = ms;
        self
    }

    /// Answers the plugin's outbound requests (its [`fetch`](crate::fetch) and
    /// [`fetch_stream`](crate::fetch_stream)) with `stub`. For `fetch_stream`, the stub's body
    /// is handed over a chunk per read: a body of bytes in one chunk (of at most 1 MiB), a
    /// [`Body::from_stream`] one item per read (an `Err` item fails that read).
    pub fn fetch<R: IntoResponse>(mut self, mut stub: impl FnMut(Request) -> R + 'static) -> Self {
        self.fetch = Some(Box::new(move |request| stub(request).into_response()));
        self
    }

    /// Makes this the host of the current thread's handlers until the guard is dropped.
    pub fn install(self) -> Installed {
        let config = serde_json::to_vec(&self.config).expect("JSON values serialize");
        // As a host sends them: without a trailing slash.
        let (mount, origin) = (
            self.mount.trim_end_matches('/'),
            self.origin.trim_end_matches('/'),
        );
        crate::guest::set_up(&config, mount, origin);
        let state = Rc::new(RefCell::new(State {
            store: self.store,
            store_failure: self.store_failure,
            now_ms: self.now_ms,
            fetch: self.fetch,
            bodies: bodies::Bodies::default(),
        }));
        answers::install(Rc::clone(&state));
        Installed { state }
    }
}

/// The installed [`Host`]: what the handler left in it. Dropping it uninstalls the host.
pub struct Installed {
    state: Rc<RefCell<State>>,
}

impl Installed {
    /// The value stored under `key`, if any.
    pub fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        self.state.borrow().store.get(key).cloned()
    }

    /// Every key in the store, sorted.
    pub fn kv_keys(&self) -> Vec<String> {
        self.state.borrow().store.keys().cloned().collect()
    }

    /// The clock, in milliseconds since the Unix epoch: where it started plus every sleep.
    pub fn now(&self) -> f64 {
        self.state.borrow().now_ms
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        answers::uninstall(&self.state);
    }
}

/// A request as the runtime hands it to a handler: `uri` relative to the mount (`/7?x=1`).
///
/// # Panics
/// If the method or URI is invalid.
pub fn request(method: &str, uri: &str, body: impl Into<Body>) -> Request {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .expect("a valid test request")
}

/// Runs a handler's future to its answer. Host operations finish at once in the test host, so
/// a future still waiting when nothing is left to wake it never would: that panics. (A handler
/// that streams its body or calls [`wait_until`](crate::wait_until) is run with [`serve`],
/// which reads the body and runs the work.)
pub fn block_on<F: Future>(future: F) -> F::Output {
    try_block_on(future).unwrap_or_else(|| {
        panic!("the handler waits for something that nothing in the test host will finish")
    })
}

/// Runs `future` to its end, or `None` if it waits for something nothing will wake.
pub(crate) fn try_block_on<F: Future>(future: F) -> Option<F::Output> {
    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Some(output);
        }
        if !flag.0.swap(false, Ordering::SeqCst) {
            return None;
        }
    }
}
