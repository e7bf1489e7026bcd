//! What a request gets back, whoever produced it (a plugin's frame, an error): a `Reply`, turned
//! into an HTTP response for a client, or into the ABI's bytes for a plugin that fetched
//! another. Replies are tagged with their plugin, and errors logged, here and only here.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http_body_util::Full;
use valor_host::error::DispatchError;
use valor_host::reply::{self as rules, set_by_host};
pub use valor_host::reply::{Tag, PLUGIN_HEADER};

/// A status, headers (raw bytes, in order, names may repeat) and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A plain-text reply.
    pub fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            headers: vec![(b"content-type".to_vec(), rules::TEXT.into())],
            body: text.as_bytes().to_vec(),
        }
    }

    /// A plugin's response, read out of its memory.
    pub fn from_frame(frame: valor_host::guest::Frame<Vec<u8>>) -> Self {
        let head = frame.head;
        let headers = head.headers.iter();
        Self {
            status: head.status,
            headers: headers
                .map(|(name, value)| {
                    (
                        head.bytes[name.clone()].to_vec(),
                        head.bytes[value.clone()].to_vec(),
                    )
                })
                .collect(),
            body: frame.body,
        }
    }

    /// The answer for `error`, tagged with the plugin it concerns, if any. Server errors are
    /// logged: the client sees only the status and the text.
    pub fn error(error: &DispatchError, tag: Option<Tag>) -> Self {
        if error.status().is_server_error() {
            tracing::error!("{error}");
        }
        let (status, text) = rules::error(error);
        let mut reply = Self::text(status, &text);
        if let Some(tag) = tag {
            reply.tag(tag);
        }
        reply
    }

    /// Marks the reply as `tag`'s plugin's. Headers the plugin set under the host's names (in
    /// any case) are dropped, so it cannot pass for another.
    pub fn tag(&mut self, tag: Tag) {
        self.headers
            .retain(|(name, value)| !set_by_host(name, value));
        let tagged = tag
            .headers()
            .map(|(name, value)| (name.into(), value.into()));
        self.headers.extend(tagged);
    }

    /// The reply in the ABI's encoding, for a plugin that fetched another.
    pub fn to_abi(&self) -> Vec<u8> {
        let headers: Vec<(&[u8], &[u8])> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_slice(), value.as_slice()))
            .collect();
        valor_abi::codec::encode_response_parts(self.status, &headers, &self.body)
    }

    /// The HTTP response. Fails, saying why, on what HTTP cannot carry (a status outside 200 to
    /// 599, as the browser host allows; a header name or value HTTP forbids).
    fn try_into_http(self) -> Result<http::Response<Full<Bytes>>, String> {
        rules::check_status(self.status)?;
        let body = if rules::has_null_body(self.status) {
            Bytes::new()
        } else {
            Bytes::from(self.body)
        };
        let mut response = http::Response::new(Full::new(body));
        *response.status_mut() =
            http::StatusCode::from_u16(self.status).map_err(|e| e.to_string())?;
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            let name = HeaderName::from_bytes(&name)
                .map_err(|_| format!("invalid header name {:?}", String::from_utf8_lossy(&name)))?;
            let value = HeaderValue::from_bytes(&value)
                .map_err(|_| format!("invalid value for header {name}"))?;
            headers.append(name, value);
        }
        Ok(response)
    }

    /// The response for a client: the reply, or a 500 saying why HTTP cannot carry it.
    pub fn into_http(self, tag: Option<Tag>) -> http::Response<Full<Bytes>> {
        self.try_into_http().unwrap_or_else(|reason| {
            Self::error(&rules::unsendable(tag, reason), tag)
                .try_into_http()
                .expect("a plain-text 500 is always a response")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_cannot_pass_for_another() {
        let mut reply = Reply::text(200, "hi");
        reply
            .headers
            .push((b"X-Valor-Plugin".to_vec(), b"admin".to_vec()));
        reply
            .headers
            .push((b"x-content-type-options".to_vec(), b"sniff".to_vec()));
        reply.tag(Tag {
            plugin: "hello",
            sandbox: true,
        });
        let response = reply.into_http(None);
        let headers = response.headers();
        assert_eq!(
            headers.get_all(PLUGIN_HEADER).iter().collect::<Vec<_>>(),
            ["hello"]
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-security-policy"], "sandbox");
    }

    #[test]
    fn what_http_cannot_carry_is_a_500_saying_why() {
        let tag = Tag {
            plugin: "p",
            sandbox: false,
        };
        let status = Reply {
            status: 99,
            headers: vec![],
            body: vec![],
        }
        .into_http(Some(tag));
        assert_eq!(status.status(), 500);
        let header = Reply {
            status: 200,
            headers: vec![(b"bad name".to_vec(), b"v".to_vec())],
            body: vec![],
        }
        .into_http(Some(tag));
        assert_eq!(header.status(), 500);
        assert_eq!(header.headers()[PLUGIN_HEADER], "p");
    }
}
