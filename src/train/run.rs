//! The run folder: everything a training run writes, each file written atomically.
//!
//! `model.safetensors` + `model.json` (architecture, normalisation, classes, seed, command line,
//! training settings), `history.csv`, `metrics.json`, `misclassified.csv`, and
//! `checkpoint.safetensors` + `checkpoint.json` (rewritten after every epoch) for `--resume`.

use super::batch::Normalization;
use super::trainer::{EpochRecord, Misclassified, TrainConfig, TrainState};
use crate::data::write_atomic;
use crate::engine::init::Init;
use crate::engine::model::Sequential;
use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::io::checkpoint::{NamedTensor, load_model_tensors, load_safetensors, model_tensors, save_safetensors};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// `model.json`: what is needed to rebuild and use the model, and how it was made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelInfo {
    pub format: String,
    pub name: String,
    pub spec: String,
    pub input_shape: Vec<usize>,
    pub class_names: Vec<String>,
    pub normalization: Normalization,
    pub params: usize,
    pub seed: u64,
    pub command_line: Vec<String>,
    pub train_data: String,
    pub test_data: String,
    pub training: TrainConfig,
}

pub const FORMAT: &str = "fashion-cnn-model/1";

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
    write_atomic(path, format!("{text}\n").as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn save_model(dir: &Path, model: &mut Sequential, info: &ModelInfo) -> Result<(), String> {
    // One metadata key only: safetensors writes the map in hash order, and more than one key
    // would make identical models differ byte for byte.
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    save_safetensors(&dir.join("model.safetensors"), &model_tensors(model), meta)?;
    write_json(&dir.join("model.json"), info)
}

/// Rebuilds the model a run folder describes, with its trained weights.
pub fn load_model(dir: &Path) -> Result<(Sequential, ModelInfo), String> {
    let info: ModelInfo = read_json(&dir.join("model.json"))?;
    if info.format != FORMAT {
        return Err(format!("{}: unknown model format '{}'", dir.join("model.json").display(), info.format));
    }
    let mut model = Sequential::from_spec(
        &info.name,
        &info.spec,
        &info.input_shape,
        info.class_names.len(),
        Init::GlorotUniform,
        info.seed,
    )
    .map_err(|e| format!("{}: {e}", dir.join("model.json").display()))?;
    let file = dir.join("model.safetensors");
    let (tensors, _) = load_safetensors(&file)?;
    load_model_tensors(&mut model, &tensors, &file)?;
    Ok((model, info))
}

pub fn write_history(dir: &Path, history: &[EpochRecord]) -> Result<(), String> {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
    let mut text = String::from("epoch,lr,loss,accuracy,val_loss,val_accuracy,seconds,images_per_sec\n");
    for r in history {
        text += &format!(
            "{},{:.6e},{:.6},{:.6},{},{},{:.3},{:.1}\n",
            r.epoch,
            r.lr,
            r.loss,
            r.accuracy,
            opt(r.val_loss),
            opt(r.val_accuracy),
            r.seconds,
            r.images_per_sec
        );
    }
    let path = dir.join("history.csv");
    write_atomic(&path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads `history.csv` back (for reports written after training).
pub fn read_history(dir: &Path) -> Result<Vec<EpochRecord>, String> {
    let path = dir.join("history.csv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bad = |line: usize| format!("{}: line {line} is not a history row", path.display());
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != 8 {
                return Err(bad(i + 1));
            }
            let number = |k: usize| cells[k].parse::<f64>().map_err(|_| bad(i + 1));
            let optional = |k: usize| if cells[k].is_empty() { Ok(None) } else { number(k).map(Some) };
            Ok(EpochRecord {
                epoch: number(0)? as usize,
                lr: number(1)? as f32,
                loss: number(2)?,
                accuracy: number(3)?,
                val_loss: optional(4)?,
                val_accuracy: optional(5)?,
                seconds: number(6)?,
                images_per_sec: number(7)?,
            })
        })
        .collect()
}

pub fn write_misclassified(dir: &Path, rows: &[Misclassified], class_names: &[String]) -> Result<(), String> {
    let mut text = String::from("index,label,predicted,confidence,label_name,predicted_name\n");
    for m in rows {
        let name = |c: u8| class_names.get(c as usize).cloned().unwrap_or_default();
        text += &format!(
            "{},{},{},{:.6},{},{}\n",
            m.index,
            m.label,
            m.predicted,
            m.confidence,
            name(m.label),
            name(m.predicted)
        );
    }
    let path = dir.join("misclassified.csv");
    write_atomic(&path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn write_metrics(dir: &Path, metrics: &serde_json::Value) -> Result<(), String> {
    write_json(&dir.join("metrics.json"), metrics)
}

/// `checkpoint.json`: the progress part of a checkpoint.
#[derive(Serialize, Deserialize)]
struct CheckpointInfo {
    epochs_done: usize,
    optimizer_steps: u64,
    history: Vec<EpochRecord>,
    misclassified: Vec<Misclassified>,
}

/// Saves weights, batch-norm statistics, optimizer state and progress after an epoch. The
/// tensors are written before the JSON that points at them, so a kill between the two leaves
/// the previous epoch's JSON, which `--resume` rejects as inconsistent rather than mixing.
pub fn save_checkpoint(dir: &Path, state: &mut TrainState) -> Result<(), String> {
    let mut tensors = model_tensors(&mut state.model);
    for (k, s) in state.optimizer.state.iter().enumerate() {
        tensors.push(NamedTensor { name: format!("optimizer.{k}"), shape: vec![s.len()], data: s.clone() });
    }
    let mut meta = HashMap::new();
    meta.insert("epochs_done".to_string(), state.epochs_done.to_string());
    save_safetensors(&dir.join("checkpoint.safetensors"), &tensors, meta)?;
    let info = CheckpointInfo {
        epochs_done: state.epochs_done,
        optimizer_steps: state.optimizer.steps,
        history: state.history.clone(),
        misclassified: state.misclassified.clone(),
    };
    write_json(&dir.join("checkpoint.json"), &info)
}

/// Restores a checkpoint into a freshly built state.
pub fn load_checkpoint(
    dir: &Path,
    state: &mut TrainState,
    optimizer_kind: OptimizerKind,
    weight_decay: f32,
) -> Result<(), String> {
    let info: CheckpointInfo = read_json(&dir.join("checkpoint.json"))?;
    let file = dir.join("checkpoint.safetensors");
    let (tensors, meta) = load_safetensors(&file)?;
    if meta.get("epochs_done").map(String::as_str) != Some(info.epochs_done.to_string().as_str()) {
        return Err(format!(
            "{}: the checkpoint files disagree about the epoch (interrupted while saving?)",
            dir.display()
        ));
    }
    load_model_tensors(&mut state.model, &tensors, &file)?;
    let mut optimizer = Optimizer::new(optimizer_kind, weight_decay);
    optimizer.steps = info.optimizer_steps;
    let mut k = 0;
    while let Some(t) = tensors.get(&format!("optimizer.{k}")) {
        optimizer.state.push(t.data.clone());
        k += 1;
    }
    state.optimizer = optimizer;
    state.epochs_done = info.epochs_done;
    state.history = info.history;
    state.misclassified = info.misclassified;
    Ok(())
}

/// Reads `dir/misclassified.csv` back, checking each row against the run's training set (its
/// `labels`, `classes` classes). Errors name the file, the line and the problem.
pub fn read_misclassified(dir: &Path, labels: &[u8], classes: usize) -> Result<Vec<Misclassified>, String> {
    let images = labels.len();
    let path = dir.join("misclassified.csv");
    if !path.is_file() {
        return Err(format!(
            "{} is missing: the run has not finished (train writes it after the last epoch)",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines().enumerate();
    if !lines.next().is_some_and(|(_, h)| h.starts_with("index,label,predicted,confidence")) {
        return Err(format!("{}: line 1: expected the header index,label,predicted,confidence,…", path.display()));
    }
    let mut rows = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = |problem: String| format!("{}: line {}: {problem}", path.display(), n + 1);
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() < 4 {
            return Err(at(format!("{} columns, expected at least 4", cells.len())));
        }
        let whole = |k: usize, name: &str, below: usize| -> Result<usize, String> {
            match cells[k].parse::<usize>() {
                Ok(v) if v < below => Ok(v),
                Ok(v) => Err(at(format!("{name} {v} is out of range (below {below})"))),
                Err(_) => Err(at(format!("{name} '{}' is not a whole number", cells[k]))),
            }
        };
        let confidence: f32 = cells[3].parse().map_err(|_| at(format!("confidence '{}' is not a number", cells[3])))?;
        let (index, label) = (whole(0, "index", images)?, whole(1, "label", classes)? as u8);
        if labels[index] != label {
            return Err(at(format!(
                "image {index} has label {label} here but {} in the training set: the run was trained on other data",
                labels[index]
            )));
        }
        rows.push(Misclassified { index, label, predicted: whole(2, "predicted", classes)? as u8, confidence });
    }
    Ok(rows)
}

/// The training set a run was trained on: `train_data` as recorded in `model.json` — a path,
/// the "IMAGES + LABELS" pair an IDX look-up records, or "" for the default Fashion-MNIST
/// look-up.
pub fn read_train_set(info: &ModelInfo) -> Result<crate::data::Dataset, String> {
    use crate::data::{Split, load_pair, read_path};
    let recorded = info.train_data.as_str();
    if recorded.is_empty() {
        return Ok(load_pair(None, None, None).map_err(|e| e.to_string())?.0);
    }
    let path = Path::new(recorded);
    if path.exists() {
        return read_path(path, Split::Train).map_err(|e| e.to_string());
    }
    // An IDX pair: the images file names its labels file beside it.
    match recorded.split_once(" + ") {
        Some((images, _)) => read_path(Path::new(images), Split::Train).map_err(|e| e.to_string()),
        None => Err(format!("the run's training data {recorded} (model.json train_data) is not there")),
    }
}
