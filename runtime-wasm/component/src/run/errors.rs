//! Why a request got no answer from the component, as the runtime receives it: a JavaScript
//! `Error` whose `name` is the category (which the runtime maps to a status) and whose
//! `message` says what happened.

use wasm_bindgen::{JsCast, JsValue};

/// Why `handle` gave no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// A run used up its fuel.
    FuelExhausted(String),
    /// The component's memory could not grow past its cap.
    MemoryExhausted(String),
    /// A trap in the component, or the host's refusal of a call (a bad handle, a body written
    /// twice).
    Trap(String),
    /// A trap that followed a Rust panic: the panic's message (what it printed to standard
    /// error).
    Panic(String),
    /// The handler answered with an error code.
    Failed(String),
    /// The handler returned without setting its response.
    Unanswered,
    /// The component could not be instantiated (its core modules do not link).
    Refused(String),
}

impl Stopped {
    /// The `Error` that the promise of `handle` rejects with.
    pub fn into_error(self) -> JsValue {
        let (name, message) = match self {
            Stopped::FuelExhausted(why) => ("FuelExhausted", why),
            Stopped::MemoryExhausted(why) => ("MemoryExhausted", why),
            Stopped::Trap(why) => ("Trap", why),
            Stopped::Panic(message) => ("Panic", message),
            Stopped::Failed(why) => ("Failed", why),
            Stopped::Unanswered => (
                "Unanswered",
                "the handler returned without setting its response".to_owned(),
            ),
            Stopped::Refused(why) => ("Refused", why),
        };
        error(name, &message)
    }
}

/// A JavaScript `Error` named `name`.
pub fn error(name: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    error.into()
}

/// What a thrown value says: an `Error`'s name and message, or the value as text.
pub fn describe(thrown: &JsValue) -> String {
    match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.to_string()),
        None => thrown.as_string().unwrap_or_else(|| format!("{thrown:?}")),
    }
}
