mod chunks;
mod read;
mod stream;

pub use chunks::BodyChunks;
pub(crate) use read::Handle;
use std::fmt;
pub(crate) use stream::BodyStream;

/// The body of a [`Request`](crate::Request) or [`Response`](crate::Response): bytes, complete,
/// or a stream of them: an answer's produced over time ([`Body::from_stream`]), or a body the
/// host hands over as it arrives (a request's, when the plugin's entry sets `stream_requests`,
/// and a response's from [`fetch_stream`](crate::fetch_stream)), read with
/// [`into_stream`](Body::into_stream) or [`collect`](Body::collect).
///
/// # Examples
/// ```
/// use vlugin::Body;
///
/// let body = Body::from("{\"n\": 1}");
/// assert_eq!(body.len(), 8);
/// assert_eq!(body.text().unwrap(), "{\"n\": 1}");
/// let value: serde_json::Value = body.json().unwrap();
/// assert_eq!(value["n"], 1);
/// ```
///
/// **A streamed body** holds no bytes yet: an answer's are produced after its status and
/// headers are sent, a request's or fetched response's arrive as the plugin reads them. So its
/// [`as_bytes`](Body::as_bytes) is empty (and `len`, `text`, `json` and `into_bytes` say as
/// much; [`RequestExt`](crate::RequestExt)'s `form` and `json` fail), a clone of it is an empty
/// body of bytes (a stream is read once), and it equals only itself.
/// [`is_streamed`](Body::is_streamed) tells it apart. A plugin whose entry sets
/// `stream_requests` reads its requests' bodies with [`into_stream`](Body::into_stream) or
/// [`collect`](Body::collect); returned as an answer's body, a streamed body is passed on chunk
/// by chunk as it is read.
#[derive(Default)]
pub struct Body(Inner);

enum Inner {
    Bytes(Vec<u8>),
    Stream(BodyStream),
    /// A body the host hands over as it arrives, read with the `read` import.
    Host(Handle),
}

impl Default for Inner {
    fn default() -> Self {
        Self::Bytes(Vec::new())
    }
}

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Self(Inner::Bytes(Vec::new()))
    }

    /// The bytes of the body (none for a streamed body).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Inner::Bytes(bytes) => bytes,
            Inner::Stream(_) | Inner::Host(_) => &[],
        }
    }

    /// Takes the bytes out of the body (none for a streamed body).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.0 {
            Inner::Bytes(bytes) => bytes,
            Inner::Stream(_) | Inner::Host(_) => Vec::new(),
        }
    }

    /// Length in bytes (0 for a streamed body).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the body has no bytes (true of a streamed body).
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// Whether the body is streamed: made with [`Body::from_stream`], or handed over by the host
    /// as it arrives (see [`Body`]).
    pub fn is_streamed(&self) -> bool {
        !matches!(self.0, Inner::Bytes(_))
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(self.as_bytes())
    }

    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.as_bytes())
    }

    /// Takes the stream out of a streamed body, leaving it empty: a body the host hands over
    /// becomes a stream that reads a chunk each time it is polled.
    pub(crate) fn take_stream(&mut self) -> Option<BodyStream> {
        match std::mem::take(&mut self.0) {
            Inner::Stream(stream) => Some(stream),
            Inner::Host(handle) => Some(BodyStream::read(handle)),
            bytes @ Inner::Bytes(_) => {
                self.0 = bytes;
                None
            }
        }
    }
}

impl Clone for Body {
    /// A copy of the bytes; of a streamed body, an empty body (see [`Body`]).
    fn clone(&self) -> Self {
        match &self.0 {
            Inner::Bytes(bytes) => Self(Inner::Bytes(bytes.clone())),
            Inner::Stream(_) | Inner::Host(_) => Self::empty(),
        }
    }
}

impl PartialEq for Body {
    /// Bodies of bytes are equal when their bytes are; a streamed body equals only itself.
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Inner::Bytes(a), Inner::Bytes(b)) => a == b,
            (Inner::Stream(a), Inner::Stream(b)) => a.is(b),
            (Inner::Host(a), Inner::Host(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Body {}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Bytes(bytes) => write!(f, "Body({} bytes)", bytes.len()),
            Inner::Stream(_) | Inner::Host(_) => f.write_str("Body(streamed)"),
        }
    }
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Inner::Bytes(bytes))
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Self {
        Self::from(bytes.to_vec())
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from(text.into_bytes())
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Self::from(text.as_bytes())
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}
