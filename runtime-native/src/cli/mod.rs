//! The subcommands of `valor`, one module each, and what they share: the embedded runtime
//! (`assets`) and templates (`template`), the project they work in (`project`), and the
//! plugins' build (`plugins`).

pub mod assets;
pub mod build;
pub mod dev;
pub mod new;
pub mod plugins;
pub mod project;
pub mod serve;
pub mod template;

/// Messages to the person at the terminal, on stderr (stdout is for what scripts read).
pub fn say(message: impl std::fmt::Display) {
    eprintln!("valor: {message}");
}

/// A tokio runtime for a subcommand that serves.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(valor_server::serve::THREAD_STACK_BYTES)
        .build()
        .map_err(|error| format!("starting the runtime failed: {error}"))
}
