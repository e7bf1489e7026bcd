//! A Redis URL as it may be shown (the log, an error at start): without the password it may
//! hold, in its user part (`redis://:pw@host`) or its query (`redis+unix:///sock?pass=pw`).

/// What replaces a password.
const MASK: &str = "***";

/// `url` without the password it may hold. A URL that does not parse is shown only if it
/// cannot hold one (no `@`, no `pass`): otherwise a mistyped URL would print its password.
pub fn without_password(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        let lower = url.to_ascii_lowercase();
        if !lower.contains('@') && !lower.contains("pass") {
            return url.to_owned();
        }
        return "(not shown: it does not parse, and may hold a password)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(MASK));
    }
    let secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        name == "pass" || name == "password"
    };
    if parsed.query_pairs().any(|(name, _)| secret(&name)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if secret(&name) {
                    MASK.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn the_password_in_the_user_part_is_masked() {
        assert_eq!(
            without_password("redis://:s3cret@127.0.0.1:6379/2"),
            "redis://:***@127.0.0.1:6379/2"
        );
        assert_eq!(
            without_password("rediss://app:s3cret@redis.example:6380/"),
            "rediss://app:***@redis.example:6380/"
        );
    }

    #[test]
    fn the_password_in_a_unix_sockets_query_is_masked() {
        let shown = without_password("redis+unix:///run/redis.sock?db=3&pass=s3cret&user=app");
        assert_eq!(shown, "redis+unix:///run/redis.sock?db=3&pass=***&user=app");
        let shown = without_password("unix:///run/redis.sock?PASSWORD=s3cret");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn a_url_without_password_is_shown_as_given() {
        assert_eq!(
            without_password("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
        assert_eq!(
            without_password("redis+unix:///run/redis.sock?db=1"),
            "redis+unix:///run/redis.sock?db=1"
        );
    }

    #[test]
    fn a_url_that_does_not_parse_is_shown_only_if_it_cannot_hold_a_password() {
        let shown = without_password("redis://:s3cret@[::1/0");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("does not parse"), "{shown}");
        assert!(!without_password("unix:/x?pass=s3cret%zz[").contains("s3cret"));
        assert_eq!(without_password("localhost:6379"), "localhost:6379");
    }
}
