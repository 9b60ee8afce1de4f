//! `explore` spawned as a user runs it, on the `data/` sample (2,000 training and 500 test
//! images, 200 and 50 of each class).

mod common;

use common::cli::TempDir;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use fashion_cnn::data::FASHION_CLASSES;
use fashion_cnn::report::slice_color;

const SAMPLE: &str = "data/fashion-mnist-sample";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fashion-cnn")).args(args).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A path for a test's output folder, not yet created (explore must create it).
fn out_dir(name: &str) -> TempDir {
    TempDir::unmade(&format!("explore-{name}"))
}

fn explore(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["explore", "--train", SAMPLE, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "explore failed: {stderr}");
    stdout
}

fn dimensions(path: &Path) -> (u32, u32) {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8().dimensions()
}

#[test]
fn prints_the_exact_counts_of_the_sample() {
    let dir = out_dir("counts");
    let stdout = explore(&dir, &[]);
    assert!(stdout.contains("training images: 2,000  ("), "{stdout}");
    assert!(stdout.contains("test images:     500  ("), "{stdout}");
    assert!(stdout.contains("classes:         10\n"), "{stdout}");
    assert!(stdout.contains("image shape:     1×28×28\n"), "{stdout}");
    for name in FASHION_CLASSES {
        let line = stdout.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no line for {name}"));
        let figures: Vec<&str> = line[name.len()..].split_whitespace().collect();
        assert_eq!(figures, ["200", "10.00%", "50", "10.00%"], "{line}");
    }
}

#[test]
fn writes_both_pies_and_the_sample_grid_into_the_out_folder() {
    let dir = out_dir("files");
    let stdout = explore(&dir, &["--samples", "7", "--seed", "3"]);
    for name in ["class_distribution_train.png", "class_distribution_test.png", "samples.png"] {
        assert!(stdout.contains(&format!("wrote {}", dir.join(name).display())), "{stdout}");
    }
    assert_eq!(dimensions(&dir.join("class_distribution_train.png")), (900, 680));
    assert_eq!(dimensions(&dir.join("class_distribution_test.png")), (900, 680));
    // 7 images in 3 columns of 176-pixel cells, 3 rows of 138 under a 40-pixel title, 12-pixel margins.
    assert_eq!(dimensions(&dir.join("samples.png")), (12 + 3 * 176 + 12, 12 + 40 + 3 * 138 + 12));

    // Every class is a tenth of the sample, so every slice is a tenth of the pie.
    let pie = image::open(dir.join("class_distribution_test.png")).unwrap().to_rgb8();
    let mut by_color: HashMap<[u8; 3], usize> = HashMap::new();
    for p in pie.pixels() {
        *by_color.entry(p.0).or_default() += 1;
    }
    let areas: Vec<usize> = (0..10).map(slice_color).map(|(r, g, b)| by_color[&[r, g, b]]).collect();
    let total: usize = areas.iter().sum();
    for (c, &area) in areas.iter().enumerate() {
        let share = area as f64 / total as f64;
        assert!((share - 0.1).abs() < 0.005, "class {c}: {:.2}% of the pie", 100.0 * share);
    }
}

#[test]
fn the_same_seed_draws_the_same_samples_and_another_seed_others() {
    let (a, b, c) = (out_dir("seed-a"), out_dir("seed-b"), out_dir("seed-c"));
    explore(&a, &["--seed", "5"]);
    explore(&b, &["--seed", "5"]);
    explore(&c, &["--seed", "6"]);
    let read = |d: &Path| std::fs::read(d.join("samples.png")).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
}

#[test]
fn index_writes_the_image_and_prints_a_plain_preview_when_not_on_a_terminal() {
    let dir = out_dir("index");
    let stdout = explore(&dir, &["--index", "3", "--split", "test"]);
    let path = dir.join("image_test_3.png");
    assert!(stdout.contains(&format!("wrote {}", path.display())), "{stdout}");
    let (width, height) = dimensions(&path);
    assert!(width >= 280 && height >= 280, "{width}×{height}");
    // Test image 3 of the sample is a trouser; its preview follows the caption, 14 lines of 28.
    let lines: Vec<&str> = stdout.lines().collect();
    let caption = lines.iter().position(|l| *l == "test #3: Trouser (label 1)").expect("caption line");
    let preview = &lines[caption + 1..caption + 15];
    assert!(preview.iter().all(|l| l.chars().count() == 28), "{preview:#?}");
    assert!(!stdout.contains('\x1b'), "escape codes in a pipe");
    assert!(lines[caption + 15].is_empty());
}

#[test]
fn an_index_out_of_range_is_an_error_and_writes_nothing() {
    let dir = out_dir("bad-index");
    let out = dir.to_str().unwrap();
    let (code, _, stderr) = run(&["explore", "--train", SAMPLE, "--out", out, "--index", "500", "--split", "test"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--index 500 is out of range: the test set has 500 images (0 to 499)"), "{stderr}");
    assert!(!dir.exists());

    let (code, _, stderr) = run(&["explore", "--train", SAMPLE, "--out", out, "--index", "0", "--split", "val"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown --split 'val'; use train or test"), "{stderr}");
    let (code, _, stderr) = run(&["explore", "--train", SAMPLE, "--out", out, "--samples", "0"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--samples must be at least 1"), "{stderr}");
}
