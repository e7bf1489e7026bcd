//! What `valor_poll` returns the address of: a response frame (a whole answer, as in ABI 3), or
//! in ABI 4 a stream frame, whose length word has bit 31 set and whose bytes begin with a kind
//! (section 17 of the protocol).

/// Bit 31 of a frame's length word: the frame is a stream frame.
pub const STREAM: u32 = 0x8000_0000;

/// A whole answer (an encoded response), sent as a stream frame to carry [`CONTINUES`].
pub const RESPONSE: u8 = 0;
/// The status and headers of a streamed answer (an encoded response with an empty body).
pub const HEAD: u8 = 1;
/// The next bytes of a streamed body (at least one).
pub const CHUNK: u8 = 2;
/// The end of a streamed body: empty, or the UTF-8 reason it ends early.
pub const END: u8 = 3;
/// The task finished the work it went on with after its answer.
pub const DONE: u8 = 4;
/// On [`RESPONSE`] and [`END`]: the task goes on working after its answer, until [`DONE`].
pub const CONTINUES: u8 = 0x80;

/// A response frame: the length of `encoded`, then `encoded`.
pub fn response(encoded: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + encoded.len());
    frame.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
    frame.extend_from_slice(encoded);
    frame
}

/// A response frame made of `encoded` itself: its length moved in front of it, in the same
/// buffer (no second allocation, no copy into one, when it has room for four more bytes, as
/// [`codec::encode_response_parts`](crate::codec::encode_response_parts) leaves).
pub fn response_from(encoded: Vec<u8>) -> Vec<u8> {
    let len = encoded.len();
    let mut frame = crate::codec::Room(encoded);
    frame.0.reserve(4); // room already, if it was encoded here
    frame.bytes(&[0; 4]);
    frame.0.copy_within(..len, 4);
    frame.0[..4].copy_from_slice(&(len as u32).to_le_bytes());
    frame.0
}

/// A stream frame of `kind` (with its flags) carrying `payload`.
pub fn stream(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(5 + payload.len());
    let len = (1 + payload.len()) as u32 | STREAM;
    frame.extend_from_slice(&len.to_le_bytes());
    frame.push(kind);
    frame.extend_from_slice(payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_frame_is_marked_in_its_length_word() {
        assert_eq!(stream(CHUNK, b"ab"), [3, 0, 0, 0x80, CHUNK, b'a', b'b']);
        assert_eq!(stream(END | CONTINUES, b""), [1, 0, 0, 0x80, 0x83]);
        assert_eq!(response(b"xyz"), [3, 0, 0, 0, b'x', b'y', b'z']);
        assert_eq!(response_from(b"xyz".to_vec()), response(b"xyz"));
        assert_eq!(response_from(Vec::new()), [0, 0, 0, 0]);
    }
}
