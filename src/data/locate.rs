//! Finding Fashion-MNIST when the user names no file.
//!
//! Look-up order: `data/fashion-mnist/` (relative to the working directory), `$FASHION_MNIST_DIR`,
//! `/usr/share/datasets/fashion-mnist/` (Debian's `dataset-fashion-mnist`), and finally a download
//! from a mirror into `data/fashion-mnist/`. A directory counts only when it holds all four
//! official files, so a half-finished download is completed rather than used.
//!
//! The environment is read in [`locate_fashion_mnist`] alone; everything under it takes the search
//! list and mirrors as arguments, so tests need not touch process-global variables.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::DataError;
use super::download::{OFFICIAL_SHA256, download_fashion_mnist};
use super::idx::holds_official_files;

/// Where the full set is looked for first, and downloaded to.
pub const DEFAULT_DIR: &str = "data/fashion-mnist";
/// Environment variable naming a directory that holds the four official files.
pub const DIR_ENV: &str = "FASHION_MNIST_DIR";
/// Where Debian's `dataset-fashion-mnist` package installs the four official files.
pub const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// Environment variable naming the mirror to download from.
pub const MIRROR_ENV: &str = "FASHION_MNIST_MIRROR";
/// Mirrors tried in order when none is given: Zalando's GitHub repository (HTTPS), then its S3
/// website (which only speaks plain HTTP; the checksums make that safe).
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
];

/// The directories to search, in order, given the value of `$FASHION_MNIST_DIR` (unset or empty
/// means skip it).
pub fn search_dirs(env_dir: Option<&OsStr>) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(DEFAULT_DIR)];
    if let Some(dir) = env_dir.filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(PathBuf::from(SYSTEM_DIR));
    dirs
}

/// The first directory of `candidates` that holds the four official files.
pub fn find_fashion_dir(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates.iter().find(|d| holds_official_files(d)).cloned()
}

/// The mirrors to try: the `--mirror` argument if given, else `$FASHION_MNIST_MIRROR` if set,
/// else [`DEFAULT_MIRRORS`].
pub fn resolve_mirrors(arg: Option<&str>, env: Option<&str>) -> Vec<String> {
    match arg.or(env).filter(|m| !m.trim().is_empty()) {
        Some(m) => vec![m.trim().to_string()],
        None => DEFAULT_MIRRORS.iter().map(|m| m.to_string()).collect(),
    }
}

/// The directory holding Fashion-MNIST: found in the usual places, or downloaded (from `mirror`,
/// `$FASHION_MNIST_MIRROR` or the default mirrors) into `data/fashion-mnist/`.
pub fn locate_fashion_mnist(mirror: Option<&str>) -> Result<PathBuf, DataError> {
    let env_dir = std::env::var_os(DIR_ENV);
    let env_mirror = std::env::var(MIRROR_ENV).ok();
    locate_in(
        &search_dirs(env_dir.as_deref()),
        &resolve_mirrors(mirror, env_mirror.as_deref()),
        Path::new(DEFAULT_DIR),
        &OFFICIAL_SHA256,
    )
}

/// [`locate_fashion_mnist`] with everything it reads made explicit: the first of `candidates`
/// holding the files, else a download from the first of `mirrors` that works into `dest`.
pub fn locate_in(
    candidates: &[PathBuf],
    mirrors: &[String],
    dest: &Path,
    expected: &[(&str, &str)],
) -> Result<PathBuf, DataError> {
    if let Some(dir) = find_fashion_dir(candidates) {
        return Ok(dir);
    }
    let mut failures = Vec::new();
    for mirror in mirrors {
        match download_fashion_mnist(mirror, dest, expected) {
            Ok(()) => return Ok(dest.to_path_buf()),
            Err(e) => failures.push(e.0),
        }
    }
    Err(not_found(candidates, &failures))
}

/// The message when every way failed: what was tried, and every way to provide the data.
fn not_found(candidates: &[PathBuf], failures: &[String]) -> DataError {
    let looked: Vec<String> = candidates.iter().map(|d| format!("{}/", d.display())).collect();
    let mut msg = format!(
        "Fashion-MNIST not found: no directory of {} holds the four files train-images-idx3-ubyte.gz, \
         train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz",
        looked.join(", ")
    );
    if failures.is_empty() {
        msg.push_str(", and no mirror was given to download from");
    } else {
        msg.push_str(", and the download failed:");
        for f in failures {
            msg.push_str("\n  ");
            msg.push_str(f);
        }
    }
    msg.push_str(&format!(
        "\nProvide the data in one of these ways:\
         \n  - name the files: --train FILE --test FILE (Kaggle CSV or IDX), or --train DIR\
         \n  - put the four official files in {DEFAULT_DIR}/\
         \n  - set {DIR_ENV} to a directory holding them\
         \n  - apt-get install dataset-fashion-mnist (Debian/Ubuntu, works offline)\
         \n  - download from another mirror: --mirror URL (or {MIRROR_ENV}=URL)"
    ));
    DataError(msg)
}
