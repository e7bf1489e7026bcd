//! A nested component's imported resource types, bound to the host resources its instantiation
//! gives them: wasmparser typed the nested component with abstract resources of its own, which
//! stand, in this instance of it, for the resources of its arguments.

use super::types::Resources;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::types::Types;

/// Where a nested component imports `import` (its type in the component, `types`) and is given
/// `arg` (its type in the instantiating component, `arg_types`, whose host resources are
/// `arg_resources`): records in `resources` the host resource each of its resources stands for.
pub(super) fn bind(
    import: ComponentEntityType,
    types: &Types,
    arg: ComponentEntityType,
    arg_types: &Types,
    arg_resources: &Resources,
    resources: &mut Resources,
) {
    match (import, arg) {
        (
            ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(mine),
                ..
            },
            ComponentEntityType::Type {
                referenced: ComponentAnyTypeId::Resource(theirs),
                ..
            },
        ) => {
            if let Some(resource) = arg_resources.get(&theirs.resource()) {
                resources.insert(mine.resource(), resource.clone());
            }
        }
        (ComponentEntityType::Instance(mine), ComponentEntityType::Instance(theirs)) => {
            for (name, item) in &types[mine].exports {
                if let Some(given) = arg_types[theirs].exports.get(name) {
                    bind(
                        item.ty,
                        types,
                        given.ty,
                        arg_types,
                        arg_resources,
                        resources,
                    );
                }
            }
        }
        _ => {}
    }
}
