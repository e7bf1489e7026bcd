;; A plugin of ABI 4 written by hand, as another toolchain would write one (no vlugin): it
;; answers every request with a streamed body (PROTOCOL.md, section 17), "hello " then "world",
;; one stream frame per valor_poll: HEAD (200, text/plain), CHUNK, CHUNK, END. One request at a
;; time: its one task's progress is a global.
(module
  (memory (export "memory") 1)
  (global $step (mut i32) (i32.const 0))
  (data (i32.const 256) "\3a\00\00\80\01\c8\00\00\00\01\00\00\00\0c\00\00\00\63\6f\6e\74\65\6e\74\2d\74\79\70\65\19\00\00\00\74\65\78\74\2f\70\6c\61\69\6e\3b\20\63\68\61\72\73\65\74\3d\75\74\66\2d\38\00\00\00\00")
  (data (i32.const 512) "\07\00\00\80\02\68\65\6c\6c\6f\20")
  (data (i32.const 768) "\06\00\00\80\02\77\6f\72\6c\64")
  (data (i32.const 1024) "\01\00\00\80\03")
  (func (export "valor_abi_version") (result i32) (i32.const 4))
  (func (export "valor_init") (param i32 i32))
  ;; Requests are written at 4 KiB and ignored (up to 60 KiB fit).
  (func (export "valor_alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "valor_start") (param i32 i32) (result i32)
    (global.set $step (i32.const 0))
    (i32.const 1))
  ;; Frame n of the answer lies at 256 * (n + 1): HEAD, CHUNK, CHUNK, END.
  (func (export "valor_poll") (param $task i32) (result i32)
    (local $frame i32)
    (local.set $frame (i32.mul (i32.add (global.get $step) (i32.const 1)) (i32.const 256)))
    (if (i32.lt_u (global.get $step) (i32.const 3))
      (then (global.set $step (i32.add (global.get $step) (i32.const 1)))))
    (local.get $frame))
  (func (export "valor_drop") (param i32))
  (func (export "valor_complete") (param i32 i32 i32))
  (func (export "valor_woken") (result i32) (i32.const 0)))
