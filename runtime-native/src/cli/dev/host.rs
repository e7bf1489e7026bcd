//! The host names the dev server answers to. A page of another site can have its own name
//! resolve to 127.0.0.1 (DNS rebinding) and then read what the dev server says (build errors,
//! with source lines and paths, the manifest, the files): only its browser's `Host` header
//! tells such a request apart. So: `localhost`, loopback addresses, and the address listened
//! on (any address of this machine, when that is all of them); no other name.

use std::net::{IpAddr, SocketAddr};

/// Why a request with `host` (its `Host` header) is refused by a server listening on
/// `listening`, if it is.
pub fn refused(host: Option<&str>, listening: SocketAddr) -> Option<String> {
    let Some(host) = host else {
        return Some("the request has no Host header: send the one of its URL\n".into());
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or("", |(name, _)| name),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let allowed = match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip == listening.ip() || listening.ip().is_unspecified(),
        Err(_) => name.eq_ignore_ascii_case("localhost"),
    };
    (!allowed).then(|| {
        format!(
            "valor dev answers only requests to localhost, 127.0.0.1, [::1] or {}, not to \
             {host:?}: a page of another site can make its own name lead here. Open \
             http://localhost:{}/ instead\n",
            listening.ip(),
            listening.port()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_the_address_listened_on_are_answered() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for host in [
            "localhost",
            "localhost:8080",
            "LocalHost:1",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
        ] {
            assert_eq!(refused(Some(host), local), None, "{host}");
        }
        let lan: SocketAddr = "192.168.1.5:8080".parse().unwrap();
        assert_eq!(refused(Some("192.168.1.5:8080"), lan), None);
        let everywhere: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(refused(Some("10.0.0.7:8080"), everywhere), None);
    }

    #[test]
    fn other_names_are_refused() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "192.168.1.5:8080",
            "[::1",
            "",
        ] {
            let reason = refused(Some(host), local).expect(host);
            assert!(reason.contains("http://localhost:8080/"), "{reason}");
        }
        assert!(refused(None, local).is_some());
        let everywhere: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(refused(Some("rebound.example:8080"), everywhere).is_some());
    }
}
