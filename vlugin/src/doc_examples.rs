//! The Rust examples of the README and of the book (`docs/`), compiled as doctests so they stay
//! true: one item per page that has ```rust blocks. Compiled only by `cargo test --doc`.

/// The README.
#[doc = include_str!("../../README.md")]
pub struct Readme;

/// The book: Guide, "Writing a plugin".
#[doc = include_str!("../../docs/src/guide/writing-a-plugin.md")]
pub struct GuideWritingAPlugin;

/// The book: Reference, "The host API".
#[doc = include_str!("../../docs/src/reference/host-api.md")]
pub struct ReferenceHostApi;

/// The book: Guide, "Streaming, server-sent events and work after the answer".
#[doc = include_str!("../../docs/src/guide/streaming.md")]
pub struct GuideStreaming;
