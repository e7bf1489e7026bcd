//! The fake outside world, and the calls an instance makes, as helpers.

use crate::abi::{Resource, Val};
use crate::host::{Fault, Host};
use crate::wasi::{
    FetchError, IncomingRequest, Outcome, OutgoingRequest, Outside, Response, Session,
};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::task::Poll;

pub const TYPES: &str = "wasi:http/types@0.2.12";
pub const STREAMS: &str = "wasi:io/streams@0.2.12";
pub const POLL: &str = "wasi:io/poll@0.2.12";
pub const CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

thread_local! {
    /// The gates of the answers sent but not yet arrived.
    static GATES: RefCell<Vec<Rc<Cell<bool>>>> = RefCell::default();
}

/// The outside world of a test.
#[derive(Default)]
pub struct Fake {
    /// The monotonic clock, in nanoseconds: it moves when a sleep completes.
    pub now: Rc<Cell<u64>>,
    /// The requests sent, in order.
    pub sent: RefCell<Vec<OutgoingRequest>>,
    /// The answers, by URL (a URL missing fails the request).
    pub answers: RefCell<HashMap<String, Result<Response, FetchError>>>,
    /// The sleeps asked for, in nanoseconds.
    pub sleeps: RefCell<Vec<u64>>,
    /// The lines logged: (stderr, line).
    pub lines: RefCell<Vec<(bool, String)>>,
    /// The next random byte.
    pub random: Cell<u8>,
}

impl Outside for Fake {
    fn fetch(
        &self,
        request: OutgoingRequest,
    ) -> LocalBoxFuture<'static, Result<Response, FetchError>> {
        let answer = self
            .answers
            .borrow()
            .get(&request.url)
            .cloned()
            .unwrap_or_else(|| Err(FetchError::Failed(format!("no answer for {}", request.url))));
        self.sent.borrow_mut().push(request);
        // The answer arrives while a run waits (see `block_on`).
        let gate = Rc::new(Cell::new(false));
        GATES.with(|gates| gates.borrow_mut().push(gate.clone()));
        futures::future::poll_fn(move |_| {
            if gate.get() {
                Poll::Ready(answer.clone())
            } else {
                Poll::Pending
            }
        })
        .boxed_local()
    }

    fn sleep(&self, nanos: u64) -> LocalBoxFuture<'static, ()> {
        self.sleeps.borrow_mut().push(nanos);
        let (now, until) = (self.now.clone(), self.now.get() + nanos);
        futures::future::poll_fn(move |_| {
            now.set(now.get().max(until));
            Poll::Ready(())
        })
        .boxed_local()
    }

    fn monotonic_now(&self) -> u64 {
        self.now.get()
    }

    fn wall_clock_now(&self) -> (u64, u32) {
        (
            1_700_000_000 + self.now.get() / 1_000_000_000,
            (self.now.get() % 1_000_000_000) as u32,
        )
    }

    fn random_bytes(&self, out: &mut [u8]) {
        for b in out {
            *b = self.random.get();
            self.random.set(self.random.get().wrapping_add(1));
        }
    }

    fn log(&self, stderr: bool, line: &str) {
        self.lines.borrow_mut().push((stderr, line.to_string()));
    }
}

/// A request for `path`.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> IncomingRequest {
    IncomingRequest {
        method: method.into(),
        scheme: "https".into(),
        authority: "app.example".into(),
        path_with_query: path.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect(),
        body: body.to_vec(),
    }
}

/// A session of `request` and its outside world.
pub fn session(request: IncomingRequest) -> (Session, Rc<Fake>) {
    let fake = Rc::new(Fake::default());
    (Session::new(request, fake.clone()), fake)
}

/// Calls `interface.name` as an instance does.
pub fn call(
    s: &mut Session,
    interface: &str,
    name: &str,
    args: Vec<Val>,
) -> Result<Option<Val>, Fault> {
    let func = s
        .resolve(interface, name)
        .unwrap_or_else(|| panic!("{interface} {name} resolves"));
    let mut results = s.call(func, args)?;
    assert!(results.len() <= 1);
    Ok(results.pop())
}

/// The same, which must not fault.
pub fn val(s: &mut Session, interface: &str, name: &str, args: Vec<Val>) -> Val {
    match call(s, interface, name, args) {
        Ok(v) => v.unwrap_or(Val::Tuple(Vec::new())),
        Err(e) => panic!("{name} faulted: {e:?}"),
    }
}

/// The message of a call's trap.
pub fn trap(result: Result<Option<Val>, Fault>) -> String {
    match result {
        Err(Fault::Trap(message)) => message,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Drops `handle` of `interface`'s `name`.
pub fn drop_handle(s: &mut Session, interface: &str, name: &str, handle: u32) -> Result<(), Fault> {
    s.drop(
        &Resource {
            interface: interface.into(),
            name: name.into(),
        },
        handle,
    )
}

/// `Val::Handle`.
pub fn h(handle: u32) -> Val {
    Val::Handle(handle)
}

/// The handle in `v`, or in `ok(v)`.
pub fn handle(v: Val) -> u32 {
    match v {
        Val::Handle(h) => h,
        Val::Result(Ok(Some(v))) => handle(*v),
        other => panic!("not a handle: {other:?}"),
    }
}

/// `ok(v)`.
pub fn ok(v: Option<Val>) -> Val {
    Val::Result(Ok(v.map(Box::new)))
}

/// `err(v)`.
pub fn err(v: Option<Val>) -> Val {
    Val::Result(Err(v.map(Box::new)))
}

/// `some(v)` / `none`.
pub fn opt(v: Option<Val>) -> Val {
    Val::Option(v.map(Box::new))
}

/// A string.
pub fn s(text: &str) -> Val {
    Val::String(text.into())
}

/// Bytes.
pub fn b(bytes: &[u8]) -> Val {
    Val::Bytes(bytes.to_vec())
}

/// A `fields` with `entries`.
pub fn fields(s: &mut Session, entries: &[(&str, &[u8])]) -> u32 {
    let list = entries
        .iter()
        .map(|(n, v)| Val::Tuple(vec![self::s(n), b(v)]))
        .collect();
    handle(val(
        s,
        TYPES,
        "[static]fields.from-list",
        vec![Val::List(list)],
    ))
}

/// Writes `body` to the outgoing body `body` as the `wasi` crate does (in blocking chunks of
/// 4096 bytes), drops its stream, and finishes it.
pub fn write_body(s: &mut Session, body_handle: u32, body: &[u8]) -> Val {
    let stream = handle(val(
        s,
        TYPES,
        "[method]outgoing-body.write",
        vec![h(body_handle)],
    ));
    for chunk in body.chunks(4096) {
        let written = val(
            s,
            STREAMS,
            "[method]output-stream.blocking-write-and-flush",
            vec![h(stream), b(chunk)],
        );
        assert_eq!(written, ok(None));
    }
    drop_handle(s, "wasi:io/streams", "output-stream", stream).unwrap();
    val(
        s,
        TYPES,
        "[static]outgoing-body.finish",
        vec![h(body_handle), opt(None)],
    )
}

/// Answers `out` with `status`, `headers` and `body`, as a handler does.
pub fn respond(s: &mut Session, out: u32, status: u16, headers: &[(&str, &[u8])], body: &[u8]) {
    let headers = fields(s, headers);
    let response = handle(val(
        s,
        TYPES,
        "[constructor]outgoing-response",
        vec![h(headers)],
    ));
    let set = val(
        s,
        TYPES,
        "[method]outgoing-response.set-status-code",
        vec![h(response), Val::U16(status)],
    );
    assert_eq!(set, ok(None));
    let body_handle = handle(val(
        s,
        TYPES,
        "[method]outgoing-response.body",
        vec![h(response)],
    ));
    val(
        s,
        TYPES,
        "[static]response-outparam.set",
        vec![h(out), ok(Some(h(response)))],
    );
    assert_eq!(write_body(s, body_handle, body), ok(None));
}

/// Reads the whole incoming body `body` (blocking reads until `closed`).
pub fn read_body(s: &mut Session, body: u32) -> Vec<u8> {
    let stream = handle(val(s, TYPES, "[method]incoming-body.stream", vec![h(body)]));
    let mut bytes = Vec::new();
    loop {
        match val(
            s,
            STREAMS,
            "[method]input-stream.blocking-read",
            vec![h(stream), Val::U64(1000)],
        ) {
            Val::Result(Ok(Some(chunk))) => match *chunk {
                Val::Bytes(chunk) => bytes.extend(chunk),
                other => panic!("not bytes: {other:?}"),
            },
            Val::Result(Err(Some(e))) if *e == Val::Variant(1, None) => break,
            other => panic!("read: {other:?}"),
        }
    }
    drop_handle(s, "wasi:io/streams", "input-stream", stream).unwrap();
    bytes
}

/// Runs `handler` until one of its runs returns (starting a new run after each wait); the
/// outcome and how many runs it took. A trap panics.
pub fn serve(
    s: &mut Session,
    mut handler: impl FnMut(&mut Session, u32, u32) -> Result<(), Fault>,
) -> (Outcome, usize) {
    for runs in 1..=10 {
        let (request, out) = s.begin_run();
        match handler(s, request, out) {
            Ok(()) => return (s.outcome(), runs),
            Err(Fault::Block(wait)) => block_on(wait),
            Err(Fault::Trap(why)) => panic!("trap: {why}"),
        }
    }
    panic!("ten runs and no answer");
}

/// The value of a call that faulted with `Fault::Block`, which is awaited.
pub fn blocks(result: Result<Option<Val>, Fault>) {
    match result {
        Err(Fault::Block(wait)) => block_on(wait),
        other => panic!("expected a block, got {other:?}"),
    }
}

/// Polls `future` until it completes: the answers of the requests sent arrive while it waits.
pub fn block_on(mut future: LocalBoxFuture<'static, ()>) {
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    if future.poll_unpin(&mut cx).is_ready() {
        return;
    }
    GATES.with(|gates| gates.borrow_mut().drain(..).for_each(|gate| gate.set(true)));
    assert!(
        future.poll_unpin(&mut cx).is_ready(),
        "the future does not complete"
    );
}
