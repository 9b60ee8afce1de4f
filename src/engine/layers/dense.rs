//! Fully connected layer. x is (N, IN), weight (OUT, IN) as PyTorch stores it, bias (OUT), y (N, OUT).
//!
//! y = x·Wᵀ + b;  dW += dyᵀ·x;  db += Σₙ dy;  dx = dy·W.
//! Every output element is one whole sum (over IN for y, over OUT for dx, over the batch for dW),
//! so how the products are cut into tasks does not change a bit of the result: the cut may follow
//! the thread count. (Keeping W inputs-major instead, so that the forward's GEMM packs it with
//! contiguous copies, measured 0.95× (0.92–1.03, 5 rounds) on `mlp003` b32: not kept.)

use super::{Layer, Mode, Param};
use crate::engine::init::Init;
use crate::engine::kernels::elementwise::add_assign;
use crate::engine::kernels::gemm::{Op, sgemm};
use crate::engine::parallel::{ROWS_PER_TASK, for_each_task, par_column_blocks};
use crate::engine::rng::Rng;
use crate::engine::tensor::Tensor;

/// Multiply-adds below which a product is not cut further: about 35 µs of one core's FMAs.
/// While rayon's threads slept between loops, handing a piece to the other thread cost a wake-up
/// of tens of µs, and a 2^23 floor (6.4 M multiply-add products at `mlp003` b32 left whole) was
/// best. With the other worker kept polling through a step and `map_tasks` spinning instead of
/// sleeping, `mlp003` b32 (`bench --thread-scaling`, 21 rounds each) scaled 0.95× with 2^23,
/// 1.11× with 2^21, 1.13× with 2^20 and 1.02× with 2^19.
const MIN_TASK_MACS: usize = 1 << 21;

/// Columns of a block are a multiple of this (the GEMM kernels' register tile width).
const COLUMN_ALIGN: usize = 16;

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

/// How many pieces to cut a product of `macs` multiply-adds into, at most `limit`: two per thread
/// when there is enough work, so the threads finish together, and none below [`MIN_TASK_MACS`];
/// one on one thread, where a cut only adds packing (`mlp003` b32 ran at 0.97× cut in two).
fn pieces(macs: usize, limit: usize) -> usize {
    match rayon::current_num_threads() {
        1 => 1,
        threads => (2 * threads).min(macs / MIN_TASK_MACS).min(limit).max(1),
    }
}

/// How to cut an `rows × columns` output of `depth`-long sums: rows per task (each task packs
/// its rows once), then column blocks within a row chunk when there are too few rows.
fn split(rows: usize, columns: usize, depth: usize) -> (usize, usize) {
    let pieces = pieces(rows * columns * depth, rows.div_ceil(ROWS_PER_TASK) * columns.div_ceil(COLUMN_ALIGN));
    let row_chunks = pieces.min(rows.div_ceil(ROWS_PER_TASK)).max(1);
    (rows.div_ceil(row_chunks).max(1), pieces.div_ceil(row_chunks))
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
        let (inputs, outputs, batch) = (self.inputs, self.outputs, x.batch());
        assert_eq!(x.sample_len(), inputs, "dense input shape {:?}", x.shape);
        let mut y = Tensor::for_overwrite(&[batch, outputs]);
        let (weight, bias) = (&self.weight.value, &self.bias.value);
        let (rows_per_task, blocks) = split(batch, outputs, inputs);
        par_column_blocks(&mut y.data, outputs, rows_per_task, blocks, COLUMN_ALIGN, |rows, columns, y, ldy| {
            let x = &x.data[rows.start * inputs..rows.end * inputs];
            let w = &weight[columns.start * inputs..];
            sgemm(Op::N, Op::T, rows.len(), columns.len(), inputs, 1.0, x, inputs, w, inputs, 0.0, y, ldy);
            for row in y.chunks_mut(ldy) {
                add_assign(&mut row[..columns.len()], &bias[columns.clone()]);
            }
        });
        y
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, want_dx: bool) -> Option<Tensor> {
        let (inputs, outputs, batch) = (self.inputs, self.outputs, x.batch());
        // dW rows are outputs: contiguous blocks of the gradient, each a whole sum over the batch.
        let blocks = pieces(inputs * outputs * batch, outputs.div_ceil(COLUMN_ALIGN));
        let rows_per_block = outputs.div_ceil(blocks);
        for_each_task(self.weight.grad.chunks_mut(rows_per_block * inputs).enumerate(), |(block, dw)| {
            let first = block * rows_per_block;
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
        let (rows_per_task, blocks) = split(batch, inputs, outputs);
        par_column_blocks(&mut dx.data, inputs, rows_per_task, blocks, COLUMN_ALIGN, |rows, columns, dx, ldx| {
            let dy = &dy.data[rows.start * outputs..rows.end * outputs];
            let w = &weight[columns.start..];
            sgemm(Op::N, Op::N, rows.len(), columns.len(), outputs, 1.0, dy, outputs, w, inputs, 0.0, dx, ldx);
        });
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
    /// must cover every output exactly once. On two threads, where products are cut.
    #[test]
    fn forward_and_gradients_match_the_textbook_sums_for_every_chunking() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(textbook_sums_for_every_chunking);
    }

    fn textbook_sums_for_every_chunking() {
        let mut rng = Rng::new(3);
        // The last two are big enough to be cut in 4: 3 row chunks of a 70-row batch with 2 column
        // blocks each and 4 blocks of dW rows; 4 column blocks of a 20-row batch.
        assert_eq!((split(70, 600, 600), pieces(70 * 600 * 600, 38)), ((24, 2), 4));
        assert_eq!(split(20, 1000, 1300), (20, 4));
        let shapes =
            [(1, 7, 10), (5, 40, 100), (32, 20, 70), (33, 9, 50), (70, 33, 12), (70, 600, 600), (20, 1300, 1000)];
        for (batch, inputs, outputs) in shapes {
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
            for o in 0..outputs {
                for i in 0..inputs {
                    let want: f64 =
                        (0..batch).map(|n| dy.data[n * outputs + o] as f64 * x.data[n * inputs + i] as f64).sum();
                    let got = layer.weight.grad[o * inputs + i] as f64;
                    assert!((got - want).abs() < 1e-4, "dW[{o},{i}] of {outputs}×{inputs}: {got} against {want}");
                }
            }
        }
    }
}
