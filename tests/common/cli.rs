//! Running the binary as a user does, and scratch folders for what it writes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `fashion-cnn ARGS` with extra environment variables: (exit code, stdout, stderr).
pub fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fashion-cnn"));
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

pub fn run(args: &[&str]) -> (i32, String, String) {
    run_with_env(args, &[])
}

/// A folder under the system temp dir, unique to this test process and its name, removed when
/// the test that made it passes. A failing test leaves it in place (and says where) so what the
/// binary wrote can be looked at.
#[must_use = "the folder is removed when this guard is dropped"]
pub struct TempDir(PathBuf);

impl TempDir {
    /// The path, not yet created (for commands that must create their own output folder).
    pub fn unmade(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("fashion-cnn-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for a look", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// An empty folder under the system temp dir (see [`TempDir`]).
pub fn temp_dir(name: &str) -> TempDir {
    let dir = TempDir::unmade(name);
    std::fs::create_dir_all(&*dir).expect("create a temp dir");
    dir
}

/// The real Fashion-MNIST subset committed in `data/`.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample")
}
