//! WASI 0.2 components as plugins (`wasi:http/proxy`): an entry's module is one when its
//! header says so, whatever its file is called; each host runs it with its own component
//! engine (the server wasmtime-wasi-http, the worker `valor-component`), and both say the same
//! when a component does not answer.

use crate::fault::Fault;

/// The magic number every WebAssembly binary starts with.
const MAGIC: [u8; 4] = *b"\0asm";

/// The layer field (bytes 6 and 7) of a component: a core module's is 0.
const COMPONENT_LAYER: [u8; 2] = [1, 0];

/// Whether `bytes` are a component rather than a core module (its version field, bytes 4 and
/// 5, is left to the engine, which names the version it does not read).
pub fn is_component(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC) && bytes.get(6..8) == Some(&COMPONENT_LAYER[..])
}

/// Why an entry with `stream_requests` cannot mount the component at `url`.
pub fn no_stream_requests(url: &str) -> String {
    format!(
        "{url} is a component, and components read their requests whole for now: remove \
         `stream_requests` from its entry"
    )
}

/// The handler returned without calling `response-outparam.set`.
pub fn unanswered() -> Fault {
    Fault::BadFrame(
        "its handler returned without setting its response (response-outparam.set)".into(),
    )
}

/// The handler set its response to an error code (`code`, as WIT writes it).
pub fn answered_error(code: &str) -> Fault {
    Fault::BadFrame(format!("it set its response to the error {code}"))
}

/// The message of a Rust panic, out of what a component wrote to its standard error (Rust's
/// standard library prints `thread '...' panicked at FILE:LINE:COLUMN:` and the message on
/// the lines after, up to its `note:`): the panic's message is the plugin's error, as a Valor
/// plugin's is.
pub fn panic_message(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .rposition(|line| line.contains(" panicked at "))?;
    let message: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|line| !line.starts_with("note: "))
        .copied()
        .collect();
    let message = message.join("\n");
    Some(if message.trim().is_empty() {
        // Older toolchains print the message on the same line.
        lines[at]
            .split(" panicked at ")
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    } else {
        message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_is_told_from_a_core_module_by_its_layer() {
        assert!(is_component(b"\0asm\x0d\x00\x01\x00"));
        assert!(is_component(b"\0asm\x0e\x00\x01\x00rest"));
        assert!(!is_component(b"\0asm\x01\x00\x00\x00"));
        assert!(!is_component(b"\0asm\x0d\x00"));
        assert!(!is_component(b"not wasm"));
    }

    #[test]
    fn a_panic_message_is_read_from_standard_error() {
        let stderr = "a line\nthread '<unnamed>' panicked at src/routes.rs:47:20:\n\
                      the component panicked\non purpose\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("the component panicked\non purpose")
        );
        assert_eq!(panic_message("nothing went wrong\n"), None);
    }
}
