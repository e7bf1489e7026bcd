use crate::Error;
use serde::de::DeserializeOwned;
use std::cell::RefCell;

thread_local! {
    static CONFIG: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Stores the manifest entry's `config` (JSON). Called from `valor_init`.
pub(crate) fn set(json: Vec<u8>) {
    CONFIG.set(json);
}

/// The manifest entry's `config`, as `T`: available from the plugin's creation on, in every
/// handler. A missing `config` is JSON `null`, which suits `Option<_>` or a type with defaults.
///
/// # Examples
/// ```no_run
/// use vlugin::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Config { name: String }
///
/// #[vlugin]
/// fn greet(_req: Request) -> Result<String, vlugin::Error> {
///     let config: Config = config()?;
///     Ok(format!("Hello from {}", config.name))
/// }
/// # fn main() {}
/// ```
pub fn config<T: DeserializeOwned>() -> Result<T, Error> {
    CONFIG.with_borrow(|json| {
        let json: &[u8] = if json.is_empty() { b"null" } else { json };
        serde_json::from_slice(json).map_err(|e| Error::Config(e.to_string()))
    })
}
