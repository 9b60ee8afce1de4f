//! CIFAR-10 binary batches: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`.
//!
//! Each record is 3,073 bytes: the label, then 1,024 red, 1,024 green and 1,024 blue bytes (32×32
//! each, row by row). That is already CHW, so a record's last 3,072 bytes are the image as a
//! [`Dataset`] stores it.

use std::path::{Path, PathBuf};

use super::file::read_maybe_gz;
use super::{CIFAR10_CLASSES, DataError, Dataset, class_names, thousands};

/// CIFAR-10 image shape: 3 channels of 32×32.
pub const CIFAR_SHAPE: [usize; 3] = [3, 32, 32];
/// Bytes per record: one label byte and 3·32·32 pixel bytes.
pub const RECORD_BYTES: usize = 1 + 3 * 32 * 32;

/// The training batch file names, in order.
pub const TRAIN_BATCHES: [&str; 5] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
/// The test batch file name.
pub const TEST_BATCH: &str = "test_batch.bin";

/// Reads one batch file.
pub fn read_cifar_batch(path: &Path) -> Result<Dataset, DataError> {
    read_cifar_batches(&[path.to_path_buf()])
}

/// Reads batch files one after another into one dataset.
pub fn read_cifar_batches(paths: &[PathBuf]) -> Result<Dataset, DataError> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for path in paths {
        let bytes = read_maybe_gz(path)?;
        if bytes.is_empty() {
            return Err(DataError::at(path, "the file is empty: expected 3,073-byte CIFAR-10 records"));
        }
        let whole = bytes.len() / RECORD_BYTES;
        let rest = bytes.len() % RECORD_BYTES;
        if rest != 0 {
            return Err(DataError::at(
                path,
                format!(
                    "record {whole} (0-based) is truncated: {} bytes of {}; the file's {} bytes are not a whole number of 3,073-byte records",
                    thousands(rest),
                    thousands(RECORD_BYTES),
                    thousands(bytes.len())
                ),
            ));
        }
        images.reserve(whole * (RECORD_BYTES - 1));
        labels.reserve(whole);
        for (i, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
            let label = record[0];
            if label as usize >= CIFAR10_CLASSES.len() {
                return Err(DataError::at(path, format!("record {i} (0-based): label {label} is outside 0–9")));
            }
            labels.push(label);
            images.extend_from_slice(&record[1..]);
        }
    }
    let source = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    Ok(Dataset { images, labels, shape: CIFAR_SHAPE, class_names: class_names(&CIFAR10_CLASSES), source })
}

/// True when `dir` holds at least one CIFAR-10 batch file.
pub fn holds_cifar(dir: &Path) -> bool {
    TRAIN_BATCHES.iter().chain([&TEST_BATCH]).any(|name| dir.join(name).is_file())
}

/// The training batches of `dir` that exist (at least one), in order.
pub fn read_cifar_train(dir: &Path) -> Result<Dataset, DataError> {
    let paths: Vec<PathBuf> = TRAIN_BATCHES.iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
    if paths.is_empty() {
        return Err(DataError::at(
            dir,
            "no CIFAR-10 training batch (data_batch_1.bin … data_batch_5.bin) in this directory",
        ));
    }
    read_cifar_batches(&paths)
}

/// The test batch of `dir`.
pub fn read_cifar_test(dir: &Path) -> Result<Dataset, DataError> {
    let path = dir.join(TEST_BATCH);
    if !path.is_file() {
        return Err(DataError::at(dir, format!("no CIFAR-10 {TEST_BATCH} in this directory")));
    }
    read_cifar_batch(&path)
}

/// Train (the batches 1–5 that exist) and test from a directory of batch files.
pub fn read_cifar_dir(dir: &Path) -> Result<(Dataset, Dataset), DataError> {
    Ok((read_cifar_train(dir)?, read_cifar_test(dir)?))
}
