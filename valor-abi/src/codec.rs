//! The byte encoding of requests and responses at the plugin boundary.
//!
//! Integers are little-endian `u32`; a *field* is a `u32` length followed by that many bytes.
//!
//! ```text
//! request  := method:field  uri:field  header-count:u32 (name:field value:field)*  body:field
//! response := status:u32               header-count:u32 (name:field value:field)*  body:field
//! ```
//! The request's `uri` is the path relative to the plugin's mount plus the query string for
//! requests to a plugin, and absolute (or a path on the app's origin) for outbound requests.
//! Header names repeat as often as the message carries them; values are raw bytes.
//! Decoding validates everything and never panics, whatever the bytes (a property test in
//! `vlugin/tests/codec.rs` holds it to that); nothing is reserved for a count or length the
//! input does not hold.

#[cfg(feature = "http")]
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};

/// Why bytes could not be decoded into a request or response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a complete message.
    #[error("message truncated: needed {needed} more bytes at offset {offset}")]
    Truncated {
        /// Offset where the missing part starts.
        offset: usize,
        /// Bytes that were missing.
        needed: usize,
    },
    /// Bytes were left over after a complete message.
    #[error("{0} unexpected bytes after the end of the message")]
    TrailingBytes(usize),
    /// The method is not a valid HTTP token.
    #[error("invalid method: {0}")]
    Method(String),
    /// The URI could not be parsed.
    #[error("invalid request URI {uri:?}: {reason}")]
    Uri {
        /// The URI as received (lossily decoded).
        uri: String,
        /// The parser's explanation.
        reason: String,
    },
    /// A header name is not a valid HTTP token.
    #[error("invalid header name {0:?}")]
    HeaderName(String),
    /// A header value holds bytes HTTP forbids (e.g. a line break).
    #[error("invalid value for header {0:?}")]
    HeaderValue(String),
    /// The status code is outside 100..=999.
    #[error("invalid status code {0}")]
    Status(u32),
    /// A streamed body field (section 18 of the protocol) where only bytes may be: in a message
    /// a plugin sends, or handed to a decoder that cannot read a stream.
    #[error("a streamed body field where the body's bytes must be")]
    StreamedBody,
    /// An init message is malformed.
    #[error("invalid init message: {0}")]
    Init(&'static str),
    /// A storage command or reply is malformed.
    #[error("invalid storage message: {0}")]
    Storage(&'static str),
    /// More distinct header names than an `http::HeaderMap` can hold (about 24,000).
    #[error("too many distinct header names")]
    TooManyHeaders,
}

/// The length a host writes in the `body` field of a request or response it hands a plugin
/// whose body it streams (PROTOCOL.md, section 18): the field is this length, then the body's
/// handle (a `u32`), and the plugin reads the bytes with the `read` import. No body can have this
/// length, and a plugin never sends such a field.
pub const STREAMED_BODY: u32 = u32::MAX;

/// The `body` field of a message a host wrote: its bytes, or the handle of a streamed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyField<'a> {
    /// The whole body.
    Bytes(&'a [u8]),
    /// A body to read with the `read` import: its handle.
    Streamed(u32),
}

/// The `body` field of a streamed body: [`STREAMED_BODY`], then `handle`.
pub fn streamed_body_field(handle: u32) -> [u8; 8] {
    let mut field = [0; 8];
    field[..4].copy_from_slice(&STREAMED_BODY.to_le_bytes());
    field[4..].copy_from_slice(&handle.to_le_bytes());
    field
}

/// The handle of the streamed body of an encoded response, if its body field is one (`None` if
/// its body is bytes, or it does not decode).
pub fn streamed_handle(response: &[u8]) -> Option<u32> {
    let mut input = Reader::new(response);
    input.u32().ok()?; // status
    for _ in 0..input.u32().ok()? {
        input.field().ok()?;
        input.field().ok()?;
    }
    let handle = match input.u32().ok()? {
        STREAMED_BODY => input.u32().ok()?,
        _ => return None,
    };
    input.finish().ok().map(|()| handle)
}

/// Encodes a request (its URI as given: a host passes the mount-relative one).
#[cfg(feature = "http")]
pub fn encode_request<B: AsRef<[u8]>>(request: &Request<B>) -> Vec<u8> {
    // The whole URI: relative (path + query) for requests to a plugin, absolute for outbound
    // requests, whose scheme and host the host's allowlist must see.
    let uri = request.uri().to_string();
    let body = request.body().as_ref();
    let head = request.method().as_str().len() + uri.len();
    let mut out = Writer::with_capacity(head, request.headers(), body.len());
    out.field(request.method().as_str().as_bytes());
    out.field(uri.as_bytes());
    out.headers(request.headers());
    out.field(body);
    out.0
}

/// Encodes a response.
#[cfg(feature = "http")]
pub fn encode_response<B: AsRef<[u8]>>(response: &Response<B>) -> Vec<u8> {
    let body = response.body().as_ref();
    let mut out = Writer::with_capacity(4, response.headers(), body.len());
    out.u32(u32::from(response.status().as_u16()));
    out.headers(response.headers());
    out.field(body);
    out.0
}

/// Encodes a response from its parts, header names and values as raw bytes: the bytes
/// [`encode_response`] makes, for a host that holds no `http` values. Nothing is validated
/// here; the decoder validates.
pub fn encode_response_parts(status: u16, headers: &[(&[u8], &[u8])], body: &[u8]) -> Vec<u8> {
    let len = 12 + parts_len(headers) + body.len();
    // Four bytes more than it needs: room for a frame's length (`frame::response_from`).
    let mut out = Room(Vec::with_capacity(len + 4));
    out.u32(u32::from(status));
    out.u32(headers.len() as u32);
    for (name, value) in headers {
        out.field(name);
        out.field(value);
    }
    out.field(body);
    out.0
}

/// A vector filled within the capacity it was made with. A plugin is built for size, and
/// there growing a vector field by field (a call, a capacity check and a copy each) was most of
/// what answering a fixed text cost; here a field is a check and a copy, inline.
pub(crate) struct Room(pub(crate) Vec<u8>);

impl Room {
    /// Appends `bytes`.
    ///
    /// # Panics
    /// If they do not fit in the capacity left.
    #[inline(always)]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let len = self.0.len();
        assert!(self.0.capacity() - len >= bytes.len(), "no room left");
        // SAFETY: the capacity after `len` holds `bytes` (checked above), which cannot overlap
        // the vector's own memory (it is borrowed mutably); those bytes are then initialised.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.0.as_mut_ptr().add(len),
                bytes.len(),
            );
            self.0.set_len(len + bytes.len());
        }
    }

    #[inline(always)]
    fn u32(&mut self, n: u32) {
        self.bytes(&n.to_le_bytes());
    }

    #[inline(always)]
    fn field(&mut self, bytes: &[u8]) {
        // Messages are bounded by wasm32's 4 GiB address space, so lengths always fit a u32.
        self.u32(bytes.len() as u32);
        self.bytes(bytes);
    }
}

/// An encoded request (or the head of one) with `prefix` written before its URI: a host hands
/// a request whose URI is relative to the plugin's mount (`/items?x=1`) to a handler that
/// sees it absolute (a component: `https://app.example/items?x=1`), without decoding it.
pub fn prefix_uri(encoded: &[u8], prefix: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut input = Reader::new(encoded);
    let method = input.field()?;
    let uri = input.field()?;
    let rest = &encoded[8 + method.len() + uri.len()..];
    let mut out = Writer(Vec::with_capacity(encoded.len() + prefix.len()));
    out.field(method);
    out.u32((prefix.len() + uri.len()) as u32);
    out.0.extend_from_slice(prefix);
    out.0.extend_from_slice(uri);
    out.0.extend_from_slice(rest);
    Ok(out.0)
}

/// The bytes of an encoded request up to its body, the body's length last: a host that holds
/// the body elsewhere writes its `body_len` bytes right after these (see [`encode_request`]).
pub fn encode_request_head(
    method: &[u8],
    uri: &[u8],
    headers: &[(&[u8], &[u8])],
    body_len: u32,
) -> Vec<u8> {
    let mut out = Writer(Vec::with_capacity(
        16 + method.len() + uri.len() + parts_len(headers),
    ));
    out.field(method);
    out.field(uri);
    out.raw_headers(headers);
    out.u32(body_len);
    out.0
}

/// The encoded size of `headers`.
fn parts_len(headers: &[(&[u8], &[u8])]) -> usize {
    headers
        .iter()
        .map(|(name, value)| 8 + name.len() + value.len())
        .sum()
}

/// The status of an encoded response: its first four bytes, `None` if there are not four.
pub fn response_status(encoded: &[u8]) -> Option<u32> {
    encoded
        .first_chunk::<4>()
        .map(|status| u32::from_le_bytes(*status))
}

/// Replaces the status of an encoded response, its first four bytes.
///
/// # Panics
/// If `encoded` is shorter than four bytes (no response is).
pub fn set_response_status(encoded: &mut [u8], status: u16) {
    encoded[..4].copy_from_slice(&u32::from(status).to_le_bytes());
}

/// Decodes a request encoded by [`encode_request`], validating every part as `http` does. A
/// streamed body field is refused (only a host writes one): see [`decode_request_with`].
#[cfg(feature = "http")]
pub fn decode_request<B: for<'a> From<&'a [u8]>>(bytes: &[u8]) -> Result<Request<B>, DecodeError> {
    decode_request_with(bytes, bytes_only)
}

/// Decodes a request a host wrote, whose body field may be streamed: `body` makes the body.
#[cfg(feature = "http")]
pub fn decode_request_with<B>(
    bytes: &[u8],
    body: impl FnOnce(BodyField<'_>) -> Result<B, DecodeError>,
) -> Result<Request<B>, DecodeError> {
    let mut input = Reader::new(bytes);
    let method = input.field()?;
    let method = Method::from_bytes(method)
        .map_err(|_| DecodeError::Method(String::from_utf8_lossy(method).into_owned()))?;
    let uri = input.field()?;
    let uri = Uri::try_from(uri).map_err(|e| DecodeError::Uri {
        uri: String::from_utf8_lossy(uri).into_owned(),
        reason: e.to_string(),
    })?;
    let headers = input.headers()?;
    let body = body(input.body_field()?)?;
    input.finish()?;

    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// The body of a message that may not stream: its bytes.
#[cfg(feature = "http")]
fn bytes_only<B: for<'a> From<&'a [u8]>>(field: BodyField<'_>) -> Result<B, DecodeError> {
    match field {
        BodyField::Bytes(bytes) => Ok(B::from(bytes)),
        BodyField::Streamed(_) => Err(DecodeError::StreamedBody),
    }
}

/// Decodes a response encoded by [`encode_response`], validating every part as `http` does. A
/// streamed body field is refused: see [`decode_response_with`].
#[cfg(feature = "http")]
pub fn decode_response<B: for<'a> From<&'a [u8]>>(
    bytes: &[u8],
) -> Result<Response<B>, DecodeError> {
    decode_response_with(bytes, bytes_only)
}

/// Decodes a response a host wrote (the result of `fetch_stream`), whose body field may be
/// streamed: `body` makes the body.
#[cfg(feature = "http")]
pub fn decode_response_with<B>(
    bytes: &[u8],
    body: impl FnOnce(BodyField<'_>) -> Result<B, DecodeError>,
) -> Result<Response<B>, DecodeError> {
    let mut input = Reader::new(bytes);
    let code = input.u32()?;
    let status = u16::try_from(code)
        .ok()
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or(DecodeError::Status(code))?;
    let headers = input.headers()?;
    let body = body(input.body_field()?)?;
    input.finish()?;

    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// Builds a message in the ABI's byte format: little-endian `u32`s and length-prefixed fields.
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    /// Reserves the exact encoded size up front: bodies can be many MiB.
    #[cfg(feature = "http")]
    fn with_capacity(head: usize, headers: &HeaderMap, body_len: usize) -> Self {
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| 8 + name.as_str().len() + value.len())
            .sum();
        Self(Vec::with_capacity(16 + head + header_bytes + body_len))
    }

    /// Appends `n`, little-endian.
    pub(crate) fn u32(&mut self, n: u32) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    /// Appends `bytes` after their length.
    pub(crate) fn field(&mut self, bytes: &[u8]) {
        // Messages are bounded by wasm32's 4 GiB address space, so lengths always fit a u32.
        self.u32(bytes.len() as u32);
        self.0.extend_from_slice(bytes);
    }

    fn raw_headers(&mut self, headers: &[(&[u8], &[u8])]) {
        self.u32(headers.len() as u32);
        for (name, value) in headers {
            self.field(name);
            self.field(value);
        }
    }

    #[cfg(feature = "http")]
    fn headers(&mut self, headers: &HeaderMap) {
        self.u32(headers.len() as u32);
        for (name, value) in headers {
            self.field(name.as_str().as_bytes());
            self.field(value.as_bytes());
        }
    }
}

#[cfg(feature = "http")]
/// Headers reserved up front when decoding; more grow the map as they come.
const RESERVED_HEADERS: usize = 64;

/// Reads a message written by [`Writer`], checking every length against what is left.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    /// The next `len` bytes, or how many are missing.
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let rest = &self.bytes[self.offset..];
        if rest.len() < len {
            return Err(DecodeError::Truncated {
                offset: self.offset,
                needed: len - rest.len(),
            });
        }
        self.offset += len;
        Ok(&rest[..len])
    }

    /// The next little-endian `u32`.
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// The next length-prefixed field.
    pub(crate) fn field(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// The body field: its bytes, or a streamed body's handle.
    #[cfg(feature = "http")]
    pub(crate) fn body_field(&mut self) -> Result<BodyField<'a>, DecodeError> {
        match self.u32()? {
            STREAMED_BODY => Ok(BodyField::Streamed(self.u32()?)),
            len => Ok(BodyField::Bytes(self.take(len as usize)?)),
        }
    }

    #[cfg(feature = "http")]
    fn headers(&mut self) -> Result<HeaderMap, DecodeError> {
        let count = self.u32()? as usize;
        // Each header takes at least 8 bytes: a count the input cannot hold is refused before
        // anything is reserved for it. `HeaderMap` panics past its size limit in `with_capacity`
        // and `append`, so only its `try_` forms are used.
        if count > self.remaining() / 8 {
            return Err(DecodeError::Truncated {
                offset: self.offset,
                needed: count * 8 - self.remaining(),
            });
        }
        let mut headers = HeaderMap::try_with_capacity(count.min(RESERVED_HEADERS))
            .map_err(|_| DecodeError::TooManyHeaders)?;
        for _ in 0..count {
            let name = self.field()?;
            let name = HeaderName::from_bytes(name)
                .map_err(|_| DecodeError::HeaderName(String::from_utf8_lossy(name).into_owned()))?;
            let value = HeaderValue::from_bytes(self.field()?)
                .map_err(|_| DecodeError::HeaderValue(name.to_string()))?;
            headers
                .try_append(name, value)
                .map_err(|_| DecodeError::TooManyHeaders)?;
        }
        Ok(headers)
    }

    /// How many bytes are left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    /// Ends the message: bytes left over are an error.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes(extra)),
        }
    }
}
