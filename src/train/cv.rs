//! k-fold cross-validation: seeded fold assignment, training one fold and writing its files,
//! reading the folds' out-of-fold probabilities back, and merging the per-fold results.
//!
//! A fold folder holds, per fold I, `fold-I.json` (a [`FoldResult`]) and `fold-I-oof.csv`
//! (`index,label,predicted,p0,…`: the held-out images' probabilities from the model that did
//! not train on them). `cv` and `suspects --method cross-val` both write it.

use super::evaluate::evaluate;
use super::recipe::Recipe;
use super::run::read_json;
use super::trainer::{Observer, TrainConfig};
use crate::data::{Dataset, write_atomic};
use crate::engine::rng::{Purpose, Rng};
use crate::engine::step::argmax;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The fold (0..folds) of each of `n` samples: a seeded permutation cut into `folds` blocks
/// whose sizes differ by at most one.
pub fn fold_assignment(n: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::stream(seed, Purpose::Split, 1).shuffle(&mut order);
    let mut fold_of = vec![0; n];
    for (position, &index) in order.iter().enumerate() {
        fold_of[index] = position * folds / n.max(1);
    }
    fold_of
}

/// (training indices, held-out indices) of `fold`, each ascending.
pub fn fold_split(fold_of: &[usize], fold: usize) -> (Vec<usize>, Vec<usize>) {
    (0..fold_of.len()).partition(|&i| fold_of[i] != fold)
}

/// What one fold's run writes to `fold-<i>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldResult {
    /// 1-based, as printed.
    pub fold: usize,
    pub folds: usize,
    pub seed: u64,
    pub spec: String,
    /// Of the held-out probabilities in `fold-I-oof.csv` (averaged as below).
    pub accuracy: f64,
    pub loss: f64,
    pub train_images: usize,
    pub held_out_images: usize,
    pub epochs: usize,
    /// The held-out probabilities are the mean of the predictions made after each of the
    /// last this many epochs (1: the final model alone; files from before this field are so).
    #[serde(default = "one")]
    pub averaged_epochs: usize,
    /// Every other setting the fold trained with ([`training_settings`]); `None` in files from
    /// before it, which are taken as matching.
    #[serde(default)]
    pub training: Option<String>,
    pub seconds: f64,
}

/// The recipe's settings beyond the network, seed and epochs that change a fold's predictions
/// (optimizer, learning rate and schedule, batch size, augmentation, normalisation, init…), as
/// one comparable line.
pub fn training_settings(recipe: &Recipe) -> String {
    // Seed and epochs are compared on their own, with their own messages.
    let rest = TrainConfig { seed: 0, epochs: 0, ..recipe.config.clone() };
    format!("{:?} {rest:?}", recipe.init)
}

fn one() -> usize {
    1
}

/// How many final epochs' held-out predictions a fold averages: `--average-epochs` checked
/// against the epochs each fold trains, by default the second half of training. Averaging
/// snapshots of one run is a cheap ensemble: on 20% symmetric noise (`noise-bench`, seed002, 10
/// epochs, 5 folds; README "Detector benchmark") it raised confident learning's F1 from 0.869
/// to 0.878.
pub fn averaged_epochs(asked: Option<usize>, epochs: usize) -> Result<usize, String> {
    match asked {
        None => Ok(epochs.div_ceil(2).max(1)),
        Some(n) if (1..=epochs).contains(&n) => Ok(n),
        Some(n) => Err(format!("--average-epochs must be between 1 and the {epochs} epochs each fold trains, not {n}")),
    }
}

/// Trains fold `fold` (1-based) of `folds` with `recipe` on the other folds of `data`, predicts
/// its own fold after each of the last `averaged_epochs` epochs and averages those
/// probabilities, and writes `dir/fold-I-oof.csv` and `dir/fold-I.json` (atomically; `dir` is
/// created if need be).
pub fn run_fold(
    recipe: &Recipe,
    data: &Dataset,
    folds: usize,
    fold: usize,
    averaged_epochs: usize,
    dir: &Path,
    observer: &mut dyn Observer,
) -> Result<FoldResult, String> {
    let cfg = &recipe.config;
    let averaged_epochs = averaged_epochs.clamp(1, cfg.epochs.max(1));
    let fold_of = fold_assignment(data.len(), folds, cfg.seed);
    let (train_indices, held_out) = fold_split(&fold_of, fold - 1);
    let classes = data.class_names.len();
    let started = Instant::now();
    let mut summed = vec![0.0f64; held_out.len() * classes];
    let first_averaged = cfg.epochs.saturating_sub(averaged_epochs);
    recipe.train_then(data, &train_indices, observer, &mut |state| {
        if state.epochs_done > first_averaged {
            let e = evaluate(&mut state.model, data, Some(&held_out), cfg.normalization, 500);
            for (sum, &p) in summed.iter_mut().zip(&e.probs) {
                *sum += p as f64;
            }
        }
        Ok(())
    })?;
    let probs: Vec<f32> = summed.iter().map(|&s| (s / averaged_epochs as f64) as f32).collect();
    let predictions: Vec<usize> = probs.chunks_exact(classes).map(argmax).collect();
    let correct = held_out.iter().zip(&predictions).filter(|&(&i, &p)| data.labels[i] as usize == p).count();
    let loss = held_out
        .iter()
        .zip(probs.chunks_exact(classes))
        .map(|(&i, p)| -(p[data.labels[i] as usize].max(f32::MIN_POSITIVE) as f64).ln())
        .sum::<f64>();
    let result = FoldResult {
        fold,
        folds,
        seed: cfg.seed,
        spec: recipe.spec.clone(),
        accuracy: correct as f64 / held_out.len().max(1) as f64,
        loss: loss / held_out.len().max(1) as f64,
        train_images: train_indices.len(),
        held_out_images: held_out.len(),
        epochs: cfg.epochs,
        averaged_epochs,
        training: Some(training_settings(recipe)),
        seconds: started.elapsed().as_secs_f64(),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut oof = String::from("index,label,predicted");
    for c in 0..classes {
        oof += &format!(",p{c}");
    }
    oof += "\n";
    for ((&i, p), predicted) in held_out.iter().zip(probs.chunks_exact(classes)).zip(&predictions) {
        oof += &format!("{i},{},{predicted}", data.labels[i]);
        for p in p {
            oof += &format!(",{p:.6}");
        }
        oof += "\n";
    }
    write_atomic(&oof_path(dir, fold), oof.as_bytes()).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
    write_atomic(&result_path(dir, fold), format!("{json}\n").as_bytes()).map_err(|e| e.to_string())?;
    Ok(result)
}

/// `dir/fold-I.json`.
pub fn result_path(dir: &Path, fold: usize) -> PathBuf {
    dir.join(format!("fold-{fold}.json"))
}

/// `dir/fold-I-oof.csv`.
pub fn oof_path(dir: &Path, fold: usize) -> PathBuf {
    dir.join(format!("fold-{fold}-oof.csv"))
}

/// What fold files must agree on to be combined: what a [`FoldResult`] records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldPlan {
    pub folds: usize,
    pub seed: u64,
    pub spec: String,
    pub epochs: usize,
    pub averaged_epochs: usize,
    /// [`training_settings`] of the recipe.
    pub training: String,
}

impl FoldPlan {
    /// The settings `result` differs in, as "3 folds (here 5)", or `None` when it fits.
    fn differences(&self, result: &FoldResult) -> Option<String> {
        let mut diffs = Vec::new();
        if result.folds != self.folds {
            diffs.push(format!("{} folds (here {})", result.folds, self.folds));
        }
        if result.seed != self.seed {
            diffs.push(format!("seed {} (here {})", result.seed, self.seed));
        }
        if result.epochs != self.epochs {
            diffs.push(format!("{} epochs (here {})", result.epochs, self.epochs));
        }
        if result.averaged_epochs != self.averaged_epochs {
            diffs.push(format!("--average-epochs {} (here {})", result.averaged_epochs, self.averaged_epochs));
        }
        if result.spec != self.spec {
            diffs.push(format!("network '{}' (here '{}')", result.spec, self.spec));
        }
        if result.training.as_ref().is_some_and(|t| *t != self.training) {
            diffs.push("other training settings (optimizer, learning rate, batch size, augmentation or init)".into());
        }
        (!diffs.is_empty()).then(|| diffs.join(", "))
    }
}

/// Which of the plan's folds `dir` already holds (index 0 = fold 1). A fold file made with
/// other settings is an error rather than something to overwrite or mix in silently.
pub fn folds_present(dir: &Path, plan: &FoldPlan) -> Result<Vec<bool>, String> {
    let mut present = vec![false; plan.folds];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(present);
    };
    let mut names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for name in names {
        let Some(number) = name.strip_prefix("fold-").and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        let path = dir.join(&name);
        let result: FoldResult = read_json(&path)?;
        if let Some(diffs) = plan.differences(&result) {
            return Err(format!(
                "{} was made with {diffs}; delete {} or ask for the same settings",
                path.display(),
                dir.display()
            ));
        }
        if number != result.fold.to_string() || !(1..=plan.folds).contains(&result.fold) {
            return Err(format!("{}: holds fold {}, not fold {number}", path.display(), result.fold));
        }
        present[result.fold - 1] = oof_path(dir, result.fold).is_file();
    }
    Ok(present)
}

/// Every image's out-of-fold probabilities (N × K, row-major) from the plan's fold files in
/// `dir`, checked against `data`: each image once, in the fold the plan puts it in, with the
/// label the training set gives it.
pub fn read_oof(dir: &Path, plan: &FoldPlan, data: &Dataset) -> Result<Vec<f32>, String> {
    let (n, classes) = (data.len(), data.class_names.len());
    let fold_of = fold_assignment(n, plan.folds, plan.seed);
    let mut probs = vec![0.0f32; n * classes];
    let mut seen = vec![false; n];
    let header_columns = 3 + classes;
    for fold in 1..=plan.folds {
        let path = oof_path(dir, fold);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.starts_with("index,label,predicted") && h.split(',').count() == header_columns => {}
            _ => {
                return Err(format!(
                    "{}: line 1: expected the header index,label,predicted,p0,… with {header_columns} columns",
                    path.display()
                ));
            }
        }
        for (line_number, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let at = |problem: String| format!("{}: line {}: {problem}", path.display(), line_number + 1);
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != header_columns {
                return Err(at(format!("{} columns, expected {header_columns}", cells.len())));
            }
            let index: usize =
                cells[0].parse().map_err(|_| at(format!("index '{}' is not a whole number", cells[0])))?;
            if index >= n {
                return Err(at(format!("index {index} is beyond the {n} training images")));
            }
            if fold_of[index] != fold - 1 || seen[index] {
                return Err(at(format!("image {index} does not belong to fold {fold} (or appears twice)")));
            }
            if cells[1] != data.labels[index].to_string() {
                return Err(at(format!(
                    "image {index} has label {} here but {} in {}: the folds were made on another training set",
                    cells[1], data.labels[index], data.source
                )));
            }
            for (c, cell) in cells[3..].iter().enumerate() {
                let p: f32 = cell.parse().map_err(|_| at(format!("p{c} '{cell}' is not a number")))?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(at(format!("p{c} {p} is not a probability")));
                }
                probs[index * classes + c] = p;
            }
            seen[index] = true;
        }
    }
    if let Some(missing) = seen.iter().position(|&s| !s) {
        return Err(format!(
            "{}: image {missing} has no out-of-fold probabilities (fold {}'s file lacks it)",
            dir.display(),
            fold_of[missing] + 1
        ));
    }
    Ok(probs)
}

/// Mean and sample standard deviation (n − 1; 0 for a single value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::batch::{Augment, Normalization};
    use crate::train::recipe::Quiet;
    use crate::train::trainer::TrainConfig;

    #[test]
    fn folds_partition_the_samples_in_nearly_equal_parts() {
        let fold_of = fold_assignment(103, 5, 9);
        let mut sizes = [0; 5];
        for &f in &fold_of {
            sizes[f] += 1;
        }
        assert!(sizes.iter().all(|&s| s == 20 || s == 21), "{sizes:?}");
        let (train, held) = fold_split(&fold_of, 2);
        assert_eq!(train.len() + held.len(), 103);
        assert!(held.iter().all(|&i| fold_of[i] == 2) && train.iter().all(|&i| fold_of[i] != 2));
        assert_eq!(fold_assignment(103, 5, 9), fold_of);
        assert_ne!(fold_assignment(103, 5, 10), fold_of);
    }

    /// 90 one-channel 4×4 images whose class (of 3) is the brightest row pair, with noise.
    fn little_set() -> Dataset {
        let mut rng = Rng::stream(3, Purpose::Split, 7);
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for i in 0..90 {
            let class = i % 3;
            for pixel in 0..16 {
                let bright = pixel / 4 == class || pixel / 4 == class + 1;
                images.push(if bright { 150 } else { 40 } + (rng.next_f32() * 90.0) as u8);
            }
            labels.push(class as u8);
        }
        let class_names = vec!["a".into(), "b".into(), "c".into()];
        Dataset { images, labels, shape: [1, 4, 4], class_names, source: "generated".into() }
    }

    fn recipe(epochs: usize) -> Recipe {
        let config = TrainConfig {
            epochs,
            batch_size: 8,
            optimizer: "adam".into(),
            momentum: None,
            lr: 0.01,
            schedule: "constant".into(),
            weight_decay: 0.0,
            label_smoothing: 0.0,
            val_split: 0.0,
            seed: 5,
            augment: Augment { hflip: false, vflip: false, shift: 0, erase: 0.0 },
            normalization: Normalization::SCALE,
        };
        let init = crate::engine::init::Init::parse("glorot").unwrap();
        Recipe { name: "custom".into(), spec: "flatten,dense6,relu,dense3".into(), config, init }
    }

    /// Held-out probabilities of a model trained `epochs` epochs on fold 2 of 3's training part.
    fn held_out_probs(data: &Dataset, epochs: usize) -> Vec<f32> {
        let (train, held_out) = fold_split(&fold_assignment(data.len(), 3, 5), 1);
        let mut state = recipe(epochs).train(data, &train, &mut Quiet).unwrap();
        evaluate(&mut state.model, data, Some(&held_out), Normalization::SCALE, 500).probs
    }

    fn written_probs(dir: &Path) -> Vec<f32> {
        let text = std::fs::read_to_string(oof_path(dir, 2)).unwrap();
        text.lines().skip(1).flat_map(|l| l.split(',').skip(3).map(|p| p.parse::<f32>().unwrap())).collect()
    }

    #[test]
    fn a_fold_averages_the_held_out_predictions_of_its_last_epochs() {
        let data = little_set();
        let dir = std::env::temp_dir().join(format!("fashion-cnn-unit-{}-fold-average", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (after_2, after_3) = (held_out_probs(&data, 2), held_out_probs(&data, 3));
        assert!(after_2.iter().zip(&after_3).any(|(a, b)| (a - b).abs() > 1e-3), "the epochs differ");

        let result = run_fold(&recipe(3), &data, 3, 2, 2, &dir, &mut Quiet).unwrap();
        assert_eq!((result.averaged_epochs, result.held_out_images), (2, 30));
        let written = written_probs(&dir);
        assert_eq!(written.len(), 30 * 3);
        for ((w, a), b) in written.iter().zip(&after_2).zip(&after_3) {
            assert!((w - (a + b) / 2.0).abs() < 2e-6, "{w} is not the mean of {a} and {b}");
        }

        // One epoch averaged is the final model alone, as before averaging existed.
        let result = run_fold(&recipe(3), &data, 3, 2, 1, &dir, &mut Quiet).unwrap();
        for (w, b) in written_probs(&dir).iter().zip(&after_3) {
            assert!((w - b).abs() < 1e-6, "{w} against {b}");
        }
        let (train, held_out) = fold_split(&fold_assignment(data.len(), 3, 5), 1);
        let mut state = recipe(3).train(&data, &train, &mut Quiet).unwrap();
        let e = evaluate(&mut state.model, &data, Some(&held_out), Normalization::SCALE, 500);
        assert_eq!(result.accuracy, e.accuracy);
        assert!((result.loss - e.loss).abs() < 1e-5, "{} against {}", result.loss, e.loss);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mean_and_sample_standard_deviation() {
        let (m, s) = mean_std(&[0.9, 0.8, 0.7]);
        assert!((m - 0.8).abs() < 1e-12 && (s - 0.1).abs() < 1e-12);
    }
}
