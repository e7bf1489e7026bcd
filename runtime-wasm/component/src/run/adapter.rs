//! The adapter: a small core module, generated per component, that gives each lowered import
//! and resource drop its exact core signature.
//!
//! A function made by wasm-bindgen has a fixed arity and would cross every `i64` as a BigInt,
//! while a lowered import takes up to 17 flat parameters of any core type, must pass the type
//! check of the `call_indirect` that reaches it through a component's shim table, and may not be
//! generated as JavaScript (no `eval` under a service worker's CSP). So each adapter function
//! stores its parameters, raw, into 8-byte slots of the adapter's own memory, calls the one
//! imported host function with its index, and loads its result (if any) from slot 0.

use crate::abi::{self, CoreType, Direction};
use crate::plan::{CoreFunc, Plan};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    MemArg, MemArgTarget, MemorySection, MemoryType, Module, TypeSection, ValType,
};

/// The adapter's import module and name: `call(index: i32)`.
pub const HOST_MODULE: &str = "host";
/// See [`HOST_MODULE`].
pub const HOST_CALL: &str = "call";
/// The adapter's exported memory, which holds the slots.
pub const SLOTS_EXPORT: &str = "slots";
/// Bytes per slot: any core value's raw bits.
pub const SLOT_BYTES: u32 = 8;

/// One adapter function: the core function of the plan it stands for, and its core signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its index in the plan's core function index space.
    pub func: u32,
    /// Its core parameters, in slot order.
    pub params: Vec<CoreType>,
    /// Its core results (at most one: the canonical ABI returns more through memory).
    pub results: Vec<CoreType>,
}

/// The adapter of one component.
pub struct Adapter {
    /// Its functions, exported under their index as a decimal name.
    pub entries: Vec<Entry>,
    /// For each core function of the plan, its adapter function, if it is one.
    pub of_func: Vec<Option<u32>>,
    /// The module's bytes.
    pub bytes: Vec<u8>,
}

/// The adapter of `plan`: one function per lowered import and resource drop.
pub fn generate(plan: &Plan) -> Result<Adapter, String> {
    let mut entries = Vec::new();
    let mut of_func = Vec::with_capacity(plan.funcs.len());
    for (index, func) in plan.funcs.iter().enumerate() {
        let (params, results) = match func {
            CoreFunc::Lower { ty, .. } => abi::core_signature(ty, Direction::Lower),
            CoreFunc::ResourceDrop(_) => (vec![CoreType::I32], Vec::new()),
            CoreFunc::Export(_) => {
                of_func.push(None);
                continue;
            }
        };
        if results.len() > 1 {
            return Err(format!(
                "core function {index} returns {} flat values (the canonical ABI lowers at most one)",
                results.len()
            ));
        }
        of_func.push(Some(entries.len() as u32));
        entries.push(Entry {
            func: index as u32,
            params,
            results,
        });
    }
    let bytes = encode(&entries);
    Ok(Adapter {
        entries,
        of_func,
        bytes,
    })
}

/// The export name of adapter function `index`.
pub fn export_name(index: u32) -> String {
    index.to_string()
}

fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut types = TypeSection::new();
    // Type 0 is the host call's; each entry has its own type after it (no deduplication: the
    // module is small, and the engine canonicalises equal types anyway).
    types.ty().function([ValType::I32], []);
    for entry in entries {
        let params = entry.params.iter().map(|&ty| val_type(ty));
        let results = entry.results.iter().map(|&ty| val_type(ty));
        types.ty().function(params, results);
    }
    let mut imports = ImportSection::new();
    imports.import(HOST_MODULE, HOST_CALL, EntityType::Function(0));
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (index, entry) in entries.iter().enumerate() {
        let index = index as u32;
        functions.function(index + 1);
        // Function 0 is the import.
        exports.export(&export_name(index), ExportKind::Func, index + 1);
        code.function(&body(index, entry));
    }
    let mut memories = MemorySection::new();
    // One page holds 8192 slots; a lowered import has at most 17 parameters.
    memories.memory(MemoryType {
        minimum: 1,
        maximum: Some(1),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    exports.export(SLOTS_EXPORT, ExportKind::Memory, 0);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// `slot[i] = param i ...; host.call(index); return slot[0]`.
fn body(index: u32, entry: &Entry) -> Function {
    let mut function = Function::new([]);
    let mut sink = function.instructions();
    for (param, &ty) in entry.params.iter().enumerate() {
        let param = param as u32;
        sink.i32_const((param * SLOT_BYTES) as i32).local_get(param);
        let at = slot(ty);
        match ty {
            CoreType::I32 => sink.i32_store(at),
            CoreType::I64 => sink.i64_store(at),
            CoreType::F32 => sink.f32_store(at),
            CoreType::F64 => sink.f64_store(at),
        };
    }
    sink.i32_const(index as i32).call(0);
    if let Some(&ty) = entry.results.first() {
        sink.i32_const(0);
        let at = slot(ty);
        match ty {
            CoreType::I32 => sink.i32_load(at),
            CoreType::I64 => sink.i64_load(at),
            CoreType::F32 => sink.f32_load(at),
            CoreType::F64 => sink.f64_load(at),
        };
    }
    sink.end();
    function
}

fn slot(ty: CoreType) -> MemArg {
    let align = match ty {
        CoreType::I32 | CoreType::F32 => 2,
        CoreType::I64 | CoreType::F64 => 3,
    };
    MemArg {
        offset: 0,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

fn val_type(ty: CoreType) -> ValType {
    match ty {
        CoreType::I32 => ValType::I32,
        CoreType::I64 => ValType::I64,
        CoreType::F32 => ValType::F32,
        CoreType::F64 => ValType::F64,
    }
}
