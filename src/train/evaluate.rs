//! Running a trained model over a dataset: loss, accuracy, predictions, confusion matrix.

use super::batch::{Normalization, make_batch};
use super::metrics::Confusion;
use crate::data::Dataset;
use crate::engine::loss::SoftmaxCrossEntropy;
use crate::engine::model::Sequential;

pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
    /// Per sample: predicted class and its probability.
    pub predictions: Vec<u8>,
    pub confidences: Vec<f32>,
    /// Per sample, all class probabilities (N × K).
    pub probs: Vec<f32>,
    pub confusion: Confusion,
}

/// Evaluates `model` on the samples `indices` of `data` (all of them when `None`).
pub fn evaluate(
    model: &mut Sequential,
    data: &Dataset,
    indices: Option<&[usize]>,
    norm: Normalization,
    batch_size: usize,
) -> Evaluation {
    let all: Vec<usize>;
    let indices = match indices {
        Some(i) => i,
        None => {
            all = (0..data.len()).collect();
            &all
        }
    };
    let classes = data.class_names.len();
    let loss_fn = SoftmaxCrossEntropy::new(0.0);
    let mut confusion = Confusion::new(classes);
    let (mut predictions, mut confidences, mut probs) = (Vec::new(), Vec::new(), Vec::new());
    let mut total_loss = 0.0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let (x, labels) = make_batch(data, chunk, norm, None);
        let logits = model.predict(x);
        let out = loss_fn.forward(&logits, &labels);
        total_loss += out.losses.iter().map(|&l| l as f64).sum::<f64>();
        for (row, &label) in out.probs.data.chunks_exact(classes).zip(&labels) {
            let (best, p) = row.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            confusion.add(label as usize, best);
            predictions.push(best as u8);
            confidences.push(p);
        }
        probs.extend_from_slice(&out.probs.data);
    }
    Evaluation {
        loss: total_loss / indices.len().max(1) as f64,
        accuracy: confusion.accuracy(),
        predictions,
        confidences,
        probs,
        confusion,
    }
}
