//! How the installed test host answers the host API's operations, as the runtime would: outside
//! wasm32 the imports of `guest::host` come here. It knows nothing of the guest side, which
//! sits above it.

use super::bodies::{Bodies, Step, TestBody, Then};
use crate::{Body, Request, Response};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use valor_abi::storage::{self, Command, Failure};
use valor_abi::{codec, outcome};

/// The test's stand-in for the plugin's outbound requests.
pub(crate) type FetchStub = Box<dyn FnMut(Request) -> Response>;

/// What an installed host holds while handlers run.
pub(crate) struct State {
    /// The key-value store.
    pub(crate) store: BTreeMap<String, Vec<u8>>,
    /// How every `kv` command fails, if the test made the store fail.
    pub(crate) store_failure: Option<Failure>,
    /// The clock, in milliseconds since the Unix epoch.
    pub(crate) now_ms: f64,
    /// The stub answering `fetch` and `fetch_stream`; taken out while it runs.
    pub(crate) fetch: Option<FetchStub>,
    /// The streamed bodies the plugin reads: requests' the test made, `fetch_stream`'s.
    pub(crate) bodies: Bodies,
}

thread_local! {
    static INSTALLED: RefCell<Option<Rc<RefCell<State>>>> = const { RefCell::new(None) };
}

/// Makes `state` the current thread's host.
pub(crate) fn install(state: Rc<RefCell<State>>) {
    INSTALLED.set(Some(state));
}

/// Uninstalls `state`, if it is still the current thread's host.
pub(crate) fn uninstall(state: &Rc<RefCell<State>>) {
    INSTALLED.with_borrow_mut(|installed| {
        if installed.as_ref().is_some_and(|s| Rc::ptr_eq(s, state)) {
            *installed = None;
        }
    });
}

/// The real time, in milliseconds since the Unix epoch: where a test host's clock starts, and
/// the clock when none is installed.
pub(crate) fn system_time_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64() * 1000.0)
}

/// The installed host's answer to a host operation (an outcome byte, then the payload).
fn with_host(operation: impl FnOnce(&mut State) -> Result<Vec<u8>, String>) -> Vec<u8> {
    let answer = INSTALLED.with_borrow(|installed| match installed {
        Some(state) => operation(&mut state.borrow_mut()),
        None => Err(
            "the Valor host API is only available inside a plugin, or in a test that \
                     installs a vlugin::test::Host"
                .to_owned(),
        ),
    });
    match answer {
        Ok(payload) => [&[outcome::OK][..], &payload].concat(),
        Err(message) => [&[outcome::FAILED][..], message.as_bytes()].concat(),
    }
}

/// The installed host's clock, or the real time without one.
pub(crate) fn now_ms() -> f64 {
    INSTALLED
        .with_borrow(|installed| installed.as_ref().map(|state| state.borrow().now_ms))
        .unwrap_or_else(system_time_ms)
}

/// A timer: the clock moves by `ms` at once.
pub(crate) fn sleep(ms: f64) -> Vec<u8> {
    with_host(|state| {
        state.now_ms += ms.max(0.0);
        Ok(Vec::new())
    })
}

/// An outbound request (encoded with `valor_abi::codec`), answered by the test's stub.
pub(crate) fn fetch(request: &[u8]) -> Vec<u8> {
    let answer = stubbed(request).map(|response| codec::encode_response(&response));
    with_host(|_| answer)
}

/// An outbound request whose response's body is streamed: the stub's body, read a chunk per
/// `read` (its items, if the stub streams it), under a handle of the host's.
pub(crate) fn fetch_stream(request: &[u8]) -> Vec<u8> {
    let answer = stubbed(request).map(|mut response| {
        let body = match response.body_mut().take_stream() {
            Some(stream) => TestBody::new([], Then::Stream(Some(stream))),
            None => TestBody::new(
                [std::mem::take(response.body_mut()).into_bytes()],
                Then::End,
            ),
        };
        let handle = with_state(|state| state.bodies.open(body));
        // The response with an empty body, whose field (its last four bytes, a zero length)
        // becomes the streamed body's.
        let mut encoded = codec::encode_response(&response);
        encoded.truncate(encoded.len() - 4);
        encoded.extend(codec::streamed_body_field(handle.unwrap_or(0)));
        encoded
    });
    with_host(|_| answer)
}

/// The stub's answer to an outbound request.
fn stubbed(request: &[u8]) -> Result<Response, String> {
    // The stub runs outside the borrow: it may use the host itself.
    let stub = INSTALLED.with_borrow(|installed| {
        installed
            .as_ref()
            .map(|state| state.borrow_mut().fetch.take())
    });
    let Some(Some(mut stub)) = stub else {
        return Err("no fetch stub in this test's Host".to_owned());
    };
    let answer = codec::decode_request::<Body>(request)
        .map(&mut stub)
        .map_err(|e| e.to_string());
    with_state(|state| state.fetch = Some(stub));
    answer
}

/// Runs `f` on the installed host's state, if there is one.
pub(crate) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    let state = INSTALLED.with_borrow(Option::clone)?;
    let mut state = state.borrow_mut();
    Some(f(&mut state))
}

/// The next bytes of streamed body `handle` (section 18.1): `OK` and a chunk, `OK` and
/// nothing at its end, `DENIED` past its `max_stream_bytes`, or `FAILED`.
pub(crate) fn read(handle: u32) -> Vec<u8> {
    loop {
        let step = with_state(|state| match state.bodies.open_mut(handle) {
            Some(body) => body.step(handle),
            None => Step::Failed(format!("no streamed body {handle}")),
        });
        let (code, payload) = match step {
            None => return with_host(|_| Ok(Vec::new())), // no host: says so
            Some(Step::Chunk(bytes)) => (outcome::OK, bytes),
            Some(Step::Denied(message)) => (outcome::DENIED, message.into_bytes()),
            Some(Step::Failed(message)) => (outcome::FAILED, message.into_bytes()),
            Some(Step::Poll(mut stream)) => {
                // Polled outside the borrow: the stream may use the host.
                let item = super::try_block_on(std::future::poll_fn(|cx| stream.poll_chunk(cx)))
                    .unwrap_or_else(|| {
                        Some(Err(
                            "the streamed body waits for something that nothing in \
                                  the test host will finish"
                                .to_owned(),
                        ))
                    });
                let unkept = with_state(|state| match state.bodies.open_mut(handle) {
                    Some(body) => body.polled(stream, item),
                    None => Some(stream), // closed meanwhile
                });
                drop(unkept); // outside the borrow: a stream's destructor may use the host
                continue;
            }
        };
        return [&[code][..], &payload].concat();
    }
}

/// The plugin reads no more of streamed body `handle`; an unknown or closed one is left alone.
pub(crate) fn close(handle: u32) {
    let stream = with_state(|state| {
        let body = state.bodies.open_mut(handle)?;
        body.closed = true;
        body.queued.clear();
        Some(std::mem::replace(&mut body.then, Then::End))
    });
    drop(stream); // outside the borrow: a stream's destructor may use the host
}

/// A key-value command (encoded with `valor_abi::storage`), run on the in-memory store.
pub(crate) fn kv(command: &[u8]) -> Vec<u8> {
    with_host(|state| {
        if let Some(failure) = state.store_failure {
            return Err(failure.message("the test host's store was made to fail"));
        }
        let store = &mut state.store;
        let command = Command::decode(command).map_err(|e| e.to_string())?;
        Ok(match command {
            Command::Get { key } => storage::encode_value(store.get(key).map(Vec::as_slice)),
            Command::Put { key, value } => {
                store.insert(key.to_owned(), value.to_vec());
                Vec::new()
            }
            Command::Delete { key } => {
                store.remove(key);
                Vec::new()
            }
            Command::Keys { prefix } => {
                let keys: Vec<&String> = in_range(store, prefix).map(|(key, _)| key).collect();
                storage::encode_keys(&keys)
            }
            Command::Scan { prefix } => {
                let entries: Vec<_> = in_range(store, prefix).collect();
                storage::encode_entries(&entries)
            }
            Command::CompareAndSwap { key, expected, new } => {
                let current = store.get(key).map(Vec::as_slice);
                if current != expected {
                    return Ok(storage::encode_swap(Err(current)));
                }
                match new {
                    Some(value) => store.insert(key.to_owned(), value.to_vec()),
                    None => store.remove(key),
                };
                storage::encode_swap(Ok(()))
            }
        })
    })
}

fn in_range<'a>(
    store: &'a BTreeMap<String, Vec<u8>>,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Vec<u8>)> {
    store
        .range(prefix.to_owned()..)
        .take_while(move |(key, _)| key.starts_with(prefix))
}
