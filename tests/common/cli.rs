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

/// An empty folder under the system temp dir, unique to this test process and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fashion-cnn-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// The real Fashion-MNIST subset committed in `data/`.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample")
}
