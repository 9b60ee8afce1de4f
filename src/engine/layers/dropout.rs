//! Inverted dropout. x, y same shape. Train: y = x·m with m = 0 (probability p) or 1/(1-p), so
//! evaluation is the identity. The mask comes from the layer's own seeded stream, drawn in a
//! fixed order, so it does not depend on the thread count.

use super::{Layer, Mode};
use crate::engine::kernels::elementwise::multiply;
use crate::engine::parallel::map2_par;
use crate::engine::rng::Rng;
use crate::engine::tensor::Tensor;

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
            let rng = &mut self.rng;
            // Drawn in order on one thread (the stream must not depend on the thread count),
            // into the last mask's buffer.
            self.mask.clear();
            self.mask.extend((0..x.len()).map(|_| if rng.next_f32() < rate { 0.0 } else { keep }));
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
