//! The detectors that turn a trained run into a ranked suspects list.
//!
//! - `last-epoch`, the source notebook's method: the training images the network got wrong in
//!   its last epoch, the most confidently wrong first. Cheap, but the network has trained on
//!   those very labels, so the longer it trains the more wrong labels it learns to agree with.
//! - `cross-val`: confident learning ([`super::confident`]) over out-of-fold probabilities.
//! - `argmax`: the same out-of-fold probabilities, flagging every image whose most probable
//!   class is not its label — more recall, less precision than confident learning.

use super::confident::{Flag, Prune, Rank, argmax_disagreement, confident_learning, rank};
use super::suspects::Suspect;
use crate::data::Dataset;
use crate::engine::model::Sequential;
use crate::train::batch::Normalization;
use crate::train::evaluate::evaluate;
use crate::train::trainer::Misclassified;

/// A way to find suspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    LastEpoch,
    CrossVal,
    Argmax,
}

impl Method {
    /// `confident` is accepted for `cross-val`: the design names the method after its idea.
    pub fn parse(text: &str) -> Result<Method, String> {
        match text {
            "last-epoch" => Ok(Method::LastEpoch),
            "cross-val" | "confident" => Ok(Method::CrossVal),
            "argmax" => Ok(Method::Argmax),
            _ => Err(format!("unknown --method '{text}'; use last-epoch, cross-val (or confident) or argmax")),
        }
    }

    /// The name written to the sidecar.
    pub fn name(self) -> &'static str {
        match self {
            Method::LastEpoch => "last-epoch",
            Method::CrossVal => "cross-val",
            Method::Argmax => "argmax",
        }
    }
}

/// `last-epoch`: `rows` ranked by the confidence the network had in its wrong prediction
/// during the last epoch (score = that confidence), highest first. The probabilities shown with
/// each come from running the saved `model` over those images in eval mode (no dropout, running
/// batch-norm statistics), since training recorded only the top class.
pub fn last_epoch(model: &mut Sequential, data: &Dataset, norm: Normalization, rows: &[Misclassified]) -> Vec<Suspect> {
    let mut rows: Vec<&Misclassified> = rows.iter().collect();
    rows.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index)));
    let indices: Vec<usize> = rows.iter().map(|m| m.index).collect();
    let classes = data.class_names.len();
    let e = evaluate(model, data, Some(&indices), norm, 500);
    rows.iter()
        .enumerate()
        .map(|(k, m)| Suspect {
            rank: k + 1,
            index: m.index,
            given: m.label,
            suggested: m.predicted,
            probs: e.probs[k * classes..(k + 1) * classes].to_vec(),
            score: m.confidence as f64,
        })
        .collect()
}

/// `cross-val` (confident learning, flagging by `prune`) or `argmax` over out-of-fold `probs`
/// (N × K) and the training labels, ranked by `by`. `Method::LastEpoch` is not an out-of-sample method and gives an empty list.
pub fn out_of_sample(
    method: Method,
    probs: &[f32],
    labels: &[u8],
    classes: usize,
    prune: Prune,
    by: Rank,
) -> Vec<Suspect> {
    let mut flags = match method {
        Method::CrossVal => confident_learning(probs, labels, classes, prune),
        Method::Argmax => argmax_disagreement(probs, labels, classes),
        Method::LastEpoch => Vec::new(),
    };
    rank(&mut flags, probs, classes, by);
    flags.iter().enumerate().map(|(k, f)| to_suspect(k + 1, f, probs, classes)).collect()
}

fn to_suspect(rank: usize, flag: &Flag, probs: &[f32], classes: usize) -> Suspect {
    Suspect {
        rank,
        index: flag.index,
        given: flag.given,
        suggested: flag.suggested,
        probs: probs[flag.index * classes..(flag.index + 1) * classes].to_vec(),
        score: flag.score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_with_the_confident_alias() {
        assert_eq!(Method::parse("confident"), Ok(Method::CrossVal));
        assert_eq!(Method::parse("cross-val").map(Method::name), Ok("cross-val"));
        assert_eq!(Method::parse("last-epoch"), Ok(Method::LastEpoch));
        assert_eq!(
            Method::parse("vote").unwrap_err(),
            "unknown --method 'vote'; use last-epoch, cross-val (or confident) or argmax"
        );
    }

    #[test]
    fn out_of_sample_suspects_carry_ranks_and_their_probabilities() {
        // Image 1 (label 0) is sure it is class 1; image 3 (label 1) mildly prefers class 0.
        let probs = [0.9, 0.1, 0.1, 0.9, 0.2, 0.8, 0.6, 0.4];
        let labels = [0, 0, 1, 1];
        let argmax = out_of_sample(Method::Argmax, &probs, &labels, 2, Prune::SelfConfidence, Rank::SelfConfidence);
        let got: Vec<(usize, usize, u8, Vec<f32>)> =
            argmax.iter().map(|s| (s.rank, s.index, s.suggested, s.probs.clone())).collect();
        assert_eq!(got, vec![(1, 1, 1, vec![0.1, 0.9]), (2, 3, 0, vec![0.6, 0.4])]);
        assert!((argmax[0].score - 0.9).abs() < 1e-6);
    }
}
