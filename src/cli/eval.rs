//! `fashion-cnn eval RUN`: accuracy, per-class precision/recall/F1 and the confusion matrix of a
//! trained model on a test set; writes `eval.json` into the run folder.

use crate::data::load_pair;
use crate::report::run_report::{write_evaluation_pictures, write_report};
use crate::train::evaluate::evaluate;
use crate::train::run::{load_model, read_history};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The run folder written by `train`.
    pub run: PathBuf,
    /// Test data (default: the test set the run was trained with).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Fill predictions.png with wrong predictions only.
    #[arg(long)]
    pub errors_only: bool,
}

pub fn run(args: EvalArgs) -> Result<(), String> {
    let (mut model, info) = load_model(&args.run)?;
    let test_path = args.test.clone().or_else(|| (!info.test_data.is_empty()).then(|| PathBuf::from(&info.test_data)));
    let train_path = (!info.train_data.is_empty()).then(|| PathBuf::from(&info.train_data));
    let (_, test) = load_pair(train_path.as_deref(), test_path.as_deref(), None).map_err(|e| e.to_string())?;
    if test.shape[..] != info.input_shape[..] {
        return Err(format!(
            "{} has images of {:?} but the model takes {:?}",
            test.source, test.shape, info.input_shape
        ));
    }
    let e = evaluate(&mut model, &test, None, info.normalization, 500);
    let per_class = e.confusion.per_class(&info.class_names);
    println!("{} test images from {}", test.len(), test.source);
    println!("accuracy {:.2}%  loss {:.4}\n", 100.0 * e.accuracy, e.loss);
    println!("{:>14}  {:>9}  {:>6}  {:>6}  {:>7}", "class", "precision", "recall", "F1", "support");
    for c in &per_class {
        println!("{:>14}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}", c.class, c.precision, c.recall, c.f1, c.support);
    }
    println!("\n{}", e.confusion.to_text(&info.class_names));
    let report = serde_json::json!({
        "test_data": test.source,
        "images": test.len(),
        "accuracy": e.accuracy,
        "loss": e.loss,
        "per_class": per_class,
        "confusion_matrix": e.confusion.counts.chunks(e.confusion.classes).collect::<Vec<_>>(),
        "class_names": info.class_names,
    });
    let path = args.run.join("eval.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    crate::data::write_atomic(&path, format!("{text}\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    write_evaluation_pictures(&args.run, &test, &e, args.errors_only)?;
    if let Ok(history) = read_history(&args.run) {
        write_report(&args.run, &info, &model.summary(), &history, e.accuracy, e.loss, &per_class)?;
    }
    println!(
        "wrote {}, confusion_matrix.png, predictions.png and report.md in {}/",
        path.display(),
        args.run.display()
    );
    Ok(())
}
