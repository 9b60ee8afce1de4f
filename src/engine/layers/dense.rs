//! Fully connected layer. x is (N, IN), weight (OUT, IN), bias (OUT), y (N, OUT).
//!
//! y = x·Wᵀ + b;  dW += dyᵀ·x;  db += Σₙ dy;  dx = dy·W.
//! The forward and dx split the batch into fixed row chunks; dW splits the output rows into
//! fixed blocks, each a whole sum over the batch, so no partial sums need combining.

use super::{Layer, Mode, Param};
use crate::engine::init::Init;
use crate::engine::kernels::elementwise::add_assign;
use crate::engine::kernels::gemm::{Op, sgemm};
use crate::engine::parallel::ROWS_PER_TASK;
use crate::engine::rng::Rng;
use crate::engine::tensor::Tensor;
use rayon::prelude::*;

/// Output rows of dW per task.
const WEIGHT_ROWS_PER_TASK: usize = 16;

pub struct Dense {
    inputs: usize,
    outputs: usize,
    weight: Param,
    bias: Param,
}

impl Dense {
    pub fn new(inputs: usize, outputs: usize, init: Init, rng: &mut Rng) -> Dense {
        let weight = init.sample(outputs * inputs, inputs, outputs, rng);
        Dense {
            inputs,
            outputs,
            weight: Param::new("weight", &[outputs, inputs], weight, true),
            bias: Param::new("bias", &[outputs], vec![0.0; outputs], false),
        }
    }

    pub fn macs(&self) -> usize {
        self.inputs * self.outputs
    }
}

impl Layer for Dense {
    fn kind(&self) -> &'static str {
        "Dense"
    }

    fn spec(&self) -> String {
        format!("dense{}", self.outputs)
    }

    fn out_shape(&self) -> Vec<usize> {
        vec![self.outputs]
    }

    fn forward(&mut self, x: &Tensor, _mode: Mode) -> Tensor {
        let (inputs, outputs) = (self.inputs, self.outputs);
        assert_eq!(x.sample_len(), inputs, "dense input shape {:?}", x.shape);
        let mut y = Tensor::for_overwrite(&[x.batch(), outputs]);
        let (weight, bias) = (&self.weight.value, &self.bias.value);
        y.data.par_chunks_mut(ROWS_PER_TASK * outputs).zip(x.data.par_chunks(ROWS_PER_TASK * inputs)).for_each(
            |(y, x)| {
                let rows = x.len() / inputs;
                sgemm(Op::N, Op::T, rows, outputs, inputs, 1.0, x, inputs, weight, inputs, 0.0, y, outputs);
                for row in y.chunks_exact_mut(outputs) {
                    add_assign(row, bias);
                }
            },
        );
        y
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, want_dx: bool) -> Option<Tensor> {
        let (inputs, outputs, batch) = (self.inputs, self.outputs, x.batch());
        self.weight.grad.par_chunks_mut(WEIGHT_ROWS_PER_TASK * inputs).enumerate().for_each(|(block, dw)| {
            let first = block * WEIGHT_ROWS_PER_TASK;
            let rows = dw.len() / inputs;
            sgemm(Op::T, Op::N, rows, inputs, batch, 1.0, &dy.data[first..], outputs, &x.data, inputs, 1.0, dw, inputs);
        });
        for row in dy.data.chunks_exact(outputs) {
            add_assign(&mut self.bias.grad, row);
        }
        if !want_dx {
            return None;
        }
        let mut dx = Tensor::for_overwrite(&x.shape);
        let weight = &self.weight.value;
        dx.data.par_chunks_mut(ROWS_PER_TASK * inputs).zip(dy.data.par_chunks(ROWS_PER_TASK * outputs)).for_each(
            |(dx, dy)| {
                let rows = dy.len() / outputs;
                sgemm(Op::N, Op::N, rows, inputs, outputs, 1.0, dy, outputs, weight, inputs, 0.0, dx, inputs);
            },
        );
        Some(dx)
    }

    fn forward_macs(&self) -> usize {
        self.macs()
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    /// Batches below, at and above one row chunk of a task, with a short last chunk: the chunks
    /// must cover every output exactly once.
    #[test]
    fn forward_and_input_gradient_match_the_textbook_sums_for_every_chunking() {
        let mut rng = Rng::new(3);
        for (batch, inputs, outputs) in [(1, 7, 10), (5, 40, 100), (32, 20, 70), (33, 9, 50), (70, 33, 12)] {
            let mut layer = Dense::new(inputs, outputs, Init::GlorotUniform, &mut rng);
            layer.bias.value = random(outputs, &mut rng);
            let x = Tensor::from_vec(&[batch, inputs], random(batch * inputs, &mut rng));
            let dy = Tensor::from_vec(&[batch, outputs], random(batch * outputs, &mut rng));
            let y = layer.forward(&x, Mode::Train);
            let dx = layer.backward(&x, &y, &dy, true).unwrap();
            let w = |o: usize, i: usize| layer.weight.value[o * inputs + i] as f64;
            for n in 0..batch {
                for o in 0..outputs {
                    let want = layer.bias.value[o] as f64
                        + (0..inputs).map(|i| x.data[n * inputs + i] as f64 * w(o, i)).sum::<f64>();
                    let got = y.data[n * outputs + o] as f64;
                    assert!((got - want).abs() < 1e-4, "y[{n},{o}] of {batch}×{outputs}: {got} against {want}");
                }
                for i in 0..inputs {
                    let want: f64 = (0..outputs).map(|o| dy.data[n * outputs + o] as f64 * w(o, i)).sum();
                    let got = dx.data[n * inputs + i] as f64;
                    assert!((got - want).abs() < 1e-4, "dx[{n},{i}] of {batch}×{inputs}: {got} against {want}");
                }
            }
        }
    }
}
