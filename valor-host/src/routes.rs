//! Longest-prefix routing at `/` boundaries (the book's reference, "The manifest"), of paths
//! normalised as browsers normalise them.

use std::borrow::Cow;

/// Prefixes mapped to values, matched longest first.
#[derive(Debug)]
pub struct Routes<T> {
    /// Sorted by prefix length, longest first, so the first match is the longest.
    entries: Vec<(String, T)>,
}

/// A request path matched to a route.
#[derive(Debug, PartialEq, Eq)]
pub struct Match<'r, 'p, T> {
    /// The value mounted at the matching prefix.
    pub target: &'r T,
    /// The path relative to the prefix: `/` for the prefix itself.
    pub relative_path: &'p str,
}

impl<T> Routes<T> {
    /// Builds a table; with duplicate prefixes, the first one wins.
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> Self {
        let mut entries: Vec<_> = entries.into_iter().collect();
        // Stable sort: among equal prefixes the first stays first and so is the one matched.
        entries.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Self { entries }
    }

    /// Finds the route for a path (without its query string).
    ///
    /// `/api/hello` matches `/api/hello` and `/api/hello/x`, never `/api/helloworld`.
    pub fn find<'r, 'p>(&'r self, path: &'p str) -> Option<Match<'r, 'p, T>> {
        self.entries.iter().find_map(|(prefix, target)| {
            let rest = path.strip_prefix(prefix.as_str())?;
            match rest {
                "" => Some(Match {
                    target,
                    relative_path: "/",
                }),
                _ if rest.starts_with('/') => Some(Match {
                    target,
                    relative_path: rest,
                }),
                _ => None,
            }
        })
    }

    /// The values in the table, longest prefix first.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, target)| target)
    }

    /// The prefixes and their values, longest prefix first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.entries
            .iter()
            .map(|(prefix, target)| (prefix.as_str(), target))
    }

    /// Mounts `target` at `prefix`, replacing what was there; returns that.
    pub fn insert(&mut self, prefix: String, target: T) -> Option<T> {
        if let Some((_, existing)) = self.entries.iter_mut().find(|(p, _)| *p == prefix) {
            return Some(std::mem::replace(existing, target));
        }
        // After the longer prefixes, so the table stays sorted longest first.
        let at = self
            .entries
            .partition_point(|(p, _)| p.len() >= prefix.len());
        self.entries.insert(at, (prefix, target));
        None
    }

    /// Unmounts `prefix`; returns what was there.
    pub fn remove(&mut self, prefix: &str) -> Option<T> {
        let at = self.entries.iter().position(|(p, _)| p == prefix)?;
        Some(self.entries.remove(at).1)
    }
}

/// A request path as a browser sends it: the URL standard's path parsing for `http` and `https`
/// URLs, which every browser applies before its service worker or any server sees the URL.
/// A server routes with it, so that a request no browser could send (`/api/a/../../x`)
/// reaches what the same URL reaches in a browser, and no plugin sees a path above its mount.
///
/// - `\` separates segments as `/` does;
/// - a `.` segment is removed, and a `..` segment removes the segment before it (never going
///   above the root); `%2e` counts as a dot, in either case (`.%2E`, `%2e%2e`);
/// - a `.` or `..` at the end leaves a trailing `/` (`/a/b/..` is `/a/`);
/// - everything else stays as it is, empty segments (`/a//b`) and percent-encoding included:
///   an encoded slash (`..%2f`) separates nothing, and browsers disagree on which other
///   characters to encode (Chromium encodes `^` and `|`, the standard does not).
///
/// A path that starts with neither `/` nor `\` (the `*` of `OPTIONS *`) is returned as it is.
/// The query is not part of `path`: dot segments there are data.
///
/// ```
/// use valor_host::routes::normalize_path;
/// assert_eq!(normalize_path("/api/hello/../../etc/passwd"), "/etc/passwd");
/// assert_eq!(normalize_path("/api/echo/%2E%2e/hello/."), "/api/hello/");
/// assert_eq!(normalize_path("/api\\hello"), "/api/hello");
/// ```
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    let Some(rest) = path.strip_prefix(['/', '\\']) else {
        return Cow::Borrowed(path);
    };
    // A dot segment has a `.` (or `%2e`): a path with neither, nor a `\`, is as it is.
    if !path.bytes().any(|byte| matches!(byte, b'.' | b'%' | b'\\')) {
        return Cow::Borrowed(path);
    }
    let dotted = |segment: &str| single_dot(segment) || double_dot(segment);
    if !path.contains('\\') && !rest.split('/').any(dotted) {
        return Cow::Borrowed(path); // what browsers send: nothing to do
    }
    let segments: Vec<&str> = rest.split(['/', '\\']).collect();
    let last = segments.len() - 1;
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for (at, segment) in segments.into_iter().enumerate() {
        if double_dot(segment) {
            kept.pop();
        } else if !single_dot(segment) {
            kept.push(segment);
            continue;
        }
        // A dot segment at the end names the directory: the path keeps its trailing `/`.
        if at == last {
            kept.push("");
        }
    }
    Cow::Owned(format!("/{}", kept.join("/")))
}

/// `segment` after its first dot (`.` or `%2e`), if it starts with one.
fn after_dot(segment: &str) -> Option<&str> {
    if let Some(rest) = segment.strip_prefix('.') {
        return Some(rest);
    }
    let encoded = segment.get(..3)?;
    encoded.eq_ignore_ascii_case("%2e").then(|| &segment[3..])
}

/// `.` or `%2e`.
fn single_dot(segment: &str) -> bool {
    after_dot(segment) == Some("")
}

/// `..`, `.%2e`, `%2e.` or `%2e%2e`, in any case.
fn double_dot(segment: &str) -> bool {
    after_dot(segment).and_then(after_dot) == Some("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes<&'static str> {
        Routes::new([
            ("/api".to_owned(), "api"),
            ("/api/hello".to_owned(), "hello"),
            ("/api/hello/admin".to_owned(), "admin"),
        ])
    }

    fn find(path: &str) -> Option<(&'static str, String)> {
        let routes = routes();
        routes
            .find(path)
            .map(|m| (*m.target, m.relative_path.to_owned()))
    }

    #[test]
    fn the_prefix_itself_is_slash() {
        assert_eq!(find("/api/hello"), Some(("hello", "/".into())));
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(find("/api/hello/x"), Some(("hello", "/x".into())));
        assert_eq!(
            find("/api/hello/admin/users"),
            Some(("admin", "/users".into()))
        );
        assert_eq!(find("/api/other"), Some(("api", "/other".into())));
    }

    #[test]
    fn matches_only_at_slash_boundaries() {
        assert_eq!(find("/api/helloworld"), Some(("api", "/helloworld".into())));
        assert_eq!(find("/apix"), None);
        assert_eq!(find("/ap"), None);
    }

    #[test]
    fn trailing_slash_is_a_path_of_its_own() {
        assert_eq!(find("/api/hello/"), Some(("hello", "/".into())));
    }

    #[test]
    fn unmatched_paths_are_not_claimed() {
        assert_eq!(find("/"), None);
        assert_eq!(find("/index.html"), None);
        assert_eq!(
            Routes::<()>::new([]).find("/api").map(|m| m.relative_path),
            None
        );
    }

    #[test]
    fn mounts_change_at_run_time() {
        let mut routes = routes();
        assert_eq!(routes.insert("/api/hello/x".to_owned(), "x"), None);
        assert_eq!(routes.insert("/b".to_owned(), "b"), None);
        assert_eq!(routes.find("/api/hello/x/y").map(|m| *m.target), Some("x"));
        assert_eq!(routes.find("/b/c").map(|m| *m.target), Some("b"));
        assert_eq!(routes.insert("/api".to_owned(), "api2"), Some("api"));
        assert_eq!(routes.find("/api/other").map(|m| *m.target), Some("api2"));
        assert_eq!(routes.remove("/api/hello"), Some("hello"));
        assert_eq!(routes.find("/api/hello/z").map(|m| *m.target), Some("api2"));
        assert_eq!(routes.remove("/nothing"), None);
        let lengths: Vec<usize> = routes.iter().map(|(p, _)| p.len()).collect();
        assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "{lengths:?}");
    }

    #[test]
    fn first_of_duplicate_prefixes_wins() {
        let routes = Routes::new([("/a".to_owned(), 1), ("/a".to_owned(), 2)]);
        assert_eq!(routes.find("/a").map(|m| *m.target), Some(1));
    }
    fn normalized(path: &str) -> String {
        normalize_path(path).into_owned()
    }

    #[test]
    fn dot_segments_are_removed() {
        assert_eq!(normalized("/api/hello/../../etc/passwd"), "/etc/passwd");
        assert_eq!(normalized("/api/hello/../echo/x"), "/api/echo/x");
        assert_eq!(normalized("/api/./hello/./x"), "/api/hello/x");
        assert_eq!(normalized("/a/b/c/../../d"), "/a/d");
    }

    #[test]
    fn never_above_the_root() {
        assert_eq!(normalized("/.."), "/");
        assert_eq!(normalized("/../../../../../etc/passwd"), "/etc/passwd");
        assert_eq!(normalized("/api/../../../.."), "/");
        assert_eq!(normalized("/a/../../b/../../c"), "/c");
    }

    #[test]
    fn encoded_dots_count_in_either_case() {
        for dots in ["%2e%2e", "%2E%2E", "%2e.", ".%2E", "%2E%2e", ".."] {
            let path = format!("/api/hello/{dots}/echo");
            assert_eq!(normalized(&path), "/api/echo", "{path}");
        }
        assert_eq!(normalized("/api/%2e/hello/%2E"), "/api/hello/");
    }

    #[test]
    fn a_dot_segment_at_the_end_keeps_the_trailing_slash() {
        assert_eq!(normalized("/api/hello/x/.."), "/api/hello/");
        assert_eq!(normalized("/api/hello/."), "/api/hello/");
        assert_eq!(normalized("/api/hello/%2e%2e"), "/api/");
        assert_eq!(normalized("/."), "/");
    }

    #[test]
    fn backslashes_separate_segments() {
        assert_eq!(normalized("/api\\hello"), "/api/hello");
        assert_eq!(normalized("\\api\\hello\\..\\echo"), "/api/echo");
        assert_eq!(normalized("/api/hello\\..\\..\\etc"), "/etc");
        assert_eq!(normalized("\\api"), "/api");
    }

    #[test]
    fn empty_segments_stay_and_dots_pop_them() {
        assert_eq!(normalized("//api//hello"), "//api//hello");
        assert_eq!(normalized("/api//hello"), "/api//hello");
        assert_eq!(normalized("/a//../b"), "/a/b");
        assert_eq!(normalized("/a/.//b"), "/a//b");
        assert_eq!(normalized("//.."), "/");
    }

    #[test]
    fn what_only_looks_like_dots_stays() {
        for path in [
            "/api/hello/..%2f..%2fetc",
            "/api/hello/%2e%2e%5cetc",
            "/api/hello/...",
            "/api/hello/.%2e.",
            "/api/hello/.hidden",
            "/api/hello/a..b",
            "/api/hello/%2",
            "/api/hello/%2e%",
            "/api/caf%C3%A9/\u{e9}",
            "/",
            "*",
            "",
        ] {
            assert_eq!(normalized(path), path, "{path}");
        }
    }

    #[test]
    fn paths_browsers_send_are_not_copied() {
        assert!(matches!(normalize_path("/api/hello/x"), Cow::Borrowed(_)));
        assert!(matches!(normalize_path("/a//b/.x/..y"), Cow::Borrowed(_)));
        assert!(matches!(normalize_path("/a/../b"), Cow::Owned(_)));
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        for path in ["/a/../b/./c/..", "/%2e%2e\\x\\.", "//../a//.."] {
            let once = normalized(path);
            assert_eq!(normalized(&once), once, "{path}");
        }
    }

    #[test]
    fn a_normalized_path_is_routed_below_its_mount() {
        let routes = routes();
        let path = normalize_path("/api/hello/admin/../../hello/x/%2e%2e/y");
        let found = routes.find(&path).unwrap();
        assert_eq!((*found.target, found.relative_path), ("hello", "/y"));
    }
}
