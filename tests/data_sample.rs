//! The shipped sample (`data/fashion-mnist-sample/`) read in every form the program accepts.
//!
//! The figures (label runs, pixel sums) were computed independently from the sample's IDX files
//! with Python's `gzip` module, not with this crate.

mod common;

use common::cli::{sample_dir, temp_dir};

use fashion_cnn::data::{FASHION_CLASSES, Split, load_pair, read_csv, read_idx, read_idx_dir, read_path};

fn pixel_sum(images: &[u8]) -> u64 {
    images.iter().map(|&p| p as u64).sum()
}

#[test]
fn idx_sample_has_2000_train_and_500_test_images_with_every_class() {
    let (train, test) = load_pair(Some(&sample_dir()), None, None).expect("sample loads");
    assert_eq!((train.len(), test.len()), (2_000, 500));
    assert_eq!(train.shape, [1, 28, 28]);
    assert_eq!(test.shape, [1, 28, 28]);
    assert_eq!(train.images.len(), 2_000 * 784);
    assert_eq!(train.class_counts(), vec![200; 10]);
    assert_eq!(test.class_counts(), vec![50; 10]);
    assert_eq!(train.class_names, FASHION_CLASSES.to_vec());
    assert!(train.source.contains("train-images-idx3-ubyte.gz") && train.source.contains("train-labels-idx1-ubyte.gz"));
    assert!(test.source.contains("t10k-images-idx3-ubyte.gz"));
}

#[test]
fn idx_sample_holds_the_official_images_in_original_order() {
    let train = read_idx_dir(&sample_dir(), "train").expect("train");
    let test = read_idx_dir(&sample_dir(), "t10k").expect("test");
    // The official training set starts 9 0 0 3 0 2 7 2 5 5 0 9; the sample keeps that order.
    assert_eq!(train.labels[..12], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9]);
    assert_eq!(test.labels[..12], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5]);
    assert_eq!(pixel_sum(&train.images), 114_533_639);
    assert_eq!(pixel_sum(&test.images), 28_931_962);
    assert_eq!(pixel_sum(train.image(0)), 76_247);
    assert_eq!(pixel_sum(train.image(1_999)), 63_284);
    assert_eq!(pixel_sum(test.image(0)), 33_456);
    assert_eq!(pixel_sum(test.image(499)), 26_313);
    // Row 14 of the first training image (an ankle boot).
    assert_eq!(&train.image(0)[14 * 28..14 * 28 + 6], &[0, 0, 1, 4, 6, 7]);
    assert_eq!(train.image(0)[14 * 28 + 12], 0xed);
}

#[test]
fn csv_sample_has_exactly_the_idx_sample_pixels_and_labels() {
    let dir = sample_dir();
    for (csv, prefix) in [("fashion-mnist_train.csv", "train"), ("fashion-mnist_test.csv", "t10k")] {
        let from_csv = read_csv(&dir.join(csv)).expect("csv");
        let from_idx = read_idx_dir(&dir, prefix).expect("idx");
        assert_eq!(from_csv.shape, from_idx.shape);
        assert_eq!(from_csv.labels, from_idx.labels, "{csv}");
        assert!(from_csv.images == from_idx.images, "{csv}: pixels differ from the IDX files");
        assert_eq!(from_csv.class_names, from_idx.class_names);
    }
}

#[test]
fn load_pair_reads_named_csv_files_and_idx_images_files_alike() {
    let dir = sample_dir();
    let (csv_train, csv_test) =
        load_pair(Some(&dir.join("fashion-mnist_train.csv")), Some(&dir.join("fashion-mnist_test.csv")), None)
            .expect("csv pair");
    // An IDX images file finds its labels file beside it by name.
    let (idx_train, idx_test) =
        load_pair(Some(&dir.join("train-images-idx3-ubyte.gz")), Some(&dir.join("t10k-images-idx3-ubyte.gz")), None)
            .expect("idx pair");
    assert_eq!((csv_train.len(), csv_test.len()), (2_000, 500));
    assert_eq!(csv_train.images, idx_train.images);
    assert_eq!(csv_test.labels, idx_test.labels);
    assert_eq!(csv_train.source, dir.join("fashion-mnist_train.csv").display().to_string());
    assert_eq!(
        idx_train.source,
        format!(
            "{} + {}",
            dir.join("train-images-idx3-ubyte.gz").display(),
            dir.join("train-labels-idx1-ubyte.gz").display()
        )
    );
}

#[test]
fn a_directory_of_kaggle_csv_files_gives_both_splits() {
    let tmp = temp_dir("csv-dir");
    for name in ["fashion-mnist_train.csv", "fashion-mnist_test.csv"] {
        std::fs::copy(sample_dir().join(name), tmp.join(name)).expect("copy");
    }
    let (train, test) = load_pair(Some(&tmp), None, None).expect("csv dir");
    assert_eq!((train.len(), test.len()), (2_000, 500));
    assert_eq!(test.class_counts(), vec![50; 10]);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn gzip_is_recognised_by_its_magic_bytes_not_by_the_name() {
    let tmp = temp_dir("gzip-magic");
    let dir = sample_dir();
    // Gzipped bytes under the raw name, and raw bytes under the `.gz` name.
    std::fs::copy(dir.join("train-images-idx3-ubyte.gz"), tmp.join("train-images-idx3-ubyte")).expect("copy");
    let gz = std::fs::read(dir.join("train-labels-idx1-ubyte.gz")).expect("read");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw).expect("gunzip");
    std::fs::write(tmp.join("train-labels-idx1-ubyte.gz"), &raw).expect("write");
    let ds = read_idx(&tmp.join("train-images-idx3-ubyte"), &tmp.join("train-labels-idx1-ubyte.gz")).expect("read");
    assert_eq!(ds.len(), 2_000);
    assert_eq!(ds.labels, read_idx_dir(&dir, "train").expect("sample").labels);
    // A gzipped CSV is read too.
    let csv_gz = tmp.join("fashion-mnist_test.csv.gz");
    let csv = std::fs::read(dir.join("fashion-mnist_test.csv")).expect("read csv");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &csv).expect("gzip");
    std::fs::write(&csv_gz, enc.finish().expect("gzip")).expect("write");
    assert_eq!(read_path(&csv_gz, Split::Test).expect("csv.gz").len(), 500);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn subset_keeps_the_chosen_samples_in_the_given_order() {
    let train = read_idx_dir(&sample_dir(), "train").expect("train");
    let sub = train.subset(&[5, 0, 5]);
    assert_eq!(sub.len(), 3);
    assert_eq!(sub.labels, vec![2, 9, 2]);
    assert_eq!(sub.image(0), train.image(5));
    assert_eq!(sub.image(1), train.image(0));
    assert_eq!(sub.image(2), train.image(5));
    assert_eq!(sub.class_counts(), vec![0, 0, 2, 0, 0, 0, 0, 0, 0, 1]);
    assert!(!sub.is_empty() && train.subset(&[]).is_empty());
}
