//! Bodies a plugin reads: what each read hands over, the limits, and the filler stopping when
//! the plugin lets go.

use super::*;
use futures::executor::block_on;
use futures::future::{pending, ready};
use futures::stream;
use std::sync::atomic::{AtomicBool, Ordering};
use valor_abi::codec::{decode_request_with, decode_response_with, BodyField};
use valor_abi::outcome;

/// Reads `source` once, the timer never firing: (outcome, payload).
fn read_once(source: &Arc<Source>) -> (u8, Vec<u8>) {
    let result = block_on(read(Arc::clone(source), 1, pending(), 1000));
    (result[0], result[1..].to_vec())
}

/// A body filled from `chunks`, its filler run alongside each read.
fn filled(
    chunks: Vec<Chunk>,
    max_bytes: Option<u64>,
) -> (Arc<Source>, impl FnMut() -> (u8, Vec<u8>)) {
    let (fill, source) = channel(REQUEST_BODY, max_bytes);
    let filler = std::rc::Rc::new(std::cell::RefCell::new(Some(Box::pin(
        fill.from(stream::iter(chunks)),
    ))));
    let reading = Arc::clone(&source);
    let next = move || {
        let read = read(Arc::clone(&reading), 1, pending(), 1000);
        let mut filler = filler.borrow_mut();
        match filler.as_mut() {
            Some(filling) => {
                let both = future::select(Box::pin(read), filling.as_mut());
                let result = match block_on(both) {
                    Either::Left((result, _)) => result,
                    Either::Right(((), read)) => {
                        *filler = None;
                        block_on(read)
                    }
                };
                (result[0], result[1..].to_vec())
            }
            None => {
                let result = block_on(read);
                (result[0], result[1..].to_vec())
            }
        }
    };
    (source, next)
}

#[test]
fn each_read_hands_over_a_chunk_of_at_most_one_mebibyte_then_the_end() {
    let big = vec![7u8; MAX_CHUNK_BYTES + 10];
    let (_source, mut next) = filled(
        vec![
            Ok(b"hi".to_vec()),
            Ok(big),
            Ok(Vec::new()),
            Ok(b"!".to_vec()),
        ],
        None,
    );
    assert_eq!(next(), (outcome::OK, b"hi".to_vec()));
    let (ok, first) = next();
    assert_eq!((ok, first.len()), (outcome::OK, MAX_CHUNK_BYTES));
    assert_eq!(next(), (outcome::OK, vec![7; 10]));
    // An empty chunk of the source is no end: the read waits for the next bytes.
    assert_eq!(next(), (outcome::OK, b"!".to_vec()));
    assert_eq!(next(), (outcome::OK, Vec::new()), "the end");
    let (failed, why) = next();
    assert_eq!(failed, outcome::FAILED);
    assert!(String::from_utf8_lossy(&why).contains("has ended"));
}

#[test]
fn a_body_past_its_limit_is_denied_and_no_more_is_read() {
    let (_source, mut next) = filled(
        vec![Ok(vec![1; 6]), Ok(vec![2; 6]), Ok(vec![3; 6])],
        Some(10),
    );
    assert_eq!(next(), (outcome::OK, vec![1; 6]));
    let (denied, why) = next();
    assert_eq!(denied, outcome::DENIED);
    assert_eq!(
        String::from_utf8_lossy(&why),
        "the request body is larger than max_stream_bytes (10 bytes)"
    );
    assert_eq!(next().0, outcome::FAILED, "over: its reads fail");
}

#[test]
fn a_source_that_fails_says_why() {
    let (_source, mut next) = filled(
        vec![Ok(b"a".to_vec()), Err("the client went away".into())],
        None,
    );
    assert_eq!(next(), (outcome::OK, b"a".to_vec()));
    let (failed, why) = next();
    assert_eq!(failed, outcome::FAILED);
    assert_eq!(
        String::from_utf8_lossy(&why),
        "the request body ended early: the client went away"
    );
}

#[test]
fn a_read_waits_at_most_the_idle_time() {
    let (_fill, source) = channel("the fetched body", None);
    let result = block_on(read(Arc::clone(&source), 3, ready(()), 250));
    assert_eq!(result[0], outcome::FAILED);
    assert_eq!(
        String::from_utf8_lossy(&result[1..]),
        "no bytes of the fetched body for 250 ms"
    );
}

#[test]
fn letting_go_of_a_body_stops_its_filler_and_drops_the_source() {
    struct Flagged(Arc<AtomicBool>);
    impl Drop for Flagged {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Flagged(Arc::clone(&dropped));
    // A source that never ends: only stopping the filler drops it.
    let endless = stream::repeat_with(move || {
        let _keep = &flag;
        Ok(vec![0u8; 4])
    });
    let (fill, source) = channel(REQUEST_BODY, None);
    let mut filling = Box::pin(fill.from(endless));
    let waker = futures::task::noop_waker();
    let mut context = std::task::Context::from_waker(&waker);
    assert!(
        filling.as_mut().poll(&mut context).is_pending(),
        "waits for room"
    );
    assert!(!dropped.load(Ordering::SeqCst));
    drop(source);
    assert!(filling.as_mut().poll(&mut context).is_ready(), "stopped");
    drop(filling);
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn a_whole_body_is_read_in_chunks() {
    let source = whole(REQUEST_BODY, vec![5; MAX_CHUNK_BYTES + 1]);
    assert_eq!(read_once(&source).1.len(), MAX_CHUNK_BYTES);
    assert_eq!(read_once(&source), (outcome::OK, vec![5]));
    assert_eq!(read_once(&source), (outcome::OK, Vec::new()));
}

fn spec(stream_requests: bool) -> PluginSpec {
    let entry = serde_json::json!({
        "name": "up", "prefix": "/up", "url": "up.wasm", "stream_requests": stream_requests
    });
    crate::manifest::parse_entry(entry, |url| Ok(url.to_owned())).unwrap()
}

#[test]
fn a_plugin_that_streams_its_requests_gets_another_plugins_body_as_a_stream() {
    let post = || {
        http::Request::post("/x")
            .header("a", "1")
            .body(b"payload".to_vec())
            .unwrap()
    };
    let (encoded, body) = encode_local(&spec(true), post());
    let decoded = decode_request_with(&encoded, |field| Ok(field.into_owned())).unwrap();
    assert_eq!(decoded.headers()["a"], "1");
    assert_eq!(
        *decoded.body(),
        Owned::Streamed(0),
        "handle 0, written at start"
    );
    assert_eq!(
        read_once(&body.unwrap()),
        (outcome::OK, b"payload".to_vec())
    );

    let (encoded, body) = encode_local(&spec(false), post());
    assert!(body.is_none());
    assert_eq!(encoded, codec::encode_request(&post()));
    // GET and HEAD carry no body: nothing to stream.
    assert!(!streams(&spec(true), "GET") && !streams(&spec(true), "HEAD"));
    assert!(streams(&spec(true), "PUT") && !streams(&spec(false), "POST"));
}

#[test]
fn a_fetched_response_names_its_body_by_handle() {
    let result = fetched(206, &[(b"content-type", b"text/plain")], 9);
    assert_eq!(result[0], outcome::OK);
    let response = decode_response_with(&result[1..], |field| Ok(field.into_owned())).unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(*response.body(), Owned::Streamed(9));

    assert_eq!(codec::streamed_handle(&result[1..]), Some(9));
    let whole = http::Response::new(b"abc".to_vec());
    assert_eq!(
        codec::streamed_handle(&codec::encode_response(&whole)),
        None
    );
}

/// A body field, owned.
#[derive(Debug, PartialEq)]
enum Owned {
    Bytes(Vec<u8>),
    Streamed(u32),
}

trait IntoOwned {
    fn into_owned(self) -> Owned;
}

impl IntoOwned for BodyField<'_> {
    fn into_owned(self) -> Owned {
        match self {
            BodyField::Bytes(bytes) => Owned::Bytes(bytes.to_vec()),
            BodyField::Streamed(handle) => Owned::Streamed(handle),
        }
    }
}

#[test]
fn a_body_is_read_one_chunk_at_a_time_and_a_cancelled_read_hands_it_back() {
    let (fill, source) = channel(REQUEST_BODY, None);
    let mut first = Box::pin(read(Arc::clone(&source), 1, pending(), 1000));
    let waker = futures::task::noop_waker();
    let mut context = std::task::Context::from_waker(&waker);
    assert!(
        first.as_mut().poll(&mut context).is_pending(),
        "no chunk yet"
    );
    let (failed, why) = read_once(&source);
    assert_eq!(failed, outcome::FAILED);
    assert_eq!(
        String::from_utf8_lossy(&why),
        "a read of streamed body 1 is under way: a plugin reads one chunk at a time"
    );
    drop(first); // cancelled: the body is the next read's
    drop(fill);
    assert_eq!(read_once(&source), (outcome::OK, Vec::new()), "the end");
}
