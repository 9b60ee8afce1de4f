//! Every kind of bad data given to `train` exits non-zero with the data layer's message (whose
//! exact wording `tests/data_errors.rs` pins down), never a panic.

mod common;

use common::cli::{run, temp_dir};
use fashion_cnn::data::load_pair;
use std::path::{Path, PathBuf};

const SAMPLE_TEST: &str = "data/fashion-mnist-sample/fashion-mnist_test.csv";

fn header() -> String {
    std::iter::once("label".to_string()).chain((1..=784).map(|j| format!("pixel{j}"))).collect::<Vec<_>>().join(",")
}

fn row(label: &str, pixel: &str) -> String {
    std::iter::once(label).chain(std::iter::repeat_n(pixel, 784)).collect::<Vec<_>>().join(",")
}

fn idx(magic: u32, dims: &[u32], payload: usize) -> Vec<u8> {
    let mut b: Vec<u8> = std::iter::once(magic).chain(dims.iter().copied()).flat_map(|v| v.to_be_bytes()).collect();
    b.extend(std::iter::repeat_n(3u8, payload));
    b
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// `train --train TRAIN --test TEST` must fail with exactly the library's message for the pair.
fn assert_refused(train: &Path, test: &Path) {
    // `train` reads the paths made absolute, as model.json records them.
    let (train_abs, test_abs) = (std::path::absolute(train).unwrap(), std::path::absolute(test).unwrap());
    let expected =
        load_pair(Some(&train_abs), Some(&test_abs), None).expect_err("bad data must be refused").to_string();
    let out_dir = train.with_extension("run");
    let args = ["train", "--epochs", "1", "--train", path(train), "--test", path(test), "--out", path(&out_dir)];
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 1, "{}: {stderr}", train.display());
    assert_eq!(stderr, format!("error: {expected}\n"));
    // The message names the file at fault: the one given, or the labels file beside it.
    let named = [train, test, train.parent().unwrap()].iter().any(|p| expected.contains(&p.display().to_string()));
    assert!(named, "{expected}");
}

#[test]
fn bad_csv_files_are_refused_with_file_line_and_problem() {
    let dir = temp_dir("csv");
    let (h, good) = (header(), row("3", "0"));
    let test = PathBuf::from(SAMPLE_TEST);
    let cases = [
        ("empty.csv", String::new()),
        ("no-header.csv", format!("{good}\n")),
        ("wrong-header.csv", format!("{}\n{good}\n", h.replacen("label", "class", 1))),
        ("columns.csv", format!("{h}\n{good}\n{}\n", row("1", "0").rsplit_once(',').unwrap().0)),
        ("not-a-number.csv", format!("{h}\n{}\n", good.replacen(",0", ",x", 1))),
        ("pixel-256.csv", format!("{h}\n{}\n", good.replacen(",0", ",256", 1))),
        ("label-10.csv", format!("{h}\n{good}\n{}\n", row("10", "0"))),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        assert_refused(&path, &test);
    }
}

#[test]
fn bad_idx_files_are_refused() {
    let dir = temp_dir("idx");
    let labels = idx(0x0801, &[10], 10);
    let test = PathBuf::from(SAMPLE_TEST);
    let cases: [(&str, Vec<u8>, Vec<u8>); 4] = [
        ("magic", idx(0x1234, &[10, 28, 28], 7840), labels.clone()),
        ("truncated", idx(0x0803, &[10, 28, 28], 7000), labels.clone()),
        ("count", idx(0x0803, &[10, 28, 28], 7840), idx(0x0801, &[9], 9)),
        (
            "label",
            idx(0x0803, &[10, 28, 28], 7840),
            idx(0x0801, &[10], 0).into_iter().chain([0, 1, 2, 3, 10, 5, 6, 7, 8, 9]).collect(),
        ),
    ];
    for (name, images, labels) in cases {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let images_path = sub.join("train-images-idx3-ubyte");
        std::fs::write(&images_path, images).unwrap();
        std::fs::write(sub.join("train-labels-idx1-ubyte"), labels).unwrap();
        assert_refused(&images_path, &test);
    }
}

#[test]
fn train_and_test_of_different_image_sizes_are_refused() {
    let dir = temp_dir("sizes");
    let cifar = dir.join("test_batch.bin");
    std::fs::write(&cifar, vec![1u8; 3073]).unwrap();
    assert_refused(Path::new("data/fashion-mnist-sample/fashion-mnist_train.csv"), &cifar);
}
