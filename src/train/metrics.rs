//! Classification metrics: the confusion matrix and what follows from it.

use serde::Serialize;

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Confusion {
    pub classes: usize,
    /// Row-major: `counts[true * classes + predicted]`.
    pub counts: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

impl Confusion {
    pub fn new(classes: usize) -> Confusion {
        Confusion { classes, counts: vec![0; classes * classes] }
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth * self.classes + predicted] += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    pub fn correct(&self) -> usize {
        (0..self.classes).map(|c| self.counts[c * self.classes + c]).sum()
    }

    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }

    pub fn per_class(&self, names: &[String]) -> Vec<ClassMetrics> {
        let k = self.classes;
        (0..k)
            .map(|c| {
                let tp = self.counts[c * k + c] as f64;
                let predicted: usize = (0..k).map(|t| self.counts[t * k + c]).sum();
                let support: usize = self.counts[c * k..(c + 1) * k].iter().sum();
                let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
                let recall = if support > 0 { tp / support as f64 } else { 0.0 };
                let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
                ClassMetrics {
                    class: names.get(c).cloned().unwrap_or_else(|| c.to_string()),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// The matrix as text: rows are true classes, columns predictions.
    pub fn to_text(&self, names: &[String]) -> String {
        let k = self.classes;
        let short: Vec<String> = (0..k)
            .map(|c| names.get(c).map(|n| n.chars().take(7).collect()).unwrap_or_else(|| c.to_string()))
            .collect();
        let mut out = format!("{:>14} │", "true \\ pred");
        for s in &short {
            out += &format!("{s:>8}");
        }
        out += &format!("\n{}┼{}\n", "─".repeat(15), "─".repeat(8 * k));
        for t in 0..k {
            out += &format!("{:>14} │", names.get(t).map(String::as_str).unwrap_or(""));
            for p in 0..k {
                out += &format!("{:>8}", self.counts[t * k + p]);
            }
            out += "\n";
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_recall_and_f1_follow_the_counts() {
        let mut m = Confusion::new(2);
        for (t, p, n) in [(0, 0, 8), (0, 1, 2), (1, 0, 4), (1, 1, 6)] {
            for _ in 0..n {
                m.add(t, p);
            }
        }
        assert_eq!(m.accuracy(), 0.7);
        let per = m.per_class(&["a".into(), "b".into()]);
        assert!((per[0].precision - 8.0 / 12.0).abs() < 1e-12);
        assert!((per[0].recall - 0.8).abs() < 1e-12);
        assert!((per[1].f1 - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
        assert_eq!(per[1].support, 10);
    }
}
