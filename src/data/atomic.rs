//! Atomic file writes: a temporary file in the same directory, synced, then renamed over the
//! target, so a reader (or a crash) sees either the old file or the whole new one, never half.
//!
//! The temporary file must sit in the target's directory: a rename is only atomic within one
//! file system. The directory is synced after the rename so the new name itself survives a crash.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::DataError;

/// Writes `bytes` to `path` atomically. The parent directory must exist. Errors name `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let temp = temp_path(path)?;
    let written = write_synced(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        // Best effort: the error that matters is the write's, not the clean-up's.
        let _ = std::fs::remove_file(&temp);
        return Err(DataError::at(path, format!("cannot write: {e}")));
    }
    sync_dir(path);
    Ok(())
}

/// `dir/.name.tmp-<pid>-<n>`: hidden, unique within this process and across processes.
fn temp_path(path: &Path) -> Result<PathBuf, DataError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| DataError::at(path, "cannot write: not a file name"))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp_name = format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(temp_name))
}

fn write_synced(temp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Syncs the directory holding `path` so the rename is durable. Only Unix can open a directory
/// for this; elsewhere, and on file systems that refuse, the rename alone has to do.
fn sync_dir(path: &Path) {
    if cfg!(unix) {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}
