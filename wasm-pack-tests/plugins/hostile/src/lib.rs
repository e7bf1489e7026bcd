//! Answers every request, and arms one misbehaviour per path:
//! - `/log-huge`: grows its memory by 64 MiB and logs all of its memory as one line;
//! - `/alloc-zero`: from then on, `valor_alloc` answers 0;
//! - `/woken-forever`: from then on, `valor_woken` never answers 0;
//! - `/big-2k`, `/big-2m`: answers a body of 2 KiB, 2 MiB;
//! - `/spin`: loops for ever in `valor_start`;
//! - `/alloc-spin`: from then on, `valor_alloc` loops for ever;
//! - `/hog?mb=N`: allocates and fills N MiB more (a Rust allocation that fails aborts).
//!
//! And starts host operations all at once, answering once every result is in with how many
//! succeeded and the first failure (one such request at a time):
//! - `/flood?n=N&ms=M`: N sleeps of M ms;
//! - `/fetch-big?len=L`, `/kv-big?len=L`: an outbound request, a storage command, of L zero bytes.
//!
//! A `config` that contains `"spin"` makes `valor_init` loop for ever.
//!
//! Everything else answers `200 hostile at <path>`. Nothing is ever freed: it is a test.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};

#[link(wasm_import_module = "valor")]
extern "C" {
    fn log(level: u32, ptr: u32, len: u32);
    fn sleep(ms: f64) -> u32;
    fn fetch(ptr: u32, len: u32) -> u32;
    fn kv(ptr: u32, len: u32) -> u32;
}

/// Results of the operations a request started: still to come, succeeded, first failure.
#[derive(Default)]
struct Results {
    waiting: u32,
    ok: u32,
    failed: u32,
    first_failure: Option<String>,
}

thread_local! {
    static ALLOC_ZERO: Cell<bool> = const { Cell::new(false) };
    static ALLOC_SPIN: Cell<bool> = const { Cell::new(false) };
    static WOKEN_FOREVER: Cell<bool> = const { Cell::new(false) };
    static WOKEN: Cell<bool> = const { Cell::new(false) };
    static FRAME: Cell<u32> = const { Cell::new(0) };
    static RESULTS: RefCell<Results> = RefCell::new(Results::default());
}

#[unsafe(no_mangle)]
extern "C" fn valor_abi_version() -> u32 {
    3
}

#[unsafe(no_mangle)]
extern "C" fn valor_init(ptr: u32, len: u32) {
    // SAFETY: the runtime wrote `len` bytes at `ptr`, which `valor_alloc` handed out.
    let config = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) };
    if config.windows(6).any(|word| word == b"\"spin\"") {
        spin();
    }
}

/// Runs for ever (a loop the optimiser cannot remove).
fn spin() -> ! {
    loop {
        std::hint::black_box(());
    }
}

#[unsafe(no_mangle)]
extern "C" fn valor_alloc(len: u32) -> u32 {
    if ALLOC_ZERO.get() {
        return 0;
    }
    if ALLOC_SPIN.get() {
        spin();
    }
    leak(Vec::with_capacity(len as usize))
}

#[unsafe(no_mangle)]
extern "C" fn valor_start(ptr: u32, len: u32) -> u32 {
    // SAFETY: the runtime wrote `len` bytes at `ptr`, which `valor_alloc` handed out.
    let request = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) };
    let uri = String::from_utf8_lossy(uri_of(request)).into_owned();
    let (path, query) = uri.split_once('?').unwrap_or((&uri, ""));
    let param = |name: &str| -> u32 {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    match path {
        "/flood" => {
            let ms = f64::from(param("ms"));
            // SAFETY (the three imports): they take numbers, and read `len` bytes at `ptr`.
            start_ops(param("n"), || unsafe { sleep(ms) });
            return 1;
        }
        "/fetch-big" | "/kv-big" => {
            let len = param("len");
            let message = leak(vec![0; len as usize]);
            let send = if path == "/fetch-big" { fetch } else { kv };
            start_ops(1, || unsafe { send(message, len) });
            return 1;
        }
        "/log-huge" => {
            let grown = core::arch::wasm32::memory_grow(0, 1024); // 64 KiB pages: 64 MiB
            assert_ne!(grown, usize::MAX, "memory.grow failed");
            let size = core::arch::wasm32::memory_size(0) * 65536;
            // SAFETY: an import; the runtime reads (at most) `size` bytes from address 0.
            unsafe { log(3, 0, size as u32) };
        }
        "/alloc-zero" => ALLOC_ZERO.set(true),
        "/woken-forever" => WOKEN_FOREVER.set(true),
        "/spin" => spin(),
        "/alloc-spin" => ALLOC_SPIN.set(true),
        "/hog" => {
            let mb: usize = query
                .strip_prefix("mb=")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            leak(vec![1; mb << 20]);
        }
        _ => {}
    }
    let body = match path {
        "/big-2k" => vec![b'x'; 2 << 10],
        "/big-2m" => vec![b'x'; 2 << 20],
        _ => format!("hostile at {path}").into_bytes(),
    };
    FRAME.set(frame(200, &body));
    1
}

#[unsafe(no_mangle)]
extern "C" fn valor_poll(_task: u32) -> u32 {
    FRAME.get()
}

#[unsafe(no_mangle)]
extern "C" fn valor_drop(_task: u32) {}

#[unsafe(no_mangle)]
extern "C" fn valor_complete(_op: u32, ptr: u32, len: u32) {
    // SAFETY: the runtime wrote the `len` bytes of the result at `ptr`, from `valor_alloc`.
    let result = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) };
    let summary = RESULTS.with_borrow_mut(|results| {
        match result.split_first() {
            Some((0, _)) => results.ok += 1,
            Some((outcome, message)) => {
                results.failed += 1;
                results.first_failure.get_or_insert_with(|| {
                    format!("(outcome {outcome}) {}", String::from_utf8_lossy(message))
                });
            }
            None => results.failed += 1,
        }
        results.waiting -= 1;
        (results.waiting == 0).then(|| {
            let failure = results.first_failure.as_deref().unwrap_or("none");
            format!(
                "{} ok, {} failed; first failure: {failure}",
                results.ok, results.failed
            )
        })
    });
    if let Some(summary) = summary {
        FRAME.set(frame(200, summary.as_bytes()));
        WOKEN.set(true);
    }
}

#[unsafe(no_mangle)]
extern "C" fn valor_woken() -> u32 {
    u32::from(WOKEN_FOREVER.get() || WOKEN.replace(false))
}

/// Starts `n` operations with `start`; the request is pending until all their results are in.
fn start_ops(n: u32, mut start: impl FnMut() -> u32) {
    RESULTS.set(Results {
        waiting: n,
        ..Results::default()
    });
    FRAME.set(0); // PENDING
    for _ in 0..n {
        start();
    }
}

fn leak(mut bytes: Vec<u8>) -> u32 {
    let ptr = bytes.as_mut_ptr() as u32;
    std::mem::forget(bytes);
    ptr
}

/// The URI of an encoded request: method field, then URI field (`u32` length + bytes each).
fn uri_of(request: &[u8]) -> &[u8] {
    let field = |at: usize| {
        let len = u32::from_le_bytes(request[at..at + 4].try_into().unwrap()) as usize;
        (&request[at + 4..at + 4 + len], at + 4 + len)
    };
    let (_, uri_at) = field(0);
    field(uri_at).0
}

/// A response frame: its length, then status, no headers, and the body.
fn frame(status: u32, body: &[u8]) -> u32 {
    let mut response = Vec::new();
    response.extend_from_slice(&status.to_le_bytes());
    response.extend_from_slice(&0u32.to_le_bytes());
    response.extend_from_slice(&(body.len() as u32).to_le_bytes());
    response.extend_from_slice(body);
    let mut frame = (response.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&response);
    leak(frame)
}
