//! A store file another process locks: `valor serve` refuses to start, naming the file and,
//! where the system says, the process (a util-linux `flock`, another `valor serve`).

use crate::common::{app_dir, refusal, serve_command, Server};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

#[test]
fn a_store_that_flock_holds_is_refused_naming_file_and_process() {
    let dir = app_dir(MANIFEST, &["host_api"]);
    let data = dir.path().join("kv.redb");
    std::fs::write(&data, b"").expect("the file");
    // flock(1) takes the lock, then becomes `cat` (-F: no fork), which holds it while its
    // input is open; what it echoes says the lock is taken.
    let mut holder = Command::new("flock")
        .arg("-F")
        .arg(&data)
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock(1) started (util-linux)");
    let mut input = holder.stdin.take().expect("its input");
    input.write_all(b"locked\n").expect("a line to echo");
    let mut echoed = String::new();
    BufReader::new(holder.stdout.take().expect("its output"))
        .read_line(&mut echoed)
        .expect("the echo");
    assert_eq!(echoed, "locked\n");

    let (code, said) = refusal(serve_command(dir.path(), &data));
    drop(input);
    let _ = holder.wait();
    eprintln!("refused with {code:?}: {said}");
    assert_eq!(code, Some(1), "{said}");
    let process = format!("process {} (cat)", holder.id());
    for expected in [&data.display().to_string(), &process, "--data"] {
        assert!(said.contains(expected), "{expected:?} not in: {said}");
    }
}

#[test]
fn a_store_another_valor_serves_is_refused_naming_it() {
    let dir = app_dir(MANIFEST, &["host_api"]);
    let data = dir.path().join("kv.redb");
    let first = Server::spawn(serve_command(dir.path(), &data));

    let (code, said) = refusal(serve_command(dir.path(), &data));
    eprintln!("refused with {code:?}: {said}");
    assert_eq!(code, Some(1), "{said}");
    let process = format!("process {} (valor)", first.pid());
    for expected in [&data.display().to_string(), &process, "--data"] {
        assert!(said.contains(expected), "{expected:?} not in: {said}");
    }
}
