//! Longest-prefix routing at `/` boundaries (the README, "The manifest").

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
}
