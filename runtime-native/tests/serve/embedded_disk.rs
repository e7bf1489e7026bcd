//! A small disk for the embedded store's fault tests: a real tmpfs of a few MiB.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A tmpfs of `size` (`4m`), mounted on a temporary directory, unmounted on drop; where mounting is
/// not permitted (not root), mounted in a user and mount namespace of its own
/// (`unshare --map-root-user --mount`) that the servers enter (`nsenter`).
pub struct SmallDisk {
    dir: tempfile::TempDir,
    namespace: Option<Child>,
}

impl SmallDisk {
    pub fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("a mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount(8) ran");
        if mounted.status.success() {
            eprintln!("a tmpfs of {size} mounted on {}", dir.path().display());
            return Self {
                dir,
                namespace: None,
            };
        }
        let refused = String::from_utf8_lossy(&mounted.stderr).into_owned();
        let script = format!(
            "mount -t tmpfs -o size={size} tmpfs '{}' && echo mounted && exec sleep 300",
            dir.path().display()
        );
        let mut holder = Command::new("unshare")
            .args(["--map-root-user", "--mount", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare(1) ran");
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.take().expect("its output")).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let _ = holder.wait();
            panic!(
                "this test needs a tmpfs of {size}: `mount` said {refused:?}, and a mount \
                 namespace of its own failed too; run it as root, or where unprivileged user \
                 namespaces are allowed (sysctl kernel.unprivileged_userns_clone=1)"
            );
        }
        eprintln!(
            "a tmpfs of {size} mounted on {} in a namespace of its own (mount said {refused:?})",
            dir.path().display()
        );
        Self {
            dir,
            namespace: Some(holder),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `command`, run where the disk is mounted.
    pub fn enter(&self, command: Command) -> Command {
        let Some(holder) = &self.namespace else {
            return command;
        };
        let mut entered = Command::new("nsenter");
        entered
            .args([
                "-t",
                &holder.id().to_string(),
                "-U",
                "-m",
                "--preserve-credentials",
                "--",
            ])
            .arg(command.get_program())
            .args(command.get_args())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in command.get_envs() {
            match value {
                Some(value) => entered.env(name, value),
                None => entered.env_remove(name),
            };
        }
        entered
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        match &mut self.namespace {
            Some(holder) => {
                let _ = holder.kill();
                let _ = holder.wait();
            }
            None => {
                let _ = Command::new("umount")
                    .arg("-l")
                    .arg(self.dir.path())
                    .status();
            }
        }
    }
}

impl SmallDisk {
    /// Unmounts it lazily (`umount -l`), as an operator or a detached volume would, while a
    /// server still holds its files open.
    pub fn unmount_lazily(&self) {
        let mut umount = Command::new("umount");
        umount.arg("-l").arg(self.path());
        let done = self.enter(umount).output().expect("umount(8) ran");
        assert!(
            done.status.success(),
            "umount -l {}: {}",
            self.path().display(),
            String::from_utf8_lossy(&done.stderr)
        );
    }
}
