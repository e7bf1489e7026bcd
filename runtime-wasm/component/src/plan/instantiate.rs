//! Instantiating a component's definition symbolically, as a component engine would for real:
//! each item, in order, either adds a core instance or function to the plan or binds a
//! component-level index to what it stands for. Nested components are instantiated the same
//! way (their core items go into the same plan), so the handler is traced through any shape
//! the component model allows.

use super::canon::{canonical, Made};
use super::frame::{at, Closure, Entity, Frame, Instance, Scope};
use super::imports::nested_import;
use super::parse::{Definition, Item};
use super::types::MAX_TYPES;
use super::{CoreExport, CoreFunc, CoreInstance};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::ComponentEntityType;
use wasmparser::{ComponentExternalKind, ComponentInstance};

/// At most this many items are instantiated (a small file could otherwise instantiate a nested
/// component in a nested component ... exponentially many times).
const BUDGET: u32 = 100_000;

/// The arguments of a nested component's instantiation.
pub(super) struct Args<'p, 'd> {
    /// Each argument by name, with its type in the instantiating component (for the types and
    /// instances that carry resources).
    pub given: HashMap<&'d str, (Entity<'d>, Option<ComponentEntityType>)>,
    /// The instantiating component's frame.
    pub frame: &'p Frame<'d>,
}

/// The plan's core index spaces, as they are filled, and the scopes of the components.
pub(super) struct Builder<'d> {
    /// The core instances.
    pub instances: Vec<CoreInstance>,
    /// The core functions.
    pub funcs: Vec<CoreFunc>,
    /// The core memories.
    pub memories: Vec<CoreExport>,
    /// The core tables.
    pub tables: Vec<CoreExport>,
    /// The core globals.
    pub globals: Vec<CoreExport>,
    /// Each component instantiation's scope (outer aliases name items of these).
    pub scopes: Vec<Scope<'d>>,
    /// How many items were instantiated so far.
    spent: u32,
    /// How many more types may be converted.
    types: Cell<u32>,
}

impl<'d> Builder<'d> {
    /// Nothing instantiated yet.
    pub fn new() -> Self {
        Builder {
            instances: Vec::new(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            scopes: Vec::new(),
            spent: 0,
            types: Cell::new(MAX_TYPES),
        }
    }

    /// Instantiates the outermost component (whose imports are the host's interfaces): its
    /// exports.
    pub fn instantiate_root(
        &mut self,
        root: &'d Definition<'d>,
    ) -> Result<HashMap<String, Entity<'d>>, String> {
        let scope = self.new_scope(None);
        self.instantiate(
            Closure {
                definition: root,
                scope,
            },
            None,
        )
    }

    /// Instantiates `component` with `args` (`None` for the outermost): its exports.
    fn instantiate(
        &mut self,
        component: Closure<'d>,
        args: Option<Args<'_, 'd>>,
    ) -> Result<HashMap<String, Entity<'d>>, String> {
        let resources = args
            .as_ref()
            .map(|args| args.frame.resources.clone())
            .unwrap_or_default();
        let scope = self.new_scope(Some(component.scope));
        let mut frame = Frame::new(component.definition, scope, resources);
        let mut args = args;
        for item in &component.definition.items {
            self.spent += 1;
            if self.spent > BUDGET {
                return Err("it instantiates too many components to be planned".to_string());
            }
            self.item(item, &mut frame, args.as_mut())?;
        }
        Ok(frame.exports)
    }

    /// Adds one item to `frame`'s spaces (and what it makes to the plan).
    fn item(
        &mut self,
        item: &'d Item<'d>,
        frame: &mut Frame<'d>,
        args: Option<&mut Args<'_, 'd>>,
    ) -> Result<(), String> {
        match item {
            Item::Module(index) => self.scopes[frame.scope].modules.push(*index),
            Item::Component(definition) => {
                let closure = Closure {
                    definition,
                    scope: frame.scope,
                };
                self.scopes[frame.scope].components.push(closure);
            }
            Item::Import(import) => {
                let entity = match args {
                    Some(args) => nested_import(import, frame, args)?,
                    None => self.host_import(import, frame)?,
                };
                self.push(frame, entity);
            }
            Item::Export(export) => {
                let entity = self.entity(frame, export.kind, export.index)?;
                frame
                    .exports
                    .insert(export.name.name.to_string(), entity.clone());
                self.push(frame, entity);
            }
            Item::Alias(alias) => self.alias(alias, frame)?,
            Item::CoreInstance(instance) => self.core_instance(instance, frame)?,
            Item::Instance(instance) => {
                let instance = self.instance(instance, frame)?;
                frame.instances.push(Rc::new(instance));
            }
            Item::Canon(canon) => match canonical(canon, frame, &self.types)? {
                Made::Func(func) => frame.funcs.push(func),
                Made::CoreFunc(func) => {
                    frame.core_funcs.push(index(self.funcs.len())?);
                    self.funcs.push(func);
                }
            },
        }
        Ok(())
    }

    /// A component instance: a component instantiated, or a bag of items.
    fn instance(
        &mut self,
        instance: &'d ComponentInstance<'d>,
        frame: &Frame<'d>,
    ) -> Result<Instance<'d>, String> {
        match instance {
            ComponentInstance::Instantiate {
                component_index,
                args,
            } => {
                let component = at(
                    &self.scopes[frame.scope].components,
                    *component_index,
                    "component",
                )?;
                let mut given = HashMap::new();
                for arg in args.iter() {
                    let entity = self.entity(frame, arg.kind, arg.index)?;
                    given.insert(arg.name, (entity, frame.entity_type(arg.kind, arg.index)));
                }
                let exports = self.instantiate(component, Some(Args { given, frame }))?;
                Ok(Instance::Exports(exports))
            }
            ComponentInstance::FromExports(exports) => {
                let mut items = HashMap::new();
                for export in exports.iter() {
                    items.insert(
                        export.name.name.to_string(),
                        self.entity(frame, export.kind, export.index)?,
                    );
                }
                Ok(Instance::Exports(items))
            }
        }
    }

    /// The component-level item `index` of `kind`.
    pub(super) fn entity(
        &self,
        frame: &Frame<'d>,
        kind: ComponentExternalKind,
        index: u32,
    ) -> Result<Entity<'d>, String> {
        let scope = &self.scopes[frame.scope];
        Ok(match kind {
            ComponentExternalKind::Func => Entity::Func(at(&frame.funcs, index, "function")?),
            ComponentExternalKind::Instance => {
                Entity::Instance(at(&frame.instances, index, "instance")?)
            }
            ComponentExternalKind::Module => {
                Entity::Module(at(&scope.modules, index, "core module")?)
            }
            ComponentExternalKind::Component => {
                Entity::Component(at(&scope.components, index, "component")?)
            }
            ComponentExternalKind::Type => Entity::Type,
            ComponentExternalKind::Value => return Err(VALUES.to_string()),
        })
    }

    /// Adds `entity` to the index space of its kind.
    pub(super) fn push(&mut self, frame: &mut Frame<'d>, entity: Entity<'d>) {
        match entity {
            Entity::Func(func) => frame.funcs.push(func),
            Entity::Instance(instance) => frame.instances.push(instance),
            Entity::Module(module) => self.scopes[frame.scope].modules.push(module),
            Entity::Component(component) => self.scopes[frame.scope].components.push(component),
            Entity::Type => {}
        }
    }

    /// A new scope whose outer aliases name `parent`'s items.
    fn new_scope(&mut self, parent: Option<usize>) -> usize {
        self.scopes.push(Scope {
            parent,
            ..Scope::default()
        });
        self.scopes.len() - 1
    }
}

/// A length as an index of a space.
pub(super) fn index(len: usize) -> Result<u32, String> {
    u32::try_from(len).map_err(|_| "an index space too large".to_string())
}

/// Why component values are refused.
const VALUES: &str = "it uses component values, which this host does not run";
