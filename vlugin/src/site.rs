//! Where the plugin is served: the app's origin and the plugin's mount, as the host said at
//! start-up, for handlers that answer absolute URLs (a `Location`, links in a JSON body).

use crate::Request;
use std::cell::Cell;

#[derive(Debug)]
struct Site {
    mount: String,
    origin: String,
}

thread_local! {
    // Set once per instance (or per test), read by every request: leaked to hand out `&'static`.
    static SITE: Cell<Option<&'static Site>> = const { Cell::new(None) };
}

/// Records the host's mount and origin (the protocol has them without a trailing slash).
/// Called from `valor_init`.
pub(crate) fn set(mount: &str, origin: &str) {
    let site = Site {
        mount: mount.to_owned(),
        origin: origin.to_owned(),
    };
    SITE.set(Some(Box::leak(Box::new(site))));
}

fn site() -> Option<&'static Site> {
    SITE.get()
}

/// The path prefix the plugin is mounted at, without a trailing slash: `/api/todos` for a
/// plugin whose manifest entry says `"prefix": "/api/todos"`. Requests' URIs are relative to it.
pub fn mount() -> &'static str {
    site().map_or("", |site| &site.mount)
}

/// The app's origin, `scheme://host[:port]` without a trailing slash: `https://example.com`.
pub fn origin() -> &'static str {
    site().map_or("", |site| &site.origin)
}

/// The absolute URL of `path` in this plugin's mount: `url_for("/todos/7")` is
/// `https://example.com/api/todos/7` for a plugin mounted at `/api/todos`. `""` and `"/"` name
/// the mount itself (without a trailing slash: the plugin sees the mount itself as `/`).
///
/// ```
/// # vlugin::test::Host::new().mount("/api/todos").origin("https://example.com").install();
/// assert_eq!(vlugin::url_for("/7"), "https://example.com/api/todos/7");
/// assert_eq!(vlugin::url_for("/"), "https://example.com/api/todos");
/// assert_eq!(vlugin::url_for("/?page=2"), "https://example.com/api/todos?page=2");
/// ```
pub fn url_for(path: &str) -> String {
    // The mount itself, with or without a query.
    let path = path
        .strip_prefix('/')
        .filter(|rest| rest.is_empty() || rest.starts_with('?'))
        .unwrap_or(path);
    let slash = if path.is_empty() || path.starts_with(['/', '?']) {
        ""
    } else {
        "/"
    };
    format!("{}{}{slash}{path}", origin(), mount())
}

/// The request's original absolute URL, query included, as the page asked for it.
pub(crate) fn url_of(request: &Request) -> String {
    let uri = request.uri();
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    url_for(path)
}
