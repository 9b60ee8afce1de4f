//! Every kind of bad input gives an error that names the file, the line or record, and the
//! problem, in exactly these words, and nothing panics.

mod common;

use common::cli::temp_dir;

use std::path::{Path, PathBuf};

use fashion_cnn::data::{Split, load_pair, read_cifar_batch, read_csv, read_idx, read_path};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn csv_header() -> String {
    let mut h = String::from("label");
    for j in 1..=784 {
        h.push_str(&format!(",pixel{j}"));
    }
    h
}

/// A CSV row: the label, then 784 pixels all `pixel`.
fn csv_row(label: &str, pixel: &str) -> String {
    let mut r = label.to_string();
    for _ in 0..784 {
        r.push(',');
        r.push_str(pixel);
    }
    r
}

/// An IDX images file's bytes: the header says `count` images of 28×28, `pixels` bytes follow.
fn idx_images(magic: u32, count: u32, pixels: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [magic, count, 28, 28] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend(std::iter::repeat_n(7u8, pixels));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x0000_0801u32, labels.len() as u32] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(labels);
    b
}

fn csv_error(dir: &Path, name: &str, text: &str) -> (String, String) {
    let path = write(dir, name, text);
    let err = read_csv(&path).expect_err("bad CSV must fail").to_string();
    (path.display().to_string(), err)
}

#[test]
fn csv_errors_name_the_file_the_line_and_the_problem() {
    let dir = temp_dir("csv-errors");
    let header = csv_header();
    let good = csv_row("3", "0");

    let (p, e) = csv_error(&dir, "empty.csv", "");
    assert_eq!(
        e,
        format!("{p}: the file is empty: expected a header `label,pixel1,…,pixel784` and one image per line")
    );

    let (p, e) = csv_error(&dir, "no-header.csv", &format!("{good}\n{good}\n"));
    assert_eq!(
        e,
        format!("{p}: line 1: missing header: expected `label,pixel1,…,pixel784`, but the first line holds numbers")
    );

    let (p, e) = csv_error(&dir, "first-column.csv", &format!("{}\n{good}\n", header.replacen("label", "class", 1)));
    assert_eq!(e, format!("{p}: line 1: wrong header: the first column is `class`, expected `label`"));

    let (p, e) =
        csv_error(&dir, "column-name.csv", &format!("{}\n{good}\n", header.replacen("pixel2,", "pixel02,", 1)));
    assert_eq!(e, format!("{p}: line 1: wrong header: column 3 is `pixel02`, expected `pixel2`"));

    let short_header = header.strip_suffix(",pixel784").expect("suffix");
    let (p, e) = csv_error(&dir, "short-header.csv", &format!("{short_header}\n{good}\n"));
    assert_eq!(
        e,
        format!("{p}: line 1: wrong header: 783 pixel columns are no square image (Fashion-MNIST has 784 = 28×28)")
    );

    let (p, e) = csv_error(&dir, "header-only.csv", &format!("{header}\n"));
    assert_eq!(e, format!("{p}: the file has a header but no images"));

    let short_row = good.strip_suffix(",0").expect("suffix");
    let (p, e) = csv_error(&dir, "columns.csv", &format!("{header}\n{good}\n{short_row}\n"));
    assert_eq!(e, format!("{p}: line 3: 784 columns, expected 785 (a label and 784 pixels)"));

    let (p, e) = csv_error(&dir, "long-row.csv", &format!("{header}\n{good},0\n"));
    assert_eq!(e, format!("{p}: line 2: 786 columns, expected 785 (a label and 784 pixels)"));

    let (p, e) = csv_error(&dir, "spaces-row.csv", &format!("{header}\n{good}\n   \n"));
    assert_eq!(e, format!("{p}: line 3: 1 column, expected 785 (a label and 784 pixels)"));

    let text = format!("{header}\n{good}\n{good}\n{}\n", good.replacen(",0,0,0,0,0", ",0,0,0,0,abc", 1));
    let (p, e) = csv_error(&dir, "not-a-number.csv", &text);
    assert_eq!(e, format!("{p}: line 4: pixel5 (column 6): `abc` is not a whole number"));

    let (p, e) = csv_error(&dir, "fraction.csv", &format!("{header}\n{}\n", good.replacen(",0", ",0.5", 1)));
    assert_eq!(e, format!("{p}: line 2: pixel1 (column 2): `0.5` is not a whole number"));

    let (p, e) = csv_error(&dir, "pixel-256.csv", &format!("{header}\n{}\n", good.replacen(",0,0", ",0,256", 1)));
    assert_eq!(e, format!("{p}: line 2: pixel2 (column 3): value 256 is outside 0–255"));

    let (p, e) = csv_error(&dir, "pixel-negative.csv", &format!("{header}\n{}\n", csv_row("1", "-1")));
    assert_eq!(e, format!("{p}: line 2: pixel1 (column 2): value -1 is outside 0–255"));

    let (p, e) = csv_error(&dir, "pixel-huge.csv", &format!("{header}\n{}\n", csv_row("1", "99999999999999999999999")));
    assert_eq!(e, format!("{p}: line 2: pixel1 (column 2): value 99999999999999999999999 is outside 0–255"));

    let (p, e) = csv_error(&dir, "label-10.csv", &format!("{header}\n{good}\n{}\n", csv_row("10", "0")));
    assert_eq!(e, format!("{p}: line 3: label 10 is outside 0–9"));

    let (p, e) = csv_error(&dir, "label-text.csv", &format!("{header}\n{}\n", csv_row("Coat", "0")));
    assert_eq!(e, format!("{p}: line 2: label `Coat` is not a whole number"));

    // Blank lines are skipped, but line numbers still count them, as an editor does.
    let (p, e) = csv_error(&dir, "blank-lines.csv", &format!("{header}\n\n{good}\n\n{}\n", csv_row("-3", "0")));
    assert_eq!(e, format!("{p}: line 5: label -3 is outside 0–9"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_good_tiny_csv_reads_with_windows_line_ends_and_spaces() {
    let dir = temp_dir("csv-good");
    let text = format!("{}\r\n{}\r\n{}\r\n", csv_header(), csv_row("3", "0"), csv_row(" 9", "255 "));
    let ds = read_csv(&write(&dir, "ok.csv", text)).expect("good CSV");
    assert_eq!(ds.labels, vec![3, 9]);
    assert_eq!(ds.shape, [1, 28, 28]);
    assert_eq!(ds.image(1), &[255u8; 784][..]);
    // A byte-order mark, as spreadsheet programs write, is not part of the header.
    let text = format!("\u{feff}{}\n{}\n", csv_header(), csv_row("7", "1"));
    assert_eq!(read_csv(&write(&dir, "bom.csv", text)).expect("BOM CSV").labels, vec![7]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idx_errors_name_the_file_and_say_expected_against_found() {
    let dir = temp_dir("idx-errors");
    let labels = write(&dir, "train-labels-idx1-ubyte", idx_labels(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    let err = |images: &Path, labels: &Path| read_idx(images, labels).expect_err("bad IDX must fail").to_string();

    let p = write(&dir, "magic-images", idx_images(0x0000_0801, 10, 7840));
    assert_eq!(
        err(&p, &labels),
        format!(
            "{}: wrong magic number 0x00000801, expected 0x00000803 for IDX images (this is an IDX labels file)",
            p.display()
        )
    );
    let p = write(&dir, "magic-junk", idx_images(0x1234_5678, 10, 7840));
    assert_eq!(
        err(&p, &labels),
        format!("{}: wrong magic number 0x12345678, expected 0x00000803 for IDX images", p.display())
    );

    let p = write(&dir, "short-header", [0u8, 0, 8, 3, 0]);
    assert_eq!(
        err(&p, &labels),
        format!("{}: truncated: expected at least a 16-byte IDX header, found 5 bytes", p.display())
    );

    let p = write(&dir, "truncated", idx_images(0x0000_0803, 10, 7000));
    assert_eq!(
        err(&p, &labels),
        format!(
            "{}: truncated: expected 7,856 bytes (a 16-byte header + 10 images of 28×28), found 7,016",
            p.display()
        )
    );

    let p = write(&dir, "too-long", idx_images(0x0000_0803, 10, 7843));
    assert_eq!(
        err(&p, &labels),
        format!(
            "{}: wrong size: expected 7,856 bytes (a 16-byte header + 10 images of 28×28), found 7,859: 3 bytes too many",
            p.display()
        )
    );

    // A header claiming 4 billion images is checked against the length before any allocation.
    let p = write(&dir, "huge-count", idx_images(0x0000_0803, u32::MAX, 784));
    assert_eq!(
        err(&p, &labels),
        format!(
            "{}: truncated: expected 3,367,254,359,296 bytes (a 16-byte header + 4,294,967,295 images of 28×28), found 800",
            p.display()
        )
    );

    let images = write(&dir, "train-images-idx3-ubyte", idx_images(0x0000_0803, 10, 7840));
    let nine = write(&dir, "nine-labels", idx_labels(&[0; 9]));
    assert_eq!(
        err(&images, &nine),
        format!("{}: 10 images, but {} has 9 labels: the counts must match", images.display(), nine.display())
    );

    let bad_label = write(&dir, "bad-label", idx_labels(&[0, 1, 2, 3, 10, 5, 6, 7, 8, 9]));
    assert_eq!(
        err(&images, &bad_label),
        format!("{}: record 4 (0-based): label 10 is outside 0–9", bad_label.display())
    );

    let labels_magic = write(&dir, "labels-magic", idx_images(0x0000_0803, 10, 7840));
    assert_eq!(
        err(&images, &labels_magic),
        format!(
            "{}: wrong magic number 0x00000803, expected 0x00000801 for IDX labels (this is an IDX images file)",
            labels_magic.display()
        )
    );

    let short_labels = write(&dir, "short-labels", &idx_labels(&[0; 10])[..15]);
    assert_eq!(
        err(&images, &short_labels),
        format!("{}: truncated: expected 18 bytes (an 8-byte header + 10 labels), found 15", short_labels.display())
    );

    // The good pair reads, so the errors above are about what was broken.
    assert_eq!(read_idx(&images, &labels).expect("good pair").class_counts(), vec![1; 10]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_truncated_gzip_file_is_reported_as_broken_not_misread() {
    let dir = temp_dir("gzip-truncated");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample/train-images-idx3-ubyte.gz");
    let gz = std::fs::read(sample).expect("sample");
    let images = write(&dir, "train-images-idx3-ubyte.gz", &gz[..gz.len() / 2]);
    let labels = write(&dir, "train-labels-idx1-ubyte", idx_labels(&[0; 2000]));
    let e = read_idx(&images, &labels).expect_err("truncated gzip").to_string();
    let prefix = format!("{}: broken gzip data (", images.display());
    assert!(e.starts_with(&prefix), "{e}");
    assert!(e.ends_with("); the file is probably truncated or corrupted"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cifar_errors_name_the_file_and_the_record() {
    let dir = temp_dir("cifar-errors");
    let mut bytes = vec![0u8; 2 * 3073 + 100];
    let p = write(&dir, "data_batch_1.bin", &bytes);
    assert_eq!(
        read_cifar_batch(&p).expect_err("ragged").to_string(),
        format!(
            "{}: record 2 (0-based) is truncated: 100 bytes of 3,073; the file's 6,246 bytes are not a whole number of 3,073-byte records",
            p.display()
        )
    );
    bytes.truncate(2 * 3073);
    bytes[3073] = 10;
    let p = write(&dir, "data_batch_2.bin", &bytes);
    assert_eq!(
        read_cifar_batch(&p).expect_err("label").to_string(),
        format!("{}: record 1 (0-based): label 10 is outside 0–9", p.display())
    );
    let p = write(&dir, "test_batch.bin", []);
    assert_eq!(
        read_cifar_batch(&p).expect_err("empty").to_string(),
        format!("{}: the file is empty: expected 3,073-byte CIFAR-10 records", p.display())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_pair_refuses_train_and_test_of_different_shapes() {
    let dir = temp_dir("shape-mismatch");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
    let cifar = write(&dir, "test_batch.bin", vec![1u8; 3073]);
    let train = sample.join("fashion-mnist_train.csv");
    let e = load_pair(Some(&train), Some(&cifar), None).expect_err("shapes differ").to_string();
    assert_eq!(
        e,
        format!(
            "train images are 1×28×28 but test images are 3×32×32 (train: {}; test: {})",
            train.display(),
            cifar.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn paths_that_are_not_datasets_are_refused_with_the_reason() {
    let dir = temp_dir("bad-paths");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
    let csv = sample.join("fashion-mnist_train.csv");
    let missing = dir.join("nope.csv");
    let msg = |r: Result<_, fashion_cnn::data::DataError>| r.map(|_: (_, _)| ()).expect_err("must fail").to_string();

    assert_eq!(
        msg(load_pair(Some(&missing), Some(&csv), None)),
        format!("{}: no such file or directory", missing.display())
    );
    assert_eq!(
        msg(load_pair(Some(&csv), None, None)),
        format!(
            "{}: --train names a file, so --test must name the test file (or give --train a directory holding both)",
            csv.display()
        )
    );
    assert_eq!(msg(load_pair(None, Some(&csv), None)), format!("{}: --test needs --train as well", csv.display()));

    let labels = sample.join("train-labels-idx1-ubyte.gz");
    assert_eq!(
        read_path(&labels, Split::Train).expect_err("labels file").to_string(),
        format!(
            "{}: this is an IDX labels file: name the images file (…-images-idx3-ubyte[.gz]); its labels are found beside it",
            labels.display()
        )
    );

    let lonely = write(&dir, "train-images-idx3-ubyte", idx_images(0x0000_0803, 1, 784));
    assert_eq!(
        read_path(&lonely, Split::Train).expect_err("no labels").to_string(),
        format!(
            "{}: cannot find its labels file: no train-labels-idx1-ubyte.gz or train-labels-idx1-ubyte beside it",
            lonely.display()
        )
    );

    let text = write(&dir, "notes.txt", "hello");
    assert_eq!(
        read_path(&text, Split::Train).expect_err("unknown").to_string(),
        format!(
            "{}: unknown format: expected a Kaggle CSV (.csv), an IDX images file, a CIFAR-10 batch (.bin) or a directory",
            text.display()
        )
    );

    let empty_dir = temp_dir("bad-paths-empty");
    assert_eq!(
        msg(load_pair(Some(&empty_dir), None, None)),
        format!(
            "{}: no training data here: expected train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (IDX), \
             CIFAR-10 batches (data_batch_1.bin … or test_batch.bin), or fashion-mnist_train.csv",
            empty_dir.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty_dir);
}
