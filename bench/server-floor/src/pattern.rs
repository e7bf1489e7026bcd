//! The floor of the streaming benchmark: what the streaming plugin's `GET /bytes?mib=N&chunk=BYTES`
//! answers (N MiB where byte k is `k % 251`, in chunks of BYTES, 65,536 by default), as a body
//! whose frames are made one at a time when hyper asks for the next, that is when the
//! connection has taken the last: paced by the reader, as Valor's streamed bodies are.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

const MIB: u64 = 1 << 20;
const DEFAULT_CHUNK: u64 = 65_536;

/// The bytes `k % 251` for k from `next` to `total`, `chunk` at a time.
pub struct Pattern {
    next: u64,
    total: u64,
    chunk: u64,
}

impl Pattern {
    /// The body for a query `mib=N&chunk=BYTES` (a missing or unreadable field: 0 MiB, the
    /// default chunk).
    pub fn from_query(query: &str) -> Self {
        let field = |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value.parse::<u64>().ok())
        };
        Self {
            next: 0,
            total: field("mib").unwrap_or(0).saturating_mul(MIB),
            chunk: field("chunk").unwrap_or(DEFAULT_CHUNK).max(1),
        }
    }
}

impl Body for Pattern {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.next == this.total {
            return Poll::Ready(None);
        }
        let end = this.total.min(this.next + this.chunk);
        let bytes = bytes_from(this.next, end);
        this.next = end;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(bytes)))))
    }

    fn is_end_stream(&self) -> bool {
        self.next == self.total
    }

    // Unknown, as a plugin's streamed body's: hyper sends both chunked.
    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Bytes `start..end`, byte k being `k % 251`: copied from one period of it, as the plugin makes
/// them (wasm-pack-tests/plugins/streaming), so that both producers do the same work.
fn bytes_from(start: u64, end: u64) -> Vec<u8> {
    const PERIOD: [u8; 251] = {
        let mut period = [0; 251];
        let mut k = 0;
        while k < 251 {
            period[k] = k as u8;
            k += 1;
        }
        period
    };
    let len = (end - start) as usize;
    let mut bytes = Vec::with_capacity(len);
    let mut k = (start % 251) as usize;
    while bytes.len() < len {
        let take = (251 - k).min(len - bytes.len());
        bytes.extend_from_slice(&PERIOD[k..k + take]);
        k = 0;
    }
    bytes
}
