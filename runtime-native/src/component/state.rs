//! The data of a component's store: one per request. WASI's context (no environment, no
//! directories, no sockets; standard output and error kept in memory for the server's log),
//! wasi:http's, their resource table, the memory cap, and the hooks that send its outgoing
//! requests.

use super::outgoing::Outgoing;
use crate::host::PluginContext;
use crate::plugin::MemoryCap;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The most a request's component may write to its standard output, and to its error: what
/// is past it is dropped.
const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// The data of the store of one request's instance.
pub struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// Caps its memories at `memory_mb`, and remembers a refused growth.
    pub memory: MemoryCap,
    outgoing: Outgoing,
    /// What it wrote to its standard output and error.
    pub output: Output,
}

/// A component's standard output and error.
#[derive(Clone)]
pub struct Output {
    /// Standard output.
    pub stdout: MemoryOutputPipe,
    /// Standard error.
    pub stderr: MemoryOutputPipe,
}

impl State {
    /// The data for a request to the plugin of `context`, `depth` plugin-to-plugin hops deep.
    pub fn new(context: Arc<PluginContext>, depth: u32) -> Self {
        let output = Output {
            stdout: MemoryOutputPipe::new(MAX_OUTPUT_BYTES),
            stderr: MemoryOutputPipe::new(MAX_OUTPUT_BYTES),
        };
        let wasi = WasiCtx::builder()
            .stdout(output.stdout.clone())
            .stderr(output.stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            memory: MemoryCap::new(context.memory_bytes()),
            outgoing: Outgoing::new(context, depth),
            output,
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outgoing,
        }
    }
}
