//! IDX files, the format Fashion-MNIST (and MNIST) ships in, gzipped or raw.
//!
//! An IDX file is a big-endian header then the data: images are magic `0x00000803`, count, rows,
//! cols, then count·rows·cols pixel bytes; labels are magic `0x00000801`, count, then one byte per
//! label. The header is checked against the file length before anything is allocated from it, so
//! a corrupted count cannot make us reserve gigabytes or read past the end.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::file::read_maybe_gz;
use super::{DataError, Dataset, FASHION_CLASSES, class_names, thousands, write_atomic};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions: images.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension: labels.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const IMAGES_HEADER: usize = 16;
const LABELS_HEADER: usize = 8;

/// The official file name (without `.gz`) of a split's images: `train-images-idx3-ubyte`.
pub fn images_name(prefix: &str) -> String {
    format!("{prefix}-images-idx3-ubyte")
}

/// The official file name (without `.gz`) of a split's labels: `t10k-labels-idx1-ubyte`.
pub fn labels_name(prefix: &str) -> String {
    format!("{prefix}-labels-idx1-ubyte")
}

/// Reads an images file and its labels file into a 10-class Fashion-MNIST dataset.
pub fn read_idx(images_path: &Path, labels_path: &Path) -> Result<Dataset, DataError> {
    let (images, shape) = parse_images(&read_maybe_gz(images_path)?, images_path)?;
    let labels = parse_labels(&read_maybe_gz(labels_path)?, labels_path)?;
    let count = images.len() / (shape[1] * shape[2]);
    if count != labels.len() {
        return Err(DataError(format!(
            "{}: {} images, but {} has {} labels: the counts must match",
            images_path.display(),
            thousands(count),
            labels_path.display(),
            thousands(labels.len())
        )));
    }
    Ok(Dataset {
        images,
        labels,
        shape,
        class_names: class_names(&FASHION_CLASSES),
        source: format!("{} + {}", images_path.display(), labels_path.display()),
    })
}

/// Reads the split `prefix` (`train` or `t10k`) from a directory holding the official file names,
/// each gzipped or raw.
pub fn read_idx_dir(dir: &Path, prefix: &str) -> Result<Dataset, DataError> {
    let find = |name: String| {
        find_in(dir, &name).ok_or_else(|| DataError::at(dir, format!("no {name}.gz or {name} in this directory")))
    };
    let images = find(images_name(prefix))?;
    let labels = find(labels_name(prefix))?;
    read_idx(&images, &labels)
}

/// `dir/name.gz` if it exists, else `dir/name` if it exists. The gzipped one first, because that
/// is what the mirrors and the Debian package ship.
pub fn find_in(dir: &Path, name: &str) -> Option<PathBuf> {
    [format!("{name}.gz"), name.to_string()].into_iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// True when `dir` holds all four official files (each gzipped or raw).
pub fn holds_official_files(dir: &Path) -> bool {
    ["train", "t10k"]
        .iter()
        .all(|prefix| find_in(dir, &images_name(prefix)).is_some() && find_in(dir, &labels_name(prefix)).is_some())
}

/// The labels file beside an images file, found by name: `images` → `labels` and `idx3` → `idx1`
/// in the file name (`train-images-idx3-ubyte.gz` → `train-labels-idx1-ubyte.gz`), with or without
/// `.gz` whichever exists.
pub fn labels_beside(images_path: &Path) -> Result<PathBuf, DataError> {
    let name = images_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let labels = name.replace("images", "labels").replace("idx3", "idx1");
    if labels == name {
        return Err(DataError::at(
            images_path,
            "cannot tell the labels file's name: expected an images file named like train-images-idx3-ubyte[.gz]",
        ));
    }
    let stem = labels.strip_suffix(".gz").unwrap_or(&labels);
    let dir = images_path.parent().unwrap_or(Path::new(""));
    find_in(dir, stem).ok_or_else(|| {
        DataError::at(images_path, format!("cannot find its labels file: no {stem}.gz or {stem} beside it"))
    })
}

/// Parses an images file's bytes into pixels and the shape `[1, rows, cols]`.
pub(crate) fn parse_images(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, [usize; 3]), DataError> {
    let header = header(bytes, IMAGES_HEADER, path)?;
    check_magic(header[0], IMAGES_MAGIC, "images", path)?;
    let [count, rows, cols] = [header[1], header[2], header[3]].map(|v| v as usize);
    if rows == 0 || cols == 0 {
        return Err(DataError::at(path, format!("the header gives an empty image size {rows}×{cols}")));
    }
    let what = format!("a {IMAGES_HEADER}-byte header + {} images of {rows}×{cols}", thousands(count));
    let expected = count.checked_mul(rows).and_then(|v| v.checked_mul(cols)).and_then(|v| v.checked_add(IMAGES_HEADER));
    check_length(bytes.len(), expected, &what, path)?;
    if count == 0 {
        return Err(DataError::at(path, "holds no images"));
    }
    Ok((bytes[IMAGES_HEADER..].to_vec(), [1, rows, cols]))
}

/// Parses a labels file's bytes; every label must name one of the 10 classes.
pub(crate) fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let header = header(bytes, LABELS_HEADER, path)?;
    check_magic(header[0], LABELS_MAGIC, "labels", path)?;
    let count = header[1] as usize;
    let what = format!("an {LABELS_HEADER}-byte header + {} labels", thousands(count));
    check_length(bytes.len(), count.checked_add(LABELS_HEADER), &what, path)?;
    if count == 0 {
        return Err(DataError::at(path, "holds no labels"));
    }
    let labels = &bytes[LABELS_HEADER..];
    if let Some((i, &label)) = labels.iter().enumerate().find(|&(_, &l)| l as usize >= FASHION_CLASSES.len()) {
        return Err(DataError::at(path, format!("record {i} (0-based): label {label} is outside 0–9")));
    }
    Ok(labels.to_vec())
}

/// The header's big-endian u32 fields, after checking the file is long enough to hold them.
fn header(bytes: &[u8], len: usize, path: &Path) -> Result<Vec<u32>, DataError> {
    if bytes.len() < len {
        return Err(DataError::at(
            path,
            format!("truncated: expected at least a {len}-byte IDX header, found {} bytes", bytes.len()),
        ));
    }
    Ok(bytes[..len].chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
}

fn check_magic(found: u32, expected: u32, kind: &str, path: &Path) -> Result<(), DataError> {
    if found == expected {
        return Ok(());
    }
    let hint = match found {
        IMAGES_MAGIC => " (this is an IDX images file)",
        LABELS_MAGIC => " (this is an IDX labels file)",
        _ => "",
    };
    Err(DataError::at(
        path,
        format!("wrong magic number 0x{found:08x}, expected 0x{expected:08x} for IDX {kind}{hint}"),
    ))
}

/// The file length must be exactly what the header promises: shorter is a truncated file, longer
/// means the header's count is wrong and we would silently drop data.
fn check_length(found: usize, expected: Option<usize>, what: &str, path: &Path) -> Result<(), DataError> {
    let Some(expected) = expected else {
        return Err(DataError::at(path, format!("the header's sizes overflow: {what}")));
    };
    if found < expected {
        return Err(DataError::at(
            path,
            format!("truncated: expected {} bytes ({what}), found {}", thousands(expected), thousands(found)),
        ));
    }
    if found > expected {
        return Err(DataError::at(
            path,
            format!(
                "wrong size: expected {} bytes ({what}), found {}: {} bytes too many",
                thousands(expected),
                thousands(found),
                thousands(found - expected)
            ),
        ));
    }
    Ok(())
}

/// Writes a one-channel dataset as `dir/{prefix}-images-idx3-ubyte[.gz]` and
/// `dir/{prefix}-labels-idx1-ubyte[.gz]`, each atomically; returns the two paths. `prefix` is
/// `train` or `t10k`, the names the readers look for. The gzip header carries no time stamp, so
/// the same dataset always gives the same bytes.
pub fn write_idx_dir(ds: &Dataset, dir: &Path, prefix: &str, gzip: bool) -> Result<(PathBuf, PathBuf), DataError> {
    if prefix != "train" && prefix != "t10k" {
        return Err(DataError::at(dir, format!("IDX prefix must be `train` or `t10k`, not `{prefix}`")));
    }
    let [channels, rows, cols] = ds.shape;
    if channels != 1 {
        return Err(DataError::at(
            dir,
            format!("IDX images hold one channel, but the dataset's images are {}", ds.shape_text()),
        ));
    }
    ds.check_sizes(dir)?;
    let fits = |v: usize| u32::try_from(v).map_err(|_| DataError::at(dir, format!("{v} is too large for IDX")));
    let mut images = Vec::with_capacity(IMAGES_HEADER + ds.images.len());
    for v in [IMAGES_MAGIC, fits(ds.len())?, fits(rows)?, fits(cols)?] {
        images.extend_from_slice(&v.to_be_bytes());
    }
    images.extend_from_slice(&ds.images);
    let mut labels = Vec::with_capacity(LABELS_HEADER + ds.labels.len());
    for v in [LABELS_MAGIC, fits(ds.len())?] {
        labels.extend_from_slice(&v.to_be_bytes());
    }
    labels.extend_from_slice(&ds.labels);

    std::fs::create_dir_all(dir).map_err(|e| DataError::at(dir, format!("cannot create the directory: {e}")))?;
    let suffix = if gzip { ".gz" } else { "" };
    let images_path = dir.join(format!("{}{suffix}", images_name(prefix)));
    let labels_path = dir.join(format!("{}{suffix}", labels_name(prefix)));
    for (path, bytes) in [(&images_path, images), (&labels_path, labels)] {
        let bytes = if gzip {
            gzip_bytes(&bytes).map_err(|e| DataError::at(path, format!("cannot compress: {e}")))?
        } else {
            bytes
        };
        write_atomic(path, &bytes)?;
    }
    Ok((images_path, labels_path))
}

fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}
