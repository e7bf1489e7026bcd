//! The policy half of a plugin's outbound `fetch`, the same on every host: the request decoded,
//! its body within the plugin's limit, its URL resolved against the app's origin (by the host's
//! own URL parser), http or https only, checked against the allowlist, and sent to a plugin of
//! the same origin or to the network. Sending is the host's.

use crate::allowlist::{Allowlist, Target};
use crate::result::{denied, failed, ok};
use valor_abi::codec;

/// Why an outbound request got no answer.
#[derive(Debug)]
pub enum Refusal {
    /// The allowlist forbids it (the plugin gets `DENIED`).
    Denied(String),
    /// It could not be made, or got no answer (`FAILED`).
    Failed(String),
}

/// The ABI result of an outbound request: the encoded response, or why there is none.
pub fn result(answer: Result<Vec<u8>, Refusal>) -> Vec<u8> {
    match answer {
        Ok(response) => ok(&response),
        Err(Refusal::Denied(message)) => denied(&message),
        Err(Refusal::Failed(message)) => failed(&message),
    }
}

/// What an outbound request is checked against: its plugin's entry and the app's origin.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The plugin's name.
    pub plugin: &'a str,
    /// Its entry's `max_body_bytes`.
    pub max_body_bytes: u32,
    /// Where it may send requests.
    pub allowlist: &'a Allowlist,
    /// The app's origin: relative URLs resolve against it, and `"self"` means it.
    pub origin: &'a str,
}

/// A URL, as the host's parser resolved it against the app's origin.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The whole URL.
    pub href: String,
    /// Its scheme, without the colon.
    pub scheme: String,
    /// Its origin, serialised.
    pub origin: String,
    /// Its host name.
    pub hostname: String,
    /// Its port, if it names one other than its scheme's.
    pub port: Option<u16>,
    /// Its path.
    pub path: String,
    /// Its query, without the `?`.
    pub query: Option<String>,
}

impl Resolved {
    /// Whether it is on the app's origin (where another plugin may answer it).
    pub fn is_local(&self, policy: &Policy) -> bool {
        self.origin == policy.origin
    }
}

/// A request a plugin may send, and where.
#[derive(Debug)]
pub struct Checked<B> {
    /// The request, as the plugin encoded it.
    pub request: http::Request<B>,
    /// Its URL.
    pub url: Resolved,
}

/// Decodes the request a plugin handed over and checks it against `policy`; `resolve` parses a
/// URL against the app's origin (`None` if it is not one).
pub fn check<B>(
    bytes: &[u8],
    policy: &Policy,
    resolve: impl FnOnce(&str) -> Option<Resolved>,
) -> Result<Checked<B>, Refusal>
where
    B: for<'a> From<&'a [u8]> + AsRef<[u8]>,
{
    let request: http::Request<B> = codec::decode_request(bytes)
        .map_err(|e| Refusal::Failed(format!("malformed request: {e}")))?;
    let size = request.body().as_ref().len();
    if size as u64 > u64::from(policy.max_body_bytes) {
        return Err(Refusal::Failed(format!(
            "the outbound request's body is {size} bytes, more than plugin '{}' may send ({} \
             bytes: its max_body_bytes)",
            policy.plugin, policy.max_body_bytes
        )));
    }
    let uri = request.uri().to_string();
    let url = resolve(&uri).ok_or_else(|| Refusal::Failed(format!("invalid URL {uri:?}")))?;
    if !matches!(url.scheme.as_str(), "http" | "https") {
        return Err(Refusal::Failed(format!(
            "{uri}: only http and https can be fetched"
        )));
    }
    let default_port = if url.scheme == "https" { 443 } else { 80 };
    let target = Target {
        origin: &url.origin,
        hostname: &url.hostname,
        port: url.port.unwrap_or(default_port),
        default_port,
    };
    if !policy.allowlist.allows(target, policy.origin) {
        return Err(Refusal::Denied(Allowlist::denial(
            policy.plugin,
            target,
            policy.origin,
        )));
    }
    Ok(Checked { request, url })
}

/// Why a redirect is not followed (a browser hides where it leads, so the allowlist could not
/// check it, and a plugin behaves the same on every host).
pub fn redirect_refused(href: &str) -> Refusal {
    Refusal::Failed(format!(
        "fetch to {href}: the host answered with a redirect, which Valor does not follow for \
         plugins: the browser hides where it leads, so it cannot be checked against \
         allowed_hosts; fetch the final URL instead"
    ))
}
