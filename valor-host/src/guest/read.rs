//! A frame read out of plugin memory: a little-endian `u32` length, then the encoded response
//! (a response frame), or in ABI 4 a stream frame, whose length has bit 31 set and whose bytes
//! begin with a kind (PROTOCOL.md, section 17). Its length is checked before anything else is
//! copied; a head is read from copies of its first bytes (one small copy, for most); a body or
//! chunk is copied once, as the host keeps it.

use super::{out_of_bounds, Address, Guest};
use crate::fault::Fault;
use crate::frame::{FrameHead, HEAD_PREFIX_BYTES};
use crate::limits;
use valor_abi::{frame as kind, MAX_TEXT_BYTES};

/// How much of a response frame is copied first: its length, and the whole head of most.
const FIRST_READ: u32 = 512;

/// A plugin's response: its head, parsed, and its body, out of its memory.
#[derive(Debug)]
pub struct Frame<B> {
    /// The status and headers.
    pub head: FrameHead,
    /// The body.
    pub body: B,
}

/// One frame of a task, as read: what `valor_poll` handed over.
#[derive(Debug)]
pub enum Piece<B> {
    /// A whole answer (a response frame, or `RESPONSE`); `continues` if the task goes on
    /// working after it.
    Whole {
        /// The answer.
        frame: Frame<B>,
        /// Whether the task goes on working after its answer (`CONTINUES`).
        continues: bool,
    },
    /// The status and headers of a streamed answer (`HEAD`).
    Head(FrameHead),
    /// The next bytes of a streamed body (`CHUNK`).
    Chunk(B),
    /// The end of a streamed body (`END`): `reason` is empty if it is complete.
    End {
        /// Why the body ends early, or empty.
        reason: String,
        /// Whether the task goes on working after its answer (`CONTINUES`).
        continues: bool,
    },
    /// The task finished its work after the answer (`DONE`).
    Done,
}

/// Reads the frame at `frame`, of either kind, for a plugin whose bodies and chunks may carry
/// `max_body_bytes`.
pub fn read_piece<G: Guest>(
    guest: &mut G,
    frame: Address,
    max_body_bytes: u32,
) -> Result<Piece<G::Body>, Fault> {
    let (word, first) = length_word(guest, frame)?;
    let len = word & !kind::STREAM;
    check_len(guest, frame, len, max_body_bytes)?;
    if word & kind::STREAM == 0 {
        let frame = read_response(guest, frame + 4, len, first, 4, max_body_bytes)?;
        return Ok(Piece::Whole {
            frame,
            continues: false,
        });
    }
    let Some(&byte) = first.get(4).filter(|_| len > 0) else {
        return Err(Fault::BadFrame("a stream frame without its kind".into()));
    };
    let (start, rest) = (frame + 5, len - 1);
    let continues = byte & kind::CONTINUES != 0;
    let flagged = |piece| match continues {
        true => Err(Fault::BadFrame(format!(
            "CONTINUES is set on a frame of kind {}",
            byte & !kind::CONTINUES
        ))),
        false => Ok(piece),
    };
    match byte & !kind::CONTINUES {
        kind::RESPONSE => {
            let frame = read_response(guest, start, rest, first, 5, max_body_bytes)?;
            Ok(Piece::Whole { frame, continues })
        }
        kind::HEAD => {
            // No body may follow the head: refused before any of it is copied.
            let frame =
                read_response(guest, start, rest, first, 5, 0).map_err(|fault| match fault {
                    Fault::TooLarge(_) => Fault::BadFrame("a HEAD frame carries a body".into()),
                    fault => fault,
                })?;
            flagged(Piece::Head(frame.head))
        }
        kind::CHUNK if rest == 0 => Err(Fault::BadFrame("an empty CHUNK".into())),
        kind::CHUNK => flagged(Piece::Chunk(guest.read_body(start, rest))),
        kind::END => {
            let reason = guest.read(start, rest.min(MAX_TEXT_BYTES));
            let reason = String::from_utf8_lossy(&reason).into_owned();
            Ok(Piece::End { reason, continues })
        }
        kind::DONE => flagged(Piece::Done),
        other => Err(Fault::BadFrame(format!("unknown frame kind {other}"))),
    }
}

/// The length word of the frame at `frame`, and a copy of the frame's first bytes.
fn length_word<G: Guest>(guest: &mut G, frame: Address) -> Result<(u32, Vec<u8>), Fault> {
    let after = guest.readable(frame);
    if after < 4 {
        return Err(out_of_bounds(frame, 4));
    }
    let first = guest.read(frame, after.min(u64::from(FIRST_READ)) as u32);
    Ok((
        u32::from_le_bytes([first[0], first[1], first[2], first[3]]),
        first,
    ))
}

/// Refuses a frame whose `len` bytes after its length word (at `frame`, readable) are too
/// many, before they are copied out of plugin memory, or do not lie in memory.
fn check_len<G: Guest>(
    guest: &mut G,
    frame: Address,
    len: u32,
    max_body_bytes: u32,
) -> Result<(), Fault> {
    if len > limits::max_message_bytes(max_body_bytes) {
        return Err(Fault::TooLarge(len));
    }
    if u64::from(len) > guest.readable(frame) - 4 {
        return Err(out_of_bounds(frame + 4, len));
    }
    Ok(())
}

/// Reads the encoded response of `len` bytes (checked to lie in memory) at `start`, whose
/// first bytes `first` holds from `offset` on (perhaps more): the copy is kept as the head's
/// bytes, with room for the headers the host adds, rather than copied again.
fn read_response<G: Guest>(
    guest: &mut G,
    start: Address,
    len: u32,
    mut first: Vec<u8>,
    offset: usize,
    max_body_bytes: u32,
) -> Result<Frame<G::Body>, Fault> {
    first.truncate(offset + len as usize);
    first.drain(..offset);
    let mut head = FrameHead::parse(first, len);
    // A longer head: the first bytes of the frame, or all of it.
    for copied in [len.min(HEAD_PREFIX_BYTES), len] {
        if !matches!(head, Ok(None)) {
            break;
        }
        head = FrameHead::parse(guest.read(start, copied), len);
    }
    // (A whole frame's head is read or refused: `None` cannot remain.)
    let head = head.map_err(Fault::BadFrame)?.ok_or_else(|| {
        Fault::BadFrame(format!("the response frame of {len} bytes is truncated"))
    })?;
    let body_len = head.body.len() as u32;
    if body_len > max_body_bytes {
        return Err(Fault::TooLarge(body_len));
    }
    let body = guest.read_body(start + u64::from(head.body.start), body_len);
    Ok(Frame { head, body })
}
