//! A component's imports: the host's interfaces for the outermost component, the arguments
//! given for a nested component's (whose resource types then stand for the arguments').

use super::bind::bind;
use super::frame::{Entity, Frame, Instance};
use super::instantiate::{index, Args, Builder};
use super::names::{check_wasi_version, without_version};
use crate::abi::Resource;
use std::rc::Rc;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::{ComponentExternalKind, ComponentImport, ComponentTypeRef};

impl<'d> Builder<'d> {
    /// An import of the outermost component: one of the host's interfaces, whose resources
    /// its types then name.
    pub(super) fn host_import(
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
                    .or_insert_with(|| Resource {
                        interface: without_version(&interface).into(),
                        name: export.as_str().into(),
                    });
            }
        }
        Ok(Entity::Instance(Rc::new(Instance::Host(interface))))
    }
}

/// An import of a nested component: the argument given for it, whose resources its own
/// resource types then stand for.
pub(super) fn nested_import<'d>(
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

/// A kind of item, for a message.
pub(super) fn kind_name(kind: ComponentExternalKind) -> &'static str {
    match kind {
        ComponentExternalKind::Module => "core module",
        ComponentExternalKind::Func => "function",
        ComponentExternalKind::Value => "value",
        ComponentExternalKind::Type => "type",
        ComponentExternalKind::Instance => "interface",
        ComponentExternalKind::Component => "component",
    }
}
