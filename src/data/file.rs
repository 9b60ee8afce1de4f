//! Reading a whole file, gunzipping it when its first bytes are the gzip magic.
//!
//! The magic decides, not the name: mirrors and users rename files (a `.gz` that was already
//! unpacked by a browser, a gzipped file without the suffix), and every reader should accept both.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::DataError;

/// The first two bytes of every gzip stream (RFC 1952).
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` start a gzip stream.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The file's contents, decompressed when it is gzipped.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::at(path, format!("cannot read: {e}")))?;
    gunzip_if_gz(bytes).map_err(|what| DataError::at(path, what))
}

/// `bytes` decompressed when they are gzip, unchanged otherwise; the error says what broke.
pub(crate) fn gunzip_if_gz(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if is_gzip(&bytes) { gunzip(&bytes) } else { Ok(bytes) }
}

/// The decompressed contents of gzip `bytes`; the error says what broke.
pub(crate) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    // MultiGz: a gzip file may hold several members (e.g. made with `cat a.gz b.gz`).
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| format!("broken gzip data ({e}); the file is probably truncated or corrupted"))?;
    Ok(out)
}

/// Up to `n` leading bytes of the file's (decompressed) contents, to recognise its format without
/// reading it all.
pub(crate) fn read_prefix(path: &Path, n: usize) -> Result<Vec<u8>, DataError> {
    let cannot = |e: std::io::Error| DataError::at(path, format!("cannot read: {e}"));
    let mut raw = Vec::with_capacity(n);
    std::fs::File::open(path).map_err(cannot)?.take(n.max(2) as u64).read_to_end(&mut raw).map_err(cannot)?;
    if !is_gzip(&raw) {
        raw.truncate(n);
        return Ok(raw);
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut out = Vec::with_capacity(n);
    MultiGzDecoder::new(file).take(n as u64).read_to_end(&mut out).map_err(|e| {
        DataError::at(path, format!("broken gzip data ({e}); the file is probably truncated or corrupted"))
    })?;
    Ok(out)
}
