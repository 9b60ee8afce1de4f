//! A dense f32 tensor in NCHW (or N×features) layout: a shape and a flat buffer.
//!
//! Activations and gradients have the same sizes batch after batch, so freed buffers go back to
//! a small pool ([`Tensor::recycle`]) and the next [`Tensor::for_overwrite`] of a similar size
//! takes one instead of zeroing fresh memory (`memset` was 6–8% of a `seed002` profile).

use std::sync::Mutex;

/// Recycled buffers, oldest first. Every element is an initialised float (stale values, never
/// uninitialised memory), so reusing them needs no `unsafe`.
static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
/// Enough for every activation and gradient of a training step of the presets.
const POOL_BUFFERS: usize = 48;

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

    /// A tensor whose values are unspecified (left over from a recycled one): for outputs the
    /// caller writes in full before anything reads them.
    pub fn for_overwrite(shape: &[usize]) -> Tensor {
        let len = shape.iter().product();
        let reused = {
            let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // The smallest buffer that fits and is not more than twice as large.
            let best = (pool.iter().enumerate())
                .filter(|(_, b)| b.len() >= len && b.len() <= 2 * len)
                .min_by_key(|(_, b)| b.len())
                .map(|(i, _)| i);
            best.map(|i| pool.remove(i))
        };
        let data = match reused {
            Some(mut data) => {
                data.truncate(len);
                data
            }
            None => vec![0.0; len],
        };
        Tensor { shape: shape.to_vec(), data }
    }

    /// Gives this tensor's buffer back for [`Tensor::for_overwrite`] to reuse.
    pub fn recycle(self) {
        let mut data = self.data;
        if data.capacity() == 0 {
            return;
        }
        // Make the whole allocation usable again (a no-op unless it was truncated).
        data.resize(data.capacity(), 0.0);
        let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if pool.len() == POOL_BUFFERS {
            pool.remove(0);
        }
        pool.push(data);
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
