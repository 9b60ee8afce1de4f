//! The sequential network. It owns the activations of the last forward pass (`acts[i]` is the
//! input of layer i, the last one the logits), so each layer's backward gets its input and
//! output without copies, as in llm.c.
//!
//! A ReLU right after a layer that can apply it itself (a convolution or batch-norm) is fused into that layer
//! when the model is built: the ReLU stays in the layer list (summary, spec, checkpoints are
//! unchanged) but is skipped, and its activation slot is an empty stand-in for the one before.
//! The values are the same bits; two passes over a large activation are saved.

use super::spec::{LayerSpec, SpecError, parse_spec};
use crate::engine::init::Init;
use crate::engine::layers::{
    BatchNorm, Buffer, Conv2d, Dense, Dropout, Flatten, Layer, MaxPool2d, Mode, Param, PooledGradient, Relu,
};
use crate::engine::rng::{Purpose, Rng};
use crate::engine::tensor::Tensor;

/// Samples per pass through the whole network in [`Sequential::predict`], so each layer's output
/// is still in cache when the next layer reads it. 64 was best (three alternating rounds of
/// `bench --infer --batch-size 1000`) while `seed002`'s first activation went out whole (86 KB a
/// sample); since the convolutions pool their own output in evaluation (21.6 KB a sample there),
/// 200 ran 1.07× faster than 64 (1.07, 1.10, 1.01, 1.18, 1.04; peak memory 57 → 71 MB) and 500
/// no faster than 200 (1.02×; 0.70–1.11, memory 1.66×) (`ROUNDS=5 benches/ab.sh`).
const PREDICT_CHUNK: usize = 200;

pub struct Sequential {
    pub name: String,
    input_shape: Vec<usize>,
    layers: Vec<Box<dyn Layer>>,
    /// `fused[i]`: layer i is a ReLU that layer i - 1 applies.
    fused: Vec<bool>,
    /// `pooled[i]`: layer i is a max-pool that the layer owning the output before it applies in
    /// evaluation forwards.
    pooled: Vec<bool>,
    activations: Vec<Tensor>,
}

fn shape_text(shape: &[usize]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
}

/// Builds one layer for an input of `shape`, or says why it cannot follow.
fn build_layer(
    layer: &LayerSpec,
    shape: &[usize],
    init: Init,
    init_rng: &mut Rng,
    seed: u64,
    index: usize,
) -> Result<Box<dyn Layer>, String> {
    let image = |what: &str| -> Result<(), String> {
        if shape.len() == 3 {
            Ok(())
        } else {
            Err(format!(
                "{what} needs an image input (channels×height×width) but gets {}; put it before 'flatten'",
                shape_text(shape)
            ))
        }
    };
    Ok(match *layer {
        LayerSpec::Conv { filters, kernel, stride, padding } => {
            image("a convolution")?;
            let pad = match padding {
                crate::engine::layers::Padding::Valid => 0,
                crate::engine::layers::Padding::Same => (kernel - 1) / 2,
                crate::engine::layers::Padding::Explicit(p) => p,
            };
            if kernel > shape[1] + 2 * pad || kernel > shape[2] + 2 * pad {
                return Err(format!("a {kernel}×{kernel} kernel does not fit the {} input", shape_text(shape)));
            }
            if pad >= kernel {
                return Err(format!("padding {pad} must be smaller than the kernel {kernel}"));
            }
            Box::new(Conv2d::new(shape, filters, kernel, stride, padding, init, init_rng))
        }
        LayerSpec::Pool { kernel, stride } => {
            image("max-pooling")?;
            if kernel > shape[1] || kernel > shape[2] {
                return Err(format!("a {kernel}×{kernel} pool does not fit the {} input", shape_text(shape)));
            }
            Box::new(MaxPool2d::new(shape, kernel, stride))
        }
        LayerSpec::BatchNorm => Box::new(BatchNorm::new(shape)),
        LayerSpec::Relu => Box::new(Relu::new(shape)),
        LayerSpec::Dropout(rate) => {
            Box::new(Dropout::new(shape, rate, Rng::stream(seed, Purpose::Dropout, index as u64)))
        }
        LayerSpec::Flatten => Box::new(Flatten::new(shape)),
        LayerSpec::Dense(units) => {
            if shape.len() != 1 {
                return Err(format!(
                    "a dense layer needs a flat input but gets {}; add 'flatten' before it",
                    shape_text(shape)
                ));
            }
            Box::new(Dense::new(shape[0], units, init, init_rng))
        }
    })
}

/// Where activation `i` (the input of layer i) really is: fused ReLUs leave an empty stand-in
/// whose value is the activation before it.
fn real_activation(fused: &[bool], mut i: usize) -> usize {
    while i > 0 && fused[i - 1] {
        i -= 1;
    }
    i
}

/// Hands kept activations back to the tensor pool for the next pass to reuse.
fn recycle_all(activations: &mut Vec<Tensor>) {
    for t in activations.drain(..) {
        t.recycle();
    }
}

impl Sequential {
    /// Builds the network of `spec` for samples of `input_shape` (C, H, W) and `classes` outputs.
    pub fn from_spec(
        name: &str,
        spec: &str,
        input_shape: &[usize],
        classes: usize,
        init: Init,
        seed: u64,
    ) -> Result<Sequential, SpecError> {
        let tokens = parse_spec(spec)?;
        let mut init_rng = Rng::stream(seed, Purpose::Init, 0);
        let mut shape = input_shape.to_vec();
        let mut layers: Vec<Box<dyn Layer>> = Vec::with_capacity(tokens.len());
        for (i, (token, layer)) in tokens.iter().enumerate() {
            let built = build_layer(layer, &shape, init, &mut init_rng, seed, i).map_err(|message| SpecError {
                position: i + 1,
                token: token.clone(),
                message,
            })?;
            shape = built.out_shape();
            if shape.contains(&0) {
                return Err(SpecError {
                    position: i + 1,
                    token: token.clone(),
                    message: "the output would be empty".into(),
                });
            }
            layers.push(built);
        }
        if shape != [classes] {
            let (position, token) = (tokens.len(), tokens.last().map(|t| t.0.clone()).unwrap_or_default());
            return Err(SpecError {
                position,
                token,
                message: format!(
                    "the network must end with dense{classes} (one score per class) but its output is {}",
                    shape_text(&shape)
                ),
            });
        }
        let mut fused = vec![false; layers.len()];
        for i in 1..layers.len() {
            fused[i] = layers[i].kind() == "ReLU" && !fused[i - 1] && layers[i - 1].fuse_relu();
        }
        // A max-pool after a fused ReLU masks its own dy, a quarter of the activation's size, and
        // so spares the ReLU's owner a mask over the whole activation.
        for i in 2..layers.len() {
            if fused[i - 1] && layers[i].mask_input_gradient_by_relu() {
                layers[i - 2].skip_relu_mask();
            }
        }
        // A max-pool after a convolution (and its fused ReLU) is applied by the convolution in
        // evaluation forwards: the unpooled activation then stays in cache.
        let mut pooled = vec![false; layers.len()];
        for i in 1..layers.len() {
            let owner = if fused[i - 1] { i.checked_sub(2) } else { Some(i - 1) };
            if let (Some(window), Some(owner)) = (layers[i].pool_window(), owner) {
                pooled[i] = layers[owner].fuse_pool(window);
            }
        }
        Ok(Sequential {
            name: name.to_string(),
            input_shape: input_shape.to_vec(),
            layers,
            fused,
            pooled,
            activations: Vec::new(),
        })
    }

    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer>] {
        &mut self.layers
    }

    /// The canonical spec string of this network.
    pub fn spec(&self) -> String {
        self.layers.iter().map(|l| l.spec()).collect::<Vec<_>>().join(",")
    }

    /// Runs the batch through every layer and returns the logits (N, classes). In training mode
    /// the activations are kept for [`Sequential::backward`].
    pub fn forward(&mut self, x: Tensor, mode: Mode) -> &Tensor {
        assert_eq!(
            x.shape[1..],
            self.input_shape[..],
            "input shape {:?} for a model of {:?}",
            x.shape,
            self.input_shape
        );
        recycle_all(&mut self.activations);
        if mode == Mode::Eval {
            // Nothing will go backward: keep only the newest activation.
            let mut current = x;
            let skipped = self.fused.iter().zip(&self.pooled).map(|(&fused, &pooled)| fused || pooled);
            for (layer, _) in self.layers.iter_mut().zip(skipped).filter(|(_, skipped)| !*skipped) {
                let y = layer.forward(&current, mode);
                std::mem::replace(&mut current, y).recycle();
            }
            self.activations.push(current);
            return &self.activations[0];
        }
        self.activations.push(x);
        // The output of a max-pool that the layer before it applied (`Layer::forward_through_pool`);
        // that layer's own output slot is then an empty stand-in.
        let mut pooled_output = None;
        for i in 0..self.layers.len() {
            let x = &self.activations[real_activation(&self.fused, i)];
            let y = if self.fused[i] {
                Tensor::from_vec(&[0], Vec::new())
            } else if let Some(pooled) = pooled_output.take() {
                pooled
            } else {
                let pool = if i + 1 < self.layers.len() && self.fused[i + 1] { i + 2 } else { i + 1 };
                match (self.pooled.get(pool), self.layers.split_at_mut(i + 1)) {
                    (Some(true), (before, after)) => {
                        let pool = after[pool - i - 1].as_max_pool_mut().expect("a pooled layer is a max-pool");
                        pooled_output = before[i].forward_through_pool(x, pool);
                        match pooled_output {
                            Some(_) => Tensor::from_vec(&[0], Vec::new()),
                            None => before[i].forward(x, mode),
                        }
                    }
                    _ => self.layers[i].forward(x, mode),
                }
            };
            self.activations.push(y);
        }
        &self.activations[real_activation(&self.fused, self.layers.len())]
    }

    /// Logits for a batch in evaluation mode.
    ///
    /// Large batches go through the whole network `PREDICT_CHUNK` samples at a time, so each
    /// layer's output is still in cache when the next layer reads it (a 1,000-image batch makes
    /// 86 MB activations in `seed002`). In evaluation mode every sample is computed on its own,
    /// so the logits are the same bits whatever the chunking.
    pub fn predict(&mut self, x: Tensor) -> Tensor {
        let batch = x.batch();
        if batch <= PREDICT_CHUNK {
            self.forward(x, Mode::Eval);
            return self.activations.pop().unwrap();
        }
        let sample_len = x.sample_len();
        let mut logits: Vec<f32> = Vec::new();
        let mut shape = Vec::new();
        for chunk in x.data.chunks(PREDICT_CHUNK * sample_len) {
            let mut chunk_shape = x.shape.clone();
            chunk_shape[0] = chunk.len() / sample_len;
            self.forward(Tensor::from_vec(&chunk_shape, chunk.to_vec()), Mode::Eval);
            let out = self.activations.pop().unwrap();
            shape = out.shape.clone();
            logits.extend_from_slice(&out.data);
        }
        shape[0] = batch;
        Tensor::from_vec(&shape, logits)
    }

    /// Back-propagates dL/dlogits through the last training forward, accumulating gradients.
    pub fn backward(&mut self, dlogits: Tensor) {
        assert_eq!(self.activations.len(), self.layers.len() + 1, "backward needs a training forward first");
        // dx is wanted only while some layer further back has parameters to learn: `mlp003`'s
        // first dense layer, behind a flatten, computed a 784-wide dx that nothing read.
        let first_learning = self.layers.iter().position(|l| !l.params().is_empty()).unwrap_or(0);
        let mut dy = dlogits;
        // A max-pool whose backward is left to the layer whose output it pools, which then unpools
        // its own chunks of samples (`Layer::backward_through_pool`); `dy` meanwhile stays the
        // gradient of the pool's output.
        let mut pending_pool = None;
        for i in (0..self.layers.len()).rev() {
            if self.fused[i] {
                continue; // the layer before masks dy by its ReLU
            }
            let x = &self.activations[real_activation(&self.fused, i)];
            let y = &self.activations[real_activation(&self.fused, i + 1)];
            if pending_pool.is_none() && self.layers[i].as_max_pool().is_some() && real_activation(&self.fused, i) > 0 {
                pending_pool = Some(i);
                continue;
            }
            let want_dx = i > first_learning;
            let dx = match pending_pool.take() {
                Some(p) => {
                    let (before, pool) = self.layers.split_at_mut(p);
                    let pool_y = &self.activations[real_activation(&self.fused, p + 1)];
                    let pooled =
                        PooledGradient { pool: pool[0].as_max_pool().expect("a max-pool"), y: pool_y, dy: &dy };
                    before[i].backward_through_pool(x, y, &pooled, want_dx)
                }
                None => self.layers[i].backward(x, y, &dy, want_dx),
            };
            std::mem::replace(&mut dy, dx.unwrap_or_else(|| Tensor::from_vec(&[0], Vec::new()))).recycle();
            if dy.is_empty() {
                break;
            }
        }
        dy.recycle();
    }

    pub fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }

    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }

    pub fn buffers_mut(&mut self) -> Vec<Buffer<'_>> {
        self.layers.iter_mut().flat_map(|l| l.buffers_mut()).collect()
    }

    pub fn zero_grad(&mut self) {
        for p in self.params_mut() {
            p.grad.fill(0.0);
        }
    }

    pub fn trainable_count(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }

    pub fn non_trainable_count(&self) -> usize {
        self.layers.iter().map(|l| l.non_trainable_count()).sum()
    }

    /// Multiply-adds of one sample's forward pass (convolutions and dense layers).
    pub fn forward_macs(&self) -> usize {
        self.layers.iter().map(|l| l.forward_macs()).sum()
    }

    /// Gives each dropout layer the stream of (seed, epoch, layer), so an epoch's masks do not
    /// depend on how many epochs ran before in this process.
    pub fn reseed_dropout(&mut self, seed: u64, epoch: u64) {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            layer.set_rng(Rng::stream(seed, Purpose::Dropout, (epoch << 16) | i as u64));
        }
    }

    /// For gradient checks: dropout reuses its last mask while frozen.
    pub fn freeze_randomness(&mut self, frozen: bool) {
        for layer in &mut self.layers {
            layer.freeze_randomness(frozen);
        }
    }
}
