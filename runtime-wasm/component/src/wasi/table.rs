//! The resources of one run: one table, handles are indices from 1, every entry typed.
//!
//! As in wasmtime's `ResourceTable`, an entry may be the child of another (a stream of its body,
//! a pollable of what it watches): a parent cannot be removed while a child is alive (the call
//! or drop that tries traps), and a freed slot is used again by the next push.

use super::args::Args;
use super::body::{HostIncomingBody, HostOutgoingBody};
use super::fields::Fields;
use super::io::{InputStream, IoError, OutputStream};
use super::outgoing::HostFutureIncomingResponse;
use super::poll::Pollable;
use super::request::{HostIncomingRequest, HostOutgoingRequest, HostRequestOptions};
use super::response::{
    HostFutureTrailers, HostIncomingResponse, HostOutgoingResponse, HostResponseOutparam,
};
use crate::host::Fault;

/// The most resources a run may hold at once: a component that leaks handles in a loop traps
/// here rather than exhaust the worker's memory.
pub(super) const TABLE_LIMIT: usize = 100_000;

/// A type that lives in the table: which resource of which interface it is.
pub(super) trait Resident: Sized {
    /// The interface that defines it, without version.
    const INTERFACE: &'static str;
    /// The resource's name in that interface.
    const NAME: &'static str;
    /// Into an entry.
    fn wrap(self) -> Res;
    /// Out of an entry, if it is one of these.
    fn peek(res: &mut Res) -> Option<&mut Self>;
    /// Out of an entry, by value.
    fn unwrap(res: Res) -> Option<Self>;
}

macro_rules! resources {
    ($($variant:ident($ty:ty) = $interface:literal $name:literal,)*) => {
        /// An entry of the table.
        pub(super) enum Res { $($variant($ty),)* }

        impl Res {
            /// The interface and resource name of this entry.
            pub(super) fn names(&self) -> (&'static str, &'static str) {
                match self { $(Res::$variant(_) => ($interface, $name),)* }
            }
        }

        /// `[resource-drop]<name>` for a resource this host defines (`interface` without
        /// version), `None` for any other.
        pub(super) fn drop_name(interface: &str, name: &str) -> Option<&'static str> {
            match (interface, name) {
                $(($interface, $name) => Some(concat!("[resource-drop]", $name)),)*
                _ => None,
            }
        }

        $(impl Resident for $ty {
            const INTERFACE: &'static str = $interface;
            const NAME: &'static str = $name;
            fn wrap(self) -> Res { Res::$variant(self) }
            fn peek(res: &mut Res) -> Option<&mut Self> {
                match res { Res::$variant(x) => Some(x), #[allow(unreachable_patterns)] _ => None }
            }
            fn unwrap(res: Res) -> Option<Self> {
                match res { Res::$variant(x) => Some(x), #[allow(unreachable_patterns)] _ => None }
            }
        })*
    };
}

resources! {
    Fields(Fields) = "wasi:http/types" "fields",
    IncomingRequest(HostIncomingRequest) = "wasi:http/types" "incoming-request",
    OutgoingRequest(HostOutgoingRequest) = "wasi:http/types" "outgoing-request",
    RequestOptions(HostRequestOptions) = "wasi:http/types" "request-options",
    ResponseOutparam(HostResponseOutparam) = "wasi:http/types" "response-outparam",
    IncomingResponse(HostIncomingResponse) = "wasi:http/types" "incoming-response",
    IncomingBody(HostIncomingBody) = "wasi:http/types" "incoming-body",
    FutureTrailers(HostFutureTrailers) = "wasi:http/types" "future-trailers",
    OutgoingResponse(HostOutgoingResponse) = "wasi:http/types" "outgoing-response",
    OutgoingBody(HostOutgoingBody) = "wasi:http/types" "outgoing-body",
    FutureIncomingResponse(HostFutureIncomingResponse) = "wasi:http/types" "future-incoming-response",
    Error(IoError) = "wasi:io/error" "error",
    Pollable(Pollable) = "wasi:io/poll" "pollable",
    InputStream(InputStream) = "wasi:io/streams" "input-stream",
    OutputStream(OutputStream) = "wasi:io/streams" "output-stream",
}

struct Entry {
    res: Res,
    parent: Option<u32>,
    children: u32,
}

/// The resources of one run.
#[derive(Default)]
pub(super) struct Table {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    live: usize,
}

impl Table {
    /// Adds `value`; its handle.
    pub fn push<T: Resident>(&mut self, args: &Args, value: T) -> Result<u32, Fault> {
        self.insert(args, value.wrap(), None)
    }

    /// Adds `value` as a child of `parent` (which must be alive); its handle.
    pub fn push_child<T: Resident>(
        &mut self,
        args: &Args,
        value: T,
        parent: u32,
    ) -> Result<u32, Fault> {
        self.insert(args, value.wrap(), Some(parent))
    }

    fn insert(&mut self, args: &Args, res: Res, parent: Option<u32>) -> Result<u32, Fault> {
        if self.live >= TABLE_LIMIT {
            return Err(args.trap(format_args!(
                "the component holds {TABLE_LIMIT} resources, the most this host allows"
            )));
        }
        if let Some(parent) = parent {
            self.entry(args, parent)?.children += 1;
        }
        let entry = Some(Entry {
            res,
            parent,
            children: 0,
        });
        self.live += 1;
        if let Some(handle) = self.free.pop() {
            self.slots[handle as usize - 1] = entry;
            return Ok(handle);
        }
        self.slots.push(entry);
        Ok(self.slots.len() as u32)
    }

    fn entry(&mut self, args: &Args, handle: u32) -> Result<&mut Entry, Fault> {
        let slot = (handle as usize)
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i));
        match slot {
            Some(Some(entry)) => Ok(entry),
            _ => Err(args.trap(format_args!("handle {handle} is not a live resource"))),
        }
    }

    /// The resource `handle`, which must be a `T` (a borrow, or a method's `self`).
    pub fn get<T: Resident>(&mut self, args: &Args, handle: u32) -> Result<&mut T, Fault> {
        let entry = self.entry(args, handle)?;
        let (interface, name) = entry.res.names();
        T::peek(&mut entry.res).ok_or_else(|| wrong_type::<T>(args, handle, interface, name))
    }

    /// Removes the resource `handle`, which must be a `T` without live children (an own handle
    /// passed to the host, or dropped).
    pub fn remove<T: Resident>(&mut self, args: &Args, handle: u32) -> Result<T, Fault> {
        self.get::<T>(args, handle)?;
        let res = self.remove_any(args, handle)?;
        Ok(T::unwrap(res).expect("the entry's type was checked"))
    }

    /// Removes the resource `handle` whatever its type (its type checked by the caller).
    pub fn remove_any(&mut self, args: &Args, handle: u32) -> Result<Res, Fault> {
        let entry = self.entry(args, handle)?;
        if entry.children > 0 {
            let (_, name) = entry.res.names();
            return Err(args.trap(format_args!(
                "the {name} {handle} still has resources made from it (drop them first)"
            )));
        }
        let entry = self.slots[handle as usize - 1]
            .take()
            .expect("the entry is alive");
        if let Some(parent) = entry.parent {
            if let Some(Some(parent)) = self.slots.get_mut(parent as usize - 1) {
                parent.children -= 1;
            }
        }
        self.live -= 1;
        self.free.push(handle);
        Ok(entry.res)
    }

    /// The interface and resource name of the live resource `handle`.
    pub fn names_of(
        &mut self,
        args: &Args,
        handle: u32,
    ) -> Result<(&'static str, &'static str), Fault> {
        Ok(self.entry(args, handle)?.res.names())
    }
}

fn wrong_type<T: Resident>(args: &Args, handle: u32, interface: &str, name: &str) -> Fault {
    args.trap(format_args!(
        "handle {handle} is a {interface}.{name}, not a {}.{}",
        T::INTERFACE,
        T::NAME
    ))
}
