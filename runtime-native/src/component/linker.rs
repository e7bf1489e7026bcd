//! The imports a component may use on the server: the `wasi:http/proxy` world, and the
//! `wasi:cli` and `wasi:filesystem` interfaces Rust's standard library imports even in a
//! handler that never uses them. The worker's component host gives the same set, so that a
//! component that loads on one host loads on the other; none of them reaches anything outside
//! the request: no environment variables or arguments, no directories, no terminal, no sockets.

use super::State;
use wasmtime::component::Linker;
use wasmtime::Engine;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, filesystem, random};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

/// The linker of every component.
pub fn new(engine: &Engine) -> wasmtime::Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    // wasi:io, wasi:clocks, wasi:random/random, wasi:cli/{stdin, stdout, stderr}.
    wasmtime_wasi::p2::add_to_linker_proxy_interfaces_async(&mut linker)?;
    // wasi:http/{types, outgoing-handler}.
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    // What std imports beyond the proxy world.
    let l = &mut linker;
    cli::environment::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::exit::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_input::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_output::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_stdin::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_stdout::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_stderr::add_to_linker::<State, WasiCli>(l, State::cli)?;
    random::insecure::add_to_linker::<State, WasiRandom>(l, State::random)?;
    random::insecure_seed::add_to_linker::<State, WasiRandom>(l, State::random)?;
    filesystem::preopens::add_to_linker::<State, WasiFilesystem>(l, State::filesystem)?;
    filesystem::types::add_to_linker::<State, WasiFilesystem>(l, State::filesystem)?;
    Ok(linker)
}
