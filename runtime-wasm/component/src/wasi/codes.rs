//! The variants of `wasi:http/types` as values, each mapped in one place: `method`, `scheme`,
//! `header-error` and `error-code` (case numbers follow the WIT's order).

use super::args::{option, variant};
use crate::abi::Val;

/// The cases of `method` without payload, in order; `other(string)` follows them.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
const METHOD_OTHER: u32 = 9;

/// A `method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Method {
    /// One of the cases without payload (an index in [`METHODS`]).
    Known(u32),
    /// `other(string)`.
    Other(String),
}

impl Method {
    /// The method a request was sent with (`GET` is `get`, as `http::Method` compares).
    pub fn from_name(name: &str) -> Method {
        match METHODS.iter().position(|m| *m == name) {
            Some(i) => Method::Known(i as u32),
            None => Method::Other(name.to_string()),
        }
    }

    /// Its name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Method::Known(i) => METHODS[*i as usize],
            Method::Other(name) => name,
        }
    }

    /// As a value.
    pub fn to_val(&self) -> Val {
        match self {
            Method::Known(i) => variant(*i, None),
            Method::Other(name) => variant(METHOD_OTHER, Some(Val::String(name.clone()))),
        }
    }

    /// From a value (`None` if it is not a `method`).
    pub fn from_val(val: Val) -> Option<Method> {
        match val {
            Val::Variant(i, None) if i < METHOD_OTHER => Some(Method::Known(i)),
            Val::Variant(METHOD_OTHER, Some(name)) => match *name {
                Val::String(name) => Some(Method::Other(name)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A `scheme`: `HTTP` (0), `HTTPS` (1), `other(string)` (2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scheme {
    /// `HTTP`.
    Http,
    /// `HTTPS`.
    Https,
    /// `other(string)`.
    Other(String),
}

impl Scheme {
    /// From a URL's scheme (`http`, `https`, anything else).
    pub fn from_name(name: &str) -> Scheme {
        match name {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => Scheme::Other(other.to_string()),
        }
    }

    /// As a value.
    pub fn to_val(&self) -> Val {
        match self {
            Scheme::Http => variant(0, None),
            Scheme::Https => variant(1, None),
            Scheme::Other(name) => variant(2, Some(Val::String(name.clone()))),
        }
    }

    /// From a value (`None` if it is not a `scheme`).
    pub fn from_val(val: Val) -> Option<Scheme> {
        match val {
            Val::Variant(0, None) => Some(Scheme::Http),
            Val::Variant(1, None) => Some(Scheme::Https),
            Val::Variant(2, Some(name)) => match *name {
                Val::String(name) => Some(Scheme::Other(name)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `header-error`: `invalid-syntax` (0), `forbidden` (1), `immutable` (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeaderError {
    /// `invalid-syntax`.
    InvalidSyntax = 0,
    /// `forbidden`.
    Forbidden = 1,
    /// `immutable`.
    Immutable = 2,
}

impl HeaderError {
    /// As a value.
    pub fn to_val(self) -> Val {
        variant(self as u32, None)
    }
}

/// The cases of `error-code`, in order (the server host names them alike).
use valor_host::component::ERROR_CODES;

/// The `error-code`s this host makes.
pub(super) mod error_code {
    use super::*;

    /// `HTTP-request-denied`.
    pub fn request_denied() -> Val {
        variant(15, None)
    }

    /// `HTTP-request-body-size(some(written))`.
    pub fn request_body_size(written: u64) -> Val {
        variant(17, Some(option(Some(Val::U64(written)))))
    }

    /// `HTTP-request-URI-invalid`.
    pub fn request_uri_invalid() -> Val {
        variant(19, None)
    }

    /// `HTTP-response-body-size(some(written))`.
    pub fn response_body_size(written: u64) -> Val {
        variant(28, Some(option(Some(Val::U64(written)))))
    }

    /// `HTTP-protocol-error`.
    pub fn protocol_error() -> Val {
        variant(35, None)
    }

    /// `internal-error(some(message))`.
    pub fn internal(message: impl Into<String>) -> Val {
        variant(38, Some(option(Some(Val::String(message.into())))))
    }
}

/// The text of an `error-code` value: its case's name and payload, as in
/// `internal-error(Some("x"))` or `HTTP-request-body-size(Some(12))`.
pub(super) fn describe_error_code(code: &Val) -> String {
    let Val::Variant(case, payload) = code else {
        return format!("{code:?}");
    };
    let Some(name) = ERROR_CODES.get(*case as usize) else {
        return format!("error-code({case})");
    };
    match payload {
        None => name.to_string(),
        Some(payload) => format!("{name}({})", describe(payload, record_fields(*case))),
    }
}

/// The field names of the record an `error-code` case carries.
fn record_fields(case: u32) -> &'static [&'static str] {
    match case {
        1 => &["rcode", "info-code"],
        14 => &["alert-id", "alert-message"],
        22 | 24 | 27 | 30 => &["field-name", "field-size"],
        _ => &[],
    }
}

fn describe(val: &Val, fields: &[&str]) -> String {
    match val {
        Val::Option(None) => "None".into(),
        Val::Option(Some(inner)) => format!("Some({})", describe(inner, fields)),
        Val::String(s) => format!("{s:?}"),
        Val::U8(n) => n.to_string(),
        Val::U16(n) => n.to_string(),
        Val::U32(n) => n.to_string(),
        Val::U64(n) => n.to_string(),
        Val::Record(items) => {
            let items: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let name = fields.get(i).copied().unwrap_or("_");
                    format!("{name}: {}", describe(item, &[]))
                })
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}
