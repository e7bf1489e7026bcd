//! A component's aliases: of an instance's export, of a core instance's export (the plan's
//! item itself when the instance is a bag of items), of an outer component's module or
//! component.

use super::frame::{at, Entity, Frame, Func, Instance};
use super::imports::kind_name;
use super::instantiate::Builder;
use super::CoreItem;
use wasmparser::{ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind};

impl<'d> Builder<'d> {
    /// An alias: of an instance's export, of a core instance's export, or of an outer item.
    pub(super) fn alias(
        &mut self,
        alias: &ComponentAlias<'d>,
        frame: &mut Frame<'d>,
    ) -> Result<(), String> {
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
}
