//! `fashion-cnn compare RUN_A RUN_B`: two runs side by side (typically before and after
//! correcting labels) and the difference B − A on every row.
//!
//! Everything comes from the run folders' `metrics.json` and `history.csv`. Runs trained before
//! `metrics.json` held per-class recall get it from their `eval.json`, or else by evaluating the
//! model on its test set, the way `eval` does.

use crate::data::{load_pair, thousands};
use crate::train::evaluate::evaluate;
use crate::train::run::{ModelInfo, load_model, read_history, read_json};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The first run folder (the baseline).
    pub run_a: PathBuf,
    /// The second run folder.
    pub run_b: PathBuf,
}

/// What is compared of one run.
struct RunFigures {
    class_names: Vec<String>,
    test_accuracy: f64,
    test_loss: f64,
    train_loss: f64,
    train_accuracy: f64,
    epochs: usize,
    train_images: Option<usize>,
    per_class_recall: Vec<f64>,
}

fn read_run(dir: &Path) -> Result<RunFigures, String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a run folder: no such directory", dir.display()));
    }
    if !dir.join("model.json").is_file() {
        return Err(format!("{} is not a run folder: it has no model.json (written by `train`)", dir.display()));
    }
    let info: ModelInfo = read_json(&dir.join("model.json"))?;
    let metrics_path = dir.join("metrics.json");
    if !metrics_path.is_file() {
        return Err(format!(
            "{} is not a finished run: it has no metrics.json (finish it with `fashion-cnn train --resume {}`)",
            dir.display(),
            dir.display()
        ));
    }
    let metrics: Value = read_json(&metrics_path)?;
    let number = |key: &str| -> Result<f64, String> {
        metrics[key].as_f64().ok_or_else(|| format!("{}: no number '{key}'", metrics_path.display()))
    };
    let history = read_history(dir)?;
    let last = history.last().ok_or_else(|| format!("{}: no epoch recorded", dir.join("history.csv").display()))?;
    let per_class_recall = match recalls(&metrics["per_class_recall"]) {
        Some(r) => r,
        None => match read_json::<Value>(&dir.join("eval.json")).ok().and_then(|e| eval_recalls(&e)) {
            Some(r) => r,
            None => evaluate_recalls(dir)?,
        },
    };
    if per_class_recall.len() != info.class_names.len() {
        return Err(format!(
            "{}: {} per-class figures for {} classes",
            metrics_path.display(),
            per_class_recall.len(),
            info.class_names.len()
        ));
    }
    Ok(RunFigures {
        class_names: info.class_names,
        test_accuracy: number("test_accuracy")?,
        test_loss: number("test_loss")?,
        train_loss: last.loss,
        train_accuracy: last.accuracy,
        epochs: number("epochs")? as usize,
        train_images: metrics["train_images"].as_u64().map(|n| n as usize),
        per_class_recall,
    })
}

fn recalls(value: &Value) -> Option<Vec<f64>> {
    value.as_array()?.iter().map(Value::as_f64).collect()
}

/// Recall per class from `eval`'s report.
fn eval_recalls(eval: &Value) -> Option<Vec<f64>> {
    eval["per_class"].as_array()?.iter().map(|c| c["recall"].as_f64()).collect()
}

/// Recall per class by running the run's model on its test set.
fn evaluate_recalls(dir: &Path) -> Result<Vec<f64>, String> {
    let (mut model, info) = load_model(dir)?;
    let path = |p: &str| (!p.is_empty()).then(|| PathBuf::from(p));
    let (_, test) = load_pair(path(&info.train_data).as_deref(), path(&info.test_data).as_deref(), None)
        .map_err(|e| format!("{}: cannot read its test set to compute per-class recall: {e}", dir.display()))?;
    let e = evaluate(&mut model, &test, None, info.normalization, 500);
    Ok(e.confusion.per_class(&info.class_names).iter().map(|c| c.recall).collect())
}

pub fn run(args: CompareArgs) -> Result<(), String> {
    let a = read_run(&args.run_a)?;
    let b = read_run(&args.run_b)?;
    if a.class_names != b.class_names {
        return Err(format!(
            "{} and {} classify different classes ({} vs {})",
            args.run_a.display(),
            args.run_b.display(),
            a.class_names.join(", "),
            b.class_names.join(", ")
        ));
    }
    println!("A: {}\nB: {}", args.run_a.display(), args.run_b.display());
    row("", "A", "B", "B − A");
    percent_row("test accuracy", a.test_accuracy, b.test_accuracy);
    number_row("test loss", a.test_loss, b.test_loss);
    number_row("train loss (last epoch)", a.train_loss, b.train_loss);
    percent_row("train accuracy (last epoch)", a.train_accuracy, b.train_accuracy);
    count_row("epochs", Some(a.epochs), Some(b.epochs));
    count_row("training images", a.train_images, b.train_images);
    for (k, name) in a.class_names.iter().enumerate() {
        percent_row(&format!("recall {name}"), a.per_class_recall[k], b.per_class_recall[k]);
    }
    Ok(())
}

fn row(label: &str, a: &str, b: &str, diff: &str) {
    println!("{label:<28}  {a:>10}  {b:>10}  {diff:>10}");
}

/// Accuracies as percentages; the difference in percentage points.
fn percent_row(label: &str, a: f64, b: f64) {
    row(label, &format!("{:.2}%", 100.0 * a), &format!("{:.2}%", 100.0 * b), &format!("{:+.2} pp", 100.0 * (b - a)));
}

fn number_row(label: &str, a: f64, b: f64) {
    row(label, &format!("{a:.4}"), &format!("{b:.4}"), &format!("{:+.4}", b - a));
}

fn count_row(label: &str, a: Option<usize>, b: Option<usize>) {
    let text = |v: Option<usize>| v.map(thousands).unwrap_or_else(|| "–".into());
    let diff = match (a, b) {
        (Some(a), Some(b)) if a == b => "0".to_string(),
        (Some(a), Some(b)) if b > a => format!("+{}", thousands(b - a)),
        (Some(a), Some(b)) => format!("-{}", thousands(a - b)),
        _ => "–".into(),
    };
    row(label, &text(a), &text(b), &diff);
}
