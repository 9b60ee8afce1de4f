//! Label noise for measuring the detectors: flip a known set of labels, then score a detector's
//! flags against that set. Knowing exactly which labels are wrong is what real data never gives,
//! so this is where precision and recall can be measured.

use crate::engine::rng::{Purpose, Rng};
use serde::{Deserialize, Serialize};

/// How labels are flipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// Each chosen image gets one of the other classes, uniformly.
    Symmetric,
    /// Each chosen image moves along the Fashion-MNIST confusions [`PAIRS`], the kind of mistake
    /// a hurried annotator makes; only images of those seven classes are chosen.
    Pairs,
}

/// The pair noise map by class number: T-shirt/top(0) ↔ Shirt(6), Pullover(2) ↔ Coat(4),
/// Sandal(5) → Sneaker(7) → Ankle boot(9) → Sandal(5).
pub const PAIRS: [(u8, u8); 7] = [(0, 6), (6, 0), (2, 4), (4, 2), (5, 7), (7, 9), (9, 5)];

impl Noise {
    pub fn parse(text: &str) -> Result<Noise, String> {
        match text {
            "symmetric" => Ok(Noise::Symmetric),
            "pairs" => Ok(Noise::Pairs),
            _ => Err(format!("unknown --noise '{text}'; use symmetric or pairs")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Noise::Symmetric => "symmetric",
            Noise::Pairs => "pairs",
        }
    }
}

/// The label `label` becomes under pair noise, if it is one of the paired classes.
pub fn pair_target(label: u8) -> Option<u8> {
    PAIRS.iter().find(|(from, _)| *from == label).map(|&(_, to)| to)
}

/// Noisy labels and the indices flipped (ascending). `round(rate · N)` images are flipped —
/// `rate` is always a fraction of all N images, also for pair noise, where they are drawn from
/// the images of the seven paired classes only (an error if there are too few). The same
/// `seed` flips the same images the same way.
pub fn inject(
    labels: &[u8],
    classes: usize,
    noise: Noise,
    rate: f64,
    seed: u64,
) -> Result<(Vec<u8>, Vec<usize>), String> {
    if !(rate > 0.0 && rate < 1.0) {
        return Err(format!("--rate must be a fraction in (0, 1), not {rate}"));
    }
    if classes < 2 {
        return Err(format!("noise needs at least 2 classes, not {classes}"));
    }
    let count = (rate * labels.len() as f64).round() as usize;
    let mut candidates: Vec<usize> = match noise {
        Noise::Symmetric => (0..labels.len()).collect(),
        Noise::Pairs => {
            if classes != 10 {
                return Err(format!("pair noise follows the 10 Fashion-MNIST classes; this dataset has {classes}"));
            }
            (0..labels.len()).filter(|&i| pair_target(labels[i]).is_some()).collect()
        }
    };
    if count > candidates.len() {
        return Err(format!(
            "--rate {rate} asks for {count} flips but only {} images are in the classes {} noise can flip",
            candidates.len(),
            noise.name()
        ));
    }
    let mut rng = Rng::stream(seed, Purpose::Other(2), 0);
    rng.shuffle(&mut candidates);
    let mut flipped = candidates[..count].to_vec();
    flipped.sort_unstable();
    let mut noisy = labels.to_vec();
    for &i in &flipped {
        noisy[i] = match noise {
            Noise::Symmetric => {
                // One of the other classes: draw among K − 1 and skip over the true one.
                let draw = rng.below(classes - 1) as u8;
                if draw >= labels[i] { draw + 1 } else { draw }
            }
            Noise::Pairs => pair_target(labels[i]).unwrap_or(labels[i]),
        };
    }
    Ok((noisy, flipped))
}

/// A detector's flags scored against the flipped images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub flagged: usize,
    /// Flagged images that were flipped.
    pub true_positives: usize,
    /// true positives / flagged (0 when nothing is flagged).
    pub precision: f64,
    /// true positives / flipped (0 when nothing was flipped).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Precision among the first min(100, flagged) of the ranking (0 when nothing is flagged).
    pub precision_top_100: f64,
    /// Precision among the first min(500, flagged) of the ranking.
    pub precision_top_500: f64,
}

/// Scores `ranked` (flagged indices, most suspect first) against `flipped` (ascending).
pub fn score(ranked: &[usize], flipped: &[usize]) -> Score {
    let hit = |i: &usize| flipped.binary_search(i).is_ok();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let top = |k: usize| {
        let k = k.min(ranked.len());
        ratio(ranked[..k].iter().filter(|i| hit(i)).count(), k)
    };
    let true_positives = ranked.iter().filter(|i| hit(i)).count();
    let (precision, recall) = (ratio(true_positives, ranked.len()), ratio(true_positives, flipped.len()));
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Score {
        flagged: ranked.len(),
        true_positives,
        precision,
        recall,
        f1,
        precision_top_100: top(100),
        precision_top_500: top(500),
    }
}

/// The noisy labels with every flagged image given its true label: a perfect reviewer.
pub fn corrected(noisy: &[u8], truth: &[u8], flagged: &[usize]) -> Vec<u8> {
    let mut labels = noisy.to_vec();
    for &i in flagged {
        labels[i] = truth[i];
    }
    labels
}

/// The indices 0..n without the flagged ones, ascending.
pub fn without(n: usize, flagged: &[usize]) -> Vec<usize> {
    let mut drop = vec![false; n];
    for &i in flagged {
        drop[i] = true;
    }
    (0..n).filter(|&i| !drop[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<u8> {
        (0..1000).map(|i| (i % 10) as u8).collect()
    }

    #[test]
    fn symmetric_noise_flips_round_rate_n_labels_to_other_classes() {
        let clean = labels();
        let (noisy, flipped) = inject(&clean, 10, Noise::Symmetric, 0.2, 7).unwrap();
        assert_eq!(flipped.len(), 200);
        assert!(flipped.windows(2).all(|w| w[0] < w[1]));
        let changed: Vec<usize> = (0..1000).filter(|&i| noisy[i] != clean[i]).collect();
        assert_eq!(changed, flipped);
        // Every wrong class is reachable: roughly 200/9 per target class.
        let mut targets = [0; 10];
        for &i in &flipped {
            targets[noisy[i] as usize] += 1;
        }
        assert!(targets.iter().all(|&t| (8..=40).contains(&t)), "{targets:?}");
        assert_eq!(inject(&clean, 10, Noise::Symmetric, 0.2, 7).unwrap().1, flipped);
        assert_ne!(inject(&clean, 10, Noise::Symmetric, 0.2, 8).unwrap().1, flipped);
        assert_eq!(inject(&clean, 10, Noise::Symmetric, 0.0015, 7).unwrap().1.len(), 2); // round(1.5) = 2
    }

    #[test]
    fn pair_noise_moves_along_the_pairs_and_counts_against_all_images() {
        let clean = labels();
        let (noisy, flipped) = inject(&clean, 10, Noise::Pairs, 0.3, 1).unwrap();
        assert_eq!(flipped.len(), 300);
        for &i in &flipped {
            assert_eq!(Some(noisy[i]), pair_target(clean[i]), "image {i}");
        }
        assert_eq!((0..1000).filter(|&i| noisy[i] != clean[i]).count(), 300);
        // 700 images are in the seven paired classes; 0.8 of 1000 is more than that.
        assert_eq!(
            inject(&clean, 10, Noise::Pairs, 0.8, 1).unwrap_err(),
            "--rate 0.8 asks for 800 flips but only 700 images are in the classes pairs noise can flip"
        );
        assert_eq!(inject(&clean, 10, Noise::Pairs, 1.0, 1).unwrap_err(), "--rate must be a fraction in (0, 1), not 1");
        assert_eq!(Noise::parse("uniform").unwrap_err(), "unknown --noise 'uniform'; use symmetric or pairs");
    }

    #[test]
    fn scores_count_hits_overall_and_at_the_top() {
        // Flipped 0..10; ranked: 3 hits, 1 miss, then 1 hit → 4 of 5 flagged are flips.
        let flipped: Vec<usize> = (0..10).collect();
        let s = score(&[1, 2, 3, 50, 4], &flipped);
        assert_eq!((s.flagged, s.true_positives), (5, 4));
        assert!((s.precision - 0.8).abs() < 1e-12 && (s.recall - 0.4).abs() < 1e-12);
        assert!((s.f1 - 2.0 * 0.8 * 0.4 / 1.2).abs() < 1e-12);
        assert_eq!((s.precision_top_100, s.precision_top_500), (0.8, 0.8));
        let empty = score(&[], &flipped);
        assert_eq!((empty.precision, empty.recall, empty.f1, empty.precision_top_100), (0.0, 0.0, 0.0, 0.0));
        let ranked: Vec<usize> = (0..100).chain(1000..1100).collect();
        let flipped: Vec<usize> = (0..100).collect();
        let s = score(&ranked, &flipped);
        assert_eq!((s.precision_top_100, s.precision_top_500, s.recall), (1.0, 0.5, 1.0));
    }

    #[test]
    fn a_perfect_reviewer_restores_flagged_labels_and_removal_drops_them() {
        assert_eq!(corrected(&[1, 1, 2, 2], &[0, 1, 2, 3], &[0, 3]), vec![0, 1, 2, 3]);
        assert_eq!(without(5, &[1, 3]), vec![0, 2, 4]);
    }
}
