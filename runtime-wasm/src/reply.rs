//! What a request gets back in the browser: `valor-host`'s [`Reply`], a plugin's body kept as
//! its own copy out of plugin memory (made by `plugin::instance` while the frame is still live),
//! turned into a web `Response` in one step. Server errors are logged to the console.

use crate::sys;
use futures::stream::{LocalBoxStream, StreamExt};
use std::borrow::Cow;
use valor_host::error::DispatchError;
use valor_host::reply::{self, Body};
use valor_host::streamed::Chunk;
use wasm_bindgen::{JsCast, JsValue};

pub use valor_host::reply::{Tag, PLUGIN_HEADER};

/// The service worker's replies: a plugin's body is a copy of its own (WebKit read freed plugin
/// memory through views).
#[derive(Debug)]
pub enum Worker {}

impl reply::Host for Worker {
    type Body = js_sys::Uint8Array;
    type Stream = LocalBoxStream<'static, Result<Chunk<js_sys::Uint8Array>, String>>;

    fn bytes(body: &js_sys::Uint8Array) -> Cow<'_, [u8]> {
        Cow::Owned(body.to_vec())
    }

    fn log(error: &DispatchError) {
        web_sys::console::error_1(&format!("[valor] {error}").into());
    }
}

/// A status, headers and a body, on their way out.
pub type Reply = reply::Reply<Worker>;

/// The reply for a page: its web response, or a 500 saying why the browser refused it (a status
/// outside 200 to 599, a header name or value HTTP forbids).
pub fn into_web(reply: Reply, tag: Option<Tag>) -> web_sys::Response {
    // A 500 with a text body always converts.
    reply
        .into_response(tag, to_web)
        .unwrap_or_else(|_| web_sys::Response::error())
}

fn to_web(reply: Reply) -> Result<web_sys::Response, String> {
    let init: web_sys::ResponseInit = js_sys::JSON::parse(&init_json(&reply))
        .map_err(|e| sys::describe(&e))?
        .unchecked_into();
    // The Fetch standard forbids a body on some statuses: it is dropped rather than thrown.
    let body = match reply.into_sent_body() {
        Body::Bytes(bytes) if bytes.is_empty() => None,
        Body::Bytes(bytes) => Some(sys::copy_to_js(&bytes)),
        Body::Frame(bytes) => Some(bytes),
        Body::Stream(chunks) => {
            let stream = readable(chunks);
            return web_sys::Response::new_with_opt_readable_stream_and_init(Some(&stream), &init)
                .map_err(|e| sys::describe(&e));
        }
    };
    web_sys::Response::new_with_opt_js_u8_array_and_init(body.as_ref(), &init)
        .map_err(|e| sys::describe(&e))
}

/// A streamed body as a web `ReadableStream`: each chunk pulled from the plugin when the page
/// reads (its `pull`), the plugin's task dropped when the page cancels it, and a body that ends
/// early errored with the reason (a page's `read()` rejects).
fn readable(chunks: <Worker as reply::Host>::Stream) -> web_sys::ReadableStream {
    let chunks = chunks.map(|chunk| match chunk {
        Ok(Chunk::Plugin(bytes)) => Ok(JsValue::from(bytes)),
        Ok(Chunk::Host(bytes)) => Ok(JsValue::from(sys::copy_to_js(&bytes))),
        Err(reason) => Err(JsValue::from(js_sys::Error::new(&reason))),
    });
    wasm_streams::ReadableStream::from_stream(chunks).into_raw()
}

/// The `ResponseInit` dictionary, as JSON: built in Rust and parsed by the engine in one call,
/// rather than one call into JavaScript per header.
fn init_json(reply: &Reply) -> String {
    let status = reply.status();
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("");
    let mut json = format!(r#"{{"status":{status},"statusText":"{reason}","headers":["#);
    for (i, (name, value)) in reply.headers().enumerate() {
        json.push_str(if i == 0 { "[" } else { ",[" });
        push_byte_string(&mut json, name);
        json.push(',');
        push_byte_string(&mut json, value);
        json.push(']');
    }
    json.push_str("]}");
    json
}

/// Appends `bytes` as a JSON string of the same code units (a ByteString).
fn push_byte_string(json: &mut String, bytes: &[u8]) {
    json.push('"');
    for &byte in bytes {
        match byte {
            b'"' => json.push_str("\\\""),
            b'\\' => json.push_str("\\\\"),
            0x20..=0x7e => json.push(char::from(byte)),
            _ => json.push_str(&format!("\\u{byte:04x}")),
        }
    }
    json.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_json_of_the_same_byte_strings() {
        let mut reply = Reply::new(201);
        reply.header("x-quote", b"a \"b\" \\ c");
        reply.header("x-latin1", &[b'c', 0xe9, 0x7f]);
        reply.header("set-cookie", b"a=1");
        reply.header("set-cookie", b"b=2");
        let init: serde_json::Value = serde_json::from_str(&init_json(&reply)).unwrap();
        assert_eq!(
            init,
            serde_json::json!({
                "status": 201,
                "statusText": "Created",
                "headers": [
                    ["x-quote", "a \"b\" \\ c"],
                    ["x-latin1", "c\u{e9}\u{7f}"],
                    ["set-cookie", "a=1"],
                    ["set-cookie", "b=2"],
                ],
            })
        );
    }
}
