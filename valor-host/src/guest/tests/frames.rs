//! Frames read out of plugin memory (`guest::read::read_piece`): each kind of ABI 4, the plain
//! response frame of ABI 3, and the malformed ones (PROTOCOL.md, section 17.1).

use super::steps::encoded;
use super::FakeInstance;
use crate::fault::Fault;
use crate::guest::read::{read_piece, Piece};
use crate::limits::max_message_bytes;
use valor_abi::frame::{self, CHUNK, CONTINUES, DONE, END, HEAD, RESPONSE, STREAM};
use valor_abi::MAX_TEXT_BYTES;

/// The fake's `max_body_bytes`.
const MAX_BODY: u32 = 1024;

/// Reads `bytes`, written into plugin memory, as the frame a poll handed over.
fn read(bytes: &[u8]) -> Result<Piece<Vec<u8>>, Fault> {
    let fake = FakeInstance::new();
    let at = fake.put(bytes);
    read_piece(&mut &fake, at, MAX_BODY)
}

/// Why `bytes` are a bad frame (panics if they are not).
fn bad_frame(bytes: &[u8]) -> String {
    match read(bytes) {
        Err(Fault::BadFrame(why)) => why,
        other => panic!("a bad frame, not {other:?}"),
    }
}

#[test]
fn a_plain_response_frame_reads_as_before_a_whole_answer_that_does_not_continue() {
    let response = encoded(201, &[(b"x-a", b"1")], b"hello");
    let piece = read(&frame::response(&response));
    let Ok(Piece::Whole { frame, continues }) = piece else {
        panic!("a whole answer, not {piece:?}");
    };
    assert!(!continues);
    assert_eq!(frame.head.status, 201);
    assert_eq!(frame.head.headers.len(), 1);
    assert_eq!(frame.body, b"hello");
}

#[test]
fn a_response_stream_frame_is_a_whole_answer_that_continues_if_flagged() {
    let response = encoded(200, &[], b"body");
    for (kind, continuing) in [(RESPONSE, false), (RESPONSE | CONTINUES, true)] {
        let piece = read(&frame::stream(kind, &response));
        let Ok(Piece::Whole { frame, continues }) = piece else {
            panic!("a whole answer, not {piece:?}");
        };
        assert_eq!(continues, continuing, "kind {kind:#x}");
        assert_eq!((frame.head.status, &frame.body[..]), (200, &b"body"[..]));
    }
}

#[test]
fn a_head_is_the_status_and_headers_of_a_streamed_answer() {
    let head = encoded(206, &[(b"content-type", b"text/event-stream")], b"");
    let piece = read(&frame::stream(HEAD, &head));
    let Ok(Piece::Head(head)) = piece else {
        panic!("a head, not {piece:?}");
    };
    assert_eq!(head.status, 206);
    let (name, value) = head.headers[0].clone();
    assert_eq!(&head.bytes[name], b"content-type");
    assert_eq!(&head.bytes[value], b"text/event-stream");
    assert!(head.body.is_empty());
}

#[test]
fn a_chunk_is_its_bytes_up_to_max_body_bytes() {
    let piece = read(&frame::stream(CHUNK, b"data: 1\n\n"));
    assert!(matches!(piece, Ok(Piece::Chunk(bytes)) if bytes == b"data: 1\n\n"));
    let largest = vec![7; MAX_BODY as usize];
    let piece = read(&frame::stream(CHUNK, &largest));
    assert!(matches!(piece, Ok(Piece::Chunk(bytes)) if bytes == largest));
}

#[test]
fn an_end_carries_its_reason_and_whether_the_task_goes_on() {
    let ends = [
        (frame::stream(END, b""), "", false),
        (frame::stream(END, b"database gone"), "database gone", false),
        (frame::stream(END | CONTINUES, b""), "", true),
    ];
    for (bytes, why, continuing) in ends {
        let piece = read(&bytes);
        let Ok(Piece::End { reason, continues }) = piece else {
            panic!("an end, not {piece:?}");
        };
        assert_eq!((reason.as_str(), continues), (why, continuing));
    }
}

#[test]
fn an_end_reason_is_read_up_to_max_text_bytes() {
    let long = "x".repeat(MAX_TEXT_BYTES as usize + 100);
    let piece = read(&frame::stream(END, long.as_bytes()));
    let Ok(Piece::End { reason, .. }) = piece else {
        panic!("an end, not {piece:?}");
    };
    assert_eq!(reason.len(), MAX_TEXT_BYTES as usize);
}

#[test]
fn done_is_read() {
    assert!(matches!(read(&frame::stream(DONE, b"")), Ok(Piece::Done)));
}

#[test]
fn an_unknown_kind_is_a_bad_frame() {
    for (kind, named) in [(5, 5), (0x7f, 0x7f), (5 | CONTINUES, 5)] {
        let why = bad_frame(&frame::stream(kind, b"x"));
        assert_eq!(why, format!("unknown frame kind {named}"));
    }
}

#[test]
fn continues_is_refused_on_a_head_a_chunk_and_done() {
    let head = encoded(200, &[], b"");
    for (kind, payload) in [(HEAD, &head[..]), (CHUNK, b"x"), (DONE, b"")] {
        let why = bad_frame(&frame::stream(kind | CONTINUES, payload));
        assert_eq!(why, format!("CONTINUES is set on a frame of kind {kind}"));
    }
}

#[test]
fn an_empty_chunk_is_a_bad_frame() {
    assert_eq!(bad_frame(&frame::stream(CHUNK, b"")), "an empty CHUNK");
}

#[test]
fn a_chunk_may_pass_max_body_bytes_as_far_as_any_message() {
    // A plugin cannot know its entry's max_body_bytes: a chunk is bounded as any message is.
    let over = vec![7; MAX_BODY as usize + 1];
    let piece = read(&frame::stream(CHUNK, &over));
    assert!(
        matches!(piece, Ok(Piece::Chunk(ref bytes)) if bytes.len() == over.len()),
        "{piece:?}"
    );
    let beyond = vec![7; max_message_bytes(MAX_BODY) as usize];
    let piece = read(&frame::stream(CHUNK, &beyond));
    assert!(
        matches!(piece, Err(Fault::TooLarge(n)) if n == max_message_bytes(MAX_BODY) + 1),
        "{piece:?}"
    );
}

#[test]
fn a_head_carrying_a_body_is_a_bad_frame() {
    let head = encoded(200, &[], b"early");
    let why = bad_frame(&frame::stream(HEAD, &head));
    assert_eq!(why, "a HEAD frame carries a body");
}

#[test]
fn a_stream_frame_without_its_kind_is_a_bad_frame() {
    let empty = STREAM.to_le_bytes();
    assert_eq!(bad_frame(&empty), "a stream frame without its kind");
    // The same with memory after it: the length word says there is no kind.
    let followed = [&empty[..], &[CHUNK, b'x']].concat();
    assert_eq!(bad_frame(&followed), "a stream frame without its kind");
}

#[test]
fn a_stream_frame_is_checked_against_memory_and_the_message_limit() {
    let beyond = [&(STREAM | 100).to_le_bytes()[..], &[CHUNK, b'x']].concat();
    assert!(bad_frame(&beyond).contains("lie outside its memory"));
    let huge = (STREAM | (max_message_bytes(MAX_BODY) + 1)).to_le_bytes();
    let piece = read(&[&huge[..], &[CHUNK]].concat());
    assert!(matches!(piece, Err(Fault::TooLarge(_))), "{piece:?}");
}
