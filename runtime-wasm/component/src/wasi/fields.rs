//! `wasi:http/types.fields`: header maps with wasmtime-wasi-http's rules (its `FieldMap`):
//! names are HTTP tokens, kept lower-case; values are bytes without control characters (tab
//! allowed); the hop-by-hop names of wasmtime's `DEFAULT_FORBIDDEN_HEADERS` are refused
//! (`forbidden`) and stripped from the maps the host hands in; `content-length` takes one
//! value of digits only; a request's or response's headers are immutable; a mutable map grows
//! to at most [`FIELD_SIZE_LIMIT`], counted as wasmtime counts it on a 64-bit host, past which
//! the call traps (as wasmtime-wasi-http's p2 does). Names keep their order of first insertion,
//! and removing a name moves the last name into its place (as `http::HeaderMap` does).

use super::args::{err, ok, Answer, Args};
use super::codes::HeaderError;
use super::session::Session;
use super::uri::is_token_byte;
use crate::abi::Val;
use crate::host::Fault;

/// How much a mutable map may hold, as wasmtime-wasi-http's default `field_size_limit`.
pub(super) const FIELD_SIZE_LIMIT: usize = 128 * 1024;

/// What wasmtime counts for a name besides its bytes (`size_of::<HeaderName>()` on 64 bits).
const NAME_OVERHEAD: usize = 32;
/// What wasmtime counts for a value besides its bytes (`size_of::<HeaderValue>()` on 64 bits).
const VALUE_OVERHEAD: usize = 40;

/// wasmtime-wasi-http's `DEFAULT_FORBIDDEN_HEADERS`.
const FORBIDDEN: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
];

/// The longest name `http::HeaderName` accepts.
const MAX_NAME_LEN: usize = 1 << 16;

/// Why a change to a map was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldError {
    /// A `header-error` for the component.
    Header(HeaderError),
    /// The map would pass [`FIELD_SIZE_LIMIT`]: a trap.
    TooBig,
}

impl From<HeaderError> for FieldError {
    fn from(e: HeaderError) -> Self {
        FieldError::Header(e)
    }
}

/// A header map.
#[derive(Debug, Clone, Default)]
pub(super) struct Fields {
    entries: Vec<(String, Vec<Vec<u8>>)>,
    mutable: bool,
    size: usize,
}

/// `name` as `http::HeaderName` parses it: lower-cased, or `None` if it is not a token.
fn parse_name(name: &str) -> Option<String> {
    if name.is_empty() || name.len() >= MAX_NAME_LEN || !name.bytes().all(is_token_byte) {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// Whether `http::HeaderValue` accepts `value` (for `content-length`: digits only).
fn valid_value(name: &str, value: &[u8]) -> bool {
    if name == "content-length" {
        return !value.is_empty() && value.iter().all(u8::is_ascii_digit);
    }
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn forbidden(name: &str) -> bool {
    FORBIDDEN.contains(&name)
}

impl Fields {
    /// An empty map the component may change.
    pub fn new_mutable() -> Fields {
        Fields {
            mutable: true,
            ..Fields::default()
        }
    }

    /// An immutable map of headers from outside (a request, a fetched response): forbidden
    /// names and entries `http` would refuse are left out, as wasmtime does.
    pub fn immutable(headers: &[(String, Vec<u8>)]) -> Fields {
        let mut fields = Fields::default();
        for (name, value) in headers {
            let Some(name) = parse_name(name) else {
                continue;
            };
            if forbidden(&name) || !valid_value(&name, value) {
                continue;
            }
            fields.size += value.len() + VALUE_OVERHEAD;
            match fields.position(&name) {
                Some(i) => fields.entries[i].1.push(value.clone()),
                None => {
                    fields.size += name.len() + NAME_OVERHEAD;
                    fields.entries.push((name, vec![value.clone()]));
                }
            }
        }
        fields
    }

    /// The values of `name`.
    pub fn get(&self, name: &str) -> Vec<Vec<u8>> {
        let Some(name) = parse_name(name) else {
            return Vec::new();
        };
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Whether `name` has a value.
    pub fn has(&self, name: &str) -> bool {
        parse_name(name).is_some_and(|name| self.entries.iter().any(|(n, _)| *n == name))
    }

    /// Every name and value, in order.
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        let mut all = Vec::new();
        for (name, values) in &self.entries {
            all.extend(values.iter().map(|v| (name.clone(), v.clone())));
        }
        all
    }

    /// A mutable copy (`fields.clone`).
    pub fn clone_mutable(&self) -> Fields {
        Fields {
            mutable: true,
            ..self.clone()
        }
    }

    /// Forbids further changes (the headers of a request or response).
    pub fn freeze(&mut self) {
        self.mutable = false;
    }

    fn checked_name(name: &str) -> Result<String, FieldError> {
        let name = parse_name(name).ok_or(HeaderError::InvalidSyntax)?;
        if forbidden(&name) {
            return Err(HeaderError::Forbidden.into());
        }
        Ok(name)
    }

    fn check_mutable(&self) -> Result<(), FieldError> {
        if self.mutable {
            Ok(())
        } else {
            Err(HeaderError::Immutable.into())
        }
    }

    fn resize(&mut self, new: usize) -> Result<(), FieldError> {
        if new > FIELD_SIZE_LIMIT {
            return Err(FieldError::TooBig);
        }
        self.size = new;
        Ok(())
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|(n, _)| n == name)
    }

    /// `fields.set`: replaces the values of `name` (none removes it).
    pub fn set(&mut self, name: &str, values: Vec<Vec<u8>>) -> Result<(), FieldError> {
        let name = Self::checked_name(name)?;
        self.check_mutable()?;
        if name == "content-length" && values.len() > 1 {
            return Err(HeaderError::InvalidSyntax.into());
        }
        if !values.iter().all(|v| valid_value(&name, v)) {
            return Err(HeaderError::InvalidSyntax.into());
        }
        let values_size: usize = values.iter().map(|v| v.len() + VALUE_OVERHEAD).sum();
        let key_size = name.len() + NAME_OVERHEAD;
        match self.position(&name) {
            None if values.is_empty() => Ok(()),
            None => {
                self.resize(self.size + values_size + key_size)?;
                self.entries.push((name, values));
                Ok(())
            }
            Some(i) => {
                let previous: usize = self.entries[i]
                    .1
                    .iter()
                    .map(|v| v.len() + VALUE_OVERHEAD)
                    .sum();
                if values.is_empty() {
                    self.resize(self.size - previous - key_size)?;
                    self.entries.swap_remove(i);
                } else {
                    self.resize(self.size - previous + values_size)?;
                    self.entries[i].1 = values;
                }
                Ok(())
            }
        }
    }

    /// `fields.delete`: removes every value of `name`.
    pub fn delete(&mut self, name: &str) -> Result<(), FieldError> {
        let name = Self::checked_name(name)?;
        self.check_mutable()?;
        if let Some(i) = self.position(&name) {
            let (name, values) = self.entries.swap_remove(i);
            let removed: usize = values.iter().map(|v| v.len() + VALUE_OVERHEAD).sum();
            self.size -= removed + name.len() + NAME_OVERHEAD;
        }
        Ok(())
    }

    /// `fields.append`: adds a value to `name`.
    pub fn append(&mut self, name: &str, value: Vec<u8>) -> Result<(), FieldError> {
        let name = Self::checked_name(name)?;
        if !valid_value(&name, &value) {
            return Err(HeaderError::InvalidSyntax.into());
        }
        let existing = self.position(&name);
        if name == "content-length" && existing.is_some() {
            return Err(HeaderError::InvalidSyntax.into());
        }
        self.check_mutable()?;
        let value_size = value.len() + VALUE_OVERHEAD;
        match existing {
            Some(i) => {
                self.resize(self.size + value_size)?;
                self.entries[i].1.push(value);
            }
            None => {
                self.resize(self.size + value_size + name.len() + NAME_OVERHEAD)?;
                self.entries.push((name, vec![value]));
            }
        }
        Ok(())
    }

    /// The `content-length` the map declares, as wasmtime's `get_content_length` reads it.
    pub fn content_length(&self) -> Result<Option<u64>, String> {
        let values = self.get("content-length");
        match values.as_slice() {
            [] => Ok(None),
            [one] => std::str::from_utf8(one)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .map(Some)
                .ok_or_else(|| "invalid `content-length` header value".to_string()),
            _ => Err("multiple `content-length` header values".to_string()),
        }
    }
}

/// The answer of a change: `ok`, a `header-error`, or a trap past the size limit.
fn change_result(args: &Args, result: Result<(), FieldError>) -> Answer {
    match result {
        Ok(()) => Ok(Some(ok(None))),
        Err(FieldError::Header(e)) => Ok(Some(err(Some(e.to_val())))),
        Err(FieldError::TooBig) => Err(too_big(args)),
    }
}

fn too_big(args: &Args) -> Fault {
    args.trap(format_args!(
        "total size of fields exceeds limit ({FIELD_SIZE_LIMIT} bytes, as wasmtime-wasi-http)"
    ))
}

/// A `list<tuple<field-name, field-value>>`.
pub(super) fn entries_val(entries: Vec<(String, Vec<u8>)>) -> Val {
    Val::List(
        entries
            .into_iter()
            .map(|(n, v)| Val::Tuple(vec![Val::String(n), Val::Bytes(v)]))
            .collect(),
    )
}

impl Session {
    /// `[constructor]fields`.
    pub(super) fn fields_new(&mut self, args: &mut Args) -> Answer {
        let handle = self.run.table.push(args, Fields::new_mutable())?;
        Ok(Some(Val::Handle(handle)))
    }

    /// `[static]fields.from-list`.
    pub(super) fn fields_from_list(&mut self, args: &mut Args) -> Answer {
        let mut fields = Fields::new_mutable();
        for entry in args.list(0)? {
            let Val::Tuple(mut pair) = entry else {
                return Err(args.trap("an entry is not a tuple"));
            };
            let (Some(Val::Bytes(value)), Some(Val::String(name))) = (pair.pop(), pair.pop())
            else {
                return Err(args.trap("an entry is not a (string, list<u8>)"));
            };
            match fields.append(&name, value) {
                Ok(()) => {}
                Err(FieldError::Header(e)) => return Ok(Some(err(Some(e.to_val())))),
                Err(FieldError::TooBig) => return Err(too_big(args)),
            }
        }
        let handle = self.run.table.push(args, fields)?;
        Ok(Some(ok(Some(Val::Handle(handle)))))
    }

    /// `[method]fields.get`.
    pub(super) fn fields_get(&mut self, args: &mut Args) -> Answer {
        let (handle, name) = (args.handle(0)?, args.string(1)?);
        let values = self.run.table.get::<Fields>(args, handle)?.get(&name);
        Ok(Some(Val::List(
            values.into_iter().map(Val::Bytes).collect(),
        )))
    }

    /// `[method]fields.has`.
    pub(super) fn fields_has(&mut self, args: &mut Args) -> Answer {
        let (handle, name) = (args.handle(0)?, args.string(1)?);
        Ok(Some(Val::Bool(
            self.run.table.get::<Fields>(args, handle)?.has(&name),
        )))
    }

    /// `[method]fields.set`.
    pub(super) fn fields_set(&mut self, args: &mut Args) -> Answer {
        let (handle, name) = (args.handle(0)?, args.string(1)?);
        let mut values = Vec::new();
        for (i, value) in args.list(2)?.into_iter().enumerate() {
            match value {
                Val::Bytes(b) => values.push(b),
                Val::List(l) if l.is_empty() => values.push(Vec::new()),
                _ => return Err(args.trap(format_args!("value {i} is not a list<u8>"))),
            }
        }
        let result = self
            .run
            .table
            .get::<Fields>(args, handle)?
            .set(&name, values);
        change_result(args, result)
    }

    /// `[method]fields.delete`.
    pub(super) fn fields_delete(&mut self, args: &mut Args) -> Answer {
        let (handle, name) = (args.handle(0)?, args.string(1)?);
        let result = self.run.table.get::<Fields>(args, handle)?.delete(&name);
        change_result(args, result)
    }

    /// `[method]fields.append`.
    pub(super) fn fields_append(&mut self, args: &mut Args) -> Answer {
        let (handle, name, value) = (args.handle(0)?, args.string(1)?, args.bytes(2)?);
        let result = self
            .run
            .table
            .get::<Fields>(args, handle)?
            .append(&name, value);
        change_result(args, result)
    }

    /// `[method]fields.entries`.
    pub(super) fn fields_entries(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        Ok(Some(entries_val(
            self.run.table.get::<Fields>(args, handle)?.entries(),
        )))
    }

    /// `[method]fields.clone`.
    pub(super) fn fields_clone(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let copy = self.run.table.get::<Fields>(args, handle)?.clone_mutable();
        Ok(Some(Val::Handle(self.run.table.push(args, copy)?)))
    }
}
