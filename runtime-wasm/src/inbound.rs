//! A page's request, straight to the plugin ABI's bytes (`valor_abi::codec`): its method, URI
//! and headers are read in a few calls into JavaScript and encoded at once, and its body is
//! copied from the browser into plugin memory once, when the request is handed over; or, for a
//! plugin that streams its requests (section 18), read by the plugin as it arrives.

use crate::manifest::PluginSpec;
use crate::{sys, web_http};
use futures::StreamExt;
use std::sync::Arc;
use valor_abi::codec;
use valor_host::bodies::{self, Source};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use valor_host::error::Unreadable;

/// An encoded request: `head` (everything up to the body, its length included), then `body`.
pub struct RequestFrame {
    head: Vec<u8>,
    /// The page's body, in the browser's memory until it is written into the plugin's.
    body: Option<js_sys::Uint8Array>,
    /// Whether its method asks for nothing to change (RFC 9110, 9.2.1): it may be sent again.
    safe: bool,
    /// The body the plugin reads as a stream, if it streams its requests: `head` ends with its
    /// streamed body field, of handle 0 until the task starts.
    stream: Option<Arc<Source>>,
}

impl RequestFrame {
    /// An `http` request (a plugin's request to the plugin of `spec`), encoded.
    pub fn from_http(spec: &PluginSpec, request: vlugin::Request) -> Self {
        let safe = valor_host::life::is_safe(request.method().as_str());
        let (head, stream) = bodies::encode_local(spec, request.map(vlugin::Body::into_bytes));
        Self {
            head,
            body: None,
            safe,
            stream,
        }
    }

    /// The body the plugin reads as a stream, if any.
    pub fn stream(&self) -> Option<&Arc<Source>> {
        self.stream.as_ref()
    }

    /// Its length in bytes.
    pub fn len(&self) -> u32 {
        let body = self.body.as_ref().map_or(0, js_sys::Uint8Array::length);
        self.head.len() as u32 + body
    }

    /// Whether it may be sent again after its instance was lost.
    pub fn is_safe(&self) -> bool {
        self.safe
    }

    /// The request encoded whole, its URI made absolute against `origin`: a component sees
    /// the scheme and authority it was sent to (a streamed body is not read: components read
    /// their requests whole).
    pub fn absolute(&self, origin: &str) -> js_sys::Uint8Array {
        let origin = origin.trim_end_matches('/').as_bytes();
        // The head was encoded here: it always has its method and URI.
        let head = codec::prefix_uri(&self.head, origin).unwrap_or_else(|_| self.head.clone());
        let length = head.len() as u32 + self.body.as_ref().map_or(0, js_sys::Uint8Array::length);
        let bytes = js_sys::Uint8Array::new_with_length(length);
        bytes.subarray(0, head.len() as u32).copy_from(&head);
        if let Some(body) = &self.body {
            bytes.set(body, head.len() as u32);
        }
        bytes
    }

    /// Writes it into `memory` (a view of plugin memory), at `at`.
    pub fn write_into(&self, memory: &js_sys::Uint8Array, at: u32) {
        memory
            .subarray(at, at + self.head.len() as u32)
            .copy_from(&self.head);
        if let Some(body) = &self.body {
            memory.set(body, at + self.head.len() as u32);
        }
    }
}

/// Reads a page's request for a plugin, whose URI is `relative_uri` (path and query), refusing
/// a body over `max_body` bytes before it is copied anywhere.
pub async fn read(
    request: &web_sys::Request,
    relative_uri: &str,
    max_body: u32,
) -> Result<RequestFrame, Unreadable> {
    let method = request.method();
    let body = read_body(request, &method, max_body).await?;
    let body_len = body.as_ref().map_or(0, js_sys::Uint8Array::length);
    Ok(RequestFrame {
        head: encode_head(request, &method, relative_uri, body_len),
        body,
        safe: valor_host::life::is_safe(&method),
        stream: None,
    })
}

/// A page's request for a plugin that reads its body as it arrives (see [`body_chunks`]), of at
/// most `max_stream_bytes`: the body is not waited for, and no `max_body_bytes` applies.
pub fn streamed(
    request: &web_sys::Request,
    relative_uri: &str,
    max_stream_bytes: Option<u64>,
) -> RequestFrame {
    let method = request.method();
    let mut head = encode_head(request, &method, relative_uri, codec::STREAMED_BODY);
    head.extend_from_slice(&0u32.to_le_bytes()); // the handle, written when the task starts
    let (fill, source) = bodies::channel(bodies::REQUEST_BODY, max_stream_bytes);
    wasm_bindgen_futures::spawn_local(fill.from(body_chunks(request)));
    RequestFrame {
        head,
        body: None,
        safe: valor_host::life::is_safe(&method),
        stream: Some(source),
    }
}

/// The chunks of a page's request body as they arrive, from `request.body` where the engine
/// gives one; else read whole, as one piece: Firefox has no `Request.prototype.body`, and a
/// `null` one is read too, lest a body the engine does not hand over as a stream be lost.
fn body_chunks(
    request: &web_sys::Request,
) -> futures::stream::LocalBoxStream<'static, bodies::Chunk> {
    let body = js_sys::Reflect::get(request, &"body".into()).unwrap_or_default();
    if let Ok(body) = body.dyn_into::<web_sys::ReadableStream>() {
        return web_http::body_chunks(Some(body)).boxed_local();
    }
    let whole = request.array_buffer().map_err(|e| sys::describe(&e));
    let read = async move {
        let buffer = JsFuture::from(whole?)
            .await
            .map_err(|e| sys::describe(&e))?;
        Ok(js_sys::Uint8Array::new(&buffer))
    };
    // The whole body stays in JavaScript's memory; each chunk is copied into the runtime's
    // only as the plugin reads it, so the runtime's memory holds a chunk, not the upload.
    futures::stream::once(read)
        .flat_map(|whole: bodies::Chunk<js_sys::Uint8Array>| match whole {
            Ok(whole) => slices(whole).boxed_local(),
            Err(why) => futures::stream::iter([Err(why)]).boxed_local(),
        })
        .boxed_local()
}

/// `whole`, copied out a chunk of at most `bodies::MAX_CHUNK_BYTES` at a time.
fn slices(whole: js_sys::Uint8Array) -> impl futures::Stream<Item = bodies::Chunk> {
    let step = bodies::MAX_CHUNK_BYTES as u32;
    futures::stream::iter((0..whole.length()).step_by(step as usize))
        .map(move |start| Ok(whole.subarray(start, start.saturating_add(step)).to_vec()))
}

/// The encoded request up to its body: the body's length, `body_len`, last.
fn encode_head(
    request: &web_sys::Request,
    method: &str,
    relative_uri: &str,
    body_len: u32,
) -> Vec<u8> {
    web_http::encode_with_headers(&request.headers(), &|pairs| {
        codec::encode_request_head(method.as_bytes(), relative_uri.as_bytes(), pairs, body_len)
    })
}

/// The body of a request, if its method can carry one, unless it is over `max_body` bytes.
pub async fn read_body(
    request: &web_sys::Request,
    method: &str,
    max_body: u32,
) -> Result<Option<js_sys::Uint8Array>, Unreadable> {
    // Not `request.body`: Firefox has no such attribute (it is always `undefined` there), so a
    // check on it drops every body. GET and HEAD requests cannot carry one (the Request
    // constructor refuses), so there is nothing to wait for.
    if matches!(method, "GET" | "HEAD") {
        return Ok(None);
    }
    let buffer = request
        .array_buffer()
        .map_err(|e| Unreadable::Invalid(sys::describe(&e)))?;
    let buffer: js_sys::ArrayBuffer = JsFuture::from(buffer)
        .await
        .map_err(|e| {
            Unreadable::Invalid(format!("the body could not be read: {}", sys::describe(&e)))
        })?
        .unchecked_into();
    let size = u64::from(buffer.byte_length());
    if size > u64::from(max_body) {
        return Err(Unreadable::TooLarge { size });
    }
    Ok(Some(js_sys::Uint8Array::new(&buffer)))
}
