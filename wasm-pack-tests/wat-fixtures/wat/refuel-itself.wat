;; Not valid WebAssembly as written: its start function sets global 0, which the module does not
;; have. Rewritten for fuel, the module would gain the fuel counter at that index, and the loop
;; would refill its own fuel for ever: the runtime must refuse it before rewriting it.
(module
  (memory (export "memory") 1)
  (func $spin (loop $forever (global.set 0 (i64.const 1000000)) (br $forever)))
  (start $spin)
  (func (export "valor_abi_version") (result i32) (i32.const 3))
  (func (export "valor_init") (param i32 i32))
  (func (export "valor_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "valor_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "valor_poll") (param i32) (result i32) (i32.const 0))
  (func (export "valor_drop") (param i32))
  (func (export "valor_complete") (param i32 i32 i32))
  (func (export "valor_woken") (result i32) (i32.const 0)))
