//! Which hosts a plugin's outbound `fetch` may reach: the manifest entry's `allowed_hosts`.
//!
//! Denied by default. Entries are host names (`api.example.com`), IPv4 addresses, IPv6 literals
//! in brackets (`[::1]`), wildcards (`*.example.com`: any subdomain, not the bare domain), each
//! optionally with a port (`api.example.com:8443`), or `"self"`: the app's own origin (scheme,
//! host and port). An entry without a port allows the scheme's default port only (443 for
//! https, 80 for http): a port is a different service, and is listed on its own.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A parsed `allowed_hosts` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    self_origin: bool,
    exact: Vec<(String, Option<u16>)>,
    /// `.example.com` for `*.example.com`.
    suffixes: Vec<(String, Option<u16>)>,
}

/// The parts of a URL the allowlist looks at, as the URL parser gives them.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `scheme://host[:port]`
    pub origin: &'a str,
    /// Host without port: lowercase, IPv6 in brackets and normalised.
    pub hostname: &'a str,
    /// The port the request goes to, default or not.
    pub port: u16,
    /// The scheme's default port (443 for https, 80 for http).
    pub default_port: u16,
}

impl Allowlist {
    /// Parses and validates the entries.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut list = Allowlist::default();
        for entry in entries {
            let lower = entry.trim().to_ascii_lowercase();
            let invalid = |why: &str| {
                format!(
                    "invalid allowed_hosts entry {entry:?}: {why} (use a host name, an IP \
                     address, [IPv6], *.domain, each optionally with :port, or \"self\")"
                )
            };
            if lower.contains('/') {
                return Err(invalid("give a host, not a URL"));
            } else if lower == "self" {
                list.self_origin = true;
            } else if let Some(domain) = lower.strip_prefix("*.") {
                let (host, port) = split_port(domain).map_err(|why| invalid(&why))?;
                if host.starts_with('[') || check_ipv4(&host).is_some() {
                    return Err(invalid("a wildcard needs a domain name"));
                }
                let host = normalise_host(&host).map_err(|why| invalid(&why))?;
                list.suffixes.push((format!(".{host}"), port));
            } else {
                let (host, port) = split_port(&lower).map_err(|why| invalid(&why))?;
                let host = normalise_host(&host).map_err(|why| invalid(&why))?;
                list.exact.push((host, port));
            }
        }
        Ok(list)
    }

    /// Whether a request to `target` may go out, for an app whose origin is `app_origin`.
    pub fn allows(&self, target: Target<'_>, app_origin: &str) -> bool {
        let port_ok = |port: &Option<u16>| match port {
            Some(port) => *port == target.port,
            None => target.port == target.default_port,
        };
        (self.self_origin && target.origin == app_origin)
            || self
                .exact
                .iter()
                .any(|(host, port)| host == target.hostname && port_ok(port))
            || self
                .suffixes
                .iter()
                .any(|(suffix, port)| target.hostname.ends_with(suffix.as_str()) && port_ok(port))
    }

    /// The error a denied plugin sees: which host, and how to allow it.
    pub fn denial(plugin: &str, target: Target<'_>, app_origin: &str) -> String {
        let host = if target.port == target.default_port {
            target.hostname.to_owned()
        } else {
            format!("{}:{}", target.hostname, target.port)
        };
        let entry = if target.origin == app_origin {
            "\"self\"".to_owned()
        } else {
            format!("{host:?}")
        };
        format!(
            "fetch to {} denied: plugin '{plugin}' may not reach host {host}; \
             add {entry} to \"allowed_hosts\" in its manifest entry",
            target.origin
        )
    }
}

/// Splits `host[:port]` (`[v6][:port]` for IPv6).
fn split_port(entry: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if entry.starts_with('[') {
        let end = entry
            .find(']')
            .ok_or("an IPv6 address needs its closing ]")?;
        let rest = &entry[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(port) => Some(port),
            None if rest.is_empty() => None,
            None => return Err("only :port may follow ]".into()),
        };
        (&entry[..=end], port)
    } else {
        match entry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (entry, None),
        }
    };
    let port = port
        .map(|port| match port.parse::<u16>() {
            Ok(number) if number > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(number),
            _ => Err(format!("{port:?} is not a port (1 to 65535)")),
        })
        .transpose()?;
    Ok((host.to_owned(), port))
}

/// The host as `URL.hostname` shows it, so the two compare as strings.
fn normalise_host(host: &str) -> Result<String, String> {
    if let Some(literal) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let address: Ipv6Addr = literal
            .parse()
            .map_err(|_| format!("{literal:?} is not an IPv6 address"))?;
        return Ok(format!("[{}]", serialise_ipv6(address)));
    }
    if let Some(result) = check_ipv4(host) {
        return result.map(|address| address.to_string());
    }
    let valid = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(host.to_owned())
    } else {
        Err(format!("{host:?} is not a host name"))
    }
}

/// URL parsers read a host whose last label is a number as an IPv4 address (and rewrite forms
/// such as `127.1`): only the dotted-decimal form they produce can ever match.
fn check_ipv4(host: &str) -> Option<Result<Ipv4Addr, String>> {
    let last = host.rsplit('.').next()?;
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        host.parse::<Ipv4Addr>()
            .ok()
            .filter(|address| address.to_string() == host)
            .ok_or_else(|| format!("write the IPv4 address {host:?} as four decimal numbers")),
    )
}

/// The URL standard's IPv6 serialisation: lowercase hex, the first longest run of two or more
/// zero pieces as `::` (unlike `Ipv6Addr`'s `Display`, which writes IPv4-mapped forms).
fn serialise_ipv6(address: Ipv6Addr) -> String {
    let pieces = address.segments();
    let (mut best, mut run) = ((0, 0), (0, 0));
    for (i, piece) in pieces.iter().enumerate() {
        if *piece == 0 {
            run = if run.1 == 0 {
                (i, 1)
            } else {
                (run.0, run.1 + 1)
            };
            if run.1 > best.1 {
                best = run;
            }
        } else {
            run = (0, 0);
        }
    }
    let hex = |range: &[u16]| {
        range
            .iter()
            .map(|p| format!("{p:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best.1 < 2 {
        return hex(&pieces);
    }
    let (start, end) = (best.0, best.0 + best.1);
    format!("{}::{}", hex(&pieces[..start]), hex(&pieces[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "https://app.test";

    fn list(entries: &[&str]) -> Allowlist {
        Allowlist::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    /// A target as `web_sys::Url` gives it for `scheme://hostname[:port]`.
    fn url(scheme: &str, hostname: &str, port: Option<u16>) -> (String, String, u16, u16) {
        let default_port = if scheme == "https" { 443 } else { 80 };
        let origin = match port.filter(|p| *p != default_port) {
            Some(port) => format!("{scheme}://{hostname}:{port}"),
            None => format!("{scheme}://{hostname}"),
        };
        (
            origin,
            hostname.to_owned(),
            port.unwrap_or(default_port),
            default_port,
        )
    }

    fn allows(list: &Allowlist, scheme: &str, hostname: &str, port: Option<u16>) -> bool {
        let (origin, hostname, port, default_port) = url(scheme, hostname, port);
        list.allows(
            Target {
                origin: &origin,
                hostname: &hostname,
                port,
                default_port,
            },
            APP,
        )
    }

    #[test]
    fn denies_by_default() {
        let nothing = list(&[]);
        assert!(!allows(&nothing, "https", "app.test", None));
        assert!(!allows(&nothing, "https", "a.com", None));
    }

    #[test]
    fn self_is_the_apps_origin_only() {
        let own = list(&["self"]);
        assert!(allows(&own, "https", "app.test", None));
        assert!(allows(&own, "https", "app.test", Some(443)));
        assert!(!allows(&own, "http", "app.test", None));
        assert!(!allows(&own, "https", "app.test", Some(8443)));
    }

    #[test]
    fn a_host_without_a_port_means_the_default_port_of_either_scheme() {
        let hosts = list(&["API.example.com"]);
        assert!(allows(&hosts, "https", "api.example.com", None));
        assert!(allows(&hosts, "http", "api.example.com", None));
        assert!(allows(&hosts, "http", "api.example.com", Some(80)));
        for port in [81, 8080, 8443] {
            assert!(!allows(&hosts, "https", "api.example.com", Some(port)));
        }
        assert!(!allows(&hosts, "http", "api.example.com", Some(443)));
        assert!(!allows(&hosts, "https", "example.com", None));
    }

    #[test]
    fn a_port_pins_that_port_only() {
        let pinned = list(&["local:8080", "api.example.com:443"]);
        assert!(allows(&pinned, "http", "local", Some(8080)));
        assert!(allows(&pinned, "https", "local", Some(8080)));
        assert!(!allows(&pinned, "http", "local", Some(9090)));
        assert!(!allows(&pinned, "http", "local", None));
        // 443 is the default of https and any port for http.
        assert!(allows(&pinned, "https", "api.example.com", None));
        assert!(allows(&pinned, "http", "api.example.com", Some(443)));
        assert!(!allows(&pinned, "http", "api.example.com", None));
    }

    #[test]
    fn wildcards_match_subdomains_on_their_port() {
        let wild = list(&["*.example.com", "*.dev.test:3000"]);
        assert!(allows(&wild, "https", "a.example.com", None));
        assert!(allows(&wild, "https", "a.b.example.com", None));
        assert!(!allows(&wild, "https", "a.example.com", Some(8443)));
        assert!(!allows(&wild, "https", "example.com", None));
        assert!(!allows(&wild, "https", "badexample.com", None));
        assert!(allows(&wild, "http", "x.dev.test", Some(3000)));
        assert!(!allows(&wild, "http", "x.dev.test", None));
    }

    #[test]
    fn ip_addresses_compare_as_the_url_parser_writes_them() {
        let ips = list(&[
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "[2001:DB8:0:0:0:0:0:1]",
            "[::ffff:1.2.3.4]",
        ]);
        assert!(allows(&ips, "http", "127.0.0.1", Some(8080)));
        assert!(!allows(&ips, "http", "127.0.0.1", None));
        assert!(allows(&ips, "http", "[::1]", None));
        assert!(allows(&ips, "https", "[::1]", None));
        assert!(allows(&ips, "http", "[::1]", Some(8080)));
        assert!(!allows(&ips, "http", "[::1]", Some(9090)));
        assert!(allows(&ips, "https", "[2001:db8::1]", None));
        assert!(allows(&ips, "https", "[::ffff:102:304]", None));
        assert_eq!(
            [
                "[1:0:0:2:0:0:0:3]",
                "[0:0:1::]",
                "[1:2:3:4:5:6:0:8]",
                "[1:0:0:2:2:0:0:3]"
            ]
            .map(normalise_host),
            [
                Ok("[1:0:0:2::3]".to_owned()),
                Ok("[0:0:1::]".to_owned()),
                Ok("[1:2:3:4:5:6:0:8]".to_owned()),
                Ok("[1::2:2:0:0:3]".to_owned()),
            ]
        );
    }

    #[test]
    fn invalid_entries_are_refused() {
        for bad in [
            "",
            "*",
            "*.",
            "http://a.com",
            "a..b",
            "a.com:99999",
            "a.com:0",
            "a.com:+80",
            "a.com:",
            "a/b",
            "*.*.com",
            "::1",
            "[::1",
            "[::1]x",
            "[nope]",
            "127.1",
            "1.2.3.04",
            "*.[::1]",
            "*.1.2.3.4",
        ] {
            assert!(
                Allowlist::parse(&[bad.to_owned()]).is_err(),
                "{bad:?} was accepted"
            );
        }
        let error = Allowlist::parse(&["a.com:99999".into()]).unwrap_err();
        assert!(
            error.starts_with(
                "invalid allowed_hosts entry \"a.com:99999\": \"99999\" is not a port"
            ),
            "{error}"
        );
    }

    #[test]
    fn the_denial_says_which_host_and_how_to_allow_it() {
        let message = |scheme, hostname, port| {
            let (origin, hostname, port, default_port) = url(scheme, hostname, port);
            let target = Target {
                origin: &origin,
                hostname: &hostname,
                port,
                default_port,
            };
            Allowlist::denial("proxy", target, APP)
        };
        assert_eq!(
            message("https", "evil.com", None),
            "fetch to https://evil.com denied: plugin 'proxy' may not reach host evil.com; \
             add \"evil.com\" to \"allowed_hosts\" in its manifest entry"
        );
        let ported = message("http", "[::1]", Some(8080));
        assert!(
            ported.contains("host [::1]:8080; add \"[::1]:8080\""),
            "{ported}"
        );
        let own = message("https", "app.test", None);
        assert!(own.contains("add \"self\""), "{own}");
    }
}
