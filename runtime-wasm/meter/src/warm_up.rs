//! A small module for the rewriter to rewrite before any plugin's module needs it. Engines
//! compile a module's functions on their first call, which made the first rewriting in a fresh
//! `valor_meter.wasm` take 13 ms against 1.4 for the next (hello.wasm, V8): the runtime has this
//! one rewritten while a plugin's module downloads.

use wasm_encoder::{
    BlockType, CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, Instruction, MemorySection, MemoryType, Module, TypeSection, ValType,
};

/// A module shaped like a plugin: an import, a memory, the ABI's exports, a loop, a call, an
/// `if` and a `memory.grow`.
pub fn module() -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32, ValType::I32], []); // 0: an import's
    types.ty().function([ValType::I32], [ValType::I32]); // 1: valor_alloc's, and others
    let mut imports = ImportSection::new();
    imports.import("valor", "log", EntityType::Function(0));
    let mut functions = FunctionSection::new();
    functions.function(1).function(1);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports
        .export("memory", ExportKind::Memory, 0)
        .export(vlugin::abi::exports::ALLOC, ExportKind::Func, 1)
        .export(vlugin::abi::exports::POLL, ExportKind::Func, 2);

    let mut code = CodeSection::new();
    // 1: counts its parameter down in a loop, growing memory on the way.
    let mut countdown = Function::new([]);
    for instruction in [
        Instruction::Block(BlockType::Empty),
        Instruction::Loop(BlockType::Empty),
        Instruction::LocalGet(0),
        Instruction::I32Eqz,
        Instruction::BrIf(1),
        Instruction::LocalGet(0),
        Instruction::I32Const(1),
        Instruction::I32Sub,
        Instruction::LocalSet(0),
        Instruction::I32Const(1),
        Instruction::MemoryGrow(0),
        Instruction::Drop,
        Instruction::Br(0),
        Instruction::End,
        Instruction::End,
        Instruction::LocalGet(0),
        Instruction::End,
    ] {
        countdown.instruction(&instruction);
    }
    code.function(&countdown);
    // 2: calls the import and function 1, under an `if`.
    let mut caller = Function::new([]);
    for instruction in [
        Instruction::LocalGet(0),
        Instruction::If(BlockType::Result(ValType::I32)),
        Instruction::I32Const(0),
        Instruction::I32Const(0),
        Instruction::Call(0),
        Instruction::LocalGet(0),
        Instruction::Call(1),
        Instruction::Else,
        Instruction::I32Const(0),
        Instruction::End,
        Instruction::End,
    ] {
        caller.instruction(&instruction);
    }
    code.function(&caller);

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
