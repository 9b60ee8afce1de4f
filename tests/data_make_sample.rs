//! The generator of `data/fashion-mnist-sample/`, kept as an ignored test so it is built and
//! checked with everything else but only runs when asked:
//!
//! ```text
//! cargo test --release --test data_make_sample -- --ignored
//! ```
//!
//! It reads the full official set (from `data/fashion-mnist/`, `$FASHION_MNIST_DIR` or
//! `/usr/share/datasets/fashion-mnist/`), checks it against the official checksums, keeps the
//! first 200 images of each class from the training set and the first 50 of each class from the
//! test set in their original order, and writes them as gzipped IDX and as Kaggle CSV with the
//! kept indices and a `SHA256SUMS` file (checkable with
//! `sha256sum -c`); the SHA-256 of the decompressed IDX files is printed for the README.
//! Running it again gives byte-identical files.

use std::path::Path;

use fashion_cnn::data::download::{OFFICIAL_SHA256, sha256_hex};
use fashion_cnn::data::locate::{DIR_ENV, find_fashion_dir, search_dirs};
use fashion_cnn::data::{Dataset, read_idx_dir, write_atomic, write_csv, write_idx_dir};

const TRAIN_PER_CLASS: usize = 200;
const TEST_PER_CLASS: usize = 50;

/// Indices of the first `per_class` samples of each class, in dataset order.
fn first_per_class(ds: &Dataset, per_class: usize) -> Vec<usize> {
    let mut taken = vec![0; ds.class_names.len()];
    let mut keep = Vec::new();
    for (i, &label) in ds.labels.iter().enumerate() {
        if taken[label as usize] < per_class {
            taken[label as usize] += 1;
            keep.push(i);
        }
    }
    keep
}

#[test]
#[ignore = "regenerates data/fashion-mnist-sample from the full dataset"]
fn make_fashion_mnist_sample() {
    let source = find_fashion_dir(&search_dirs(std::env::var_os(DIR_ENV).as_deref()))
        .expect("the full Fashion-MNIST set (apt-get install dataset-fashion-mnist)");
    for (file, sha) in OFFICIAL_SHA256 {
        let path = fashion_cnn::data::idx::find_in(&source, file).expect("official file");
        let bytes = decompressed(&path);
        assert_eq!(sha256_hex(&bytes), sha, "{} is not the official file", path.display());
    }
    let train = read_idx_dir(&source, "train").expect("train");
    let test = read_idx_dir(&source, "t10k").expect("test");
    assert_eq!((train.len(), test.len()), (60_000, 10_000));

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
    std::fs::create_dir_all(&out).expect("create the sample directory");
    let mut sums = String::new();
    let mut decompressed_sums = String::new();
    for (set, prefix, csv_name, per_class, indices_name) in [
        (&train, "train", "fashion-mnist_train.csv", TRAIN_PER_CLASS, "train-indices.txt"),
        (&test, "t10k", "fashion-mnist_test.csv", TEST_PER_CLASS, "test-indices.txt"),
    ] {
        let keep = first_per_class(set, per_class);
        assert_eq!(keep.len(), per_class * 10);
        let sample = set.subset(&keep);
        let (images, labels) = write_idx_dir(&sample, &out, prefix, true).expect("write IDX");
        let csv = out.join(csv_name);
        write_csv(&sample, &csv).expect("write CSV");
        let indices_path = out.join(indices_name);
        let indices: String = keep.iter().map(|i| format!("{i}\n")).collect();
        write_atomic(&indices_path, indices.as_bytes()).expect("write indices");
        for path in [images, labels, csv, indices_path] {
            let bytes = std::fs::read(&path).expect("read back");
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            sums.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
            if let Some(raw) = name.strip_suffix(".gz") {
                decompressed_sums.push_str(&format!("{}  {raw}\n", sha256_hex(&decompressed(&path))));
            }
        }
    }
    write_atomic(&out.join("SHA256SUMS"), sums.as_bytes()).expect("write sums");
    print!("{sums}\ndecompressed:\n{decompressed_sums}");
}

/// A file's bytes, gunzipped when gzipped: the official checksums are of the decompressed files.
fn decompressed(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).expect("read");
    if raw.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).expect("gunzip");
        out
    } else {
        raw
    }
}
