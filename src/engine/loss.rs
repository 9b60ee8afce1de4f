//! Softmax cross-entropy over a batch of logits (N, K), mean over the batch, with optional label
//! smoothing: the target is (1-ε)·one_hot(label) + ε/K.

use crate::engine::kernels::softmax::{softmax_cross_entropy, softmax_cross_entropy_backward};
use crate::engine::tensor::Tensor;

pub struct SoftmaxCrossEntropy {
    pub label_smoothing: f32,
}

/// The result of the forward pass, kept for the backward pass and for metrics.
pub struct LossOutput {
    /// Mean loss over the batch.
    pub loss: f32,
    /// Per-sample loss.
    pub losses: Vec<f32>,
    /// Softmax probabilities (N, K).
    pub probs: Tensor,
}

impl SoftmaxCrossEntropy {
    pub fn new(label_smoothing: f32) -> SoftmaxCrossEntropy {
        SoftmaxCrossEntropy { label_smoothing }
    }

    fn target(&self, label: usize, classes: usize, row: &mut [f32]) {
        let off = self.label_smoothing / classes as f32;
        row.fill(off);
        row[label] += 1.0 - self.label_smoothing;
    }

    pub fn forward(&self, logits: &Tensor, labels: &[u8]) -> LossOutput {
        let (batch, classes) = (logits.batch(), logits.sample_len());
        assert_eq!(labels.len(), batch, "{} labels for a batch of {batch}", labels.len());
        let mut probs = Tensor::zeros(&logits.shape);
        let mut target = vec![0.0; classes];
        let mut losses = Vec::with_capacity(batch);
        for ((z, p), &label) in logits.data.chunks_exact(classes).zip(probs.data.chunks_exact_mut(classes)).zip(labels)
        {
            self.target(label as usize, classes, &mut target);
            losses.push(softmax_cross_entropy(z, &target, p));
        }
        // Summed in sample order, in f64: the same value for any thread count.
        let loss = (losses.iter().map(|&l| l as f64).sum::<f64>() / batch as f64) as f32;
        LossOutput { loss, losses, probs }
    }

    /// dL/dlogits of the mean loss.
    pub fn backward(&self, out: &LossOutput, labels: &[u8]) -> Tensor {
        let (batch, classes) = (out.probs.batch(), out.probs.sample_len());
        let mut dlogits = Tensor::zeros(&out.probs.shape);
        let mut target = vec![0.0; classes];
        let scale = 1.0 / batch as f32;
        for ((p, d), &label) in
            out.probs.data.chunks_exact(classes).zip(dlogits.data.chunks_exact_mut(classes)).zip(labels)
        {
            self.target(label as usize, classes, &mut target);
            softmax_cross_entropy_backward(p, &target, scale, d);
        }
        dlogits
    }
}
