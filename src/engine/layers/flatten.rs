//! Flatten: (N, C, H, W) → (N, C·H·W). The data does not move; only the shape changes.

use super::{Layer, Mode};
use crate::engine::tensor::Tensor;

pub struct Flatten {
    features: usize,
}

impl Flatten {
    pub fn new(in_shape: &[usize]) -> Flatten {
        Flatten { features: in_shape.iter().product() }
    }
}

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }

    fn spec(&self) -> String {
        "flatten".into()
    }

    fn out_shape(&self) -> Vec<usize> {
        vec![self.features]
    }

    fn forward(&mut self, x: &Tensor, _mode: Mode) -> Tensor {
        Tensor::from_vec(&[x.batch(), self.features], x.data.clone())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, _want_dx: bool) -> Option<Tensor> {
        Some(Tensor::from_vec(&x.shape, dy.data.clone()))
    }
}
