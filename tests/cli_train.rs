//! `train`, `eval`, `predict` and `--resume`, spawned as a user runs them, on the `data/` sample.

mod common;

use common::cli::{run, run_with_env, temp_dir};
use std::path::Path;

const SAMPLE: &str = "data/fashion-mnist-sample";

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn train(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["train", "--train", SAMPLE, "--out", out.to_str().unwrap(), "--seed", "7"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "train failed: {stderr}");
    stdout
}

#[test]
fn one_epoch_writes_every_run_file_with_sane_contents() {
    let dir = temp_dir("one-epoch");
    let stdout = train(&dir, &["--epochs", "1", "--val-split", "0.2"]);
    assert!(stdout.contains(" Total params: 93,322"), "{stdout}");
    assert!(stdout.contains(&format!("results in {}/", dir.display())), "{stdout}");

    let model = json(&dir.join("model.json"));
    assert_eq!(model["spec"], "conv32k3,relu,pool2,conv64k3,relu,pool2,conv64k3,relu,flatten,dense64,relu,dense10");
    assert_eq!(model["input_shape"], serde_json::json!([1, 28, 28]));
    assert_eq!(model["class_names"][9], "Ankle boot");
    assert_eq!(model["seed"], 7);
    assert_eq!(model["params"], 93_322);
    assert!(model["command_line"].as_array().unwrap().iter().any(|a| a == "--val-split"));
    // 93,322 f32 weights plus the safetensors header.
    let weights = std::fs::metadata(dir.join("model.safetensors")).unwrap().len();
    assert!((93_322 * 4..93_322 * 4 + 4096).contains(&weights), "model.safetensors is {weights} bytes");

    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines[0], "epoch,lr,loss,accuracy,val_loss,val_accuracy,seconds,images_per_sec");
    assert_eq!(lines.len(), 2);
    let row: Vec<f64> = lines[1].split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(row[0], 1.0);
    assert!(row[2] > 0.0 && row[2] < 2.5, "loss {}", row[2]);
    assert!(row[3] > 0.3 && row[5] > 0.3, "accuracy {} val accuracy {}", row[3], row[5]);

    // The pictures and the one-page report (their contents are checked in tests/report_*.rs).
    for (picture, (width, height)) in [("history.png", (1200, 500)), ("confusion_matrix.png", (1000, 960))] {
        assert_eq!(image::image_dimensions(dir.join(picture)).unwrap(), (width, height), "{picture}");
    }
    for picture in ["predictions.png", "misclassified.png"] {
        let (width, height) = image::image_dimensions(dir.join(picture)).unwrap();
        assert!(width > 500 && height > 500, "{picture} is {width}×{height}");
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for part in [
        "## Model",
        "Total params: 93,322",
        "| test accuracy |",
        "| Ankle boot |",
        "![Training history](history.png)",
        "![Confusion matrix (test set)](confusion_matrix.png)",
        "(misclassified.png)",
    ] {
        assert!(report.contains(part), "report.md lacks {part:?}");
    }

    let metrics = json(&dir.join("metrics.json"));
    for key in ["test_accuracy", "test_loss", "params", "epochs", "train_seconds", "train_images_per_sec"] {
        assert!(metrics.get(key).is_some(), "metrics.json lacks {key}");
    }
    let accuracy = metrics["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.4 && accuracy <= 1.0, "test accuracy {accuracy}");
    assert_eq!(metrics["epochs"], 1);

    // The misclassified list: training samples only (not the 400 held out), wrongly predicted.
    let wrong = std::fs::read_to_string(dir.join("misclassified.csv")).unwrap();
    let rows: Vec<Vec<String>> = wrong.lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect();
    assert_eq!(wrong.lines().next(), Some("index,label,predicted,confidence,label_name,predicted_name"));
    assert_eq!(rows.len() as u64, metrics["misclassified_last_epoch"].as_u64().unwrap());
    let train_accuracy = row[3];
    assert!(
        (rows.len() as f64 - 1600.0 * (1.0 - train_accuracy)).abs() < 1.0,
        "{} rows vs accuracy {train_accuracy}",
        rows.len()
    );
    for r in &rows {
        assert_ne!(r[1], r[2], "a misclassified row with label == prediction: {r:?}");
        assert!(r[0].parse::<usize>().unwrap() < 2000);
    }
}

#[test]
fn resume_ends_with_the_same_weights_as_an_uninterrupted_run() {
    let (whole, parts) = (temp_dir("whole"), temp_dir("parts"));
    let common = ["--preset", "seed000", "--batch-size", "128", "--hflip", "--shift", "2", "--val-split", "0.1"];
    train(&whole, &[&["--epochs", "2"][..], &common].concat());
    train(&parts, &[&["--epochs", "1"][..], &common].concat());
    let (code, stdout, stderr) = run(&["train", "--resume", parts.to_str().unwrap(), "--epochs", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("resuming") && stdout.contains("after epoch 1 of 2"), "{stdout}");
    let a = std::fs::read(whole.join("model.safetensors")).unwrap();
    let b = std::fs::read(parts.join("model.safetensors")).unwrap();
    assert!(a == b, "resumed weights differ from the uninterrupted run");
    let history = |d: &Path| -> Vec<String> {
        std::fs::read_to_string(d.join("history.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').take(6).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(history(&whole), history(&parts));
}

#[test]
fn eval_and_predict_use_the_saved_model() {
    let dir = temp_dir("eval-predict");
    train(&dir, &["--epochs", "1"]);
    let (code, stdout, stderr) = run(&["eval", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let report = json(&dir.join("eval.json"));
    let metrics = json(&dir.join("metrics.json"));
    assert_eq!(report["accuracy"], metrics["test_accuracy"]);
    assert_eq!(report["images"], 500);
    let matrix: u64 = report["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(matrix, 500);
    assert!(stdout.contains("Ankle boot") && stdout.contains("precision"), "{stdout}");

    // A dark trouser-like shape on a light background, as a phone photo would be.
    let png = dir.join("photo.png");
    let img = image::GrayImage::from_fn(60, 80, |x, y| {
        image::Luma([if (20..40).contains(&x) && y > 10 && y < 70 && !(28..32).contains(&x) { 30 } else { 230 }])
    });
    img.save(&png).unwrap();
    let (code, stdout, stderr) = run(&["predict", dir.to_str().unwrap(), png.to_str().unwrap(), "--top", "10"]);
    assert_eq!(code, 0, "{stderr}");
    let probabilities: Vec<f64> = stdout.split('%').filter_map(|s| s.rsplit(' ').next()?.parse().ok()).collect();
    assert_eq!(probabilities.len(), 10, "{stdout}");
    let total: f64 = probabilities.iter().sum();
    assert!((total - 100.0).abs() < 0.5, "probabilities sum to {total}%: {stdout}");
    let (_, stdout, _) = run(&["predict", dir.to_str().unwrap(), png.to_str().unwrap()]);
    assert_eq!(stdout.matches('%').count(), 3, "{stdout}");

    let (code, stdout, _) = run(&["predict", dir.to_str().unwrap(), "--index", "0"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("test #0 (labelled Ankle boot): 1. "), "{stdout}");

    let text = dir.join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    let (code, _, stderr) = run(&["predict", dir.to_str().unwrap(), text.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.starts_with(&format!("error: cannot read image {}", text.display())), "{stderr}");
}

#[test]
fn every_kernel_path_trains_the_same_network_to_the_same_figures() {
    // The whole engine (not just each kernel) on the scalar, AVX2 and AVX-512 paths: the paths
    // differ only in rounding, so one epoch ends at nearly the same loss and accuracy. Adam
    // turns a rounding difference in a near-zero gradient into a whole step, so the epoch's loss
    // drifts by more than the rounding: 1.706670 (scalar), 1.704588 (AVX2), 1.704261 (AVX-512),
    // 0.14% apart, with the dense layer's bias 7% apart at worst.
    let mut results = Vec::new();
    for path in ["scalar", "avx2", "avx512"] {
        if fashion_cnn::engine::kernels::SimdPath::from_env_value(Some(path)).is_err() {
            println!("{path}: not supported by this CPU, skipped");
            continue;
        }
        let dir = temp_dir(&format!("path-{path}"));
        let args = ["train", "--train", SAMPLE, "--epochs", "1", "--seed", "5", "--out", dir.to_str().unwrap()];
        let (code, _, stderr) = run_with_env(&args, &[("FASHION_CNN_SIMD", path)]);
        assert_eq!(code, 0, "{path}: {stderr}");
        let metrics = json(&dir.join("metrics.json"));
        assert_eq!(metrics["kernels"], path);
        let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
        let loss: f64 = history.lines().nth(1).unwrap().split(',').nth(2).unwrap().parse().unwrap();
        let accuracy = metrics["test_accuracy"].as_f64().unwrap();
        println!("{path}: epoch-1 loss {loss:.6}, test accuracy {accuracy:.4}");
        results.push((path, loss, accuracy));
    }
    assert!(!results.is_empty());
    let (_, loss0, acc0) = results[0];
    for &(path, loss, accuracy) in &results[1..] {
        assert!((loss - loss0).abs() < 4e-3 * loss0, "{path}: loss {loss} vs scalar {loss0}");
        assert!((accuracy - acc0).abs() <= 0.02, "{path}: accuracy {accuracy} vs scalar {acc0}");
    }
}

#[test]
fn a_diverging_run_stops_with_a_clear_message() {
    let dir = temp_dir("diverge");
    let args = ["train", "--train", SAMPLE, "--optimizer", "sgd", "--lr", "1e4", "--out", dir.to_str().unwrap()];
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 1);
    assert!(stderr.starts_with("error: training diverged at epoch 1 batch "), "{stderr}");
    assert!(stderr.ends_with("; lower --lr; no epoch completed, so no checkpoint was written\n"), "{stderr}");
}
