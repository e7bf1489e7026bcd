//! A response frame read out of plugin memory: a little-endian `u32` length, then the encoded
//! response. Its length is checked before anything else is copied; its head is read from copies
//! of its first bytes (one small copy, for most); its body is copied once, as the host keeps it.

use super::{out_of_bounds, Address, Guest};
use crate::fault::Fault;
use crate::frame::{FrameHead, HEAD_PREFIX_BYTES};
use crate::limits;

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

/// Reads the response frame at `frame`, for a plugin whose responses may carry
/// `max_body_bytes`.
pub fn read<G: Guest>(
    guest: &mut G,
    frame: Address,
    max_body_bytes: u32,
) -> Result<Frame<G::Body>, Fault> {
    let after = guest.readable(frame);
    if after < 4 {
        return Err(out_of_bounds(frame, 4));
    }
    let mut first = guest.read(frame, after.min(u64::from(FIRST_READ)) as u32);
    let len = u32::from_le_bytes([first[0], first[1], first[2], first[3]]);
    if len > limits::max_message_bytes(max_body_bytes) {
        return Err(Fault::TooLarge(len)); // never copied out of plugin memory
    }
    if u64::from(len) > after - 4 {
        return Err(out_of_bounds(frame + 4, len));
    }
    let start = frame + 4;
    first.drain(..4);
    first.truncate(len as usize);
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
