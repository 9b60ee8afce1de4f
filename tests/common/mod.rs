//! Shared helpers for the integration tests: random data and finite-difference checks.
#![allow(dead_code)]

use fashion_cnn::engine::rng::Rng;
use fashion_cnn::engine::tensor::Tensor;

pub fn random_tensor(shape: &[usize], low: f32, high: f32, rng: &mut Rng) -> Tensor {
    let len = shape.iter().product();
    Tensor::from_vec(shape, (0..len).map(|_| rng.uniform(low, high)).collect())
}

pub fn random_labels(n: usize, classes: usize, rng: &mut Rng) -> Vec<u8> {
    (0..n).map(|_| rng.below(classes) as u8).collect()
}

/// Relative error with a floor, so that gradients that are both near zero do not count as
/// wrong: |a - n| / max(|a|, |n|, floor).
pub fn relative_error(analytic: f64, numeric: f64, floor: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(floor)
}

/// The worst relative error over a set of compared gradients, and where it was.
#[derive(Debug, Default)]
pub struct Worst {
    pub error: f64,
    pub at: String,
    pub compared: usize,
}

impl Worst {
    pub fn add(&mut self, analytic: f64, numeric: f64, floor: f64, at: impl FnOnce() -> String) {
        let e = relative_error(analytic, numeric, floor);
        self.compared += 1;
        if e > self.error || self.at.is_empty() {
            self.error = self.error.max(e);
            self.at = format!("{} (analytic {analytic:.6e}, numeric {numeric:.6e})", at());
        }
    }

    pub fn assert_below(&self, what: &str, tolerance: f64) {
        println!(
            "{what}: max relative error {:.3e} over {} gradients, worst at {}",
            self.error, self.compared, self.at
        );
        assert!(self.error < tolerance, "{what}: max relative error {:.3e} ≥ {tolerance:e} at {}", self.error, self.at);
    }
}

/// Indices to check in a tensor of `len` values: all of them, or `limit` spread at random.
pub fn sample_indices(len: usize, limit: usize, rng: &mut Rng) -> Vec<usize> {
    if len <= limit { (0..len).collect() } else { (0..limit).map(|_| rng.below(len)).collect() }
}
pub mod cli;
pub mod labels;
pub mod reference;
