//! How the installed test host answers the host API's operations, as the runtime would: outside
//! wasm32 the imports of `guest::host` come here. It knows nothing of the guest side, which
//! sits above it.

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
    /// The stub answering `fetch`; taken out while it runs.
    pub(crate) fetch: Option<FetchStub>,
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
    // The stub runs outside the borrow: it may use the host itself.
    let stub = INSTALLED.with_borrow(|installed| {
        installed
            .as_ref()
            .map(|state| state.borrow_mut().fetch.take())
    });
    let Some(Some(mut stub)) = stub else {
        return with_host(|_| Err("no fetch stub in this test's Host".to_owned()));
    };
    let answer = codec::decode_request::<Body>(request)
        .map(|request| codec::encode_response(&stub(request)))
        .map_err(|e| e.to_string());
    INSTALLED.with_borrow(|installed| {
        if let Some(state) = installed {
            state.borrow_mut().fetch = Some(stub);
        }
    });
    with_host(|_| answer)
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
