//! Layers: one file each, `forward` and `backward` side by side.
//!
//! The model keeps every activation, so a layer's `backward` receives the input and output of
//! its last `forward`; a layer caches only what cannot be recomputed from those (max-pool
//! argmax, batch-norm statistics, the dropout mask). Parameter gradients accumulate (`+=`) until
//! the optimizer zeroes them.

mod batchnorm;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod maxpool;
mod relu;

pub use batchnorm::BatchNorm;
pub use conv2d::{Conv2d, Padding};
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use maxpool::MaxPool2d;
pub use relu::Relu;

use crate::engine::tensor::Tensor;

/// A max-pool's output gradient handed to the layer before the pool (see
/// [`Layer::backward_through_pool`]).
pub struct PooledGradient<'a> {
    pub pool: &'a MaxPool2d,
    /// The pool's output and dL/d(output).
    pub y: &'a Tensor,
    pub dy: &'a Tensor,
}

/// Training uses batch statistics and dropout; evaluation uses running statistics, no dropout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

/// A learnable tensor and its gradient.
#[derive(Clone, Debug)]
pub struct Param {
    /// `weight`, `bias`, `gamma`, `beta`.
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub value: Vec<f32>,
    pub grad: Vec<f32>,
    /// Whether weight decay applies (weights yes; biases and batch-norm scale/shift no).
    pub decay: bool,
}

impl Param {
    pub fn new(name: &'static str, shape: &[usize], value: Vec<f32>, decay: bool) -> Param {
        assert_eq!(shape.iter().product::<usize>(), value.len());
        let grad = vec![0.0; value.len()];
        Param { name, shape: shape.to_vec(), value, grad, decay }
    }
}

/// A non-trainable state tensor (batch-norm running statistics), saved with the model.
pub struct Buffer<'a> {
    pub name: &'static str,
    pub value: &'a mut Vec<f32>,
}

pub trait Layer: Send {
    /// The Keras class name shown in the summary, e.g. `Conv2D`.
    fn kind(&self) -> &'static str;

    /// The spec token that builds this layer, e.g. `conv32k3same`.
    fn spec(&self) -> String;

    /// Shape of one output sample.
    fn out_shape(&self) -> Vec<usize>;

    /// `x` is (N, in_shape…); returns (N, out_shape…).
    fn forward(&mut self, x: &Tensor, mode: Mode) -> Tensor;

    /// `x`, `y` are the last forward's input and output, `dy` is dL/dy. Adds dL/dθ to the
    /// parameter gradients and returns dL/dx when `want_dx` (the first layer skips it).
    /// A layer may reuse what its last forward computed (a convolution keeps its patches), so
    /// `backward` must follow the forward of the same `x`, as the model guarantees.
    fn backward(&mut self, x: &Tensor, y: &Tensor, dy: &Tensor, want_dx: bool) -> Option<Tensor>;

    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }

    fn buffers_mut(&mut self) -> Vec<Buffer<'_>> {
        Vec::new()
    }

    /// Multiply-adds of one sample's forward pass (0 for layers without a product).
    fn forward_macs(&self) -> usize {
        0
    }

    /// Number of non-trainable values (counted in the summary as Keras does).
    fn non_trainable_count(&self) -> usize {
        0
    }

    /// Asks the layer to apply the ReLU that follows it to its own output, in the pass that writes
    /// the output, and to mask `dy` where the ReLU passed its input (by `y > 0`, or recomputed
    /// from the input) in its backward. Returns whether it will; the
    /// model then skips that ReLU layer (same values, two fewer passes over the activation).
    fn fuse_relu(&mut self) -> bool {
        false
    }

    /// Asks the layer, whose input is the output of a ReLU fused into the layer before, to mask
    /// the dx it returns by that ReLU (`x > 0`) itself. Returns whether it will; the model then
    /// tells the layer before to [`skip_relu_mask`](Layer::skip_relu_mask).
    fn mask_input_gradient_by_relu(&mut self) -> bool {
        false
    }

    /// The backward when this layer's output (after its fused ReLU) goes into a max-pool: `pooled`
    /// holds the pool and its output's gradient. By default the pool's backward runs on the whole
    /// batch first; a layer that works in chunks of samples can unpool each chunk itself
    /// ([`MaxPool2d::unpool`]) so that `dy` stays in cache. The same bits either way.
    fn backward_through_pool(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        pooled: &PooledGradient<'_>,
        want_dx: bool,
    ) -> Option<Tensor> {
        let dy = pooled.pool.unpool_batch(&y.shape, pooled.y, pooled.dy);
        let dx = self.backward(x, y, &dy, want_dx);
        dy.recycle();
        dx
    }

    /// A training forward that also applies the max-pool after this layer (and after its fused
    /// ReLU), recording the pool's winners in `pool` for the backward: returns the pool's output,
    /// the same bits as the two layers, or `None` when this layer does not (the model then runs
    /// both). The unpooled output is not kept: the backward then comes through
    /// [`backward_through_pool`](Layer::backward_through_pool) with an empty `y`.
    fn forward_through_pool(&mut self, _x: &Tensor, _pool: &mut MaxPool2d) -> Option<Tensor> {
        None
    }

    /// This layer as a max-pool, for the layer before it to run its forward or backward.
    fn as_max_pool(&self) -> Option<&MaxPool2d> {
        None
    }

    fn as_max_pool_mut(&mut self) -> Option<&mut MaxPool2d> {
        None
    }

    /// A max-pool's window, (kernel, stride); `None` for every other layer.
    fn pool_window(&self) -> Option<(usize, usize)> {
        None
    }

    /// Asks the layer to apply the max-pool after it (and after its fused ReLU) itself in
    /// evaluation forwards, where no backward needs its unpooled output: the forward then returns
    /// the pool's output, the same bits. Returns whether it will; the model then skips the pool
    /// layer in evaluation (training runs both layers as they are).
    fn fuse_pool(&mut self, _window: (usize, usize)) -> bool {
        false
    }

    /// Tells a layer that applies a fused ReLU that the `dy` its backward receives is already
    /// masked by it (see [`mask_input_gradient_by_relu`](Layer::mask_input_gradient_by_relu)).
    fn skip_relu_mask(&mut self) {}

    /// For gradient checks: reuse the last dropout mask instead of drawing a new one.
    fn freeze_randomness(&mut self, _frozen: bool) {}

    /// Replaces the layer's random stream (dropout), e.g. at the start of each epoch.
    fn set_rng(&mut self, _rng: crate::engine::rng::Rng) {}
}
