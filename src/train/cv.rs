//! k-fold cross-validation: seeded fold assignment, per-fold results, and their merge.

use crate::engine::rng::{Purpose, Rng};
use serde::{Deserialize, Serialize};

/// The fold (0..folds) of each of `n` samples: a seeded permutation cut into `folds` blocks
/// whose sizes differ by at most one.
pub fn fold_assignment(n: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::stream(seed, Purpose::Split, 1).shuffle(&mut order);
    let mut fold_of = vec![0; n];
    for (position, &index) in order.iter().enumerate() {
        fold_of[index] = position * folds / n.max(1);
    }
    fold_of
}

/// (training indices, held-out indices) of `fold`, each ascending.
pub fn fold_split(fold_of: &[usize], fold: usize) -> (Vec<usize>, Vec<usize>) {
    (0..fold_of.len()).partition(|&i| fold_of[i] != fold)
}

/// What one fold's run writes to `fold-<i>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldResult {
    /// 1-based, as printed.
    pub fold: usize,
    pub folds: usize,
    pub seed: u64,
    pub spec: String,
    pub accuracy: f64,
    pub loss: f64,
    pub train_images: usize,
    pub held_out_images: usize,
    pub epochs: usize,
    pub seconds: f64,
}

/// Mean and sample standard deviation (n − 1; 0 for a single value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_the_samples_in_nearly_equal_parts() {
        let fold_of = fold_assignment(103, 5, 9);
        let mut sizes = [0; 5];
        for &f in &fold_of {
            sizes[f] += 1;
        }
        assert!(sizes.iter().all(|&s| s == 20 || s == 21), "{sizes:?}");
        let (train, held) = fold_split(&fold_of, 2);
        assert_eq!(train.len() + held.len(), 103);
        assert!(held.iter().all(|&i| fold_of[i] == 2) && train.iter().all(|&i| fold_of[i] != 2));
        assert_eq!(fold_assignment(103, 5, 9), fold_of);
        assert_ne!(fold_assignment(103, 5, 10), fold_of);
    }

    #[test]
    fn mean_and_sample_standard_deviation() {
        let (m, s) = mean_std(&[0.9, 0.8, 0.7]);
        assert!((m - 0.8).abs() < 1e-12 && (s - 0.1).abs() < 1e-12);
    }
}
