//! Downloading the official Fashion-MNIST files from a mirror, checked against SHA-256 sums.
//!
//! The sums are of the DECOMPRESSED files: mirrors recompress, so the `.gz` bytes differ between
//! them while the IDX bytes inside do not. A file whose sum does not match is refused and never
//! written, so a corrupted or altered download cannot end up where the next run would trust it.
//! The expected sums are an argument so tests can serve a small sample with its own sums.

use std::borrow::Cow;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::file::{gunzip, is_gzip, read_maybe_gz};
use super::idx::find_in;
use super::{DataError, thousands, write_atomic};

/// The official files (decompressed names) and the SHA-256 of their decompressed bytes.
pub const OFFICIAL_SHA256: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
];

/// No official file is near this size; a server sending more is misbehaving, and we stop before
/// it fills the memory.
const MAX_DOWNLOAD_BYTES: u64 = 200 * 1024 * 1024;

/// Downloads `{mirror}/{file}.gz` for each `(file, sha256)` in `expected` into `dest_dir` (created
/// if missing), checking each against its sum before writing it atomically. A file already in
/// `dest_dir` with the right sum is kept and not fetched again, so an interrupted download resumes
/// file by file. The first failure stops and is returned, naming the URL.
pub fn download_fashion_mnist(mirror: &str, dest_dir: &Path, expected: &[(&str, &str)]) -> Result<(), DataError> {
    std::fs::create_dir_all(dest_dir)
        .map_err(|e| DataError::at(dest_dir, format!("cannot create the directory: {e}")))?;
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build(),
    );
    for &(file, sha256) in expected {
        if already_there(dest_dir, file, sha256) {
            continue;
        }
        let url = format!("{}/{file}.gz", mirror.trim_end_matches('/'));
        let bytes = fetch(&agent, &url, file).map_err(|what| DataError(format!("{url}: {what}")))?;
        let content = if is_gzip(&bytes) {
            Cow::Owned(gunzip(&bytes).map_err(|what| DataError(format!("{url}: {what}; not kept")))?)
        } else {
            Cow::Borrowed(&bytes[..])
        };
        let found = sha256_hex(&content);
        if !found.eq_ignore_ascii_case(sha256) {
            return Err(DataError(format!(
                "{url}: checksum mismatch: the SHA-256 of the decompressed {file} is {found}, expected {sha256}; \
                 the download is corrupted or not the official file, and was not kept"
            )));
        }
        // Keep the bytes as served: gzipped under the official `.gz` name, or raw without it.
        let name = if is_gzip(&bytes) { format!("{file}.gz") } else { file.to_string() };
        write_atomic(&dest_dir.join(name), &bytes)?;
    }
    Ok(())
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// True when `dir` already holds `file` (gzipped or raw) with the expected sum.
fn already_there(dir: &Path, file: &str, sha256: &str) -> bool {
    find_in(dir, file)
        .and_then(|path| read_maybe_gz(&path).ok())
        .is_some_and(|content| sha256_hex(&content).eq_ignore_ascii_case(sha256))
}

/// The response body of `url`, with a progress bar on a terminal. The error is a bare reason; the
/// caller adds the URL.
fn fetch(agent: &ureq::Agent, url: &str, file: &str) -> Result<Vec<u8>, String> {
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        other => format!("download failed: {other}"),
    })?;
    let total = response.body().content_length();
    if total.is_some_and(|t| t > MAX_DOWNLOAD_BYTES) {
        return Err(format!(
            "the server announces {} bytes, more than any official file",
            thousands(total.unwrap_or(0) as usize)
        ));
    }
    let bar = progress_bar(total, file, url);
    let mut reader = response.into_body().into_reader();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(|e| format!("download interrupted after {} bytes: {e}", thousands(bytes.len())))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        bar.inc(n as u64);
        if bytes.len() as u64 > MAX_DOWNLOAD_BYTES {
            bar.abandon();
            return Err(format!(
                "more than {} bytes, more than any official file",
                thousands(MAX_DOWNLOAD_BYTES as usize)
            ));
        }
    }
    bar.finish_and_clear();
    if total.is_some_and(|t| t != bytes.len() as u64) {
        return Err(format!(
            "expected {} bytes, received {}",
            thousands(total.unwrap_or(0) as usize),
            thousands(bytes.len())
        ));
    }
    Ok(bytes)
}

/// A byte progress bar when stderr is a terminal; otherwise one line saying what is fetched, so a
/// log still shows why the program is waiting.
fn progress_bar(total: Option<u64>, file: &str, url: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        eprintln!("downloading {url}");
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let template = "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(file.to_string());
    bar
}
