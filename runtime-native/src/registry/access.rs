//! Who may use the server's registry. Never the world:
//!
//! - with a token (`VALOR_REGISTRY_TOKEN`), any client that sends `Authorization: Bearer
//!   <token>`;
//! - without one, only this machine: a loopback peer, not forwarding for someone else
//!   (`forwarded`, `x-forwarded-for`), calling a loopback host name (a page whose own name
//!   was rebound to 127.0.0.1 does not).
//!
//! And never a page of another site through a browser on this machine: a request whose
//! `origin` is not the server's own, or that the browser marks cross-site, is refused.

use http::header::{self, HeaderMap};
use std::net::SocketAddr;
use valor_host::registry::Answer;

/// The environment variable holding the registry's bearer token.
pub const TOKEN_VARIABLE: &str = "VALOR_REGISTRY_TOKEN";

/// How callers are let in.
#[derive(Clone)]
pub enum Access {
    /// Callers on this machine only.
    Loopback,
    /// Callers that present this token.
    Token(String),
}

impl Access {
    /// A token if the environment gives a non-empty one, else loopback only.
    pub fn from_env() -> Self {
        match std::env::var(TOKEN_VARIABLE) {
            Ok(token) if !token.trim().is_empty() => Self::Token(token.trim().to_owned()),
            _ => Self::Loopback,
        }
    }

    /// What the log says of it.
    pub fn describe(&self) -> String {
        match self {
            Self::Loopback => format!(
                "to this machine only (set {TOKEN_VARIABLE} to open it to holders of a token)"
            ),
            Self::Token(_) => format!("to clients sending the bearer token of {TOKEN_VARIABLE}"),
        }
    }

    /// Refuses (401 or 403, saying why) a request from `peer` with `headers`, to a server
    /// whose public origin is `origin`.
    pub fn check(&self, peer: SocketAddr, headers: &HeaderMap, origin: &str) -> Result<(), Answer> {
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .map(|value| value.to_str().unwrap_or("(not text)"))
        };
        if let Some(page) = text(header::ORIGIN).filter(|page| *page != origin) {
            return Err(forbidden(&format!(
                "the request comes from a page of {page}"
            )));
        }
        if let Some(site) = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .filter(|site| !matches!(*site, "same-origin" | "none"))
        {
            return Err(forbidden(&format!(
                "the request comes from another site ({site})"
            )));
        }
        match self {
            Self::Token(token) => {
                let presented = text(header::AUTHORIZATION)
                    .and_then(|value| value.strip_prefix("Bearer "))
                    .map(str::trim);
                match presented {
                    Some(presented) if same(presented.as_bytes(), token.as_bytes()) => Ok(()),
                    Some(_) => Err(unauthorized("the bearer token is not the registry's")),
                    None => Err(unauthorized(&format!(
                        "send Authorization: Bearer <the token of {TOKEN_VARIABLE}>"
                    ))),
                }
            }
            Self::Loopback => {
                if !peer.ip().is_loopback() {
                    return Err(forbidden(&format!(
                        "{} is not this machine (set {TOKEN_VARIABLE} on the server to let \
                         holders of a token in)",
                        peer.ip()
                    )));
                }
                if headers.contains_key(header::FORWARDED)
                    || headers.contains_key("x-forwarded-for")
                {
                    return Err(forbidden(
                        "the request was forwarded by a proxy for another client",
                    ));
                }
                let host = text(header::HOST).unwrap_or_default();
                if !is_loopback_host(host) {
                    return Err(forbidden(&format!(
                        "it was sent to {host:?}, not to a loopback address"
                    )));
                }
                Ok(())
            }
        }
    }
}

fn forbidden(reason: &str) -> Answer {
    Answer::text(
        403,
        format!("the plugin registry refuses this request: {reason}"),
    )
}

fn unauthorized(reason: &str) -> Answer {
    let mut answer = Answer::text(
        401,
        format!("the plugin registry needs its token: {reason}"),
    );
    answer
        .headers
        .push(("www-authenticate", "Bearer".to_owned()));
    answer
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Compares in a time that does not depend on where the bytes differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    header::HeaderName::from_static(name),
                    value.parse().expect("a header value"),
                )
            })
            .collect()
    }

    const ORIGIN: &str = "http://127.0.0.1:8787";
    const LOCAL: &str = "127.0.0.1:50000";

    fn status(access: &Access, peer: &str, pairs: &[(&'static str, &str)]) -> u16 {
        let peer = peer.parse().expect("an address");
        match access.check(peer, &headers(pairs), ORIGIN) {
            Ok(()) => 200,
            Err(answer) => answer.status,
        }
    }

    #[test]
    fn loopback_lets_in_this_machine_only() {
        let access = Access::Loopback;
        assert_eq!(status(&access, LOCAL, &[("host", "127.0.0.1:8787")]), 200);
        assert_eq!(status(&access, "[::1]:5", &[("host", "[::1]:8787")]), 200);
        assert_eq!(status(&access, LOCAL, &[("host", "localhost:8787")]), 200);
        assert_eq!(
            status(&access, "10.0.0.2:5", &[("host", "127.0.0.1:8787")]),
            403
        );
        assert_eq!(
            status(&access, LOCAL, &[("host", "evil.example:8787")]),
            403
        );
        assert_eq!(
            status(
                &access,
                LOCAL,
                &[("host", "127.0.0.1"), ("x-forwarded-for", "1.2.3.4")]
            ),
            403
        );
    }

    #[test]
    fn other_sites_pages_are_refused_whatever_the_access() {
        for access in [Access::Loopback, Access::Token("t".into())] {
            let cross = [
                ("host", "127.0.0.1:8787"),
                ("origin", "https://evil.example"),
                ("authorization", "Bearer t"),
            ];
            assert_eq!(status(&access, LOCAL, &cross), 403);
            let marked = [
                ("host", "127.0.0.1:8787"),
                ("sec-fetch-site", "cross-site"),
                ("authorization", "Bearer t"),
            ];
            assert_eq!(status(&access, LOCAL, &marked), 403);
        }
    }

    #[test]
    fn a_token_lets_in_whoever_holds_it() {
        let access = Access::Token("s3cret".into());
        assert_eq!(
            status(&access, "10.0.0.2:5", &[("authorization", "Bearer s3cret")]),
            200
        );
        assert_eq!(
            status(&access, "10.0.0.2:5", &[("authorization", "Bearer s3cre")]),
            401
        );
        assert_eq!(status(&access, LOCAL, &[("host", "127.0.0.1")]), 401);
        assert_eq!(
            status(
                &access,
                LOCAL,
                &[("origin", ORIGIN), ("authorization", "Bearer s3cret")]
            ),
            200
        );
    }
}
