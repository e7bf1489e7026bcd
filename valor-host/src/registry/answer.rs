//! The registry's answers: plain text with the reason, or JSON; each host turns them into its
//! own response type.

use crate::kv::{Failure, RETRY_AFTER_SECONDS};

/// An answer of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `text/plain; charset=utf-8` or `application/json`; none for 204.
    pub content_type: Option<&'static str>,
    /// The text (ending in a newline) or the JSON.
    pub body: String,
    /// `location` after a registration, `allow` with a 405.
    pub headers: Vec<(&'static str, String)>,
}

impl Answer {
    /// A plain-text answer: the reason, and a newline.
    pub fn text(status: u16, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body: format!("{message}\n"),
            headers: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: Some("application/json"),
            body: value.to_string(),
            headers: Vec::new(),
        }
    }

    /// 204, nothing more.
    pub fn no_content() -> Self {
        Self {
            status: 204,
            content_type: None,
            body: String::new(),
            headers: Vec::new(),
        }
    }

    /// The store could not keep a change: 503 with `retry-after` while it is unreachable (the
    /// change can be sent again), 507 when it is full, 500 otherwise.
    pub fn store_failed(failure: Failure, message: String) -> Self {
        match failure {
            Failure::Unavailable => {
                let mut answer = Self::text(503, message);
                answer
                    .headers
                    .push(("retry-after", RETRY_AFTER_SECONDS.to_string()));
                answer
            }
            Failure::Full => Self::text(507, message),
            Failure::Other => Self::text(500, message),
        }
    }

    /// 403: `reason` says why this caller may not use the registry.
    pub fn forbidden(reason: &str) -> Self {
        Self::text(
            403,
            format!("only the app's own pages may use the plugin registry: {reason}"),
        )
    }

    /// 404: no plugin is called `name`.
    pub(super) fn unknown(name: &str) -> Self {
        Self::text(404, format!("no plugin is called '{name}'"))
    }

    /// 405: the method is not one of `allow` (which the `allow` header lists too).
    pub(super) fn not_allowed(allow: &'static str) -> Self {
        let mut answer = Self::text(405, format!("the plugin registry answers {allow} here"));
        answer.headers.push(("allow", allow.to_owned()));
        answer
    }
}
