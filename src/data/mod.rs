//! The data layer: image datasets read from and written to files, and found or downloaded when
//! no path is given. It knows nothing of the engine: a [`Dataset`] is raw `u8` pixels and labels,
//! and turning them into tensors (and normalising them) is the trainer's job.
//!
//! Formats, each in its own file:
//! - [`idx`]: the official Fashion-MNIST files, gzipped or raw (gzip is detected by its magic
//!   bytes, not by the name);
//! - [`csv`]: Kaggle's CSV, `label,pixel1,…,pixel784`, one image per row;
//! - [`cifar`]: CIFAR-10 binary batches.
//!
//! [`load_pair`] is the entry point the command line uses. Every error is a [`DataError`] whose
//! message names the file, the line or record, and what is wrong, because a bad file must never
//! panic and the user must be able to find and fix the problem from the message alone.

pub mod atomic;
pub mod cifar;
pub mod csv;
pub mod download;
mod file;
pub mod idx;
pub mod load;
pub mod locate;

pub use atomic::write_atomic;
pub use cifar::{read_cifar_batch, read_cifar_dir};
pub use csv::{read_csv, write_csv};
pub use download::{OFFICIAL_SHA256, download_fashion_mnist};
pub use idx::{read_idx, read_idx_dir, write_idx_dir};
pub use load::{Split, load_pair, read_path};
pub use locate::{locate_fashion_mnist, resolve_mirrors};

use std::fmt;

/// The ten Fashion-MNIST classes, by label.
pub const FASHION_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// The ten CIFAR-10 classes, by label.
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// A labelled image set held as raw bytes, exactly as the files store them.
///
/// Pixels stay `u8` (0–255) so a dataset can be written back unchanged; normalisation belongs to
/// the model, which records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// N × (C·H·W) pixels 0..=255, sample-major, each image in CHW order.
    pub images: Vec<u8>,
    /// N labels, each below `class_names.len()`.
    pub labels: Vec<u8>,
    /// C, H, W (Fashion-MNIST: `[1, 28, 28]`; CIFAR-10: `[3, 32, 32]`).
    pub shape: [usize; 3],
    /// The name of each label, in label order.
    pub class_names: Vec<String>,
    /// The path(s) it was read from, for messages and run records.
    pub source: String,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes per image: C·H·W.
    pub fn image_size(&self) -> usize {
        self.shape.iter().product()
    }

    /// The pixels of image `i` (CHW). Panics when `i >= len()`, like slice indexing: indices are
    /// the caller's, not the file's.
    pub fn image(&self, i: usize) -> &[u8] {
        let size = self.image_size();
        &self.images[i * size..(i + 1) * size]
    }

    /// A new dataset holding the given samples, in the order given (repeats allowed). Panics on
    /// an index out of range, like slice indexing.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(indices.len() * self.image_size());
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            images,
            labels,
            shape: self.shape,
            class_names: self.class_names.clone(),
            source: self.source.clone(),
        }
    }

    /// How many images carry each label, one count per class name.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.class_names.len()];
        for &label in &self.labels {
            // Readers reject labels without a class name, so this only guards hand-built sets.
            if let Some(count) = counts.get_mut(label as usize) {
                *count += 1;
            }
        }
        counts
    }

    /// Writers call this first: a hand-built dataset whose pixel count disagrees with its labels
    /// and shape would otherwise be written as a corrupt file (or panic part-way).
    pub(crate) fn check_sizes(&self, path: &std::path::Path) -> Result<(), DataError> {
        let expected = self.len().checked_mul(self.image_size());
        if expected != Some(self.images.len()) {
            return Err(DataError::at(
                path,
                format!(
                    "cannot write: the dataset has {} labels of {} images but {} pixel bytes",
                    thousands(self.len()),
                    self.shape_text(),
                    thousands(self.images.len())
                ),
            ));
        }
        Ok(())
    }

    /// The shape as people write it: `1×28×28`.
    pub fn shape_text(&self) -> String {
        let [c, h, w] = self.shape;
        format!("{c}×{h}×{w}")
    }
}

/// A data error whose message names the file, the line or record, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError(pub String);

impl DataError {
    /// An error about `path`: `"<path>: <what>"`.
    pub(crate) fn at(path: &std::path::Path, what: impl fmt::Display) -> DataError {
        DataError(format!("{}: {what}", path.display()))
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

impl From<DataError> for String {
    fn from(e: DataError) -> String {
        e.0
    }
}

/// `47040016` → `"47,040,016"`: byte and record counts in messages are read by people.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The class names of a 10-class set as owned strings.
pub(crate) fn class_names(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}
