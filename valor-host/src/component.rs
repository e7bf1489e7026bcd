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

/// The cases of `wasi:http/types.error-code`, in order, as the WIT names them.
pub const ERROR_CODES: [&str; 39] = [
    "DNS-timeout",
    "DNS-error",
    "destination-not-found",
    "destination-unavailable",
    "destination-IP-prohibited",
    "destination-IP-unroutable",
    "connection-refused",
    "connection-terminated",
    "connection-timeout",
    "connection-read-timeout",
    "connection-write-timeout",
    "connection-limit-reached",
    "TLS-protocol-error",
    "TLS-certificate-error",
    "TLS-alert-received",
    "HTTP-request-denied",
    "HTTP-request-length-required",
    "HTTP-request-body-size",
    "HTTP-request-method-invalid",
    "HTTP-request-URI-invalid",
    "HTTP-request-URI-too-long",
    "HTTP-request-header-section-size",
    "HTTP-request-header-size",
    "HTTP-request-trailer-section-size",
    "HTTP-request-trailer-size",
    "HTTP-response-incomplete",
    "HTTP-response-header-section-size",
    "HTTP-response-header-size",
    "HTTP-response-body-size",
    "HTTP-response-trailer-section-size",
    "HTTP-response-trailer-size",
    "HTTP-response-transfer-coding",
    "HTTP-response-content-coding",
    "HTTP-response-timeout",
    "HTTP-upgrade-failed",
    "HTTP-protocol-error",
    "loop-detected",
    "configuration-error",
    "internal-error",
];

/// The field names of the records some `error-code` cases carry, as Rust bindings name them
/// and as the WIT does.
const RECORD_FIELDS: [(&str, &str); 5] = [
    ("info_code", "info-code"),
    ("alert_id", "alert-id"),
    ("alert_message", "alert-message"),
    ("field_name", "field-name"),
    ("field_size", "field-size"),
];

/// An `error-code` as both hosts write it, from its Rust `Debug` form (wasmtime's bindings:
/// `ErrorCode::InternalError(Some("x"))`): its WIT case name and payload, as in
/// `internal-error(Some("x"))` or `DNS-error({ rcode: Some("x"), info-code: None })`.
pub fn error_code_text(debug: &str) -> String {
    let debug = debug.strip_prefix("ErrorCode::").unwrap_or(debug);
    let (case, payload) = match debug.find('(') {
        Some(at) => debug.split_at(at),
        None => (debug, ""),
    };
    let squashed = |name: &str| name.replace('-', "").to_ascii_lowercase();
    let Some(name) = ERROR_CODES
        .iter()
        .find(|name| squashed(name) == case.to_ascii_lowercase())
    else {
        return debug.to_owned();
    };
    // A record payload: `(DnsErrorPayload { rcode: ... })` becomes `({ rcode: ... })`.
    let mut payload = match payload.find(" {") {
        Some(brace) if payload[1..brace].chars().all(char::is_alphanumeric) => {
            format!("({}", &payload[brace + 1..])
        }
        _ => payload.to_owned(),
    };
    for (rust, wit) in RECORD_FIELDS {
        payload = payload.replace(&format!("{rust}: "), &format!("{wit}: "));
    }
    format!("{name}{payload}")
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
    fn error_codes_are_written_as_the_wit_names_them() {
        assert_eq!(
            error_code_text("ErrorCode::HttpRequestDenied"),
            "HTTP-request-denied"
        );
        assert_eq!(
            error_code_text("ErrorCode::InternalError(Some(\"x (y)\"))"),
            "internal-error(Some(\"x (y)\"))"
        );
        assert_eq!(
            error_code_text(
                "ErrorCode::DnsError(DnsErrorPayload { rcode: Some(\"x\"), info_code: None })"
            ),
            "DNS-error({ rcode: Some(\"x\"), info-code: None })"
        );
        assert_eq!(
            error_code_text("ErrorCode::DestinationIpProhibited"),
            "destination-IP-prohibited"
        );
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
