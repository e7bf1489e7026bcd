//! Every function this host provides, by interface and name, and how an import's versioned
//! interface (`wasi:http/types@0.2.12`) finds it: any `0.2.x` is accepted (WASI 0.2's patch
//! releases add nothing to these interfaces' functions), other versions are refused, and so
//! are functions WASI marks unstable (`response-outparam.send-informational`: wasmtime links
//! it only when asked to).

use super::args::{Answer, Args};
use super::session::Session;
use crate::host::HostFunc;

/// A host function's implementation.
pub(super) type Implementation = fn(&mut Session, &mut Args) -> Answer;

const HTTP: &str = "wasi:http/types";
const STREAMS: &str = "wasi:io/streams";
const FS: &str = "wasi:filesystem/types";

/// Interface (without version), function name, implementation. [`HostFunc`] numbers index
/// this list.
#[rustfmt::skip]
pub(super) static FUNCS: &[(&str, &str, Implementation)] = &[
    (HTTP, "[constructor]fields", Session::fields_new),
    (HTTP, "[static]fields.from-list", Session::fields_from_list),
    (HTTP, "[method]fields.get", Session::fields_get),
    (HTTP, "[method]fields.has", Session::fields_has),
    (HTTP, "[method]fields.set", Session::fields_set),
    (HTTP, "[method]fields.delete", Session::fields_delete),
    (HTTP, "[method]fields.append", Session::fields_append),
    (HTTP, "[method]fields.entries", Session::fields_entries),
    (HTTP, "[method]fields.clone", Session::fields_clone),
    (HTTP, "[method]incoming-request.method", Session::incoming_request_method),
    (HTTP, "[method]incoming-request.path-with-query", Session::incoming_request_path),
    (HTTP, "[method]incoming-request.scheme", Session::incoming_request_scheme),
    (HTTP, "[method]incoming-request.authority", Session::incoming_request_authority),
    (HTTP, "[method]incoming-request.headers", Session::incoming_request_headers),
    (HTTP, "[method]incoming-request.consume", Session::incoming_request_consume),
    (HTTP, "[constructor]outgoing-request", Session::outgoing_request_new),
    (HTTP, "[method]outgoing-request.body", Session::outgoing_request_body),
    (HTTP, "[method]outgoing-request.method", Session::outgoing_request_method),
    (HTTP, "[method]outgoing-request.set-method", Session::outgoing_request_set_method),
    (HTTP, "[method]outgoing-request.path-with-query", Session::outgoing_request_path),
    (HTTP, "[method]outgoing-request.set-path-with-query", Session::outgoing_request_set_path),
    (HTTP, "[method]outgoing-request.scheme", Session::outgoing_request_scheme),
    (HTTP, "[method]outgoing-request.set-scheme", Session::outgoing_request_set_scheme),
    (HTTP, "[method]outgoing-request.authority", Session::outgoing_request_authority),
    (HTTP, "[method]outgoing-request.set-authority", Session::outgoing_request_set_authority),
    (HTTP, "[method]outgoing-request.headers", Session::outgoing_request_headers),
    (HTTP, "[constructor]request-options", Session::request_options_new),
    (HTTP, "[method]request-options.connect-timeout", |s, a| s.request_options_get(a, 0)),
    (HTTP, "[method]request-options.set-connect-timeout", |s, a| s.request_options_set(a, 0)),
    (HTTP, "[method]request-options.first-byte-timeout", |s, a| s.request_options_get(a, 1)),
    (HTTP, "[method]request-options.set-first-byte-timeout", |s, a| s.request_options_set(a, 1)),
    (HTTP, "[method]request-options.between-bytes-timeout", |s, a| s.request_options_get(a, 2)),
    (HTTP, "[method]request-options.set-between-bytes-timeout", |s, a| s.request_options_set(a, 2)),
    (HTTP, "[static]response-outparam.set", Session::response_outparam_set),
    (HTTP, "[method]incoming-response.status", Session::incoming_response_status),
    (HTTP, "[method]incoming-response.headers", Session::incoming_response_headers),
    (HTTP, "[method]incoming-response.consume", Session::incoming_response_consume),
    (HTTP, "[method]incoming-body.stream", Session::incoming_body_stream),
    (HTTP, "[static]incoming-body.finish", Session::incoming_body_finish),
    (HTTP, "[method]future-trailers.subscribe", Session::future_trailers_subscribe),
    (HTTP, "[method]future-trailers.get", Session::future_trailers_get),
    (HTTP, "[constructor]outgoing-response", Session::outgoing_response_new),
    (HTTP, "[method]outgoing-response.status-code", Session::outgoing_response_status),
    (HTTP, "[method]outgoing-response.set-status-code", Session::outgoing_response_set_status),
    (HTTP, "[method]outgoing-response.headers", Session::outgoing_response_headers),
    (HTTP, "[method]outgoing-response.body", Session::outgoing_response_body),
    (HTTP, "[method]outgoing-body.write", Session::outgoing_body_write),
    (HTTP, "[static]outgoing-body.finish", Session::outgoing_body_finish),
    (HTTP, "[method]future-incoming-response.subscribe", Session::future_response_subscribe),
    (HTTP, "[method]future-incoming-response.get", Session::future_response_get),
    (HTTP, "http-error-code", Session::http_error_code),
    ("wasi:http/outgoing-handler", "handle", Session::outgoing_handle),
    ("wasi:io/poll", "[method]pollable.ready", Session::pollable_ready),
    ("wasi:io/poll", "[method]pollable.block", Session::pollable_block),
    ("wasi:io/poll", "poll", Session::poll),
    ("wasi:io/error", "[method]error.to-debug-string", Session::error_to_debug_string),
    (STREAMS, "[method]input-stream.read", Session::input_read),
    (STREAMS, "[method]input-stream.blocking-read", Session::input_read),
    (STREAMS, "[method]input-stream.skip", Session::input_skip),
    (STREAMS, "[method]input-stream.blocking-skip", Session::input_skip),
    (STREAMS, "[method]input-stream.subscribe", Session::input_subscribe),
    (STREAMS, "[method]output-stream.check-write", Session::output_check_write),
    (STREAMS, "[method]output-stream.write", Session::output_write),
    (STREAMS, "[method]output-stream.blocking-write-and-flush", Session::output_blocking_write),
    (STREAMS, "[method]output-stream.flush", Session::output_flush),
    (STREAMS, "[method]output-stream.blocking-flush", Session::output_flush),
    (STREAMS, "[method]output-stream.subscribe", Session::output_subscribe),
    (STREAMS, "[method]output-stream.write-zeroes", Session::output_write_zeroes),
    (STREAMS, "[method]output-stream.blocking-write-zeroes-and-flush", Session::output_blocking_write_zeroes),
    (STREAMS, "[method]output-stream.splice", Session::output_splice),
    (STREAMS, "[method]output-stream.blocking-splice", Session::output_splice),
    ("wasi:clocks/monotonic-clock", "now", Session::monotonic_now),
    ("wasi:clocks/monotonic-clock", "resolution", Session::monotonic_resolution),
    ("wasi:clocks/monotonic-clock", "subscribe-instant", Session::subscribe_instant),
    ("wasi:clocks/monotonic-clock", "subscribe-duration", Session::subscribe_duration),
    ("wasi:clocks/wall-clock", "now", Session::wall_now),
    ("wasi:clocks/wall-clock", "resolution", Session::wall_resolution),
    ("wasi:random/random", "get-random-bytes", Session::random_bytes),
    ("wasi:random/random", "get-random-u64", Session::random_u64),
    ("wasi:random/insecure", "get-insecure-random-bytes", Session::random_bytes),
    ("wasi:random/insecure", "get-insecure-random-u64", Session::random_u64),
    ("wasi:random/insecure-seed", "insecure-seed", Session::insecure_seed),
    ("wasi:cli/stdin", "get-stdin", Session::get_stdin),
    ("wasi:cli/stdout", "get-stdout", Session::get_stdout),
    ("wasi:cli/stderr", "get-stderr", Session::get_stderr),
    ("wasi:cli/environment", "get-environment", Session::empty_list),
    ("wasi:cli/environment", "get-arguments", Session::empty_list),
    ("wasi:cli/environment", "initial-cwd", Session::none),
    ("wasi:cli/exit", "exit", Session::exit),
    ("wasi:cli/exit", "exit-with-code", Session::exit_with_code),
    ("wasi:cli/terminal-stdin", "get-terminal-stdin", Session::none),
    ("wasi:cli/terminal-stdout", "get-terminal-stdout", Session::none),
    ("wasi:cli/terminal-stderr", "get-terminal-stderr", Session::none),
    ("wasi:filesystem/preopens", "get-directories", Session::empty_list),
    (FS, "[method]descriptor.read-via-stream", Session::no_descriptor),
    (FS, "[method]descriptor.write-via-stream", Session::no_descriptor),
    (FS, "[method]descriptor.append-via-stream", Session::no_descriptor),
    (FS, "[method]descriptor.advise", Session::no_descriptor),
    (FS, "[method]descriptor.sync-data", Session::no_descriptor),
    (FS, "[method]descriptor.get-flags", Session::no_descriptor),
    (FS, "[method]descriptor.get-type", Session::no_descriptor),
    (FS, "[method]descriptor.set-size", Session::no_descriptor),
    (FS, "[method]descriptor.set-times", Session::no_descriptor),
    (FS, "[method]descriptor.read", Session::no_descriptor),
    (FS, "[method]descriptor.write", Session::no_descriptor),
    (FS, "[method]descriptor.read-directory", Session::no_descriptor),
    (FS, "[method]descriptor.sync", Session::no_descriptor),
    (FS, "[method]descriptor.create-directory-at", Session::no_descriptor),
    (FS, "[method]descriptor.stat", Session::no_descriptor),
    (FS, "[method]descriptor.stat-at", Session::no_descriptor),
    (FS, "[method]descriptor.set-times-at", Session::no_descriptor),
    (FS, "[method]descriptor.link-at", Session::no_descriptor),
    (FS, "[method]descriptor.open-at", Session::no_descriptor),
    (FS, "[method]descriptor.readlink-at", Session::no_descriptor),
    (FS, "[method]descriptor.remove-directory-at", Session::no_descriptor),
    (FS, "[method]descriptor.rename-at", Session::no_descriptor),
    (FS, "[method]descriptor.symlink-at", Session::no_descriptor),
    (FS, "[method]descriptor.unlink-file-at", Session::no_descriptor),
    (FS, "[method]descriptor.is-same-object", Session::no_descriptor),
    (FS, "[method]descriptor.metadata-hash", Session::no_descriptor),
    (FS, "[method]descriptor.metadata-hash-at", Session::no_descriptor),
    (FS, "[method]directory-entry-stream.read-directory-entry", Session::no_descriptor),
    (FS, "filesystem-error-code", Session::filesystem_error_code),
];

/// Whether `version` is a WASI 0.2 release (`0.2.0`, `0.2.12`; no pre-release).
fn is_wasi_0_2(version: &str) -> bool {
    version
        .strip_prefix("0.2.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
}

/// The function `name` of the imported `interface` (with its version), if provided.
pub(super) fn resolve(interface: &str, name: &str) -> Option<HostFunc> {
    let (interface, version) = interface.split_once('@')?;
    if !is_wasi_0_2(version) {
        return None;
    }
    let index = FUNCS
        .iter()
        .position(|(i, n, _)| *i == interface && *n == name)?;
    Some(HostFunc(index as u32))
}
