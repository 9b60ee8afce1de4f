//! The pictures and the one-page `report.md` of a run folder, written by `train` and `eval`.

use super::{confusion_png, grid_columns, history_png, image_grid_png, misclassified_tile, prediction_tile};
use crate::data::{Dataset, write_atomic};
use crate::train::evaluate::Evaluation;
use crate::train::metrics::ClassMetrics;
use crate::train::run::ModelInfo;
use crate::train::trainer::{EpochRecord, Misclassified};
use std::path::Path;

/// How many images a prediction or mistake grid shows.
const GRID_IMAGES: usize = 36;

/// `history.png`.
pub fn write_history_picture(dir: &Path, history: &[EpochRecord]) -> Result<(), String> {
    history_png(&dir.join("history.png"), history)
}

/// `misclassified.png`: the most confident mistakes of the last epoch first, since a model that
/// is sure and "wrong" is the likeliest sign of a wrong label.
pub fn write_misclassified_picture(dir: &Path, train: &Dataset, rows: &[Misclassified]) -> Result<(), String> {
    let mut rows: Vec<&Misclassified> = rows.iter().collect();
    rows.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index)));
    rows.truncate(GRID_IMAGES);
    if rows.is_empty() {
        return Ok(());
    }
    let names = &train.class_names;
    let tiles: Vec<_> = rows
        .iter()
        .map(|m| {
            let (given, predicted) = (&names[m.label as usize], &names[m.predicted as usize]);
            misclassified_tile(train.image(m.index), train.shape, m.index, given, predicted, m.confidence)
        })
        .collect();
    let title = "Training images misclassified in the last epoch (most confident first)";
    image_grid_png(&dir.join("misclassified.png"), &tiles, grid_columns(tiles.len()), title)
}

/// `confusion_matrix.png` and `predictions.png` (the first test images, or only wrong ones).
pub fn write_evaluation_pictures(dir: &Path, test: &Dataset, e: &Evaluation, errors_only: bool) -> Result<(), String> {
    let names = &test.class_names;
    confusion_png(&dir.join("confusion_matrix.png"), &e.confusion, names)?;
    let chosen: Vec<usize> =
        (0..test.len()).filter(|&i| !errors_only || e.predictions[i] != test.labels[i]).take(GRID_IMAGES).collect();
    if chosen.is_empty() {
        return Ok(());
    }
    let tiles: Vec<_> = chosen
        .iter()
        .map(|&i| {
            let (predicted, truth) = (&names[e.predictions[i] as usize], &names[test.labels[i] as usize]);
            prediction_tile(test.image(i), test.shape, predicted, e.confidences[i], truth)
        })
        .collect();
    let title = if errors_only { "Wrong test predictions" } else { "Test predictions (blue right, red wrong)" };
    image_grid_png(&dir.join("predictions.png"), &tiles, grid_columns(tiles.len()), title)
}

/// `report.md`: the command, the summary, the final figures, the per-class table and every
/// picture the folder holds, so one file shows the whole run.
pub fn write_report(
    dir: &Path,
    info: &ModelInfo,
    summary: &str,
    history: &[EpochRecord],
    test_accuracy: f64,
    test_loss: f64,
    per_class: &[ClassMetrics],
) -> Result<(), String> {
    let mut md = format!("# Run `{}`\n\n", dir.display());
    md += &format!("```\n{}\n```\n\n", info.command_line.join(" "));
    md += &format!("## Model\n\n```\n{summary}```\n\n");
    md += "## Results\n\n| | |\n|---|---|\n";
    md += &format!("| test accuracy | {:.2}% |\n| test loss | {test_loss:.4} |\n", 100.0 * test_accuracy);
    md += &format!("| parameters | {} |\n| epochs | {} |\n", info.params, history.len());
    if let Some(last) = history.last() {
        md += &format!("| last epoch: training accuracy | {:.2}% |\n", 100.0 * last.accuracy);
        if let Some(v) = last.val_accuracy {
            md += &format!("| last epoch: validation accuracy | {:.2}% |\n", 100.0 * v);
        }
    }
    let seconds: f64 = history.iter().map(|r| r.seconds).sum();
    md += &format!("| training time | {seconds:.1} s |\n");
    md += &format!("| data | {} / {} |\n\n", info.train_data, info.test_data);
    md += "## Per class (test set)\n\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|\n";
    for c in per_class {
        md += &format!("| {} | {:.4} | {:.4} | {:.4} | {} |\n", c.class, c.precision, c.recall, c.f1, c.support);
    }
    md += "\n";
    for (file, caption) in [
        ("history.png", "Training history"),
        ("confusion_matrix.png", "Confusion matrix (test set)"),
        ("predictions.png", "Test predictions"),
        ("misclassified.png", "Training images misclassified in the last epoch"),
    ] {
        if dir.join(file).exists() {
            md += &format!("## {caption}\n\n![{caption}]({file})\n\n");
        }
    }
    write_atomic(&dir.join("report.md"), md.as_bytes()).map_err(|e| e.to_string())
}
