//! Instantiating a component's definition symbolically, as a component engine would for real:
//! each item, in order, either adds a core instance or function to the plan or binds a
//! component-level index to what it stands for. Nested components are instantiated the same
//! way (their core items go into the same plan), so the handler is traced through any shape
//! the component model allows.

use super::bind::bind;
use super::canon::{canonical, Made};
use super::frame::{at, Closure, Entity, Frame, Func, Instance, Scope};
use super::names::check_wasi_version;
use super::parse::{Definition, Item};
use super::{CoreExport, CoreFunc, CoreInstance, CoreItem};
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentImport, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance as CoreInstanceItem,
};

/// At most this many items are instantiated (a small file could otherwise instantiate a nested
/// component in a nested component ... exponentially many times).
const BUDGET: u32 = 1_000_000;

/// The arguments of a nested component's instantiation.
pub(super) struct Args<'p, 'd> {
    /// Each argument by name, with its type in the instantiating component (for the types and
    /// instances that carry resources).
    pub given: HashMap<&'d str, (Entity<'d>, Option<ComponentEntityType>)>,
    /// The instantiating component's frame.
    pub frame: &'p Frame<'d>,
}

/// The plan's core index spaces, as they are filled, and the scopes of the components.
#[derive(Default)]
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
    scopes: Vec<Scope<'d>>,
    spent: u32,
}

impl<'d> Builder<'d> {
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
            Item::Canon(canon) => match canonical(canon, frame)? {
                Made::Func(func) => frame.funcs.push(func),
                Made::CoreFunc(func) => {
                    frame.core_funcs.push(index(self.funcs.len())?);
                    self.funcs.push(func);
                }
            },
        }
        Ok(())
    }

    /// An import of the outermost component: one of the host's interfaces, whose resources
    /// its types then name.
    fn host_import(
        &mut self,
        import: &ComponentImport<'d>,
        frame: &mut Frame<'d>,
    ) -> Result<Entity<'d>, String> {
        let name = import.name.full_name();
        let ComponentTypeRef::Instance(_) = import.ty else {
            return Err(format!(
                "it imports `{name}`, a {}: a wasi:http/proxy component imports interfaces only",
                kind_name(import.ty.kind())
            ));
        };
        check_wasi_version(&name)?;
        let interface: Rc<str> = name.into();
        let definition = frame.definition;
        let types = &definition.types;
        let ty = types.component_instance_at(index(frame.instances.len())?);
        for (export, item) in &types[ty].exports {
            if let ComponentEntityType::Type {
                referenced: ComponentAnyTypeId::Resource(id),
                ..
            } = item.ty
            {
                // An `eq` export names a resource of an interface imported before: the first
                // interface that exports a resource is the one that defines it.
                frame
                    .resources
                    .entry(id.resource())
                    .or_insert_with(|| crate::abi::Resource {
                        interface: super::names::without_version(&interface).into(),
                        name: export.as_str().into(),
                    });
            }
        }
        Ok(Entity::Instance(Rc::new(Instance::Host(interface))))
    }

    /// An alias: of an instance's export, of a core instance's export, or of an outer item.
    fn alias(&mut self, alias: &ComponentAlias<'d>, frame: &mut Frame<'d>) -> Result<(), String> {
        match *alias {
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let instance = at(&frame.instances, instance_index, "instance")?;
                let entity = match (&*instance, kind) {
                    (Instance::Host(interface), ComponentExternalKind::Func) => {
                        Entity::Func(Func::Host {
                            interface: interface.clone(),
                            name: name.to_string(),
                        })
                    }
                    (Instance::Host(_), ComponentExternalKind::Type) => Entity::Type,
                    (Instance::Host(interface), other) => {
                        return Err(format!(
                            "it takes a {} `{name}` from `{interface}`, which WASI interfaces \
                             do not export",
                            kind_name(other)
                        ));
                    }
                    (Instance::Exports(exports), _) => {
                        exports.get(name).cloned().ok_or_else(|| {
                            format!("instance {instance_index} has no export `{name}`")
                        })?
                    }
                };
                self.push(frame, entity);
            }
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let instance = at(&frame.core_instances, instance_index, "core instance")?;
                match self.core_export(instance, kind, name)? {
                    CoreItem::Func(func) => frame.core_funcs.push(func),
                    CoreItem::Memory(memory) => frame.memories.push(memory),
                    CoreItem::Table(table) => frame.tables.push(table),
                    CoreItem::Global(global) => frame.globals.push(global),
                }
            }
            ComponentAlias::Outer { kind, count, index } => {
                let mut scope = frame.scope;
                for _ in 0..count {
                    scope = self.scopes[scope]
                        .parent
                        .ok_or("an outer alias beyond the outermost component")?;
                }
                let entity = match kind {
                    ComponentOuterAliasKind::CoreModule => {
                        Entity::Module(at(&self.scopes[scope].modules, index, "core module")?)
                    }
                    ComponentOuterAliasKind::Component => {
                        Entity::Component(at(&self.scopes[scope].components, index, "component")?)
                    }
                    ComponentOuterAliasKind::Type | ComponentOuterAliasKind::CoreType => {
                        Entity::Type
                    }
                };
                self.push(frame, entity);
            }
        }
        Ok(())
    }

    /// The export `name` of the core instance `instance` (plan index): the item itself when the
    /// instance is a bag of items, else a new entry of the plan's space of its kind.
    fn core_export(
        &mut self,
        instance: u32,
        kind: ExternalKind,
        name: &str,
    ) -> Result<CoreItem, String> {
        if let Some(CoreInstance::FromExports(items)) = self.instances.get(instance as usize) {
            let found = items.iter().find(|(export, _)| export == name);
            return found
                .map(|(_, item)| *item)
                .ok_or_else(|| format!("core instance {instance} has no export `{name}`"));
        }
        let export = CoreExport {
            instance,
            name: name.to_string(),
        };
        Ok(match kind {
            ExternalKind::Func | ExternalKind::FuncExact => {
                self.funcs.push(CoreFunc::Export(export));
                CoreItem::Func(index(self.funcs.len() - 1)?)
            }
            ExternalKind::Memory => {
                self.memories.push(export);
                CoreItem::Memory(index(self.memories.len() - 1)?)
            }
            ExternalKind::Table => {
                self.tables.push(export);
                CoreItem::Table(index(self.tables.len() - 1)?)
            }
            ExternalKind::Global => {
                self.globals.push(export);
                CoreItem::Global(index(self.globals.len() - 1)?)
            }
            ExternalKind::Tag => return Err(TAGS.to_string()),
        })
    }

    /// A core instance: a module instantiated, or a bag of core items.
    fn core_instance(
        &mut self,
        instance: &CoreInstanceItem<'d>,
        frame: &mut Frame<'d>,
    ) -> Result<(), String> {
        let made = match instance {
            CoreInstanceItem::Instantiate { module_index, args } => CoreInstance::Instantiate {
                module: at(
                    &self.scopes[frame.scope].modules,
                    *module_index,
                    "core module",
                )?,
                args: args
                    .iter()
                    .map(|arg| {
                        Ok((
                            arg.name.to_string(),
                            at(&frame.core_instances, arg.index, "core instance")?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            },
            CoreInstanceItem::FromExports(exports) => CoreInstance::FromExports(
                exports
                    .iter()
                    .map(|export| {
                        Ok((
                            export.name.to_string(),
                            core_item(frame, export.kind, export.index)?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            ),
        };
        frame.core_instances.push(index(self.instances.len())?);
        self.instances.push(made);
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
    fn entity(
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
    fn push(&mut self, frame: &mut Frame<'d>, entity: Entity<'d>) {
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

/// An import of a nested component: the argument given for it, whose resources its own
/// resource types then stand for.
fn nested_import<'d>(
    import: &ComponentImport<'d>,
    frame: &mut Frame<'d>,
    args: &mut Args<'_, 'd>,
) -> Result<Entity<'d>, String> {
    let name = import.name.name;
    let (entity, given) = args
        .given
        .remove(name)
        .ok_or_else(|| format!("nothing is given for the import `{name}`"))?;
    let definition = frame.definition;
    let types = &definition.types;
    if let (Some(item), Some(given)) = (types.component_item_for_import(name), given) {
        let outer = args.frame;
        bind(
            item.ty,
            types,
            given,
            &outer.definition.types,
            &outer.resources,
            &mut frame.resources,
        );
    }
    Ok(entity)
}

/// The core item `index` of `kind` in `frame`.
fn core_item(frame: &Frame<'_>, kind: ExternalKind, index: u32) -> Result<CoreItem, String> {
    Ok(match kind {
        ExternalKind::Func | ExternalKind::FuncExact => {
            CoreItem::Func(at(&frame.core_funcs, index, "core function")?)
        }
        ExternalKind::Memory => CoreItem::Memory(at(&frame.memories, index, "memory")?),
        ExternalKind::Table => CoreItem::Table(at(&frame.tables, index, "table")?),
        ExternalKind::Global => CoreItem::Global(at(&frame.globals, index, "global")?),
        ExternalKind::Tag => return Err(TAGS.to_string()),
    })
}

/// A length as an index of a space.
fn index(len: usize) -> Result<u32, String> {
    u32::try_from(len).map_err(|_| "an index space too large".to_string())
}

/// A kind of item, for a message.
fn kind_name(kind: ComponentExternalKind) -> &'static str {
    match kind {
        ComponentExternalKind::Module => "core module",
        ComponentExternalKind::Func => "function",
        ComponentExternalKind::Value => "value",
        ComponentExternalKind::Type => "type",
        ComponentExternalKind::Instance => "interface",
        ComponentExternalKind::Component => "component",
    }
}

/// Why exception tags shared between core instances are refused.
const TAGS: &str = "its core instances share exception tags, which this host does not wire";

/// Why component values are refused.
const VALUES: &str = "it uses component values, which this host does not run";
