//! Bodies a plugin reads as they arrive (PROTOCOL.md, section 18): a request's body when its
//! entry sets `stream_requests`, a response's from `fetch_stream`. The host *fills* a body from
//! its source (a page's request stream, a hyper body, a fetched response) through a channel of
//! one chunk; the plugin's `read` operations take the chunks, one at a time, bounded by the
//! entry's stream limits. Nothing is pulled from the source ahead of the plugin's reads but the
//! chunk the channel holds and the one the filler waits to put in it.
//!
//! Each host only spawns [`Fill::from`] with its own stream, and runs [`read`] with its own
//! timer; the handles live in the instance's [`Table`](crate::guest::Table).

use crate::manifest::PluginSpec;
use crate::result::{denied, failed, ok};
use futures::channel::mpsc;
use futures::future::{self, AbortHandle, AbortRegistration, Abortable, Either};
use futures::{SinkExt, Stream, StreamExt};
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use valor_abi::codec;

/// The most bytes one `read` hands the plugin: larger pieces of a source are split.
pub const MAX_CHUNK_BYTES: usize = 1 << 20;

/// The next bytes of a body from its source (`Vec<u8>`, or as a host holds them), or why the
/// source failed.
pub type Chunk<B = Vec<u8>> = Result<B, String>;

/// A streamed body, as the plugin's reads take it (shared by the instance's table and the reads
/// in flight). Dropping the last of it stops its filler, which drops the host's source.
#[derive(Debug)]
pub struct Source {
    /// `None` while a read has it: a plugin reads a body one chunk at a time.
    reading: Mutex<Option<Reading>>,
    /// What the body is called in failures: "the request body", "the body of URL".
    name: String,
    _filler: StopOnDrop,
}

#[derive(Debug)]
struct Reading {
    chunks: Option<mpsc::Receiver<Chunk>>,
    /// What a source handed over beyond [`MAX_CHUNK_BYTES`], for the next reads.
    rest: Vec<u8>,
    read: u64,
    max_bytes: Option<u64>,
}

/// The host's side of a body: fill it from a stream with [`Fill::from`].
#[derive(Debug)]
pub struct Fill {
    chunks: mpsc::Sender<Chunk>,
    stop: AbortRegistration,
}

#[derive(Debug)]
struct StopOnDrop(AbortHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A body the host streams to a plugin, called `name` in failures, of at most `max_bytes` (its
/// entry's `max_stream_bytes`, for a request body): the filler for the host, the source for the
/// plugin's table.
pub fn channel(name: impl Into<String>, max_bytes: Option<u64>) -> (Fill, Arc<Source>) {
    let (sender, receiver) = mpsc::channel(0);
    let (stop, registration) = AbortHandle::new_pair();
    let source = Source {
        reading: Mutex::new(Some(Reading {
            chunks: Some(receiver),
            rest: Vec::new(),
            read: 0,
            max_bytes,
        })),
        name: name.into(),
        _filler: StopOnDrop(stop),
    };
    let fill = Fill {
        chunks: sender,
        stop: registration,
    };
    (fill, Arc::new(source))
}

/// A body the host holds whole (a plugin's request to a plugin that streams its requests),
/// handed over in chunks.
pub fn whole(name: impl Into<String>, bytes: Vec<u8>) -> Arc<Source> {
    let (fill, source) = channel(name, None);
    drop(fill); // nothing more will come
    if let Some(reading) = source.lock().as_mut() {
        reading.rest = bytes;
    }
    source
}

impl Fill {
    /// Fills the body from `stream` until it ends, fails or the plugin lets go of the body (the
    /// stream is then dropped: its source is no longer read). The host spawns this.
    pub async fn from<S: Stream<Item = Chunk>>(self, stream: S) {
        let Fill { mut chunks, stop } = self;
        let pump = async move {
            let mut stream = pin!(stream);
            while let Some(chunk) = stream.next().await {
                let failed = chunk.is_err();
                if chunks.send(chunk).await.is_err() || failed {
                    return; // the plugin let go of the body, or it failed
                }
            }
        };
        let _ = Abortable::new(pump, stop).await;
    }
}

/// The result of a `read` of `source` (body `handle` of the plugin): at least one byte, none at
/// its end, or why it failed. `idle` is the host's timer of `idle_ms`, the entry's
/// `stream_idle_ms`: the longest wait for the source's next chunk.
pub async fn read(
    source: Arc<Source>,
    handle: u32,
    idle: impl Future<Output = ()>,
    idle_ms: u32,
) -> Vec<u8> {
    let Some(reading) = source.lock().take() else {
        return failed(&format!(
            "a read of streamed body {handle} is under way: a plugin reads one chunk at a time"
        ));
    };
    // Handed back however the read ends (done, or cancelled while it waits).
    let mut reading = Lent {
        source: &source,
        reading: Some(reading),
    };
    let reading = reading.reading.as_mut().expect("lent until dropped");
    let mut idle = pin!(idle);
    while reading.rest.is_empty() {
        let Some(chunks) = reading.chunks.as_mut() else {
            return failed(&format!("streamed body {handle} has ended"));
        };
        let next = match future::select(chunks.next(), idle.as_mut()).await {
            Either::Left((next, _)) => next,
            Either::Right(((), _)) => {
                reading.chunks = None;
                return failed(&format!("no bytes of {} for {idle_ms} ms", source.name));
            }
        };
        match next {
            None => {
                reading.chunks = None;
                return ok(&[]);
            }
            Some(Err(why)) => {
                reading.chunks = None;
                return failed(&format!("{} ended early: {why}", source.name));
            }
            // An empty chunk is no end: the loop waits for more.
            Some(Ok(bytes)) => {
                reading.read += bytes.len() as u64;
                if let Some(max) = reading.max_bytes.filter(|max| reading.read > *max) {
                    reading.chunks = None; // the filler stops: nothing more is read
                    return denied(&format!(
                        "{} is larger than max_stream_bytes ({max} bytes)",
                        source.name
                    ));
                }
                reading.rest = bytes;
            }
        }
    }
    ok(&reading.take_rest())
}

impl Source {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Reading>> {
        self.reading.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A body's reading state, lent to one read and handed back when it ends.
struct Lent<'a> {
    source: &'a Source,
    reading: Option<Reading>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        *self.source.lock() = self.reading.take();
    }
}

impl Reading {
    /// At most [`MAX_CHUNK_BYTES`] of what is held, the rest kept for the next read.
    fn take_rest(&mut self) -> Vec<u8> {
        if self.rest.len() <= MAX_CHUNK_BYTES {
            return std::mem::take(&mut self.rest);
        }
        let tail = self.rest.split_off(MAX_CHUNK_BYTES);
        std::mem::replace(&mut self.rest, tail)
    }
}

/// Whether a request of `method` to the plugin of `spec` hands its body over as a stream: its
/// entry sets `stream_requests`, and the method may carry a body.
pub fn streams(spec: &PluginSpec, method: &str) -> bool {
    spec.stream_requests && !matches!(method, "GET" | "HEAD")
}

/// What names a request's body in the failures of its reads.
pub const REQUEST_BODY: &str = "the request body";

/// The encoding of a plugin's `request` to the plugin of `spec`, and the body that plugin reads
/// as a stream if it streams its requests (the body is whole: it is handed over in chunks).
pub fn encode_local(
    spec: &PluginSpec,
    request: http::Request<Vec<u8>>,
) -> (Vec<u8>, Option<Arc<Source>>) {
    if !streams(spec, request.method().as_str()) {
        return (codec::encode_request(&request), None);
    }
    let (parts, body) = request.into_parts();
    let mut encoded = codec::encode_request(&http::Request::from_parts(parts, [0u8; 0]));
    // The empty body's length is the last field: replaced by a streamed body's, its handle
    // written when the task starts (`guest::dispatch`).
    encoded.truncate(encoded.len() - 4);
    encoded.extend_from_slice(&codec::streamed_body_field(0));
    (encoded, Some(whole(REQUEST_BODY, body)))
}

/// The result of a `fetch_stream` that got an answer: `OK` and the response, its body the
/// streamed body `handle`.
pub fn fetched(status: u16, headers: &[(&[u8], &[u8])], handle: u32) -> Vec<u8> {
    let mut response = codec::encode_response_parts(status, headers, &[]);
    // The empty body's length is the last field: replaced by the streamed body's.
    response.truncate(response.len() - 4);
    response.extend_from_slice(&codec::streamed_body_field(handle));
    ok(&response)
}

#[cfg(test)]
mod tests;
