//! The `#[vlugin]` attribute of the Valor plugin SDK; use it through the `vlugin` crate.
//!
//! ```
//! use vlugin::prelude::*;
//!
//! #[vlugin]
//! async fn hello(req: Request) -> impl IntoResponse {
//!     "OK response from a plugin"
//! }
//! # fn main() {}
//! ```
//!
//! The function is kept as written; the macro adds the WebAssembly exports the Valor runtime
//! calls (`valor_start`, `valor_poll`, ...), each a one-line call into `vlugin::__private`.
//! Everything else (decoding the request, driving the future, `IntoResponse`) lives in the SDK,
//! so a handler with the wrong types is a plain rustc type error on the user's function.
#![deny(missing_docs)]

mod expand;
mod parse;
mod reads;

use proc_macro::TokenStream;

/// Turns `async fn handler(req: Request) -> impl IntoResponse` (or a plain `fn`) into the
/// plugin's request handler. Exactly one per plugin crate. See the `vlugin` crate.
///
/// `#[vlugin(init = setup)]` also calls `fn setup() -> Result<(), E>` (`E: Display`) once, when
/// the plugin is created, after its config is set: an `Err` fails the plugin's load, and the
/// host answers its requests 502 with the error as the reason.
#[proc_macro_attribute]
pub fn vlugin(args: TokenStream, item: TokenStream) -> TokenStream {
    syn::parse::<parse::Options>(args)
        .and_then(|options| Ok((options, syn::parse::<parse::Handler>(item)?)))
        .map(|(options, handler)| expand::expand(&handler, &options))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
