//! Turning what the user named (`--train`, `--test`, or nothing) into a train and a test set.
//!
//! A path may be a file, whose format is recognised by its extension or its first bytes, or a
//! directory, read by the file names it holds. The train and test images must have the same
//! shape, or no model could take both.

use std::path::{Path, PathBuf};

use super::cifar::{holds_cifar, read_cifar_batch, read_cifar_test, read_cifar_train};
use super::csv::read_csv;
use super::file::read_prefix;
use super::idx::{
    IMAGES_MAGIC, LABELS_MAGIC, find_in, images_name, labels_beside, labels_name, read_idx, read_idx_dir,
};
use super::locate::locate_fashion_mnist;
use super::{DataError, Dataset};

/// Which half of a dataset a directory is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    /// The prefix of the official IDX names: `train` or `t10k`.
    pub fn idx_prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }

    /// The Kaggle CSV name: `fashion-mnist_train.csv` or `fashion-mnist_test.csv`.
    pub fn csv_name(self) -> &'static str {
        match self {
            Split::Train => "fashion-mnist_train.csv",
            Split::Test => "fashion-mnist_test.csv",
        }
    }
}

/// Reads the train and test sets.
///
/// - `train` and `test` both given: each is read on its own, as a file or a directory (from a
///   directory, the split each names).
/// - only `train`, a directory: both splits are read from it.
/// - neither: Fashion-MNIST from the default places, downloaded from `mirror` if need be.
pub fn load_pair(
    train: Option<&Path>,
    test: Option<&Path>,
    mirror: Option<&str>,
) -> Result<(Dataset, Dataset), DataError> {
    let (train_set, test_set) = match (train, test) {
        (Some(tr), Some(te)) => (read_path(tr, Split::Train)?, read_path(te, Split::Test)?),
        (Some(tr), None) if tr.is_dir() => (read_dir(tr, Split::Train)?, read_dir(tr, Split::Test)?),
        (Some(tr), None) => {
            return Err(DataError::at(
                tr,
                "--train names a file, so --test must name the test file (or give --train a directory holding both)",
            ));
        }
        (None, Some(te)) => {
            return Err(DataError::at(te, "--test needs --train as well"));
        }
        (None, None) => {
            let dir = locate_fashion_mnist(mirror)?;
            (read_dir(&dir, Split::Train)?, read_dir(&dir, Split::Test)?)
        }
    };
    if train_set.shape != test_set.shape {
        return Err(DataError(format!(
            "train images are {} but test images are {} (train: {}; test: {})",
            train_set.shape_text(),
            test_set.shape_text(),
            train_set.source,
            test_set.source
        )));
    }
    Ok((train_set, test_set))
}

/// Reads one dataset from a file, or the `split` half from a directory.
pub fn read_path(path: &Path, split: Split) -> Result<Dataset, DataError> {
    if path.is_dir() {
        read_dir(path, split)
    } else if path.exists() {
        read_file(path)
    } else {
        Err(DataError::at(path, "no such file or directory"))
    }
}

/// One file: a CSV (by extension or a `label` header), a CIFAR-10 batch (`.bin`), or an IDX
/// images file (by its magic number) with its labels file found beside it.
fn read_file(path: &Path) -> Result<Dataset, DataError> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".csv") {
        return read_csv(path);
    }
    if name.ends_with(".bin") {
        return read_cifar_batch(path);
    }
    let head = read_prefix(path, 5)?;
    if head.len() >= 4 {
        let magic = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if magic == IMAGES_MAGIC {
            return read_idx(path, &labels_beside(path)?);
        }
        if magic == LABELS_MAGIC {
            return Err(DataError::at(
                path,
                "this is an IDX labels file: name the images file (…-images-idx3-ubyte[.gz]); its labels are found beside it",
            ));
        }
    }
    if head.starts_with(b"label") {
        return read_csv(path);
    }
    Err(DataError::at(
        path,
        "unknown format: expected a Kaggle CSV (.csv), an IDX images file, a CIFAR-10 batch (.bin) or a directory",
    ))
}

/// The `split` half of a directory holding the official IDX files, CIFAR-10 batches (directly or
/// in `cifar-10-batches-bin/`, as the archive unpacks), or Kaggle's two CSV files.
fn read_dir(dir: &Path, split: Split) -> Result<Dataset, DataError> {
    if find_in(dir, &images_name(split.idx_prefix())).is_some() {
        return read_idx_dir(dir, split.idx_prefix());
    }
    for cifar_dir in [dir.to_path_buf(), dir.join("cifar-10-batches-bin")] {
        if holds_cifar(&cifar_dir) {
            return match split {
                Split::Train => read_cifar_train(&cifar_dir),
                Split::Test => read_cifar_test(&cifar_dir),
            };
        }
    }
    let csv: PathBuf = dir.join(split.csv_name());
    if csv.is_file() {
        return read_csv(&csv);
    }
    let prefix = split.idx_prefix();
    Err(DataError::at(
        dir,
        format!(
            "no {} data here: expected {}[.gz] and {}[.gz] (IDX), CIFAR-10 batches (data_batch_1.bin … or test_batch.bin), or {}",
            match split {
                Split::Train => "training",
                Split::Test => "test",
            },
            images_name(prefix),
            labels_name(prefix),
            split.csv_name()
        ),
    ))
}
