//! `compare`: two quick runs, the second on a training set corrected by `apply`, side by side
//! with the difference on every row; a folder that is not a run is named in the error.

mod common;

use common::cli::{run, temp_dir};
use common::labels::{name, write_sample_journal};
use std::path::Path;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn train(train: &Path, out: &Path) {
    let args =
        ["train", "--train", train.to_str().unwrap(), "--out", out.to_str().unwrap(), "--arch", "flatten,dense10"];
    let (code, _, stderr) = run(&[&args[..], &["--epochs", "1", "--seed", "3"]].concat());
    assert_eq!(code, 0, "{stderr}");
}

/// The last training loss and accuracy in a run's history.csv.
fn last_epoch(dir: &Path) -> (f64, f64) {
    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let cells: Vec<f64> = history.lines().last().unwrap().split(',').take(4).map(|v| v.parse().unwrap()).collect();
    (cells[2], cells[3])
}

#[test]
fn two_runs_side_by_side_with_the_difference() {
    let dir = temp_dir("compare");
    let journal = dir.join("review.journal");
    write_sample_journal(&journal, &[(10, "remove".into()), (20, "remove".into()), (30, "keep".into())]);
    let corrected = dir.join("corrected");
    let (code, _, stderr) =
        run(&["apply", "--journal", journal.to_str().unwrap(), "--out", corrected.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (a, b) = (dir.join("a"), dir.join("b"));
    train(&common::cli::sample_dir(), &a);
    train(&corrected, &b);

    let (code, stdout, stderr) = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (ma, mb) = (json(&a.join("metrics.json")), json(&b.join("metrics.json")));
    let row = |label: &str, x: String, y: String, d: String| format!("{label:<28}  {x:>10}  {y:>10}  {d:>10}");
    let percent = |label: &str, x: f64, y: f64| {
        row(label, format!("{:.2}%", 100.0 * x), format!("{:.2}%", 100.0 * y), format!("{:+.2} pp", 100.0 * (y - x)))
    };
    let number =
        |label: &str, x: f64, y: f64| row(label, format!("{x:.4}"), format!("{y:.4}"), format!("{:+.4}", y - x));
    let f = |m: &serde_json::Value, key: &str| m[key].as_f64().unwrap();
    let ((loss_a, acc_a), (loss_b, acc_b)) = (last_epoch(&a), last_epoch(&b));
    let mut expected = vec![
        format!("A: {}", a.display()),
        format!("B: {}", b.display()),
        row("", "A".into(), "B".into(), "B − A".into()),
        percent("test accuracy", f(&ma, "test_accuracy"), f(&mb, "test_accuracy")),
        number("test loss", f(&ma, "test_loss"), f(&mb, "test_loss")),
        number("train loss (last epoch)", loss_a, loss_b),
        percent("train accuracy (last epoch)", acc_a, acc_b),
        row("epochs", "1".into(), "1".into(), "0".into()),
        row("training images", "2,000".into(), "1,998".into(), "-2".into()),
    ];
    for c in 0..10 {
        let recall = |m: &serde_json::Value| m["per_class_recall"][c].as_f64().unwrap();
        expected.push(percent(&format!("recall {}", name(c as u8)), recall(&ma), recall(&mb)));
    }
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
    // train's metrics.json carries what compare reads.
    assert_eq!(ma["train_images"], 2000);
    assert!((0.0..=1.0).contains(&ma["per_class_recall"][9].as_f64().unwrap()));

    // A run from before metrics.json held per-class recall: compare evaluates its model instead,
    // with the same figures; the training set size it cannot know.
    let mut older = ma.clone();
    older.as_object_mut().unwrap().retain(|k, _| k != "per_class_recall" && k != "train_images");
    std::fs::write(a.join("metrics.json"), older.to_string()).unwrap();
    let (code, again, stderr) = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    expected[8] = row("training images", "–".into(), "1,998".into(), "–".into());
    assert_eq!(again.lines().collect::<Vec<_>>(), expected);

    let not_a_run = dir.join("corrected");
    let (code, _, stderr) = run(&["compare", a.to_str().unwrap(), not_a_run.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!("error: {} is not a run folder: it has no model.json (written by `train`)\n", not_a_run.display())
    );
    let missing = dir.join("nothing");
    let (code, _, stderr) = run(&["compare", missing.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(stderr, format!("error: {} is not a run folder: no such directory\n", missing.display()));
}
