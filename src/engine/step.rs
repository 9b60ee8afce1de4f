//! One optimisation step: forward, loss, backward, update.

use crate::engine::layers::Mode;
use crate::engine::loss::{LossOutput, SoftmaxCrossEntropy};
use crate::engine::model::Sequential;
use crate::engine::optim::Optimizer;
use crate::engine::parallel::with_workers_awake;
use crate::engine::tensor::Tensor;

/// Trains `model` on one batch with learning rate `lr`; returns the loss output (probabilities
/// included) of the forward pass before the update.
pub fn train_step(
    model: &mut Sequential,
    x: Tensor,
    labels: &[u8],
    loss: &SoftmaxCrossEntropy,
    optimizer: &mut Optimizer,
    lr: f32,
) -> LossOutput {
    with_workers_awake(|| {
        let logits = model.forward(x, Mode::Train);
        let out = loss.forward(logits, labels);
        let dlogits = loss.backward(&out, labels);
        model.zero_grad();
        model.backward(dlogits);
        optimizer.step(&mut model.params_mut(), lr);
        out
    })
}

/// Index of the largest value of each row of an (N, K) tensor.
pub fn argmax_rows(t: &Tensor) -> Vec<usize> {
    t.data.chunks_exact(t.sample_len()).map(argmax).collect()
}

/// Index of the largest value (the first one on ties).
pub fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold((0, f32::MIN), |best, (k, &p)| if p > best.1 { (k, p) } else { best }).0
}
