//! A plugin's requests to its own app's origin, on every host: answered by the plugin mounted
//! at its path without the network (a service worker's own `fetch` bypasses its fetch handler;
//! a server spares a round trip), never by the registry, within the target's `max_body_bytes`
//! (as a client's request), its URI made relative to the target's prefix. A refusal is
//! answered at once, in the ABI's encoding.

use crate::error::DispatchError;
use crate::mounts::{Mountable, Mounted, Mounts};
use crate::outbound::{Checked, Policy};
use crate::reply::{Host, Reply, Tag};
use std::ops::Deref;

/// A host's way back to its own plugins, which a plugin's context holds (weakly: the host
/// holds the plugins).
pub trait LocalDispatch<B> {
    /// The answer, in the ABI's encoding, once the target plugin gave it.
    type Answer;

    /// If a plugin is mounted at `path`, answers `request` (a plugin's, its URI the absolute
    /// one; `query` without its `?`) with it. `depth` counts nested plugin-to-plugin requests.
    fn dispatch_local(
        &self,
        request: http::Request<B>,
        path: &str,
        query: Option<&str>,
        depth: u32,
    ) -> Option<Self::Answer>;
}

impl<B: Clone> Checked<B> {
    /// Its answer from the plugin mounted at its path (through `local`, the host, unless it is
    /// gone), if it is for the app's origin and a plugin is mounted there; else it goes to the
    /// network. `depth` is the depth of the request that sent it.
    pub fn answer_locally<L: LocalDispatch<B> + ?Sized>(
        &self,
        policy: &Policy,
        local: Option<impl Deref<Target = L>>,
        depth: u32,
    ) -> Option<L::Answer> {
        if !self.url.is_local(policy) {
            return None;
        }
        let (path, query) = (&self.url.path, self.url.query.as_deref());
        local?.dispatch_local(self.request.clone(), path, query, depth + 1)
    }
}

/// Where a plugin's request on the app's origin goes, if a plugin is mounted at its path.
#[derive(Debug)]
pub enum Local<P, R> {
    /// To the plugin, with the request, its URI now relative to the plugin's prefix.
    Plugin(P, http::Request<R>),
    /// Nowhere: the reply refusing it, in the ABI's encoding.
    Refused(Vec<u8>),
}

/// Where `request`, a plugin's to `path` and `query` (without its `?`) on the app's origin, goes
/// among `mounts`; `refused` is why the registry refuses it, if the path is the registry's
/// (`Registry::refuses_plugin`). `None` if no plugin is mounted there. Refusals are replies of
/// host `H`.
pub fn route<H: Host, P: Mountable, R: AsRef<[u8]>>(
    refused: Option<DispatchError>,
    mounts: &Mounts<P>,
    mut request: http::Request<R>,
    path: &str,
    query: Option<&str>,
) -> Option<Local<P, R>> {
    let refuse = |error, tag| Some(Local::Refused(Reply::<H>::error(&error, tag).to_abi()));
    if let Some(refused) = refused {
        return refuse(refused, None);
    }
    let (mounted, relative_path) = mounts.find(path)?;
    let plugin = match mounted {
        Mounted::Plugin(plugin) => plugin,
        Mounted::Invalid(error) => return refuse(error, None),
    };
    let spec = plugin.spec();
    let size = request.body().as_ref().len() as u64;
    let streams = crate::bodies::streams(spec, request.method().as_str());
    if size > u64::from(spec.max_body_bytes) && !streams {
        let error = DispatchError::RequestTooLarge {
            plugin: spec.name.clone(),
            size,
            limit: spec.max_body_bytes,
        };
        return refuse(error, Some(Tag::of(spec)));
    }
    let relative_uri = match query {
        Some(query) if !query.is_empty() => format!("{relative_path}?{query}"),
        _ => relative_path,
    };
    match relative_uri.parse() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => {
            return Some(Local::Refused(
                Reply::<H>::text(400, "invalid URI\n").to_abi(),
            ))
        }
    }
    Some(Local::Plugin(plugin, request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{parse_entry, PluginSpec};
    use crate::mounts::AsSpec;
    use std::rc::Rc;

    use crate::reply::Test;

    struct Plugin(PluginSpec);

    impl AsSpec for Plugin {
        fn as_spec(&self) -> &PluginSpec {
            &self.0
        }
    }

    fn mounts() -> Mounts<Rc<Plugin>> {
        let entry = serde_json::json!({
            "name": "notes", "prefix": "/notes", "url": "n.wasm", "max_body_bytes": 4
        });
        let spec = parse_entry(entry, |url| Ok(url.to_owned())).unwrap();
        let invalid = DispatchError::InvalidEntry {
            prefix: "/broken".into(),
            reason: "no url".into(),
        };
        Mounts::new([
            ("/notes".into(), Mounted::Plugin(Rc::new(Plugin(spec)))),
            ("/broken".into(), Mounted::Invalid(invalid)),
        ])
    }

    fn route(path: &str, query: Option<&str>, body: &[u8]) -> Option<Local<Rc<Plugin>, Vec<u8>>> {
        let request = http::Request::new(body.to_vec());
        super::route::<Test, _, _>(None, &mounts(), request, path, query)
    }

    /// The status and text of a refusal.
    fn refusal(local: Option<Local<Rc<Plugin>, Vec<u8>>>) -> (u16, String) {
        let Some(Local::Refused(bytes)) = local else {
            panic!("refused");
        };
        let response: http::Response<Vec<u8>> = valor_abi::codec::decode_response(&bytes).unwrap();
        let text = String::from_utf8(response.body().clone()).unwrap();
        (response.status().as_u16(), text)
    }

    #[test]
    fn a_mounted_plugin_gets_the_uri_relative_to_its_prefix() {
        let Some(Local::Plugin(plugin, request)) = route("/notes/a", Some("b=1"), b"") else {
            panic!("routed to the plugin");
        };
        assert_eq!(plugin.name(), "notes");
        assert_eq!(request.uri(), "/a?b=1");
        let Some(Local::Plugin(_, request)) = route("/notes", Some(""), b"") else {
            panic!("routed to the plugin");
        };
        assert_eq!(request.uri(), "/");
        assert!(route("/elsewhere", None, b"").is_none());
    }

    #[test]
    fn refusals_are_answered_at_once() {
        let (status, text) = refusal(route("/broken/x", None, b""));
        assert_eq!(status, 502);
        assert!(text.contains("/broken"), "{text}");
        let (status, text) = refusal(route("/notes/a", None, b"12345"));
        assert_eq!(status, 413);
        assert!(text.contains("5 bytes"), "{text}");
        let refused = DispatchError::Forbidden {
            reason: "plugins may not use the plugin registry".into(),
        };
        let request = http::Request::new(Vec::new());
        let local =
            super::route::<Test, _, _>(Some(refused), &mounts(), request, "/_plugins", None);
        assert_eq!(refusal(local).0, 403);
    }
}
