//! The epoch loop: shuffle, batch, step, track, validate, call back.
//!
//! Every random choice comes from a stream derived from (seed, purpose, epoch), so an epoch
//! depends only on the state at its start: that is what lets `--resume` end with the same
//! weights as an uninterrupted run.

use super::batch::{Augment, Normalization, make_batch};
use super::evaluate::evaluate;
use crate::data::Dataset;
use crate::engine::loss::SoftmaxCrossEntropy;
use crate::engine::model::Sequential;
use crate::engine::optim::{Optimizer, Schedule};
use crate::engine::rng::{Purpose, Rng};
use crate::engine::step::train_step;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Everything that decides how a run trains (saved in `model.json`, reread by `--resume`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: String,
    pub momentum: Option<f32>,
    pub lr: f32,
    pub schedule: String,
    pub weight_decay: f32,
    pub label_smoothing: f32,
    pub val_split: f32,
    pub seed: u64,
    pub augment: Augment,
    pub normalization: Normalization,
}

/// One row of `history.csv`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub lr: f32,
    pub loss: f64,
    pub accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub seconds: f64,
    pub images_per_sec: f64,
}

/// A training sample the model predicted wrongly during the last epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Misclassified {
    pub index: usize,
    pub label: u8,
    pub predicted: u8,
    pub confidence: f32,
}

/// What the loop reports as it goes; the CLI prints it.
pub trait Observer {
    fn batch(&mut self, _epoch: usize, _done: usize, _total: usize, _loss: f64, _accuracy: f64) {}
    fn epoch(&mut self, _record: &EpochRecord) {}
    /// The training samples predicted wrongly during an epoch (1-based), by index: the
    /// notebook's detector as it stands after each epoch.
    fn misclassified(&mut self, _epoch: usize, _rows: &[Misclassified]) {}
}

/// The state that a checkpoint saves and `--resume` restores.
pub struct TrainState {
    pub model: Sequential,
    pub optimizer: Optimizer,
    /// Epochs completed.
    pub epochs_done: usize,
    pub history: Vec<EpochRecord>,
    /// The last completed epoch's misclassified training samples.
    pub misclassified: Vec<Misclassified>,
}

/// Splits `0..n` into (train, validation) indices with a seeded shuffle; validation gets
/// `round(n · fraction)` samples. Both lists are returned in ascending order.
pub fn split_indices(n: usize, fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    let val_count = ((n as f64) * fraction as f64).round() as usize;
    if val_count == 0 {
        return (order, Vec::new());
    }
    Rng::stream(seed, Purpose::Split, 0).shuffle(&mut order);
    let mut val = order[..val_count].to_vec();
    let mut train = order[val_count..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    (train, val)
}

fn is_finite(loss: f32) -> bool {
    loss.is_finite()
}

/// Trains from `state.epochs_done` to `config.epochs`, calling `after_epoch` (checkpointing)
/// after each. Stops with an error if the loss stops being finite.
pub fn train(
    state: &mut TrainState,
    config: &TrainConfig,
    data: &Dataset,
    train_indices: &[usize],
    val_indices: &[usize],
    observer: &mut dyn Observer,
    after_epoch: &mut dyn FnMut(&mut TrainState) -> Result<(), String>,
) -> Result<(), String> {
    let schedule = Schedule::parse(&config.schedule)?;
    let loss_fn = SoftmaxCrossEntropy::new(config.label_smoothing);
    let batch_size = config.batch_size.max(1);
    let steps_per_epoch = train_indices.len().div_ceil(batch_size);
    let total_steps = steps_per_epoch * config.epochs;
    let classes = data.class_names.len();
    while state.epochs_done < config.epochs {
        let epoch = state.epochs_done;
        let started = Instant::now();
        let mut order = train_indices.to_vec();
        Rng::stream(config.seed, Purpose::Shuffle, epoch as u64).shuffle(&mut order);
        state.model.reseed_dropout(config.seed, epoch as u64);
        let augment_seed = Rng::stream(config.seed, Purpose::Augment, epoch as u64).next_u64();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut misclassified = Vec::new();
        let mut lr = config.lr;
        for (b, chunk) in order.chunks(batch_size).enumerate() {
            lr = schedule.lr(config.lr, epoch * steps_per_epoch + b, total_steps, steps_per_epoch);
            let (x, labels) = make_batch(data, chunk, config.normalization, Some((&config.augment, augment_seed)));
            let out = train_step(&mut state.model, x, &labels, &loss_fn, &mut state.optimizer, lr);
            if !is_finite(out.loss) {
                return Err(format!(
                    "training diverged at epoch {} batch {} (loss {}); lower --lr",
                    epoch + 1,
                    b + 1,
                    out.loss
                ));
            }
            for ((row, &label), &index) in out.probs.data.chunks_exact(classes).zip(&labels).zip(chunk) {
                let (best, p) =
                    row.iter().enumerate().fold((0, f32::MIN), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc });
                if best == label as usize {
                    correct += 1;
                } else {
                    misclassified.push(Misclassified { index, label, predicted: best as u8, confidence: p });
                }
            }
            loss_sum += out.losses.iter().map(|&l| l as f64).sum::<f64>();
            seen += chunk.len();
            observer.batch(epoch, b + 1, steps_per_epoch, loss_sum / seen as f64, correct as f64 / seen as f64);
        }
        let train_seconds = started.elapsed().as_secs_f64();
        let (val_loss, val_accuracy) = if val_indices.is_empty() {
            (None, None)
        } else {
            let e = evaluate(&mut state.model, data, Some(val_indices), config.normalization, 500);
            (Some(e.loss), Some(e.accuracy))
        };
        misclassified.sort_by_key(|m| m.index);
        let record = EpochRecord {
            epoch: epoch + 1,
            lr,
            loss: loss_sum / seen.max(1) as f64,
            accuracy: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_accuracy,
            seconds: started.elapsed().as_secs_f64(),
            images_per_sec: seen as f64 / train_seconds.max(1e-9),
        };
        observer.epoch(&record);
        observer.misclassified(epoch + 1, &misclassified);
        state.history.push(record);
        state.misclassified = misclassified;
        state.epochs_done += 1;
        after_epoch(state)?;
    }
    Ok(())
}
