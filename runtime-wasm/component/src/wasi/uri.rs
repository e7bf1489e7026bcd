//! The syntax wasmtime-wasi-http checks a request's method, scheme, path and authority against:
//! the `http` crate's (1.x) rules, ported byte for byte, so that a setter refuses here what it
//! refuses on the server.

/// `tchar` (RFC 9110): what a method, and a header name, is made of.
pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `http::Method::from_bytes` accepts `name`.
pub(super) fn valid_method(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// Whether `http::uri::Scheme::try_from` accepts `name` (at most 64 bytes of letters, digits,
/// `+`, `-`, `.`, `~`).
pub(super) fn valid_scheme(name: &str) -> bool {
    name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.~".contains(&b))
}

/// The longest path `http` accepts.
const MAX_PATH_LEN: usize = u16::MAX as usize - 1;

/// Whether wasmtime's `parse_path_with_query` accepts `path`: it starts with `/` or `?`, and
/// `http::uri::PathAndQuery` accepts it (what follows a `#` is dropped when the request is
/// sent).
pub(super) fn valid_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    if !(path.starts_with('/') || path.starts_with('?')) || bytes.len() > MAX_PATH_LEN {
        return false;
    }
    let mut in_query = false;
    for &b in bytes {
        let valid = match b {
            b'#' => return true,
            b'?' if !in_query => {
                in_query = true;
                true
            }
            0x80..=0xFF => true,
            0x21 | 0x24..=0x3B | 0x3D => true,
            0x40..=0x5F | 0x61..=0x7A | 0x7C | 0x7E | b'"' | b'{' | b'}' if !in_query => true,
            0x3F..=0x7E if in_query => true,
            _ => false,
        };
        if !valid {
            return false;
        }
    }
    true
}

/// What a byte is to `http`'s authority parser.
#[derive(PartialEq, Eq)]
enum AuthorityByte {
    Plain,
    Special(u8),
    Invalid,
}

fn authority_byte(b: u8) -> AuthorityByte {
    match b {
        b'/' | b'?' | b'#' | b':' | b'[' | b']' | b'@' => AuthorityByte::Special(b),
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'-' | b'.' | b';'
        | b'=' | b'_' | b'~' => AuthorityByte::Plain,
        b if b.is_ascii_alphanumeric() => AuthorityByte::Plain,
        _ => AuthorityByte::Invalid,
    }
}

/// Whether `http::uri::Authority::try_from` accepts `authority` (its
/// `validate_authority_bytes`, and nothing after the authority).
pub(super) fn valid_authority(authority: &str) -> bool {
    let s = authority.as_bytes();
    if s.is_empty() {
        return false;
    }
    let (mut colons, mut has_percent) = (0, false);
    let (mut start_bracket, mut end_bracket) = (false, false);
    let mut at_sign = None;
    for (i, &b) in s.iter().enumerate() {
        match authority_byte(b) {
            AuthorityByte::Plain => {}
            AuthorityByte::Special(b'/' | b'?' | b'#') => return false,
            AuthorityByte::Invalid if b == b'%' => has_percent = true,
            AuthorityByte::Invalid => return false,
            AuthorityByte::Special(b':') => {
                if colons >= 8 {
                    return false;
                }
                colons += 1;
            }
            AuthorityByte::Special(b'[') => {
                if has_percent || start_bracket {
                    return false;
                }
                start_bracket = true;
            }
            AuthorityByte::Special(b']') => {
                if !start_bracket || end_bracket {
                    return false;
                }
                end_bracket = true;
                colons = 0;
                has_percent = false;
            }
            AuthorityByte::Special(_) => {
                at_sign = Some(i);
                colons = 0;
                has_percent = false;
            }
        }
    }
    start_bracket == end_bracket && colons <= 1 && at_sign != Some(s.len() - 1) && !has_percent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_http_parses_them() {
        for ok in [
            "/",
            "?q",
            "/a/b?c=d&e",
            "/x#frag ment",
            "/é",
            "/{\"json\"}",
            "/a\\b^c|d",
            "/a?b?c/[]",
        ] {
            assert!(valid_path(ok), "{ok}");
        }
        for bad in [
            "", "a", "*", "/a b", "/a<b", "/a`b", "/a>b", "/q?x y", "/\u{7f}", "/q?<",
        ] {
            assert!(!valid_path(bad), "{bad}");
        }
    }

    #[test]
    fn authorities_as_http_parses_them() {
        for ok in [
            "example.com",
            "a.example:8080",
            "user:pass@host",
            "[::1]:80",
            "[fe80::1%25en0]",
        ] {
            assert!(valid_authority(ok), "{ok}");
        }
        for bad in [
            "", "a b", "a/b", "a:1:2", "[::1", "host@", "ho%st", "a\"b", "a?",
        ] {
            assert!(!valid_authority(bad), "{bad}");
        }
    }

    #[test]
    fn schemes_and_methods_as_http_parses_them() {
        assert!(valid_scheme("git+ssh") && valid_scheme("") && !valid_scheme("a:b"));
        assert!(!valid_scheme(&"a".repeat(65)));
        assert!(valid_method("PROPFIND") && valid_method("get") && !valid_method("A B"));
        assert!(!valid_method(""));
    }
}
