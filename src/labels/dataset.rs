//! Loading the training set a [`DatasetRef`] names, and refusing it when it is not the one the
//! suspects list or journal was made from: an index means nothing in another dataset.

use super::suspects::DatasetRef;
use crate::data::{Dataset, Split, locate_fashion_mnist, read_path};
use std::path::Path;

/// Reads the training set `dataset` names (`path` overrides its recorded `--train` path; an
/// empty path means the default Fashion-MNIST look-up) and checks its fingerprint. `what` is the
/// file that refers to it, for the message.
pub fn load_checked(dataset: &DatasetRef, path: Option<&Path>, what: &Path) -> Result<Dataset, String> {
    let data = match path {
        Some(p) => read_path(p, Split::Train),
        None if dataset.train.is_empty() => locate_fashion_mnist(None).and_then(|dir| read_path(&dir, Split::Train)),
        None => read_path(Path::new(&dataset.train), Split::Train),
    }
    .map_err(|e| e.to_string())?;
    dataset.check(&data, what)?;
    Ok(data)
}
