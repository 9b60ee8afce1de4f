//! ReLU. x, y, dy, dx all have the same shape; y = max(x, 0), dx = dy·[y > 0].

use super::{Layer, Mode};
use crate::engine::kernels::elementwise::{relu_backward, relu_forward};
use crate::engine::parallel::{ELEMENTS_PER_TASK, for_each_task, map2_par};
use crate::engine::tensor::Tensor;

pub struct Relu {
    shape: Vec<usize>,
}

impl Relu {
    pub fn new(in_shape: &[usize]) -> Relu {
        Relu { shape: in_shape.to_vec() }
    }
}

impl Layer for Relu {
    fn kind(&self) -> &'static str {
        "ReLU"
    }

    fn spec(&self) -> String {
        "relu".into()
    }

    fn out_shape(&self) -> Vec<usize> {
        self.shape.clone()
    }

    fn forward(&mut self, x: &Tensor, _mode: Mode) -> Tensor {
        let mut y = Tensor::for_overwrite(&x.shape);
        let chunks = y.data.chunks_mut(ELEMENTS_PER_TASK).zip(x.data.chunks(ELEMENTS_PER_TASK));
        for_each_task(chunks, |(y, x)| relu_forward(x, y));
        y
    }

    fn backward(&mut self, _x: &Tensor, y: &Tensor, dy: &Tensor, _want_dx: bool) -> Option<Tensor> {
        Some(map2_par(&dy.shape, &y.data, &dy.data, relu_backward))
    }
}
