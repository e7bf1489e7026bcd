//! Everything that can go wrong between a request and a plugin's answer, and the HTTP status
//! each becomes (CONTRACT in DESIGN.md: 500 plugin failure, 502 not loadable, 504 out of time).

use http::StatusCode;

/// Why a request routed to a plugin got no answer from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// The manifest entry for this prefix is invalid.
    #[error(
        "the plugin mounted at {prefix} is not available: its manifest entry is invalid: {reason}"
    )]
    InvalidEntry {
        /// The prefix the entry tried to mount.
        prefix: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The plugin's module could not be fetched, compiled, instantiated or accepted.
    #[error("plugin '{plugin}' could not be loaded: {reason}")]
    Unavailable {
        /// The plugin's name.
        plugin: String,
        /// What failed.
        reason: String,
    },
    /// The handler panicked; the message is the panic's.
    #[error("plugin '{plugin}' panicked: {message}")]
    Panicked {
        /// The plugin's name.
        plugin: String,
        /// The panic message as the plugin reported it.
        message: String,
    },
    /// The plugin trapped (or threw) without a panic message.
    #[error("plugin '{plugin}' crashed: {message}")]
    Crashed {
        /// The plugin's name.
        plugin: String,
        /// The engine's description of the trap.
        message: String,
    },
    /// The plugin answered with bytes that are not a response the runtime can send.
    #[error("plugin '{plugin}' returned an invalid response: {reason}")]
    InvalidResponse {
        /// The plugin's name.
        plugin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The handler is waiting, but no host operation is under way that could wake it.
    #[error("plugin '{plugin}' stalled: its handler is waiting on something that cannot complete")]
    Stalled {
        /// The plugin's name.
        plugin: String,
    },
    /// The incoming request could not be read.
    #[error("the request could not be read: {reason}")]
    BadRequest {
        /// What failed.
        reason: String,
    },
}

impl DispatchError {
    /// The status the error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidEntry { .. } | Self::Unavailable { .. } => StatusCode::BAD_GATEWAY,
            Self::Panicked { .. }
            | Self::Crashed { .. }
            | Self::InvalidResponse { .. }
            | Self::Stalled { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        let unavailable = DispatchError::Unavailable {
            plugin: "p".into(),
            reason: "404".into(),
        };
        assert_eq!(unavailable.status(), StatusCode::BAD_GATEWAY);
        let panicked = DispatchError::Panicked {
            plugin: "p".into(),
            message: "boom".into(),
        };
        assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(panicked.to_string(), "plugin 'p' panicked: boom");
    }
}
