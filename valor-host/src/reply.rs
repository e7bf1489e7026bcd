//! What a request gets back, on every host: a [`Reply`] (`message`), whoever produced it (a
//! plugin's frame, the registry, an error); here, the rules every reply follows on its way out: the headers that tag it with
//! its plugin (a plugin cannot pass for another), the statuses a host sends, the statuses that
//! carry no body, and the content type of a host's own texts.

mod message;

pub use message::{Body, Host, Reply, SentParts};

/// A host for tests: plugins' bodies are vectors, and nothing is logged.
#[cfg(test)]
#[derive(Debug)]
pub(crate) enum Test {}

#[cfg(test)]
impl Host for Test {
    type Body = Vec<u8>;
    type Stream = futures::stream::Empty<Result<crate::streamed::Chunk<Vec<u8>>, String>>;

    fn bytes(body: &Vec<u8>) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(body)
    }

    fn log(_: &DispatchError) {}
}

use crate::error::DispatchError;
use crate::manifest::PluginSpec;

/// The header on every response a plugin produced, naming the plugin.
pub const PLUGIN_HEADER: &str = "x-valor-plugin";

/// Forbids a browser to guess another content type than a response declares: a plugin's JSON is
/// never run as a script.
const NOSNIFF: (&str, &str) = ("x-content-type-options", "nosniff");

/// Makes a document a response carries run in an opaque origin, never as the app's (the entry's
/// `sandbox`). Appended: browsers enforce every policy a response carries, the plugin's own too.
const SANDBOX: (&str, &str) = ("content-security-policy", "sandbox");

/// How many headers a tag adds at most (see [`Tag::headers`]): a plugin's frame keeps room for
/// them, so tagging its reply moves nothing.
pub(crate) const TAG_HEADERS: usize = 3;

/// The `content-type` of a host's own plain-text answers.
const TEXT: &str = "text/plain; charset=utf-8";

/// Which plugin a reply comes from, and whether its entry sandboxes its documents.
#[derive(Debug, Clone, Copy)]
pub struct Tag<'a> {
    /// The plugin's name (validated to a header-safe alphabet when its entry was read).
    pub plugin: &'a str,
    /// Its entry's `sandbox`.
    pub sandbox: bool,
}

impl<'a> Tag<'a> {
    /// The tag of the plugin of entry `spec`.
    pub fn of(spec: &'a PluginSpec) -> Self {
        Tag {
            plugin: &spec.name,
            sandbox: spec.sandbox,
        }
    }

    /// The headers a tagged reply carries, after those of its own that `set_by_host` drops.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let sandbox = self.sandbox.then_some(SANDBOX);
        [(PLUGIN_HEADER, self.plugin), NOSNIFF]
            .into_iter()
            .chain(sandbox)
    }
}

/// Whether a header is one the host sets on a tagged reply (a plugin's own copy, in any case,
/// is dropped): the plugin's name, nosniff, and the sandbox policy (one is enough, however many
/// plugins a reply passed through).
fn set_by_host(name: &[u8], value: &[u8]) -> bool {
    name.eq_ignore_ascii_case(PLUGIN_HEADER.as_bytes())
        || name.eq_ignore_ascii_case(NOSNIFF.0.as_bytes())
        || (name.eq_ignore_ascii_case(SANDBOX.0.as_bytes()) && value == SANDBOX.1.as_bytes())
}

/// Accepts a status a host sends (200 to 599, as browsers allow a service worker), or says why
/// not.
fn check_status(status: u16) -> Result<(), String> {
    match status {
        200..=599 => Ok(()),
        _ => Err(format!(
            "status {status} cannot be sent: a Valor host answers only 200 to 599"
        )),
    }
}

/// Whether a response with `status` carries no body (the Fetch standard's null-body statuses):
/// a plugin's body is dropped rather than refused.
fn has_null_body(status: u16) -> bool {
    matches!(status, 204 | 205 | 304)
}

/// The error a reply the host cannot send (`reason`) becomes, for the plugin of `tag`.
fn unsendable(tag: Option<Tag>, reason: String) -> DispatchError {
    DispatchError::InvalidResponse {
        plugin: tag.map(|tag| tag.plugin).unwrap_or_default().to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_the_plugin_and_sandboxes_if_asked() {
        let tag = Tag {
            plugin: "notes",
            sandbox: true,
        };
        let headers: Vec<_> = tag.headers().collect();
        assert_eq!(
            headers,
            [
                ("x-valor-plugin", "notes"),
                ("x-content-type-options", "nosniff"),
                ("content-security-policy", "sandbox")
            ]
        );
        assert!(set_by_host(b"X-Valor-Plugin", b"admin"));
        assert!(set_by_host(b"content-security-policy", b"sandbox"));
        assert!(!set_by_host(
            b"content-security-policy",
            b"default-src 'self'"
        ));
    }

    #[test]
    fn only_statuses_a_worker_can_send_are_sent() {
        assert!(check_status(200).is_ok() && check_status(599).is_ok());
        let refused = check_status(99).unwrap_err();
        assert_eq!(
            refused,
            "status 99 cannot be sent: a Valor host answers only 200 to 599"
        );
        assert!(has_null_body(204) && !has_null_body(200));
    }
}
