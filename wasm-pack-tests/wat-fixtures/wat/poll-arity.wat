;; Exports every ABI function, but `valor_poll` takes two parameters instead of one.
(module
  (memory (export "memory") 1)
  (func (export "valor_abi_version") (result i32) (i32.const 3))
  (func (export "valor_init") (param i32 i32))
  (func (export "valor_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "valor_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "valor_poll") (param i32 i32) (result i32) (i32.const 0))
  (func (export "valor_drop") (param i32))
  (func (export "valor_complete") (param i32 i32 i32))
  (func (export "valor_woken") (result i32) (i32.const 0)))
