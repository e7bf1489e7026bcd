//! Every decoder of the ABI is total: whatever bytes a hostile plugin (or page) hands it, it
//! answers `Ok` or `Err`, never panics, and never reserves memory for a count or length that the
//! input does not hold.
#![cfg(not(target_arch = "wasm32"))]

use proptest::collection::vec;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use valor_abi::codec::{encode_request, encode_response, DecodeError};
use valor_abi::init::Init;
use valor_abi::storage::{decode_entries, decode_keys, decode_swap, decode_value, Command};
mod common;

use common::{decode_request, decode_response, Body, Request, Response};

/// Records the largest single allocation made on this thread while `watching`.
struct Largest;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            LARGEST.with(|largest| largest.set(largest.get().max(layout.size())));
        }
        // SAFETY: the caller's layout contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// Runs every decoder on `bytes`; returns the largest single allocation they made.
fn decode_all(bytes: &[u8]) -> usize {
    LARGEST.with(|largest| largest.set(0));
    WATCHING.with(|watching| watching.set(true));
    let _ = decode_request(bytes);
    let _ = decode_response(bytes);
    let _ = Command::decode(bytes);
    let _ = decode_keys(bytes);
    let _ = decode_value(bytes);
    let _ = decode_entries(bytes);
    let _ = decode_swap(bytes);
    let _ = Init::decode(bytes);
    WATCHING.with(|watching| watching.set(false));
    LARGEST.with(Cell::get)
}

/// What decoding `n` bytes may allocate at once: a copy of the input, and a header map's table
/// for the headers reserved up front.
fn allowance(n: usize) -> usize {
    16 * 1024 + 2 * n
}

fn le(n: u32) -> [u8; 4] {
    n.to_le_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics_nor_over_allocates(bytes in vec(any::<u8>(), 0..600)) {
        let largest = decode_all(&bytes);
        prop_assert!(largest <= allowance(bytes.len()), "{largest} bytes for {} of input", bytes.len());
    }

    /// Messages that start well, then lie: any status or method, then hostile counts and lengths.
    #[test]
    fn hostile_counts_and_lengths_never_panic(
        first in any::<u32>(),
        second in any::<u32>(),
        third in any::<u32>(),
        tail in vec(any::<u8>(), 0..300),
    ) {
        for head in [
            [&le(first)[..], &le(second), &le(third)].concat(),
            [&le(3)[..], b"GET", &le(1), b"/", &le(second), &le(third)].concat(),
            [&le(200)[..], &le(second), &le(third)].concat(),
            [&[first as u8][..], &le(second), &le(third)].concat(),
        ] {
            let bytes = [head, tail.clone()].concat();
            let largest = decode_all(&bytes);
            prop_assert!(largest <= allowance(bytes.len()), "{largest} bytes for {} of input", bytes.len());
        }
    }

    /// Real messages, cut short or with a byte changed, are refused or read, never a panic.
    #[test]
    fn damaged_messages_never_panic(
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let request = http::Request::post("/x?y=1")
            .header("x-a", "1")
            .header("x-a", "2")
            .body(Body::from(&b"body"[..]))
            .unwrap();
        let response = http::Response::builder()
            .status(201)
            .header("content-type", "text/plain")
            .body(Body::from(&b"made"[..]))
            .unwrap();
        for message in [encode_request(&request), encode_response(&response)] {
            decode_all(&message[..cut.index(message.len() + 1)]);
            let mut changed = message.clone();
            let at = flip.index(changed.len());
            changed[at] = byte;
            decode_all(&changed);
        }
    }
}

#[test]
fn a_count_of_headers_the_input_cannot_hold_is_refused_before_anything_is_reserved() {
    let frame = [&le(200)[..], &le(u32::MAX), &le(0)].concat();
    assert!(matches!(
        decode_response(&frame),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(decode_all(&frame) <= allowance(frame.len()));
}

/// `http::HeaderMap` panics past about 24,000 distinct names (in `with_capacity` and `append`):
/// a frame with 30,000 of them, from a plugin or a page, must be an error instead.
#[test]
fn thirty_thousand_distinct_header_names_are_an_error_not_a_panic() {
    let names: Vec<String> = (0..30_000).map(|i| format!("x-{i}")).collect();
    let mut response = Response::new(Body::new());
    let mut frame = [&le(200)[..], &le(names.len() as u32)].concat();
    for name in &names {
        frame.extend_from_slice(&le(name.len() as u32));
        frame.extend_from_slice(name.as_bytes());
        frame.extend_from_slice(&le(1));
        frame.push(b'v');
    }
    frame.extend_from_slice(&le(0));
    assert_eq!(
        decode_response(&frame).unwrap_err(),
        DecodeError::TooManyHeaders
    );

    // Repeating one name that often is fine: repeated values do not count against the limit.
    for _ in 0..30_000 {
        response
            .headers_mut()
            .append("x-same", "v".parse().unwrap());
    }
    let decoded = decode_response(&encode_response(&response)).unwrap();
    assert_eq!(decoded.headers().get_all("x-same").iter().count(), 30_000);
}

#[test]
fn a_request_with_hostile_headers_is_an_error_not_a_panic() {
    let mut frame = [&le(3)[..], b"GET", &le(1), b"/", &le(25_000)].concat();
    for i in 0..25_000 {
        let name = format!("h{i}");
        frame.extend_from_slice(&le(name.len() as u32));
        frame.extend_from_slice(name.as_bytes());
        frame.extend_from_slice(&le(0));
    }
    frame.extend_from_slice(&le(0));
    let decoded: Result<Request, _> = decode_request(&frame);
    assert_eq!(decoded.unwrap_err(), DecodeError::TooManyHeaders);
}
