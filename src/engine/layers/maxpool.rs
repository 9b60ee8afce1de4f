//! Max-pooling. x is (N, C, H, W), y (N, C, OH, OW) with OH = (H - K) / S + 1; the cache holds,
//! for each output, the index in its input plane of the value that won the window.

use super::{Layer, Mode};
use crate::engine::kernels::pool::{maxpool_backward, maxpool_forward, maxpool_values};
use crate::engine::parallel::{SAMPLES_PER_TASK, for_each_task};
use crate::engine::tensor::Tensor;

pub struct MaxPool2d {
    in_shape: [usize; 3],
    kernel: usize,
    stride: usize,
    argmax: Vec<u32>,
    /// The input is a fused ReLU's output: dx is masked by `x > 0` here, as `dy` masked by
    /// `y > 0`, since a window's maximum is the input value its gradient goes to.
    mask_relu: bool,
}

impl MaxPool2d {
    pub fn new(in_shape: &[usize], kernel: usize, stride: usize) -> MaxPool2d {
        MaxPool2d {
            in_shape: [in_shape[0], in_shape[1], in_shape[2]],
            kernel,
            stride,
            argmax: Vec::new(),
            mask_relu: false,
        }
    }

    fn out_hw(&self) -> (usize, usize) {
        let [_, h, w] = self.in_shape;
        ((h - self.kernel) / self.stride + 1, (w - self.kernel) / self.stride + 1)
    }

    /// Values per sample of the pooled output.
    pub fn out_len(&self) -> usize {
        let (oh, ow) = self.out_hw();
        self.in_shape[0] * oh * ow
    }

    /// Values per sample of the input.
    pub fn in_len(&self) -> usize {
        self.in_shape.iter().product()
    }

    /// The training forward of whole samples: `x` their input planes, `y` their pooled outputs and
    /// `winners` the index of each output's winner in its input plane.
    pub fn pool_samples(&self, x: &[f32], y: &mut [f32], winners: &mut [u32]) {
        let [_, h, w] = self.in_shape;
        let (in_plane, out_plane) = (h * w, self.out_len() / self.in_shape[0]);
        for ((y, winners), x) in
            y.chunks_exact_mut(out_plane).zip(winners.chunks_exact_mut(out_plane)).zip(x.chunks_exact(in_plane))
        {
            maxpool_forward(x, h, w, self.kernel, self.stride, y, winners);
        }
    }

    /// Runs `f(pool, winners)` with room for the winners of a batch of `batch` samples, which the
    /// backward then reads: for the pool's own training forward, and for a layer before it that
    /// pools its own output ([`Layer::forward_through_pool`]).
    pub fn record_winners<R>(&mut self, batch: usize, f: impl FnOnce(&MaxPool2d, &mut [u32]) -> R) -> R {
        let mut winners = std::mem::take(&mut self.argmax);
        winners.resize(batch * self.out_len(), 0);
        let result = f(self, &mut winners);
        self.argmax = winners;
        result
    }

    /// The backward of a batch: dx of shape `x_shape` from the pool's output `y` and its gradient.
    pub fn unpool_batch(&self, x_shape: &[usize], y: &Tensor, dy: &Tensor) -> Tensor {
        // Written in full by the kernel.
        let mut dx = Tensor::for_overwrite(x_shape);
        let (in_len, out_len) = (self.in_len() * SAMPLES_PER_TASK, self.out_len() * SAMPLES_PER_TASK);
        let chunks = dx.data.chunks_mut(in_len).zip(dy.data.chunks(out_len).zip(y.data.chunks(out_len)));
        for_each_task(chunks.enumerate(), |(chunk, (dx, (dy, y)))| self.unpool(chunk * SAMPLES_PER_TASK, y, dy, dx));
        dx
    }

    /// The backward of whole samples `first..` alone (as many as `dy` holds; `y`, `dy` and `dx`
    /// are theirs: the pool's output and its gradient, the input's gradient): the same bits as
    /// [`Layer::backward`] writes there. A convolution right before the pool calls this for its
    /// own chunk of samples, so the unpooled gradient goes from here to its weight gradient in
    /// cache instead of through a batch-sized tensor in memory.
    pub fn unpool(&self, first: usize, y: &[f32], dy: &[f32], dx: &mut [f32]) {
        let [_, h, w] = self.in_shape;
        let (in_plane, out_plane) = (h * w, self.out_len() / self.in_shape[0]);
        let (kernel, stride) = (self.kernel, self.stride);
        let argmax = &self.argmax[first * self.out_len()..first * self.out_len() + dy.len()];
        let planes = dx.chunks_exact_mut(in_plane).zip(argmax.chunks_exact(out_plane)).zip(dy.chunks_exact(out_plane));
        for (i, ((dx, argmax), dy)) in planes.enumerate() {
            // The ReLU before the pool masks dy by the pool's outputs, inside the kernel.
            let relu_y = if self.mask_relu { &y[i * out_plane..(i + 1) * out_plane] } else { &[] };
            maxpool_backward(dy, relu_y, argmax, h, w, kernel, stride, dx);
        }
    }
}

impl Layer for MaxPool2d {
    fn kind(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn spec(&self) -> String {
        if self.stride == self.kernel {
            format!("pool{}", self.kernel)
        } else {
            format!("pool{}s{}", self.kernel, self.stride)
        }
    }

    fn out_shape(&self) -> Vec<usize> {
        let (oh, ow) = self.out_hw();
        vec![self.in_shape[0], oh, ow]
    }

    fn forward(&mut self, x: &Tensor, mode: Mode) -> Tensor {
        let [channels, h, w] = self.in_shape;
        let (oh, ow) = self.out_hw();
        let (in_plane, out_plane) = (h * w, oh * ow);
        let mut y = Tensor::for_overwrite(&[x.batch(), channels, oh, ow]);
        let (kernel, stride) = (self.kernel, self.stride);
        let task = SAMPLES_PER_TASK * channels;
        if mode == Mode::Eval {
            // No backward follows an evaluation: the winners' places are not needed.
            self.argmax.clear();
            for_each_task(y.data.chunks_mut(task * out_plane).zip(x.data.chunks(task * in_plane)), |(y, x)| {
                for (y, x) in y.chunks_exact_mut(out_plane).zip(x.chunks_exact(in_plane)) {
                    maxpool_values(x, h, w, kernel, stride, y);
                }
            });
            return y;
        }
        self.record_winners(x.batch(), |pool, winners| {
            let chunks = y.data.chunks_mut(task * out_plane).zip(winners.chunks_mut(task * out_plane));
            for_each_task(chunks.zip(x.data.chunks(task * in_plane)), |((y, winners), x)| {
                pool.pool_samples(x, y, winners)
            });
        });
        y
    }

    fn backward(&mut self, x: &Tensor, y: &Tensor, dy: &Tensor, _want_dx: bool) -> Option<Tensor> {
        Some(self.unpool_batch(&x.shape, y, dy))
    }

    fn as_max_pool(&self) -> Option<&MaxPool2d> {
        Some(self)
    }

    fn as_max_pool_mut(&mut self) -> Option<&mut MaxPool2d> {
        Some(self)
    }

    fn pool_window(&self) -> Option<(usize, usize)> {
        Some((self.kernel, self.stride))
    }

    fn mask_input_gradient_by_relu(&mut self) -> bool {
        self.mask_relu = true;
        true
    }
}
