//! The arguments of one host call, taken out one by one by the function's implementation, and
//! the shapes of the values it answers with. A value of the wrong shape means the wiring lifted
//! something else than the function's type: the call traps, naming the function.

use crate::abi::Val;
use crate::host::Fault;

/// One call's arguments, with the function's name for the messages of its traps.
pub(super) struct Args {
    /// `[method]fields.set`, as the interface names it.
    pub func: &'static str,
    vals: Vec<Val>,
}

impl Args {
    /// The arguments `vals` of a call to `func`.
    pub fn new(func: &'static str, vals: Vec<Val>) -> Args {
        Args { func, vals }
    }

    /// A trap of this call, with `why`.
    pub fn trap(&self, why: impl std::fmt::Display) -> Fault {
        Fault::Trap(format!("{}: {why}", self.func))
    }

    /// Takes argument `i` out, leaving a placeholder.
    pub fn take(&mut self, i: usize) -> Result<Val, Fault> {
        match self.vals.get_mut(i) {
            Some(val) => Ok(std::mem::replace(val, Val::Bool(false))),
            None => Err(self.trap(format_args!("argument {i} is missing"))),
        }
    }

    fn wrong(&self, i: usize, what: &str) -> Fault {
        self.trap(format_args!("argument {i} is not a {what}"))
    }

    /// Argument `i`, a resource handle (`own` or `borrow`).
    pub fn handle(&mut self, i: usize) -> Result<u32, Fault> {
        match self.take(i)? {
            Val::Handle(h) => Ok(h),
            _ => Err(self.wrong(i, "handle")),
        }
    }

    /// Argument `i`, a `string`.
    pub fn string(&mut self, i: usize) -> Result<String, Fault> {
        match self.take(i)? {
            Val::String(s) => Ok(s),
            _ => Err(self.wrong(i, "string")),
        }
    }

    /// Argument `i`, a `list<u8>`.
    pub fn bytes(&mut self, i: usize) -> Result<Vec<u8>, Fault> {
        match self.take(i)? {
            Val::Bytes(b) => Ok(b),
            Val::List(items) if items.is_empty() => Ok(Vec::new()),
            _ => Err(self.wrong(i, "list<u8>")),
        }
    }

    /// Argument `i`, a `u64`.
    pub fn u64(&mut self, i: usize) -> Result<u64, Fault> {
        match self.take(i)? {
            Val::U64(n) => Ok(n),
            _ => Err(self.wrong(i, "u64")),
        }
    }

    /// Argument `i`, a `u16`.
    pub fn u16(&mut self, i: usize) -> Result<u16, Fault> {
        match self.take(i)? {
            Val::U16(n) => Ok(n),
            _ => Err(self.wrong(i, "u16")),
        }
    }

    /// Argument `i`, an `option<T>`: its payload.
    pub fn option(&mut self, i: usize) -> Result<Option<Val>, Fault> {
        match self.take(i)? {
            Val::Option(o) => Ok(o.map(|v| *v)),
            _ => Err(self.wrong(i, "option")),
        }
    }

    /// Argument `i`, a `result<T, E>`: its payload, in `Ok` or `Err`.
    pub fn result(&mut self, i: usize) -> Result<Result<Option<Val>, Option<Val>>, Fault> {
        match self.take(i)? {
            Val::Result(r) => Ok(r.map(|v| v.map(|v| *v)).map_err(|v| v.map(|v| *v))),
            _ => Err(self.wrong(i, "result")),
        }
    }

    /// Argument `i`, a `list<T>`: its items.
    pub fn list(&mut self, i: usize) -> Result<Vec<Val>, Fault> {
        match self.take(i)? {
            Val::List(items) => Ok(items),
            Val::Bytes(b) => Ok(b.into_iter().map(Val::U8).collect()),
            _ => Err(self.wrong(i, "list")),
        }
    }
}

/// `ok(payload)` of a `result`.
pub(super) fn ok(payload: Option<Val>) -> Val {
    Val::Result(Ok(payload.map(Box::new)))
}

/// `err(payload)` of a `result`.
pub(super) fn err(payload: Option<Val>) -> Val {
    Val::Result(Err(payload.map(Box::new)))
}

/// An `option`.
pub(super) fn option(payload: Option<Val>) -> Val {
    Val::Option(payload.map(Box::new))
}

/// A variant's case and payload.
pub(super) fn variant(case: u32, payload: Option<Val>) -> Val {
    Val::Variant(case, payload.map(Box::new))
}

/// What a host function answers: its result, if it has one.
pub(super) type Answer = Result<Option<Val>, Fault>;
