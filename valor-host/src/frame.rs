//! A plugin's response frame, read in place: its status and headers from its first bytes, and
//! where its body lies, with no `http` values (the encoding is `valor_abi::codec`'s).
//!
//! Names and values are not checked here: the host checks them when it builds its response
//! (the browser, as it builds the `Response`; the server, with the `http` crate), answering 500
//! with the reason, and a plugin that fetched another decodes them.

use std::ops::Range;

/// How much of a frame is copied out of plugin memory to read its head. A longer frame whose
/// headers do not fit in that much is copied whole.
pub const HEAD_PREFIX_BYTES: u32 = 16 * 1024;

/// A response frame's status and headers, and where its body is.
#[derive(Debug, PartialEq, Eq)]
pub struct FrameHead {
    /// The status code.
    pub status: u16,
    /// The bytes `headers` point into: the first bytes of the frame.
    pub bytes: Vec<u8>,
    /// Each header's name and value.
    pub headers: Vec<(Range<usize>, Range<usize>)>,
    /// Where the body is in the frame.
    pub body: Range<u32>,
}

impl FrameHead {
    /// Reads the head of a `len`-byte frame from `prefix`, its first bytes. `Ok(None)` when the
    /// head does not end within `prefix` but may within the frame: read it whole then.
    pub fn parse(prefix: Vec<u8>, len: u32) -> Result<Option<Self>, String> {
        let whole = prefix.len() as u64 >= u64::from(len);
        let mut at = 0;
        let parsed = (|| {
            let status = read_u32(&prefix, &mut at)?;
            let count = read_u32(&prefix, &mut at)?;
            // Each header takes at least 8 bytes: a count the frame cannot hold is refused
            // before anything is reserved for it.
            let rest = u64::from(len).saturating_sub(at as u64);
            if u64::from(count) > rest / 8 {
                return Err(Short::Frame);
            }
            let room = count as usize + crate::reply::TAG_HEADERS;
            let mut headers = Vec::with_capacity(room);
            for _ in 0..count {
                let name = read_field(&prefix, &mut at)?;
                let value = read_field(&prefix, &mut at)?;
                headers.push((name, value));
            }
            let body_len = read_u32(&prefix, &mut at)?;
            Ok((status, headers, body_len))
        })();
        let (status, headers, body_len) = match parsed {
            Ok(parsed) => parsed,
            Err(Short::Prefix) if !whole => return Ok(None),
            Err(_) => return Err(format!("the response frame of {len} bytes is truncated")),
        };
        let start = at as u64;
        let end = start + u64::from(body_len);
        if end != u64::from(len) {
            return Err(if end > u64::from(len) {
                format!("the response frame of {len} bytes is truncated")
            } else {
                format!(
                    "{} unexpected bytes after the response",
                    u64::from(len) - end
                )
            });
        }
        let status = u16::try_from(status)
            .ok()
            .filter(|status| (100..=999).contains(status))
            .ok_or_else(|| format!("invalid status code {status}"))?;
        let mut bytes = prefix;
        bytes.truncate(at);
        Ok(Some(Self {
            status,
            bytes,
            headers,
            body: start as u32..len,
        }))
    }
}

/// Why the head could not be read.
enum Short {
    /// The prefix ended first: the rest of the frame may hold it.
    Prefix,
    /// The frame cannot hold it.
    Frame,
}

fn read_u32(bytes: &[u8], at: &mut usize) -> Result<u32, Short> {
    let word = bytes.get(*at..*at + 4).ok_or(Short::Prefix)?;
    *at += 4;
    Ok(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
}

fn read_field(bytes: &[u8], at: &mut usize) -> Result<Range<usize>, Short> {
    let len = read_u32(bytes, at)? as usize;
    let start = *at;
    let end = start.checked_add(len).ok_or(Short::Frame)?;
    if end > bytes.len() {
        return Err(Short::Prefix);
    }
    *at = end;
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use valor_abi::codec::encode_response;

    fn frame() -> Vec<u8> {
        let mut response = http::Response::new(vec![7u8; 100]);
        *response.status_mut() = http::StatusCode::CREATED;
        response
            .headers_mut()
            .insert("content-type", "text/plain".parse().unwrap());
        response
            .headers_mut()
            .append("set-cookie", "a=1".parse().unwrap());
        encode_response(&response)
    }

    #[test]
    fn reads_status_headers_and_where_the_body_is() {
        let frame = frame();
        let len = frame.len() as u32;
        let head = FrameHead::parse(frame.clone(), len).unwrap().unwrap();
        assert_eq!(head.status, 201);
        let pairs: Vec<_> = head
            .headers
            .iter()
            .map(|(n, v)| (&head.bytes[n.clone()], &head.bytes[v.clone()]))
            .collect();
        assert_eq!(
            pairs,
            [
                (&b"content-type"[..], &b"text/plain"[..]),
                (b"set-cookie", b"a=1")
            ]
        );
        assert_eq!(head.body, len - 100..len);
        assert_eq!(&frame[head.body.start as usize..], &[7; 100][..]);
    }

    #[test]
    fn a_head_past_the_prefix_asks_for_the_whole_frame() {
        let frame = frame();
        let len = frame.len() as u32;
        assert_eq!(FrameHead::parse(frame[..20].to_vec(), len), Ok(None));
        // The body need not be in the prefix.
        assert!(FrameHead::parse(frame[..len as usize - 100].to_vec(), len)
            .unwrap()
            .is_some());
    }

    #[test]
    fn refuses_what_is_not_a_frame() {
        let frame = frame();
        let len = frame.len() as u32;
        let short = FrameHead::parse(frame[..len as usize - 1].to_vec(), len - 1);
        assert!(short.unwrap_err().contains("truncated"));
        let mut long = frame.clone();
        long.push(0);
        assert_eq!(
            FrameHead::parse(long, len + 1),
            Err("1 unexpected bytes after the response".into())
        );
        let mut bad_status = frame.clone();
        bad_status[..4].copy_from_slice(&70_000u32.to_le_bytes());
        assert_eq!(
            FrameHead::parse(bad_status, len),
            Err("invalid status code 70000".into())
        );
        let mut many = frame;
        many[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(FrameHead::parse(many, len)
            .unwrap_err()
            .contains("truncated"));
    }
}
