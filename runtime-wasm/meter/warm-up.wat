;; The module the rewriter rewrites before any plugin's (see src/module.rs, `valor_meter_warm_up`):
;; shaped like a plugin, so that the rewriting's code paths run once: an import, a memory, the
;; exports the runtime calls, a start function, loops, calls, an `if` and `memory.grow`.
(module
  (import "valor" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (func $start (global.set $count (i32.const 1)))
  (start $start)
  (func $countdown (export "valor_alloc") (param i32) (result i32)
    (block
      (loop
        (br_if 1 (i32.eqz (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (drop (memory.grow (i32.const 1)))
        (br 0)))
    (local.get 0))
  (func (export "valor_poll") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then
        (call $log (i32.const 0) (i32.const 0))
        (call $countdown (local.get 0)))
      (else (i32.const 0)))))
