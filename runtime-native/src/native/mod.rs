//! Native plugins: the same plugin crate built as a shared library for the server's own
//! platform (a `cdylib`), mounted from an entry whose `url` ends in `.so`, `.dylib` or `.dll`,
//! and loaded only by a server started with `--allow-native-plugins`: it is trusted code, run
//! in the server's process with no fuel or memory limit (valor-abi's PROTOCOL.md, "Native
//! plugins").
//!
//! - [`library`]: a private copy of the library loaded, its exports found, its ABI version
//!   checked;
//! - [`thread`]: the one thread every call into a library is made on;
//! - [`instance`]: the protocol core's `Guest` over the library's C functions;
//! - [`imports`]: the host functions of the table the plugin is bound with.

mod imports;
mod instance;
mod library;
mod thread;

pub use instance::NativeInstance;
pub use library::Library;
