/// What can go wrong when a plugin uses the host API.
///
/// It implements `Display`, so a handler returning `Result<T, vlugin::Error>` answers a failure
/// with a 500 carrying the message, and `?` works throughout.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The runtime refused the operation; the message says why and how to allow it (e.g. a host
    /// missing from the manifest entry's `allowed_hosts`).
    #[error("{0}")]
    Denied(String),
    /// An outbound request failed without an HTTP answer (DNS, connection, CORS, ...).
    #[error("fetch failed: {0}")]
    Network(String),
    /// The key-value store failed.
    #[error("storage failed: {0}")]
    Storage(String),
    /// The manifest entry's `config` does not have the shape the plugin expects.
    #[error("invalid config: {0}")]
    Config(String),
    /// A request or response could not be built (an invalid URI or header, say).
    #[error("invalid HTTP message: {0}")]
    Http(#[from] http::Error),
    /// A value could not be converted to or from JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The runtime answered something this SDK cannot read (a runtime/SDK mismatch).
    #[error("unexpected answer from the runtime: {0}")]
    Protocol(String),
}

impl From<crate::abi::codec::DecodeError> for Error {
    fn from(error: crate::abi::codec::DecodeError) -> Self {
        Error::Protocol(error.to_string())
    }
}
