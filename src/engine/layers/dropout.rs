//! Inverted dropout. x, y same shape. Train: y = x·m with m = 0 (probability p) or 1/(1-p), so
//! evaluation is the identity. The mask comes from the layer's own seeded stream: one draw per
//! forward seeds a stream for each fixed-size chunk of the mask, and the chunks are filled in
//! parallel, so the mask depends on the seed and the tensor's size, never on the thread count.

use super::{Layer, Mode};
use crate::engine::kernels::elementwise::multiply;
use crate::engine::parallel::{for_each_task, map2_par};
use crate::engine::rng::Rng;
use crate::engine::tensor::Tensor;

/// Mask elements drawn from one chunk's stream. Drawn serially, `seed000`'s masks (4.9 million
/// elements a batch of 512) kept one thread busy while the other waited, 2.7% of a step's profile;
/// in parallel one draw per element was still 2.65%.
const MASK_CHUNK: usize = 1 << 15;

pub struct Dropout {
    shape: Vec<usize>,
    rate: f32,
    rng: Rng,
    /// The last mask drawn: 0 or 1/(1-rate) per element.
    mask: Vec<f32>,
    frozen: bool,
}

impl Dropout {
    pub fn new(in_shape: &[usize], rate: f32, rng: Rng) -> Dropout {
        assert!((0.0..1.0).contains(&rate), "dropout rate {rate} outside [0, 1)");
        Dropout { shape: in_shape.to_vec(), rate, rng, mask: Vec::new(), frozen: false }
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        "Dropout"
    }

    fn spec(&self) -> String {
        format!("drop{}", self.rate)
    }

    fn out_shape(&self) -> Vec<usize> {
        self.shape.clone()
    }

    fn forward(&mut self, x: &Tensor, mode: Mode) -> Tensor {
        if mode == Mode::Eval || self.rate == 0.0 {
            self.mask.clear();
            return x.clone();
        }
        if !(self.frozen && self.mask.len() == x.len()) {
            let keep = 1.0 / (1.0 - self.rate);
            let rate = self.rate;
            let seed = self.rng.next_u64();
            // Dropped when a uniform 24-bit draw is below rate · 2^24.
            let drop_below = (rate as f64 * (1u64 << 24) as f64).round() as u64;
            // Into the last mask's buffer.
            self.mask.resize(x.len(), 0.0);
            for_each_task(self.mask.chunks_mut(MASK_CHUNK).enumerate(), |(chunk, mask)| {
                let mut rng = Rng::new(seed ^ (chunk as u64).wrapping_mul(0xA076_1D64_78BD_642F));
                // Two draws of 24 bits from each 64-bit number, compared as integers.
                for pair in mask.chunks_mut(2) {
                    let bits = rng.next_u64();
                    for (m, draw) in pair.iter_mut().zip([bits >> 40, (bits >> 16) & 0xFF_FFFF]) {
                        *m = if draw < drop_below { 0.0 } else { keep };
                    }
                }
            });
        }
        map2_par(&x.shape, &x.data, &self.mask, multiply)
    }

    fn backward(&mut self, _x: &Tensor, _y: &Tensor, dy: &Tensor, _want_dx: bool) -> Option<Tensor> {
        if self.mask.is_empty() {
            return Some(dy.clone());
        }
        Some(map2_par(&dy.shape, &dy.data, &self.mask, multiply))
    }

    fn freeze_randomness(&mut self, frozen: bool) {
        self.frozen = frozen;
    }

    fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }
}
