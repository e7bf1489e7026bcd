//! Lays out the engine's JavaScript prelude (`src/prelude/*.js`) as the one function it
//! evaluates, then compiles it to QuickJS bytecode, so that no start of the engine parses it
//! (parsing was most of QuickJS's part of a start: BENCHMARKS.md, "JavaScript plugins").
//! Every line keeps its place, so the prelude's stack traces still name the lines of the files
//! put together (none of them spans lines in a template literal or a string).

use rquickjs::{qjs, Context, Runtime};
use std::ffi::CString;
use std::path::Path;

/// The prelude's files, in the order they are evaluated.
const FILES: [&str; 9] = [
    "globals.js",
    "encoding.js",
    "url.js",
    "streams.js",
    "writable.js",
    "transform.js",
    "fetch.js",
    "worker.js",
    "install.js",
];

fn main() {
    let dir = Path::new("src/prelude");
    println!("cargo:rerun-if-changed=src/prelude");
    let mut prelude = String::from("(function (host, site) {\n'use strict';\n");
    for file in FILES {
        let path = dir.join(file);
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        for line in source.lines() {
            let line = line.trim();
            if !line.starts_with("//") {
                prelude.push_str(line);
            }
            prelude.push('\n');
        }
    }
    prelude.push_str("\n})");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("prelude.bin"), compile(&prelude))
        .expect("the prelude's bytecode is written");
}

/// QuickJS bytecode of the script `source` (its value is the prelude's function), written by
/// the QuickJS the engine embeds: the same rquickjs, built for this machine. The format does not
/// depend on the machine's word size, only on its byte order (wasm's is little-endian); the
/// source text is left out (`Function.prototype.toString` of the prelude's functions says
/// `[native code]`, as a browser's globals do), the line numbers kept.
fn compile(source: &str) -> Vec<u8> {
    let runtime = Runtime::new().expect("a QuickJS runtime");
    let context = Context::full(&runtime).expect("a QuickJS context");
    let text = CString::new(source).expect("the prelude has no NUL");
    context.with(|ctx| {
        let ctx = ctx.as_raw().as_ptr();
        let flags =
            qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_STRICT | qjs::JS_EVAL_FLAG_COMPILE_ONLY;
        let mut write = qjs::JS_WRITE_OBJ_BYTECODE | qjs::JS_WRITE_OBJ_STRIP_SOURCE;
        if cfg!(target_endian = "big") {
            write |= qjs::JS_WRITE_OBJ_BSWAP;
        }
        // SAFETY: `text` is NUL-terminated and outlives the call; the compiled function is
        // freed once written, and the buffer QuickJS allocated for it once copied.
        unsafe {
            let function = qjs::JS_Eval(
                ctx,
                text.as_ptr(),
                source.len() as _,
                c"valor:prelude".as_ptr(),
                flags as i32,
            );
            assert!(
                !qjs::JS_IsException(function),
                "the prelude does not compile: {}",
                exception(ctx)
            );
            let mut len = 0;
            let buffer = qjs::JS_WriteObject(ctx, &mut len, function, write as i32);
            qjs::JS_FreeValue(ctx, function);
            assert!(!buffer.is_null(), "the prelude's bytecode is not written");
            let bytecode = std::slice::from_raw_parts(buffer, len as usize).to_vec();
            qjs::js_free(ctx, buffer.cast());
            bytecode
        }
    })
}

/// The pending exception of `ctx`, as text (a syntax error in the prelude, with its line).
///
/// # Safety
/// `ctx` is a live context.
unsafe fn exception(ctx: *mut qjs::JSContext) -> String {
    // SAFETY: the caller's; the exception and its C string are freed here.
    unsafe {
        let error = qjs::JS_GetException(ctx);
        let text = qjs::JS_ToCString(ctx, error);
        let message = std::ffi::CStr::from_ptr(text)
            .to_string_lossy()
            .into_owned();
        qjs::JS_FreeCString(ctx, text);
        qjs::JS_FreeValue(ctx, error);
        message
    }
}
