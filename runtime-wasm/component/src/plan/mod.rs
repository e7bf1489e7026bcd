//! A component read into what instantiating it takes: its core modules, the core instances to
//! create in order, the core functions the wiring makes, and the handler to call.

use crate::abi::{FuncType, Resource};
use std::ops::Range;

mod alias;
mod bind;
mod canon;
mod core;
mod frame;
mod handler;
mod imports;
mod instantiate;
mod names;
mod parse;
mod types;

/// Reads a component (validated first) into its plan, or says why this host cannot run it: not
/// a component, not a `wasi:http/proxy` component, or using what this host does not provide
/// (component-model async, string encodings other than UTF-8, resources of its own, calls
/// between components of a composition, WASI other than 0.2).
pub fn read(component: &[u8]) -> Result<Plan, String> {
    let parsed = parse::parse(component)?;
    let handler = handler::exported(&parsed.root)?;
    let mut builder = instantiate::Builder::new();
    let exports = builder
        .instantiate_root(&parsed.root)
        .map_err(|why| format!("this component cannot run here: {why}"))?;
    Ok(Plan {
        handler: handler::handler(&exports, &handler)?,
        modules: parsed.modules,
        instances: builder.instances,
        funcs: builder.funcs,
        memories: builder.memories,
        tables: builder.tables,
        globals: builder.globals,
    })
}

/// A `wasi:http/proxy` component, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Each core module's bytes, as a range of the component's bytes (core module index space).
    pub modules: Vec<Range<usize>>,
    /// The core instances, in the order they must be created (core instance index space).
    pub instances: Vec<CoreInstance>,
    /// The core function index space.
    pub funcs: Vec<CoreFunc>,
    /// The core memory index space: each an export of a core instance.
    pub memories: Vec<CoreExport>,
    /// The core table index space.
    pub tables: Vec<CoreExport>,
    /// The core global index space.
    pub globals: Vec<CoreExport>,
    /// The exported `wasi:http/incoming-handler.handle`.
    pub handler: Lift,
}

/// How a core instance is made.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreInstance {
    /// Instantiating core module `module`, each import module name given a core instance.
    Instantiate {
        /// The core module.
        module: u32,
        /// Import module name, core instance that provides it.
        args: Vec<(String, u32)>,
    },
    /// A bag of items made into an instance (to be given as another instantiation's import).
    FromExports(Vec<(String, CoreItem)>),
}

/// An item of a core index space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreItem {
    /// A core function.
    Func(u32),
    /// A core memory.
    Memory(u32),
    /// A core table.
    Table(u32),
    /// A core global.
    Global(u32),
}

/// An export of a core instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreExport {
    /// The core instance.
    pub instance: u32,
    /// The export's name.
    pub name: String,
}

/// A core function.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreFunc {
    /// An export of a core instance.
    Export(CoreExport),
    /// A lowered import: `name` of the imported `interface` (with its version).
    Lower {
        /// The imported interface: `wasi:http/types@0.2.12`.
        interface: String,
        /// The function: `[method]fields.set`.
        name: String,
        /// Its type.
        ty: FuncType,
        /// Its canonical options.
        options: Options,
    },
    /// `canon resource.drop` of a resource the host defines.
    ResourceDrop(Resource),
}

/// Canonical options (strings are always UTF-8: a component asking for another encoding is
/// refused when read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The core memory (index) lists and strings live in.
    pub memory: Option<u32>,
    /// The core function (index) that allocates in it.
    pub realloc: Option<u32>,
    /// The core function (index) to call after a lifted function's results were read.
    pub post_return: Option<u32>,
}

/// A lifted function.
#[derive(Debug, Clone, PartialEq)]
pub struct Lift {
    /// The core function it lifts.
    pub func: u32,
    /// Its type.
    pub ty: FuncType,
    /// Its canonical options.
    pub options: Options,
}

#[cfg(test)]
mod tests;
