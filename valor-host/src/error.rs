//! Everything that can go wrong between a request and a plugin's answer, and the HTTP status
//! each becomes (the README's table: 500 plugin failure, 502 not loadable, 504 out of time, ...).

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

/// How many plugin-to-plugin fetches may nest.
pub const MAX_DEPTH: u32 = 8;

/// Why a request's body was not read, on any host (the body of a request to a plugin, or of a
/// registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// It is larger than the limit: `size` bytes (declared, or the limit plus one once more
    /// arrived).
    TooLarge {
        /// Its size, or the size read when the limit was passed.
        size: u64,
    },
    /// It could not be read (the connection failed, the browser refused it); says why.
    Invalid(String),
}

impl Unreadable {
    /// The error of a request to `plugin`, whose `max_body_bytes` is `limit`: 413 or 400.
    pub fn into_error(self, plugin: &str, limit: u32) -> DispatchError {
        match self {
            Unreadable::TooLarge { size } => DispatchError::RequestTooLarge {
                plugin: plugin.to_owned(),
                size,
                limit,
            },
            Unreadable::Invalid(reason) => DispatchError::BadRequest { reason },
        }
    }
}

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
    /// The plugin broke the plugin ABI (e.g. `valor_alloc` returned 0); its instance is replaced.
    #[error("plugin '{plugin}' broke the plugin ABI: {reason}; its instance was discarded")]
    BrokeAbi {
        /// The plugin's name.
        plugin: String,
        /// What it did.
        reason: String,
    },
    /// Another request crashed the instance this one was running on, and this one could not be
    /// run again safely (it had started a fetch or storage command), or was lost as many times
    /// as it may be replayed.
    #[error(
        "plugin '{plugin}' lost the instance this request was running on (another request \
         crashed it); it was not run again, as it had already started a fetch or storage \
         operation (or was lost too many times)"
    )]
    InstanceLost {
        /// The plugin's name.
        plugin: String,
    },
    /// The plugin answered with bytes that are not a response the runtime can send.
    #[error("plugin '{plugin}' returned an invalid response: {reason}")]
    InvalidResponse {
        /// The plugin's name.
        plugin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The plugin did not answer within its `timeout_ms`; its task was dropped.
    #[error("plugin '{plugin}' did not answer within {timeout_ms} ms")]
    TimedOut {
        /// The plugin's name.
        plugin: String,
        /// The limit from its manifest entry.
        timeout_ms: u32,
    },
    /// The plugin used up the fuel of one call (a loop, or far more work than its entry
    /// allows); it was stopped there and its instance discarded.
    #[error(
        "plugin '{plugin}' used up its fuel ({fuel} instructions per call, its manifest entry's \
         `fuel`) and was stopped; its instance was discarded"
    )]
    OutOfFuel {
        /// The plugin's name.
        plugin: String,
        /// Its budget per call.
        fuel: u64,
    },
    /// The plugin needed more memory than its `memory_mb`; its instance was discarded.
    #[error(
        "plugin '{plugin}' needed more memory than its limit of {memory_mb} MiB (its manifest \
         entry's `memory_mb`); its instance was discarded"
    )]
    OutOfMemory {
        /// The plugin's name.
        plugin: String,
        /// Its cap.
        memory_mb: u32,
    },
    /// The plugin used up its fuel on several requests in a row: it gets none for a while.
    #[error(
        "plugin '{plugin}' is quarantined for {seconds} s more: its last {strikes} requests used \
         up their fuel ({fuel} instructions per call)"
    )]
    Quarantined {
        /// The plugin's name.
        plugin: String,
        /// Until it gets requests again.
        seconds: u32,
        /// Exhaustions in a row.
        strikes: u32,
        /// Its budget per call.
        fuel: u64,
    },
    /// Plugins fetching plugins nested deeper than [`MAX_DEPTH`]: most likely a loop.
    #[error("plugin '{plugin}' was reached through more than {MAX_DEPTH} nested plugin fetches; is there a loop?")]
    TooDeep {
        /// The plugin's name.
        plugin: String,
    },
    /// The page aborted the request; nobody reads the answer.
    #[error("the request was aborted")]
    Aborted,
    /// The page's request body is larger than the plugin's `max_body_bytes`.
    #[error("the request body of {size} bytes is larger than plugin '{plugin}' accepts ({limit} bytes, its max_body_bytes)")]
    RequestTooLarge {
        /// The plugin's name.
        plugin: String,
        /// The body's size.
        size: u64,
        /// The plugin's limit.
        limit: u32,
    },
    /// The plugin's response is larger than its `max_body_bytes` allows.
    #[error("plugin '{plugin}' answered with {size} bytes, more than its limit ({limit} bytes of body, its max_body_bytes)")]
    ResponseTooLarge {
        /// The plugin's name.
        plugin: String,
        /// The encoded response's size.
        size: u32,
        /// The plugin's limit.
        limit: u32,
    },
    /// The caller may not do this.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why.
        reason: String,
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
            Self::InvalidEntry { .. }
            | Self::Unavailable { .. }
            | Self::ResponseTooLarge { .. } => StatusCode::BAD_GATEWAY,
            Self::RequestTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Panicked { .. }
            | Self::Crashed { .. }
            | Self::BrokeAbi { .. }
            | Self::InvalidResponse { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InstanceLost { .. } | Self::OutOfMemory { .. } | Self::Quarantined { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::TimedOut { .. } | Self::OutOfFuel { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::TooDeep { .. } => StatusCode::LOOP_DETECTED,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            // Never sent: the page is gone. 499 is what servers log for this.
            Self::Aborted => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        }
    }

    /// The answer to the request: the status, and a plain-text body saying what happened.
    pub fn to_response<B: From<String>>(&self) -> Response<B> {
        let mut response = Response::new(format!("{self}\n").into());
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
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
        let timed_out = DispatchError::TimedOut {
            plugin: "p".into(),
            timeout_ms: 50,
        };
        assert_eq!(timed_out.status(), StatusCode::GATEWAY_TIMEOUT);
        let response = timed_out.to_response::<String>();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(response.body(), "plugin 'p' did not answer within 50 ms\n");
    }
}
