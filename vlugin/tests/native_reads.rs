//! The imports of section 18 as a native host sees them: a fake host table records the calls
//! the SDK makes (`read`, `close`, `cancel`, `fetch_stream`), and the test completes the reads
//! by hand, as a host does with `valor_complete`. One test in its own binary: the bound table is
//! the process's.
#![cfg(not(target_arch = "wasm32"))]
use std::ffi::c_void;
use std::sync::Mutex;
use valor_abi::codec::{self, streamed_body_field};
use valor_abi::frame::{self, CHUNK, END, HEAD};
use valor_abi::native::Host;
use valor_abi::outcome;
use vlugin::__private as guest;
use vlugin::prelude::*;

/// What the SDK called, in order.
static CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The last operation id handed out.
static LAST_OP: Mutex<u32> = Mutex::new(0);

fn record(call: String) {
    CALLS.lock().unwrap().push(call);
}

fn next_op() -> u32 {
    let mut last = LAST_OP.lock().unwrap();
    *last += 1;
    *last
}

/// The calls recorded since the last time, taken.
fn calls() -> Vec<String> {
    std::mem::take(&mut *CALLS.lock().unwrap())
}

unsafe extern "C" fn panic(_: *mut c_void, _: *const u8, _: u32) {}
unsafe extern "C" fn log(_: *mut c_void, _: u32, _: *const u8, _: u32) {}
unsafe extern "C" fn now(_: *mut c_void) -> f64 {
    0.0
}
unsafe extern "C" fn random(_: *mut c_void, _: *mut u8, _: u32) {}
unsafe extern "C" fn sleep(_: *mut c_void, _: f64) -> u32 {
    next_op()
}
unsafe extern "C" fn fetch(_: *mut c_void, _: *const u8, _: u32) -> u32 {
    next_op()
}
unsafe extern "C" fn kv(_: *mut c_void, _: *const u8, _: u32) -> u32 {
    next_op()
}
unsafe extern "C" fn cancel(_: *mut c_void, op: u32) {
    record(format!("cancel {op}"));
}
unsafe extern "C" fn trapped(_: *mut c_void) {
    record("trapped".into());
}
unsafe extern "C" fn read(_: *mut c_void, body: u32) -> u32 {
    let op = next_op();
    record(format!("read {body} -> {op}"));
    op
}
unsafe extern "C" fn close(_: *mut c_void, body: u32) {
    record(format!("close {body}"));
}
unsafe extern "C" fn fetch_stream(_: *mut c_void, ptr: *const u8, len: u32) -> u32 {
    // SAFETY: the SDK passes its encoded request.
    let request = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    let request: http::Request<Vec<u8>> = codec::decode_request(request).unwrap();
    let op = next_op();
    record(format!("fetch_stream {} -> {op}", request.uri()));
    op
}

const HOST: Host = Host {
    abi_version: valor_abi::ABI_VERSION,
    context: std::ptr::null_mut(),
    panic,
    log,
    now,
    random,
    sleep,
    fetch,
    kv,
    cancel,
    trapped,
    read,
    close,
    fetch_stream,
};

/// Hands bytes to the plugin as a host does: written into memory from `valor_alloc`.
fn written(bytes: &[u8]) -> (*mut u8, u32) {
    let len = bytes.len() as u32;
    let ptr = guest::alloc(len);
    // SAFETY: `alloc` gave `len` writable bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    (ptr, len)
}

/// `valor_complete(op, result)`.
fn complete(op: u32, code: u8, payload: &[u8]) {
    let (ptr, len) = written(&[&[code][..], payload].concat());
    // SAFETY: written as `complete` expects.
    unsafe { guest::complete(op, ptr, len) };
}

/// `valor_poll(task)`: the frame it returned, copied, or `None` while it is pending.
fn poll(task: u32) -> Option<Vec<u8>> {
    let address = guest::poll(task);
    if address.is_null() {
        return None;
    }
    // SAFETY: a frame is its length word (bit 31 for a stream frame), then that many bytes,
    // unchanged until the next poll.
    unsafe {
        let word = u32::from_le_bytes(*(address as *const [u8; 4]));
        let len = 4 + (word & !frame::STREAM) as usize;
        Some(std::slice::from_raw_parts(address, len).to_vec())
    }
}

/// A request whose body field is streamed body `handle`, as a host writes it.
fn streamed_request(handle: u32) -> Vec<u8> {
    let head = http::Request::post("/up").body(Vec::new()).unwrap();
    let mut encoded = codec::encode_request(&head);
    encoded.truncate(encoded.len() - 4); // the empty body's field
    encoded.extend(streamed_body_field(handle));
    encoded
}

async fn length(req: Request) -> vlugin::Result<String> {
    Ok(req.into_body().collect().await?.len().to_string())
}

async fn proxy(_: Request) -> vlugin::Result<Body> {
    let request = http::Request::get("https://files.example.com/a").body(Body::empty())?;
    Ok(vlugin::fetch_stream(request).await?.into_body())
}

#[test]
fn reads_closes_and_cancels_through_the_native_table() {
    // SAFETY: a table of valid functions, for the whole test.
    unsafe { guest::native::bind(&HOST) };

    // A streamed request body is decoded from its field and read a chunk per `read`; at its
    // end it is closed.
    let (ptr, len) = written(&streamed_request(9));
    // SAFETY: written by `written`.
    let task = unsafe { guest::start(ptr, len, length) };
    assert_eq!(poll(task), None);
    assert_eq!(calls(), ["read 9 -> 1"]);
    complete(1, outcome::OK, b"abc");
    assert_eq!(poll(task), None);
    assert_eq!(calls(), ["read 9 -> 2"]);
    complete(2, outcome::OK, b"");
    let answer = codec::encode_response_parts(
        200,
        &[(b"content-type", b"text/plain; charset=utf-8")],
        b"3",
    );
    assert_eq!(poll(task), Some(frame::response(&answer)));
    assert_eq!(calls(), ["close 9"]);
    guest::drop_task(task);

    // DENIED is a 413 with the host's text.
    let (ptr, len) = written(&streamed_request(10));
    // SAFETY: as above.
    let task = unsafe { guest::start(ptr, len, length) };
    assert_eq!(poll(task), None);
    assert_eq!(calls(), ["read 10 -> 3"]);
    complete(3, outcome::DENIED, b"too large");
    let frame = poll(task).unwrap();
    let denied: http::Response<Vec<u8>> = codec::decode_response(&frame[4..]).unwrap();
    assert_eq!(denied.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(denied.body(), b"too large");
    assert_eq!(calls(), ["close 10"]);
    guest::drop_task(task);

    // A task dropped while it reads cancels the read, then closes the body.
    let (ptr, len) = written(&streamed_request(11));
    // SAFETY: as above.
    let task = unsafe { guest::start(ptr, len, length) };
    assert_eq!(poll(task), None);
    assert_eq!(calls(), ["read 11 -> 4"]);
    guest::drop_task(task);
    assert_eq!(calls(), ["cancel 4", "close 11"]);

    // A fetched body is decoded from the response's streamed field and sent on as the answer's
    // body: a read per chunk the host polls for.
    let (ptr, len) = written(&codec::encode_request(
        &http::Request::get("/").body(Vec::new()).unwrap(),
    ));
    // SAFETY: as above.
    let task = unsafe { guest::start(ptr, len, proxy) };
    assert_eq!(poll(task), None);
    assert_eq!(calls(), ["fetch_stream https://files.example.com/a -> 5"]);
    let mut fetched = codec::encode_response_parts(201, &[(b"x-kind", b"file")], b"");
    fetched.truncate(fetched.len() - 4);
    fetched.extend(streamed_body_field(3));
    complete(5, outcome::OK, &fetched);
    // The handler answers the fetched body alone: 200, no headers.
    let head = codec::encode_response_parts(200, &[], b"");
    assert_eq!(poll(task), Some(frame::stream(HEAD, &head)));
    assert_eq!(
        calls(),
        Vec::<String>::new(),
        "nothing read before the reader asks"
    );
    assert_eq!(poll(task), None);
    assert_eq!(calls(), ["read 3 -> 6"]);
    complete(6, outcome::OK, b"xy");
    assert_eq!(poll(task), Some(frame::stream(CHUNK, b"xy")));
    assert_eq!(poll(task), None);
    complete(7, outcome::OK, b"");
    assert_eq!(poll(task), Some(frame::stream(END, b"")));
    assert_eq!(calls(), ["read 3 -> 7", "close 3"]);
    guest::drop_task(task);

    // SAFETY: unbinding.
    unsafe { guest::native::bind(std::ptr::null()) };
}
