//! A real `redis-server` of the test's own (Debian's, installed by scripts/bootstrap.sh) on a
//! free port, stopped on drop; it can be killed and started again on the same port and data.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Where it keeps its append-only file (`durable`), or `None` (memory only).
    dir: Option<tempfile::TempDir>,
    extra: Vec<String>,
    /// `redis://127.0.0.1:<port>/`.
    pub url: String,
}

impl RedisServer {
    /// In memory only.
    pub fn start() -> Self {
        Self::launch(None, &[])
    }

    /// Every write appended to a file and synced before Redis answers it (`--appendonly yes
    /// --appendfsync always`), so what it acknowledged survives a SIGKILL.
    pub fn durable() -> Self {
        Self::launch(
            Some(tempfile::tempdir().expect("a temporary directory")),
            &[],
        )
    }

    /// In memory only, with `extra` arguments (`--requirepass` ...).
    pub fn with_args(extra: &[&str]) -> Self {
        Self::launch(None, extra)
    }

    fn launch(dir: Option<tempfile::TempDir>, extra: &[&str]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            child: None,
            port,
            dir,
            extra: extra.iter().map(|&a| a.to_owned()).collect(),
            url: format!("redis://127.0.0.1:{port}/"),
        };
        server.start_again(&[]);
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// SIGKILL: no chance to save anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on its port and its data, with `extra` arguments instead of the ones
    /// it was started with (if any given); returns when it answers `PING`, the time it did.
    pub fn start_again(&mut self, extra: &[&str]) -> Instant {
        if !extra.is_empty() {
            self.extra = extra.iter().map(|&a| a.to_owned()).collect();
        }
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""]);
        match &self.dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir.path()),
            None => command.args(["--appendonly", "no"]),
        };
        command.args(&self.extra);
        self.child = Some(
            command
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server started (scripts/bootstrap.sh installs Debian's)"),
        );
        let password = self
            .extra
            .iter()
            .position(|a| a == "--requirepass")
            .map(|i| self.extra[i + 1].clone());
        let started = Instant::now();
        loop {
            if answers(self.port, password.as_deref()) {
                return Instant::now();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not answer"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A command sent with redis-cli, its answer as text.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli ran");
        assert!(output.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// Whether a Redis answers `PING` on `port` (after `AUTH password`, if given) with `PONG`.
fn answers(port: u16, password: Option<&str>) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if let Some(password) = password {
        let mut ok = [0; 5];
        let auth = format!("AUTH {password}\r\n");
        if stream.write_all(auth.as_bytes()).is_err() || stream.read_exact(&mut ok).is_err() {
            return false;
        }
    }
    let mut reply = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
