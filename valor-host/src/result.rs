//! What a host hands a plugin when one of its operations finishes: the ABI's result, an
//! outcome byte and the payload (`valor_abi::outcome`), and the texts it reads from a plugin.

use valor_abi::{outcome, MAX_TEXT_BYTES};

fn result(code: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + payload.len());
    bytes.push(code);
    bytes.extend_from_slice(payload);
    bytes
}

/// A finished operation's result: its payload.
pub fn ok(payload: &[u8]) -> Vec<u8> {
    result(outcome::OK, payload)
}

/// A failed operation's result, saying why.
pub fn failed(message: &str) -> Vec<u8> {
    result(outcome::FAILED, message.as_bytes())
}

/// An operation a policy refused (a `fetch` outside `allowed_hosts`), saying which.
pub fn denied(message: &str) -> Vec<u8> {
    result(outcome::DENIED, message.as_bytes())
}

/// A log line or panic message of `len` bytes, as the plugin named it: at most
/// `MAX_TEXT_BYTES` are read (`read` is given how many), whatever length the plugin names, and
/// the text says how many more there were. Invalid UTF-8 is replaced.
pub fn text(len: u32, read: impl FnOnce(u32) -> Vec<u8>) -> String {
    let kept = len.min(MAX_TEXT_BYTES);
    let mut text = String::from_utf8_lossy(&read(kept)).into_owned();
    if kept < len {
        text.push_str(&format!(" [... {} more bytes not shown]", len - kept));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_an_outcome_byte_then_the_payload() {
        assert_eq!(ok(b"v"), [outcome::OK, b'v']);
        assert_eq!(failed("no"), [outcome::FAILED, b'n', b'o']);
        assert_eq!(denied(""), [outcome::DENIED]);
    }

    #[test]
    fn a_long_text_is_cut_and_says_so() {
        let text = text(MAX_TEXT_BYTES + 5, |n| vec![b'a'; n as usize]);
        assert_eq!(
            text.len(),
            MAX_TEXT_BYTES as usize + " [... 5 more bytes not shown]".len()
        );
        assert!(text.ends_with(" [... 5 more bytes not shown]"));
        assert_eq!(super::text(2, |n| b"hi"[..n as usize].to_vec()), "hi");
    }
}
