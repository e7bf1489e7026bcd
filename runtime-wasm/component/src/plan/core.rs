//! The core items of a component: core instances (a module instantiated, a bag of items) and
//! the exports of core instances, entries of the plan's core index spaces.

use super::frame::{at, Frame};
use super::instantiate::{index, Builder};
use super::{CoreExport, CoreFunc, CoreInstance, CoreItem};
use wasmparser::{ExternalKind, Instance as CoreInstanceItem};

impl<'d> Builder<'d> {
    /// The export `name` of the core instance `instance` (plan index): the item itself when the
    /// instance is a bag of items, else a new entry of the plan's space of its kind.
    pub(super) fn core_export(
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
    pub(super) fn core_instance(
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
}

/// The core item `index` of `kind` in `frame`.
pub(super) fn core_item(
    frame: &Frame<'_>,
    kind: ExternalKind,
    index: u32,
) -> Result<CoreItem, String> {
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

/// Why exception tags shared between core instances are refused.
const TAGS: &str = "its core instances share exception tags, which this host does not wire";
