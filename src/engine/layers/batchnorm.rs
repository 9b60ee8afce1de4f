//! Batch normalisation over channels: x, y are (N, C, H, W) (2-D) or (N, C) (1-D, after a dense
//! layer; then each "plane" is one value). γ, β, running mean and variance are (C).
//!
//! Train: μ, σ² over the N·H·W values of each channel; x̂ = (x - μ)/√(σ² + ε); y = γ·x̂ + β;
//! running statistics move by `momentum` (PyTorch's convention, 0.1) towards μ and the unbiased
//! σ². Eval: the running statistics stand in for μ and σ².
//! Backward, with M = N·H·W: dγ += Σ dy·x̂, dβ += Σ dy,
//! dx = γ/√(σ²+ε) · (dy - Σdy/M - x̂·Σ(dy·x̂)/M), folded into dx = k_dy·dy + k_x·x + k_c per channel.
//! Statistics are summed per channel in sample order (f64 across planes): deterministic for any
//! thread count. The training forward reads x twice (statistics, normalisation) and the backward
//! twice (sums, dx).
//!
//! A ReLU right after it can be fused in (see `Sequential`): the forward then writes
//! max(y, 0) in the same pass, and the backward gates dy where x·scale + shift was positive,
//! recomputed from x with the forward's own scale and shift, bit for bit the ReLU's mask.

use super::{Buffer, Layer, Mode, Param};
use crate::engine::kernels::batchnorm::{
    affine2, affine2_relu, sum_and_sum_sq_dev, sum_dy_dy_xhat, sum_dy_dy_xhat_relu,
};
use crate::engine::kernels::elementwise::{scale_shift, scale_shift_relu};
use crate::engine::parallel::{SAMPLES_PER_TASK, for_each_task, map_tasks};
use crate::engine::tensor::Tensor;

pub struct BatchNorm {
    shape: Vec<usize>,
    channels: usize,
    plane: usize,
    gamma: Param,
    beta: Param,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    momentum: f32,
    eps: f32,
    /// The μ and 1/√(σ²+ε) the last forward normalised with, and the per-channel y = x·scale +
    /// shift they fold into (a fused ReLU's gate in the backward).
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
    last_mode: Mode,
    /// Applies the ReLU that follows it (fused by the model).
    relu: bool,
    /// ... and its mask on `dy` by the layer after (see [`Layer::skip_relu_mask`]).
    relu_masked_after: bool,
}

impl BatchNorm {
    pub fn new(in_shape: &[usize]) -> BatchNorm {
        let channels = in_shape[0];
        BatchNorm {
            shape: in_shape.to_vec(),
            channels,
            plane: in_shape[1..].iter().product(),
            gamma: Param::new("gamma", &[channels], vec![1.0; channels], false),
            beta: Param::new("beta", &[channels], vec![0.0; channels], false),
            running_mean: vec![0.0; channels],
            running_var: vec![1.0; channels],
            momentum: 0.1,
            eps: 1e-5,
            mean: Vec::new(),
            inv_std: Vec::new(),
            scale: Vec::new(),
            shift: Vec::new(),
            last_mode: Mode::Eval,
            relu: false,
            relu_masked_after: false,
        }
    }

    /// The `(sample, channel)` plane of a batch.
    fn plane_of<'a>(&self, data: &'a [f32], n: usize, c: usize) -> &'a [f32] {
        let start = (n * self.channels + c) * self.plane;
        &data[start..start + self.plane]
    }

    /// Per-channel batch mean and biased variance: one pass per plane about its first value,
    /// the planes merged in sample order in f64 (Chan, Golub and LeVeque's pairwise update).
    fn batch_statistics(&self, x: &Tensor) -> Vec<(f32, f32)> {
        let batch = x.batch();
        let plane = self.plane as f64;
        map_tasks(0..self.channels, |c| {
            let (mut count, mut mean, mut squares) = (0.0f64, 0.0f64, 0.0f64);
            for n in 0..batch {
                let values = self.plane_of(&x.data, n, c);
                let shift = values[0];
                let (sum, sum_sq) = sum_and_sum_sq_dev(values, shift);
                let (sum, sum_sq) = (sum as f64, sum_sq as f64);
                let plane_mean = shift as f64 + sum / plane;
                let plane_squares = (sum_sq - sum * sum / plane).max(0.0);
                let delta = plane_mean - mean;
                let merged = count + plane;
                mean += delta * plane / merged;
                squares += plane_squares + delta * delta * count * plane / merged;
                count = merged;
            }
            (mean as f32, (squares / count) as f32)
        })
    }

    /// dγ, dβ, and dx when asked, of the normalisation and, with `relu_gate`, of the fused ReLU
    /// after it.
    fn backward_gated(&mut self, x: &Tensor, dy: &Tensor, relu_gate: bool, want_dx: bool) -> Option<Tensor> {
        let batch = x.batch();
        let gate = |c: usize| (self.scale[c], self.shift[c]);
        let sums: Vec<(f64, f64)> = map_tasks(0..self.channels, |c| {
            (0..batch).fold((0.0, 0.0), |(s, sx), n| {
                let (dy, x) = (self.plane_of(&dy.data, n, c), self.plane_of(&x.data, n, c));
                let (a, b) = if relu_gate {
                    sum_dy_dy_xhat_relu(dy, x, self.mean[c], self.inv_std[c], gate(c))
                } else {
                    sum_dy_dy_xhat(dy, x, self.mean[c], self.inv_std[c])
                };
                (s + a as f64, sx + b as f64)
            })
        });
        for (c, &(sum_dy, sum_dy_xhat)) in sums.iter().enumerate() {
            self.gamma.grad[c] += sum_dy_xhat as f32;
            self.beta.grad[c] += sum_dy as f32;
        }
        if !want_dx {
            return None;
        }
        let count = (batch * self.plane) as f64;
        let coefficients: Vec<(f32, f32, f32)> = (0..self.channels)
            .map(|c| {
                let (gamma, inv, mean) = (self.gamma.value[c] as f64, self.inv_std[c] as f64, self.mean[c] as f64);
                let k_dy = gamma * inv;
                if self.last_mode == Mode::Eval {
                    // The running statistics are constants: y is affine in x.
                    return (k_dy as f32, 0.0, 0.0);
                }
                let (sum_dy, sum_dy_xhat) = sums[c];
                let k_x = -gamma * inv * inv * sum_dy_xhat / count;
                let k_c = -gamma * inv * sum_dy / count - k_x * mean;
                (k_dy as f32, k_x as f32, k_c as f32)
            })
            .collect();
        let mut dx = Tensor::for_overwrite(&x.shape);
        self.per_plane(&mut dx, |n, c, dx| {
            let (k_dy, k_x, k_c) = coefficients[c];
            let (dy, x) = (self.plane_of(&dy.data, n, c), self.plane_of(&x.data, n, c));
            if relu_gate {
                affine2_relu(dy, x, k_dy, k_x, k_c, gate(c), dx)
            } else {
                affine2(dy, x, k_dy, k_x, k_c, dx)
            }
        });
        Some(dx)
    }

    /// Applies a per-channel `out = a[c]·in + b[c]` (or the two-input form) to every plane.
    fn per_plane(&self, out: &mut Tensor, f: impl Fn(usize, usize, &mut [f32]) + Sync) {
        let task = SAMPLES_PER_TASK * self.channels * self.plane;
        for_each_task(out.data.chunks_mut(task).enumerate(), |(chunk, out)| {
            for (i, out) in out.chunks_exact_mut(self.plane).enumerate() {
                let plane_index = chunk * SAMPLES_PER_TASK * self.channels + i;
                f(plane_index / self.channels, plane_index % self.channels, out);
            }
        });
    }
}

impl Layer for BatchNorm {
    fn kind(&self) -> &'static str {
        "BatchNormalization"
    }

    fn spec(&self) -> String {
        "bn".into()
    }

    fn out_shape(&self) -> Vec<usize> {
        self.shape.clone()
    }

    fn forward(&mut self, x: &Tensor, mode: Mode) -> Tensor {
        assert_eq!(x.sample_len(), self.channels * self.plane, "batch-norm input shape {:?}", x.shape);
        let (mean, var): (Vec<f32>, Vec<f32>) = match mode {
            Mode::Train => {
                let stats = self.batch_statistics(x);
                let count = (x.batch() * self.plane) as f32;
                let unbiased = count / (count - 1.0).max(1.0);
                for (c, &(m, v)) in stats.iter().enumerate() {
                    self.running_mean[c] += self.momentum * (m - self.running_mean[c]);
                    self.running_var[c] += self.momentum * (v * unbiased - self.running_var[c]);
                }
                stats.into_iter().unzip()
            }
            Mode::Eval => (self.running_mean.clone(), self.running_var.clone()),
        };
        self.inv_std = var.iter().map(|v| 1.0 / (v + self.eps).sqrt()).collect();
        self.mean = mean;
        self.last_mode = mode;
        self.scale = (0..self.channels).map(|c| self.gamma.value[c] * self.inv_std[c]).collect();
        self.shift = (0..self.channels).map(|c| self.beta.value[c] - self.mean[c] * self.scale[c]).collect();
        let (scale, shift) = (&self.scale, &self.shift);
        let mut y = Tensor::for_overwrite(&x.shape);
        self.per_plane(&mut y, |n, c, y| {
            let x = self.plane_of(&x.data, n, c);
            if self.relu { scale_shift_relu(x, scale[c], shift[c], y) } else { scale_shift(x, scale[c], shift[c], y) }
        });
        y
    }

    /// With a fused ReLU, `dy` is the gradient of its output; its mask comes from x, not `y`.
    fn backward(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, want_dx: bool) -> Option<Tensor> {
        let relu_gate = self.relu && !self.relu_masked_after;
        self.backward_gated(x, dy, relu_gate, want_dx)
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }

    fn skip_relu_mask(&mut self) {
        self.relu_masked_after = true;
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.gamma, &self.beta]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.gamma, &mut self.beta]
    }

    fn buffers_mut(&mut self) -> Vec<Buffer<'_>> {
        vec![
            Buffer { name: "running_mean", value: &mut self.running_mean },
            Buffer { name: "running_var", value: &mut self.running_var },
        ]
    }

    fn non_trainable_count(&self) -> usize {
        2 * self.channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    /// The one-pass statistics against an f64 two-pass reference, on a channel whose mean is
    /// 10⁵ times its spread (where E[x²] − E[x]² in f32 would keep no digit of the variance),
    /// the same with every plane's first value (the shift) ten spreads above the rest, and on
    /// planes of one value (batch-norm after a dense layer).
    #[test]
    fn batch_statistics_hold_on_a_large_mean_and_on_one_value_planes() {
        let mut rng = Rng::new(3);
        for (shape, offset, first) in
            [(vec![2usize, 5, 7], 1000.0f32, 0.0), (vec![2, 5, 7], 1000.0, 0.06), (vec![3], -3.0, 0.0)]
        {
            let bn = BatchNorm::new(&shape);
            let len = 6 * bn.channels * bn.plane;
            let data: Vec<f32> = (0..len)
                .map(|k| {
                    let outlier = if k % bn.plane == 0 { first } else { 0.0 };
                    offset * (1 + k / bn.plane % bn.channels) as f32 + rng.uniform(-0.01, 0.01) + outlier
                })
                .collect();
            let x = Tensor::from_vec(&[&[6][..], &shape].concat(), data);
            for (c, &(mean, var)) in bn.batch_statistics(&x).iter().enumerate() {
                let values: Vec<f64> =
                    (0..6).flat_map(|n| bn.plane_of(&x.data, n, c).iter().map(|&v| v as f64)).collect();
                let want_mean = values.iter().sum::<f64>() / values.len() as f64;
                let want_var = values.iter().map(|v| (v - want_mean).powi(2)).sum::<f64>() / values.len() as f64;
                assert!(
                    ((mean as f64 - want_mean) / want_mean).abs() < 1e-6,
                    "{shape:?} {c}: mean {mean} vs {want_mean}"
                );
                assert!(
                    ((var as f64 - want_var) / want_var).abs() < 1e-3,
                    "{shape:?} {c}: variance {var} vs {want_var}"
                );
            }
        }
    }
}
