//! Writers: CSV and IDX round-trip to the same bytes, and every write is atomic.

mod common;

use common::cli::{sample_dir, temp_dir};

use std::path::Path;

use fashion_cnn::data::{
    CIFAR10_CLASSES, Dataset, read_csv, read_idx, read_idx_dir, write_atomic, write_csv, write_idx_dir,
};

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn csv_to_idx_to_csv_gives_back_the_same_bytes() {
    let tmp = temp_dir("roundtrip");
    let original = sample_dir().join("fashion-mnist_test.csv");
    let ds = read_csv(&original).expect("csv");
    for gzip in [true, false] {
        let dir = tmp.join(if gzip { "gz" } else { "raw" });
        let (images, labels) = write_idx_dir(&ds, &dir, "t10k", gzip).expect("write idx");
        let suffix = if gzip { ".gz" } else { "" };
        assert_eq!(images, dir.join(format!("t10k-images-idx3-ubyte{suffix}")));
        assert_eq!(labels, dir.join(format!("t10k-labels-idx1-ubyte{suffix}")));
        let back = read_idx(&images, &labels).expect("read idx");
        assert_eq!((back.images == ds.images, &back.labels, back.shape), (true, &ds.labels, ds.shape));
        let csv = dir.join("again.csv");
        write_csv(&back, &csv).expect("write csv");
        assert!(std::fs::read(&csv).expect("read") == std::fs::read(&original).expect("read"), "gzip {gzip}");
        assert_eq!(files_in(&dir).len(), 3, "no temporary files left: {:?}", files_in(&dir));
    }
    // Raw IDX is the 16- and 8-byte headers plus the data, nothing more.
    assert_eq!(std::fs::metadata(tmp.join("raw/t10k-images-idx3-ubyte")).expect("meta").len(), 16 + 500 * 784);
    assert_eq!(std::fs::metadata(tmp.join("raw/t10k-labels-idx1-ubyte")).expect("meta").len(), 8 + 500);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn writing_the_sample_again_reproduces_its_gzip_files_byte_for_byte() {
    let tmp = temp_dir("reproduce");
    let sample = read_idx_dir(&sample_dir(), "train").expect("sample");
    let (images, labels) = write_idx_dir(&sample, &tmp, "train", true).expect("write");
    for (written, name) in [(images, "train-images-idx3-ubyte.gz"), (labels, "train-labels-idx1-ubyte.gz")] {
        assert!(
            std::fs::read(written).expect("read") == std::fs::read(sample_dir().join(name)).expect("read"),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn rgb_images_round_trip_through_csv_with_their_shape() {
    let tmp = temp_dir("rgb-csv");
    let ds = Dataset {
        images: (0..2 * 3 * 4 * 4).map(|v| (v * 5) as u8).collect(),
        labels: vec![9, 0],
        shape: [3, 4, 4],
        class_names: CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect(),
        source: "generated".into(),
    };
    let path = tmp.join("rgb.csv");
    write_csv(&ds, &path).expect("write");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with("label,pixel1,pixel2,"), "{}", &text[..40]);
    assert!(text.lines().next().expect("header").ends_with(",pixel48"));
    let back = read_csv(&path).expect("read");
    assert_eq!(
        (back.images, back.labels, back.shape, back.class_names),
        (ds.images, ds.labels, ds.shape, ds.class_names)
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn writers_refuse_what_their_format_cannot_hold() {
    let tmp = temp_dir("writer-refusals");
    let rgb = Dataset {
        images: vec![0; 3 * 32 * 32],
        labels: vec![1],
        shape: [3, 32, 32],
        class_names: CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect(),
        source: "generated".into(),
    };
    assert_eq!(
        write_idx_dir(&rgb, &tmp, "train", true).expect_err("3 channels").to_string(),
        format!("{}: IDX images hold one channel, but the dataset's images are 3×32×32", tmp.display())
    );
    let gray = Dataset { images: vec![0; 784], shape: [1, 28, 28], ..rgb.clone() };
    assert_eq!(
        write_idx_dir(&gray, &tmp, "test", true).expect_err("prefix").to_string(),
        format!("{}: IDX prefix must be `train` or `t10k`, not `test`", tmp.display())
    );
    let wide = Dataset { images: vec![0; 28 * 30], shape: [1, 28, 30], ..rgb.clone() };
    let csv = tmp.join("wide.csv");
    assert_eq!(
        write_csv(&wide, &csv).expect_err("not square").to_string(),
        format!("{}: CSV holds square gray or RGB images, not 1×28×30", csv.display())
    );
    let ragged = Dataset { images: vec![0; 784 * 2 - 1], labels: vec![1, 2], shape: [1, 28, 28], ..gray };
    let csv = tmp.join("ragged.csv");
    assert_eq!(
        write_csv(&ragged, &csv).expect_err("ragged").to_string(),
        format!("{}: cannot write: the dataset has 2 labels of 1×28×28 images but 1,567 pixel bytes", csv.display())
    );
    assert!(write_idx_dir(&ragged, &tmp, "train", false).is_err());
    assert!(files_in(&tmp).is_empty(), "nothing written: {:?}", files_in(&tmp));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn write_atomic_replaces_the_whole_file_and_leaves_no_temporary() {
    let tmp = temp_dir("atomic");
    let path = tmp.join("model.json");
    write_atomic(&path, b"first version, longer than the second").expect("write");
    write_atomic(&path, b"second").expect("overwrite");
    assert_eq!(std::fs::read(&path).expect("read"), b"second");
    assert_eq!(files_in(&tmp), vec!["model.json".to_string()]);

    let missing = tmp.join("no-such-dir").join("x.bin");
    let e = write_atomic(&missing, b"x").expect_err("no directory").to_string();
    assert!(e.starts_with(&format!("{}: cannot write: ", missing.display())), "{e}");
    assert_eq!(files_in(&tmp), vec!["model.json".to_string()]);
    let _ = std::fs::remove_dir_all(&tmp);
}
