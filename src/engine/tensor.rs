//! A dense f32 tensor in NCHW (or N×features) layout: a shape and a flat buffer.

/// A batch of samples: `shape[0]` is the batch size, the rest is the per-sample shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor { shape: shape.to_vec(), data: vec![0.0; shape.iter().product()] }
    }

    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor shape {shape:?} does not match {} values",
            data.len()
        );
        Tensor { shape: shape.to_vec(), data }
    }

    /// Number of samples in the batch.
    pub fn batch(&self) -> usize {
        self.shape[0]
    }

    /// Number of values in one sample.
    pub fn sample_len(&self) -> usize {
        self.shape[1..].iter().product()
    }

    pub fn sample(&self, n: usize) -> &[f32] {
        let len = self.sample_len();
        &self.data[n * len..(n + 1) * len]
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
