//! Confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty
//! in Dataset Labels", 2021) over out-of-sample predicted probabilities, as pure functions.
//!
//! The probabilities must come from models that never trained on the image they score (k-fold
//! cross-validation): a network that saw an image memorises its label, noisy or not, and then
//! agrees with it. Given those, the method needs no guess of the noise rate:
//!
//! 1. per-class threshold t_j = the mean p(j) over the images labelled j — how confident the
//!    model typically is on a class it is right about;
//! 2. the confident joint C[i][j] counts the images labelled i whose probability reaches the
//!    threshold of class j; when several classes reach theirs, the image counts once, for the one
//!    with the largest p(j) (the image's own class included, so an image whose own class is
//!    that one sits on the diagonal);
//! 3. which images, once the joint has said how many ([`Prune`]):
//!    - by noise rate (cleanlab's `prune_by_noise_rate`): C calibrated (each row scaled to its
//!      class's image count, the whole to N), then for each off-diagonal cell (i, j) that many
//!      images labelled i with the largest margin p(j) − p(i) — the cell says how many labels
//!      went from j to i, the margin says which ones most clearly did;
//!    - by self-confidence: the off-diagonal total of the uncalibrated C — the estimated number
//!      of wrong labels, cleanlab's `num_label_issues` — taken over the whole set, lowest
//!      p(given) first, each suggesting its most probable other class;
//!    - capped (the default): the noise-rate flags, but no more of them than that estimated
//!      number, the lowest p(given) kept. Calibration spreads the images counted in no class
//!      over their row's cells, which inflates the per-cell quotas (on Fashion-MNIST with 12,000
//!      injected flips: 14,200–14,300 calibrated against 12,000–12,400 uncalibrated), so the
//!      cells say where to look and the uncalibrated total how many to take.
//!
//!    Under every rule an image flagged whose model argmax is its given label is unflagged, as
//!    cleanlab does: the model would not change it. Measured on Fashion-MNIST with 20% injected
//!    noise (README, detector benchmark), self-confidence finds symmetric noise best and the
//!    per-cell rule noise along class pairs best; the capped rule is within 0.03 F1 of the
//!    better of the two on both, where each of the others misses one by 0.06–0.19.
//!
//! The flags are then ranked, most suspect first, by self-confidence p(given) ascending, by
//! normalised margin (p(given) − max other p + 1) / 2 ascending, or by p(suggested) descending.
//!
//! `probs` is always N × K, row-major (image n's class k at `n * K + k`), and `labels` holds N
//! labels below K. The functions assume those shapes; callers check them against their files.

use crate::engine::step::argmax;

/// How a list of flagged images is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    /// By p(given label), lowest first (score = 1 − p(given)).
    SelfConfidence,
    /// By normalised margin (p(given) − max other p + 1) / 2, lowest first (score = 1 − that).
    Margin,
    /// By p(suggested label), highest first (score = that): the images the model most firmly
    /// puts in another class. With pair noise it puts flips first where the other two do not
    /// (README, detector benchmark: top-500 precision 0.78–0.79 against 0.32–0.33 by
    /// self-confidence), and it is as good with symmetric noise.
    Suggested,
}

impl Rank {
    pub fn parse(text: &str) -> Result<Rank, String> {
        match text {
            "self-confidence" => Ok(Rank::SelfConfidence),
            "margin" => Ok(Rank::Margin),
            "suggested" => Ok(Rank::Suggested),
            _ => Err(format!("unknown --rank '{text}'; use self-confidence, margin or suggested")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rank::SelfConfidence => "self-confidence",
            Rank::Margin => "margin",
            Rank::Suggested => "suggested",
        }
    }
}

/// Which images confident learning flags (module docs, step 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prune {
    SelfConfidence,
    NoiseRate,
    Capped,
}

impl Prune {
    pub fn parse(text: &str) -> Result<Prune, String> {
        match text {
            "self-confidence" => Ok(Prune::SelfConfidence),
            "noise-rate" => Ok(Prune::NoiseRate),
            "capped" => Ok(Prune::Capped),
            _ => Err(format!("unknown --prune '{text}'; use capped, noise-rate or self-confidence")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Prune::SelfConfidence => "self-confidence",
            Prune::NoiseRate => "noise-rate",
            Prune::Capped => "capped",
        }
    }
}

/// An image whose label is in doubt, before ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub index: usize,
    pub given: u8,
    pub suggested: u8,
    /// Higher = more suspect; set by [`rank`].
    pub score: f64,
}

fn row(probs: &[f32], classes: usize, n: usize) -> &[f32] {
    &probs[n * classes..(n + 1) * classes]
}

/// t_j = mean p(j) over the images labelled j. A class nobody carries gets +∞, so no image can
/// be confidently counted in it (there is no evidence of what confidence in it looks like).
pub fn thresholds(probs: &[f32], labels: &[u8], classes: usize) -> Vec<f64> {
    let (mut sum, mut count) = (vec![0.0f64; classes], vec![0usize; classes]);
    for (n, &label) in labels.iter().enumerate() {
        let j = label as usize;
        sum[j] += probs[n * classes + j] as f64;
        count[j] += 1;
    }
    sum.iter().zip(&count).map(|(&s, &c)| if c == 0 { f64::INFINITY } else { s / c as f64 }).collect()
}

/// The class image `row` is confidently counted in: among the classes whose probability
/// reaches their threshold, the most probable (the lower class on ties); `None` when none does.
pub fn confident_class(row: &[f32], thresholds: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (j, (&p, &t)) in row.iter().zip(thresholds).enumerate() {
        if p as f64 >= t && best.is_none_or(|b| p > row[b]) {
            best = Some(j);
        }
    }
    best
}

/// The confident joint, K × K row-major: `joint[i * K + j]` counts the images labelled i
/// confidently counted in class j. Images counted in no class are left out.
pub fn confident_joint(probs: &[f32], labels: &[u8], classes: usize, thresholds: &[f64]) -> Vec<usize> {
    let mut joint = vec![0; classes * classes];
    for (n, &label) in labels.iter().enumerate() {
        if let Some(j) = confident_class(row(probs, classes, n), thresholds) {
            joint[label as usize * classes + j] += 1;
        }
    }
    joint
}

/// Confident learning's label issues (module docs), unranked, by index.
pub fn confident_learning(probs: &[f32], labels: &[u8], classes: usize, prune: Prune) -> Vec<Flag> {
    let t = thresholds(probs, labels, classes);
    let joint = confident_joint(probs, labels, classes, &t);
    let suggested = match prune {
        Prune::SelfConfidence => lowest_self_confidence(probs, labels, classes, &joint),
        Prune::NoiseRate | Prune::Capped => by_noise_rate(probs, labels, classes, &joint),
    };
    let mut flags: Vec<Flag> = suggested
        .iter()
        .enumerate()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .filter(|&(n, _)| argmax(row(probs, classes, n)) != labels[n] as usize)
        .map(|(index, suggested)| Flag { index, given: labels[index], suggested, score: 0.0 })
        .collect();
    let limit = off_diagonal_total(&joint, classes);
    if prune == Prune::Capped && flags.len() > limit {
        let own = |f: &Flag| row(probs, classes, f.index)[f.given as usize];
        flags.sort_by(|a, b| own(a).total_cmp(&own(b)).then(a.index.cmp(&b.index)));
        flags.truncate(limit);
        flags.sort_by_key(|f| f.index);
    }
    flags
}

/// The number of images the joint counts in a class other than their label's.
fn off_diagonal_total(joint: &[usize], classes: usize) -> usize {
    (0..classes * classes).filter(|c| c / classes != c % classes).map(|c| joint[c]).sum()
}

/// As many images as the joint's off-diagonal total, lowest p(given) first (ties by index),
/// each suggesting its most probable other class: `suggested[n]` for those, `None` for the rest.
fn lowest_self_confidence(probs: &[f32], labels: &[u8], classes: usize, joint: &[usize]) -> Vec<Option<u8>> {
    let wrong = off_diagonal_total(joint, classes);
    let own = |n: usize| row(probs, classes, n)[labels[n] as usize];
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| own(a).total_cmp(&own(b)).then(a.cmp(&b)));
    let mut suggested = vec![None; labels.len()];
    for &n in order.iter().take(wrong) {
        let p = row(probs, classes, n);
        let other = (0..classes)
            .filter(|&k| k != labels[n] as usize)
            .fold(None, |best: Option<usize>, k| if best.is_none_or(|b| p[k] > p[b]) { Some(k) } else { best });
        suggested[n] = other.map(|k| k as u8);
    }
    suggested
}

/// The confident joint calibrated as the paper (eq. 3) and cleanlab do: each row i scaled to
/// the number of images labelled i (images counted in no class are thereby spread over the
/// row's cells), then the whole to the number of images. K × K row-major.
pub fn calibrated_joint(joint: &[usize], labels: &[u8], classes: usize) -> Vec<f64> {
    let mut labelled = vec![0usize; classes];
    for &label in labels {
        labelled[label as usize] += 1;
    }
    let mut calibrated = vec![0.0f64; classes * classes];
    for i in 0..classes {
        let row_sum: usize = joint[i * classes..(i + 1) * classes].iter().sum();
        if row_sum > 0 {
            for j in 0..classes {
                calibrated[i * classes + j] = joint[i * classes + j] as f64 * labelled[i] as f64 / row_sum as f64;
            }
        }
    }
    let total: f64 = calibrated.iter().sum();
    if total > 0.0 {
        calibrated.iter_mut().for_each(|c| *c *= labels.len() as f64 / total);
    }
    calibrated
}

/// Per off-diagonal cell (i, j), as many images labelled i as the calibrated joint holds there
/// (rounded), those with the largest margin p(j) − p(i); each suggests the class of the cell
/// that picked it (the most probable one when several cells did).
fn by_noise_rate(probs: &[f32], labels: &[u8], classes: usize, joint: &[usize]) -> Vec<Option<u8>> {
    let calibrated = calibrated_joint(joint, labels, classes);
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (n, &label) in labels.iter().enumerate() {
        by_label[label as usize].push(n);
    }
    let mut suggested: Vec<Option<u8>> = vec![None; labels.len()];
    for i in 0..classes {
        for j in (0..classes).filter(|&j| j != i) {
            let count = calibrated[i * classes + j].round() as usize;
            if count == 0 {
                continue;
            }
            let margin = |n: usize| row(probs, classes, n)[j] - row(probs, classes, n)[i];
            let mut members = by_label[i].clone();
            // Largest margin first; ties by index, so the choice never depends on sort stability.
            members.sort_by(|&a, &b| margin(b).total_cmp(&margin(a)).then(a.cmp(&b)));
            for &n in members.iter().take(count) {
                let p = row(probs, classes, n);
                if suggested[n].is_none_or(|s| p[j] > p[s as usize]) {
                    suggested[n] = Some(j as u8);
                }
            }
        }
    }
    suggested
}

/// The plain filter: every image whose out-of-sample argmax is not its label, suggesting the
/// argmax; unranked, by index.
pub fn argmax_disagreement(probs: &[f32], labels: &[u8], classes: usize) -> Vec<Flag> {
    labels
        .iter()
        .enumerate()
        .filter_map(|(n, &label)| {
            let best = argmax(row(probs, classes, n));
            (best != label as usize).then_some(Flag { index: n, given: label, suggested: best as u8, score: 0.0 })
        })
        .collect()
}

/// Scores `flags` by `by` and sorts them most suspect first (ties: lower index first).
pub fn rank(flags: &mut [Flag], probs: &[f32], classes: usize, by: Rank) {
    for flag in flags.iter_mut() {
        let p = row(probs, classes, flag.index);
        let own = p[flag.given as usize] as f64;
        flag.score = match by {
            Rank::SelfConfidence => 1.0 - own,
            Rank::Margin => {
                let other = p
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != flag.given as usize)
                    .map(|(_, &q)| q as f64)
                    .fold(0.0, f64::max);
                1.0 - (own - other + 1.0) / 2.0
            }
            Rank::Suggested => p[flag.suggested as usize] as f64,
        };
    }
    flags.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 14 images, 3 classes, built so that every rule of the method decides something.
    ///
    /// Thresholds: t0 = (.50+.60+.55+.05+.15)/5 = .37, t1 = (.60+.50+.45+.15+.44)/5 = .428,
    /// t2 = (.70+.60+.30+.20)/4 = .45.
    ///
    /// Where each image is counted (classes reaching their threshold → the most probable):
    /// - 0, 1, 2 (label 0): only p0 passes → (0,0).
    /// - 3 (label 0): p1 .45 ≥ .428 and p2 .50 ≥ .45, both pass, p2 larger → (0,2).
    /// - 4 (label 0): p1 .45 passes, p2 .40 does not → (0,1).
    /// - 5, 6 (label 1): p1 passes → (1,1).
    /// - 7 (label 1): p0 .40 ≥ .37 and p1 .45 ≥ .428 both pass, its own p1 is larger → (1,1).
    /// - 8 (label 1): only p0 .45 passes → (1,0).
    /// - 9 (label 1): p0 .50 and its own p1 .44 both pass, p0 larger → (1,0).
    /// - 10, 11 (label 2): p2 passes → (2,2).
    /// - 12 (label 2): p0 .30 < .37, p1 .40 < .428, p2 .30 < .45: counted nowhere.
    /// - 13 (label 2): only p0 .70 passes → (2,0).
    ///
    /// Joint: [[3,1,1],[2,3,0],[1,0,2]]; calibrated, row 2 becomes [1.33, 0, 2.67] (4 images
    /// labelled 2, 3 counted), which rounds to the same counts. Pruning by noise rate:
    /// - (0,1), 1 image: margins p1−p0 over label 0 are −.25, −.40, −.15, .40, .30 → image 3
    ///   (not 4, the image in the cell: 3's margin is larger).
    /// - (0,2), 1 image: p2−p0 are −.25, −.40, −.50, .45, .25 → image 3 again; it suggests 2,
    ///   its larger p of the two.
    /// - (1,0), 2 images: p0−p1 over label 1 are −.50, −.30, −.05, .30, .06 → images 8 and 9.
    /// - (2,0), 1 image: p0−p2 over label 2 are −.60, −.40, 0, .50 → image 13.
    ///
    /// So confident learning flags {3→2, 8→0, 9→0, 13→0}; the argmax filter flags
    /// {3, 4, 8, 9, 12, 13}. Ranked by self-confidence (p given .05, .15, .44, .20):
    /// 3, 8, 13, 9; by normalised margin (p given − max other: −.45, −.30, −.06, −.50):
    /// 13, 3, 8, 9.
    fn example() -> (Vec<f32>, Vec<u8>) {
        let rows: [[f32; 3]; 14] = [
            [0.50, 0.25, 0.25],
            [0.60, 0.20, 0.20],
            [0.55, 0.40, 0.05],
            [0.05, 0.45, 0.50],
            [0.15, 0.45, 0.40],
            [0.10, 0.60, 0.30],
            [0.20, 0.50, 0.30],
            [0.40, 0.45, 0.15],
            [0.45, 0.15, 0.40],
            [0.50, 0.44, 0.06],
            [0.10, 0.20, 0.70],
            [0.20, 0.20, 0.60],
            [0.30, 0.40, 0.30],
            [0.70, 0.10, 0.20],
        ];
        let labels = vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2];
        (rows.concat(), labels)
    }

    #[test]
    fn thresholds_are_the_mean_own_class_probability() {
        let (probs, labels) = example();
        let t = thresholds(&probs, &labels, 3);
        for (got, want) in t.iter().zip([0.37, 0.428, 0.45]) {
            assert!((got - want).abs() < 1e-6, "{t:?}");
        }
        // Nobody is labelled 2: its threshold is out of reach.
        assert_eq!(thresholds(&[0.7, 0.2, 0.1, 0.1, 0.6, 0.3], &[0, 1], 3)[2], f64::INFINITY);
    }

    #[test]
    fn confident_joint_counts_each_image_once_in_its_most_probable_passing_class() {
        let (probs, labels) = example();
        let t = thresholds(&probs, &labels, 3);
        assert_eq!(confident_joint(&probs, &labels, 3, &t), vec![3, 1, 1, 2, 3, 0, 1, 0, 2]);
        assert_eq!(confident_class(&probs[12 * 3..13 * 3], &t), None);
    }

    #[test]
    fn confident_learning_flags_exactly_the_expected_images() {
        let (probs, labels) = example();
        let mut flags = confident_learning(&probs, &labels, 3, Prune::NoiseRate);
        let found: Vec<(usize, u8)> = flags.iter().map(|f| (f.index, f.suggested)).collect();
        assert_eq!(found, vec![(3, 2), (8, 0), (9, 0), (13, 0)]);
        rank(&mut flags, &probs, 3, Rank::SelfConfidence);
        assert_eq!(flags.iter().map(|f| f.index).collect::<Vec<_>>(), vec![3, 8, 13, 9]);
        assert!((flags[0].score - 0.95).abs() < 1e-6);
        rank(&mut flags, &probs, 3, Rank::Margin);
        assert_eq!(flags.iter().map(|f| f.index).collect::<Vec<_>>(), vec![13, 3, 8, 9]);
        assert!((flags[0].score - 0.75).abs() < 1e-6);
        // p(suggested): 13 → 0 .70, 3 → 2 .50, 9 → 0 .50 (ties by index), 8 → 0 .45.
        rank(&mut flags, &probs, 3, Rank::Suggested);
        assert_eq!(flags.iter().map(|f| f.index).collect::<Vec<_>>(), vec![13, 3, 9, 8]);
        assert!((flags[0].score - 0.70).abs() < 1e-6);
    }

    #[test]
    fn the_calibrated_joint_scales_rows_to_class_counts_and_the_whole_to_n() {
        // Labels: five 0s, five 1s, four 2s; row 2 counts only 3 images (image 12 is counted
        // nowhere), so it is scaled by 4/3: the (2,0) cell holds 1.33 and still prunes 1 image.
        let (probs, labels) = example();
        let t = thresholds(&probs, &labels, 3);
        let calibrated = calibrated_joint(&confident_joint(&probs, &labels, 3, &t), &labels, 3);
        let want = [3.0, 1.0, 1.0, 2.0, 3.0, 0.0, 4.0 / 3.0, 0.0, 8.0 / 3.0];
        for (got, want) in calibrated.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{calibrated:?}");
        }
        // A class whose images are counted nowhere keeps a zero row; the rest is scaled to N.
        let calibrated = calibrated_joint(&[2, 0, 0, 0], &[0, 0, 1, 1], 2);
        assert_eq!(calibrated, vec![4.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn pruning_by_self_confidence_takes_the_joints_count_lowest_p_given_first() {
        // The joint's off-diagonal total is 1 + 1 + 2 + 0 + 1 + 0 = 5 wrong labels. Lowest
        // p(given): image 3 (.05), 4 and 8 (.15, by index), 13 (.20), 12 (.30); each suggests
        // its most probable other class, and none has its own label as argmax.
        let (probs, labels) = example();
        let found: Vec<(usize, u8)> = confident_learning(&probs, &labels, 3, Prune::SelfConfidence)
            .iter()
            .map(|f| (f.index, f.suggested))
            .collect();
        assert_eq!(found, vec![(3, 2), (4, 1), (8, 0), (12, 1), (13, 0)]);
        assert_eq!(Prune::parse("noise-rate"), Ok(Prune::NoiseRate));
        assert_eq!(Prune::parse("self-confidence").map(Prune::name), Ok("self-confidence"));
        assert_eq!(Prune::parse("capped").map(Prune::name), Ok("capped"));
        let refused = "unknown --prune 'both'; use capped, noise-rate or self-confidence";
        assert_eq!(Prune::parse("both"), Err(refused.to_string()));
    }

    #[test]
    fn capped_pruning_keeps_no_more_noise_rate_flags_than_the_uncalibrated_count() {
        // Labels 0 (images 0–4) and 1 (5, 6). t0 = (.95 + .20 + 3 × .48)/5 = .518, t1 =
        // (.90 + .60)/2 = .75. Counted: 0 → (0,0); 1 (p1 .80) → (0,1); 2–4 (.48/.52) reach
        // neither threshold; 5 → (1,1); 6 (.40/.60) neither. Joint [[1,1],[0,1]]: one wrong label.
        // Calibrated, row 0 (5 images, 2 counted) becomes [2.5, 2.5]: cell (0,1) prunes 3 (2.5
        // rounds up), by margin p1 − p0: image 1 (.60), then 2 and 3 (.04, by index), all with
        // argmax 1. Capped at the joint's one, the lowest p(given) stays: image 1 (.20).
        let probs = [0.95, 0.05, 0.20, 0.80, 0.48, 0.52, 0.48, 0.52, 0.48, 0.52, 0.10, 0.90, 0.40, 0.60];
        let labels = [0, 0, 0, 0, 0, 1, 1];
        let t = thresholds(&probs, &labels, 2);
        assert_eq!(confident_joint(&probs, &labels, 2, &t), vec![1, 1, 0, 1]);
        let found = |prune| -> Vec<(usize, u8)> {
            confident_learning(&probs, &labels, 2, prune).iter().map(|f| (f.index, f.suggested)).collect()
        };
        assert_eq!(found(Prune::NoiseRate), vec![(1, 1), (2, 1), (3, 1)]);
        assert_eq!(found(Prune::Capped), vec![(1, 1)]);
        // Under the cap the two rules agree: the example's 4 noise-rate flags against its 5.
        let (probs, labels) = example();
        assert_eq!(
            confident_learning(&probs, &labels, 3, Prune::Capped),
            confident_learning(&probs, &labels, 3, Prune::NoiseRate)
        );
    }

    #[test]
    fn argmax_filter_flags_every_disagreement() {
        let (probs, labels) = example();
        let found: Vec<(usize, u8)> =
            argmax_disagreement(&probs, &labels, 3).iter().map(|f| (f.index, f.suggested)).collect();
        assert_eq!(found, vec![(3, 2), (4, 1), (8, 0), (9, 0), (12, 1), (13, 0)]);
    }

    #[test]
    fn an_image_the_model_agrees_with_is_never_flagged() {
        // Labels 0, 0, 1, 1; t0 = (.90 + .52)/2 = .71, t1 = (.55 + .40)/2 = .475. Image 1
        // (label 0, p = .52/.48) misses t0 but reaches t1, so cell (0,1) counts it and pruning
        // picks it (margin −.04 beats image 0's −.80); yet its argmax is its own label, so it
        // is dropped. Image 3 reaches no threshold: only the argmax filter flags it.
        let probs = [0.90, 0.10, 0.52, 0.48, 0.45, 0.55, 0.60, 0.40];
        let labels = [0, 0, 1, 1];
        let t = thresholds(&probs, &labels, 2);
        assert!((t[0] - 0.71).abs() < 1e-6 && (t[1] - 0.475).abs() < 1e-6, "{t:?}");
        assert_eq!(confident_joint(&probs, &labels, 2, &t), vec![1, 1, 0, 1]);
        assert!(confident_learning(&probs, &labels, 2, Prune::NoiseRate).is_empty());
        // By self-confidence the one wrong label the joint counts is image 3 (p given .40).
        let flags = confident_learning(&probs, &labels, 2, Prune::SelfConfidence);
        assert_eq!(flags.iter().map(|f| (f.index, f.suggested)).collect::<Vec<_>>(), vec![(3, 0)]);
        let argmax_flags = argmax_disagreement(&probs, &labels, 2);
        assert_eq!(argmax_flags.iter().map(|f| (f.index, f.suggested)).collect::<Vec<_>>(), vec![(3, 0)]);
    }

    #[test]
    fn rank_names_parse_and_unknown_ones_are_refused() {
        assert_eq!(Rank::parse("margin"), Ok(Rank::Margin));
        assert_eq!(Rank::parse("self-confidence").map(Rank::name), Ok("self-confidence"));
        assert_eq!(Rank::parse("suggested").map(Rank::name), Ok("suggested"));
        let refused = "unknown --rank 'loss'; use self-confidence, margin or suggested";
        assert_eq!(Rank::parse("loss"), Err(refused.to_string()));
    }
}
