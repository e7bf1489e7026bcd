//! Which hosts a plugin's outbound `fetch` may reach: the manifest entry's `allowed_hosts`.
//!
//! Denied by default. Entries are exact host names (`api.example.com`, or `host:port` to pin a
//! port), wildcards (`*.example.com`: any subdomain, not the bare domain), or `"self"`: the app's
//! own origin (scheme, host and port).

/// A parsed `allowed_hosts` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    self_origin: bool,
    exact: Vec<String>,
    suffixes: Vec<String>,
}

/// The parts of a URL the allowlist looks at.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `scheme://host[:port]`
    pub origin: &'a str,
    /// Host name without port, lowercase.
    pub hostname: &'a str,
    /// Host with port when the URL has a non-default one.
    pub host: &'a str,
}

impl Allowlist {
    /// Parses and validates the entries.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut list = Allowlist::default();
        for entry in entries {
            let entry = entry.trim().to_ascii_lowercase();
            if entry == "self" {
                list.self_origin = true;
            } else if let Some(domain) = entry.strip_prefix("*.") {
                check_host(domain, &entry)?;
                list.suffixes.push(format!(".{domain}"));
            } else {
                check_host(&entry, &entry)?;
                list.exact.push(entry);
            }
        }
        Ok(list)
    }

    /// Whether a request to `target` may go out, for an app whose origin is `app_origin`.
    pub fn allows(&self, target: Target<'_>, app_origin: &str) -> bool {
        (self.self_origin && target.origin == app_origin)
            || self
                .exact
                .iter()
                .any(|host| host == target.hostname || host == target.host)
            || self
                .suffixes
                .iter()
                .any(|suffix| target.hostname.ends_with(suffix.as_str()))
    }

    /// The error a denied plugin sees: which host, and how to allow it.
    pub fn denial(plugin: &str, target: Target<'_>, app_origin: &str) -> String {
        let entry = if target.origin == app_origin {
            "\"self\"".to_owned()
        } else {
            format!("{:?}", target.hostname)
        };
        format!(
            "fetch to {} denied: plugin '{plugin}' may not reach host {}; \
             add {entry} to \"allowed_hosts\" in its manifest entry",
            target.origin, target.host
        )
    }
}

fn check_host(host: &str, entry: &str) -> Result<(), String> {
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    let valid_name = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let valid_port = port.is_empty() || port.parse::<u16>().is_ok();
    if valid_name && valid_port {
        Ok(())
    } else {
        Err(format!(
            "invalid allowed_hosts entry {entry:?}: use a host name, host:port, *.domain or \"self\""
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "https://app.test";

    fn list(entries: &[&str]) -> Allowlist {
        Allowlist::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn target<'a>(origin: &'a str, hostname: &'a str, host: &'a str) -> Target<'a> {
        Target {
            origin,
            hostname,
            host,
        }
    }

    #[test]
    fn denies_by_default() {
        let nothing = list(&[]);
        assert!(!nothing.allows(target(APP, "app.test", "app.test"), APP));
        assert!(!nothing.allows(target("https://a.com", "a.com", "a.com"), APP));
    }

    #[test]
    fn self_is_the_apps_origin_only() {
        let own = list(&["self"]);
        assert!(own.allows(target(APP, "app.test", "app.test"), APP));
        assert!(!own.allows(target("http://app.test", "app.test", "app.test"), APP));
        assert!(!own.allows(
            target("https://app.test:8443", "app.test", "app.test:8443"),
            APP
        ));
    }

    #[test]
    fn exact_hosts_and_ports() {
        let hosts = list(&["API.example.com", "local:8080"]);
        assert!(hosts.allows(
            target(
                "https://api.example.com",
                "api.example.com",
                "api.example.com"
            ),
            APP
        ));
        assert!(hosts.allows(
            target(
                "http://api.example.com:81",
                "api.example.com",
                "api.example.com:81"
            ),
            APP
        ));
        assert!(!hosts.allows(
            target("https://example.com", "example.com", "example.com"),
            APP
        ));
        assert!(hosts.allows(target("http://local:8080", "local", "local:8080"), APP));
        assert!(!hosts.allows(target("http://local:9090", "local", "local:9090"), APP));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let wild = list(&["*.example.com"]);
        assert!(wild.allows(
            target("https://a.example.com", "a.example.com", "a.example.com"),
            APP
        ));
        assert!(wild.allows(
            target(
                "https://a.b.example.com",
                "a.b.example.com",
                "a.b.example.com"
            ),
            APP
        ));
        assert!(!wild.allows(
            target("https://example.com", "example.com", "example.com"),
            APP
        ));
        assert!(!wild.allows(
            target("https://badexample.com", "badexample.com", "badexample.com"),
            APP
        ));
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
            "a/b",
            "*.*.com",
        ] {
            assert!(
                Allowlist::parse(&[bad.to_owned()]).is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn the_denial_says_which_host_and_how_to_allow_it() {
        let message = Allowlist::denial(
            "proxy",
            target("https://evil.com", "evil.com", "evil.com"),
            APP,
        );
        assert_eq!(
            message,
            "fetch to https://evil.com denied: plugin 'proxy' may not reach host evil.com; \
             add \"evil.com\" to \"allowed_hosts\" in its manifest entry"
        );
        let own = Allowlist::denial("p", target(APP, "app.test", "app.test"), APP);
        assert!(own.contains("add \"self\""), "{own}");
    }
}
