;; Not a plugin: a module rewriter (the exports of valor_meter.wasm) whose rewriting traps, as a
;; bug in it would, leaving a panic's message as its output. The runtime must fail only the load
;; of the plugin being rewritten, and say why.
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "panicked at analysis.rs: a bug")
  (func (export "valor_meter_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "valor_meter_instrument") (param i32 i32 i64 i64) (result i32) (unreachable))
  (func (export "valor_meter_warm_up") (result i32) (i32.const 1))
  (func (export "valor_meter_output") (result i32) (i32.const 64))
  (func (export "valor_meter_output_len") (result i32) (i32.const 30)))
