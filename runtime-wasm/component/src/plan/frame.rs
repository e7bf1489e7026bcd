//! One instantiation of a component while the plan is made: what each index of its spaces stands
//! for. Core items are indices of the plan's spaces; component items are what they resolve to
//! (a host function, a lifted function, an instance's exports). Types are left to wasmparser.

use super::parse::Definition;
use super::types::Resources;
use super::Lift;
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::ComponentExternalKind;

/// A component-level function.
#[derive(Debug, Clone)]
pub(super) enum Func {
    /// `name` of the imported interface `interface` (with its version).
    Host {
        /// The interface, as imported: `wasi:http/types@0.2.12`.
        interface: Rc<str>,
        /// The function: `[method]fields.set`.
        name: String,
    },
    /// A core function lifted.
    Lifted(Lift),
}

/// A component instance.
pub(super) enum Instance<'d> {
    /// An imported interface (its name with the version).
    Host(Rc<str>),
    /// An instance of a component of the file, or a bag of items: its exports.
    Exports(HashMap<String, Entity<'d>>),
}

/// An item of a component-level index space.
#[derive(Clone)]
pub(super) enum Entity<'d> {
    /// A function.
    Func(Func),
    /// An instance.
    Instance(Rc<Instance<'d>>),
    /// A core module: its index in the plan.
    Module(u32),
    /// A component.
    Component(Closure<'d>),
    /// A type (wasmparser resolves these: nothing to keep).
    Type,
}

/// A component's definition and the scope its outer aliases name items of.
#[derive(Clone, Copy)]
pub(super) struct Closure<'d> {
    /// What it is.
    pub definition: &'d Definition<'d>,
    /// The scope it was defined in.
    pub scope: usize,
}

/// The items of a component outer aliases can name (its modules and components), and the scope
/// of the component it is defined in.
#[derive(Default)]
pub(super) struct Scope<'d> {
    /// The core module index space.
    pub modules: Vec<u32>,
    /// The component index space.
    pub components: Vec<Closure<'d>>,
    /// The enclosing component's scope.
    pub parent: Option<usize>,
}

/// One component instantiation's index spaces (modules and components are in its [`Scope`]).
pub(super) struct Frame<'d> {
    /// What is instantiated.
    pub definition: &'d Definition<'d>,
    /// Its scope (in the builder's scopes).
    pub scope: usize,
    /// The host resources its types name.
    pub resources: Resources,
    /// Component functions.
    pub funcs: Vec<Func>,
    /// Component instances.
    pub instances: Vec<Rc<Instance<'d>>>,
    /// Core functions (plan indices).
    pub core_funcs: Vec<u32>,
    /// Core instances (plan indices).
    pub core_instances: Vec<u32>,
    /// Core memories (plan indices).
    pub memories: Vec<u32>,
    /// Core tables (plan indices).
    pub tables: Vec<u32>,
    /// Core globals (plan indices).
    pub globals: Vec<u32>,
    /// What it exports so far.
    pub exports: HashMap<String, Entity<'d>>,
}

impl<'d> Frame<'d> {
    /// A frame for `definition`, nothing in its spaces yet.
    pub fn new(definition: &'d Definition<'d>, scope: usize, resources: Resources) -> Self {
        Frame {
            definition,
            scope,
            resources,
            funcs: Vec::new(),
            instances: Vec::new(),
            core_funcs: Vec::new(),
            core_instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            exports: HashMap::new(),
        }
    }

    /// The component-level type of the item `index` of `kind`, as wasmparser resolved it, for
    /// the items whose types can carry resources to a nested component (types, instances).
    pub fn entity_type(
        &self,
        kind: ComponentExternalKind,
        index: u32,
    ) -> Option<ComponentEntityType> {
        let types = &self.definition.types;
        match kind {
            ComponentExternalKind::Type => {
                let ty: ComponentAnyTypeId = types.component_any_type_at(index);
                Some(ComponentEntityType::Type {
                    referenced: ty,
                    created: ty,
                })
            }
            ComponentExternalKind::Instance => Some(ComponentEntityType::Instance(
                types.component_instance_at(index),
            )),
            _ => None,
        }
    }
}

/// The item `index` of a space, or an error naming the space (the validator checked every
/// index, so this is only a guard against a space kept wrong here).
pub(super) fn at<T: Clone>(space: &[T], index: u32, what: &str) -> Result<T, String> {
    space
        .get(index as usize)
        .cloned()
        .ok_or_else(|| format!("{what} {index} is out of range"))
}
