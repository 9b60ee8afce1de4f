//! The suspects list: `suspects.csv`, ranked training images whose label may be wrong, and its
//! sidecar `suspects.json` (same stem), which names the dataset the indices refer to.
//!
//! The CSV's columns are `rank,index,given,suggested,p_given,p_suggested,score,given_name,
//! suggested_name,p0,…,p{K-1}`: the model's probability for every class rides along so the
//! review can show a top-3 without running the model again.

use crate::data::{Dataset, write_atomic};
use crate::train::run::read_json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One training image whose label is in doubt.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspect {
    /// 1-based position in the ranking.
    pub rank: usize,
    /// Index of the image in the training set (0-based, file order).
    pub index: usize,
    /// The label the training set gives it.
    pub given: u8,
    /// The label the detector believes in.
    pub suggested: u8,
    /// The model's probability for every class, in class order.
    pub probs: Vec<f32>,
    /// The ranking score (higher = more suspect); what it means depends on the method.
    pub score: f64,
}

impl Suspect {
    pub fn p_given(&self) -> f32 {
        self.probs[self.given as usize]
    }

    pub fn p_suggested(&self) -> f32 {
        self.probs[self.suggested as usize]
    }

    /// The `n` most probable classes, most probable first (ties: lower class first).
    pub fn top(&self, n: usize) -> Vec<(u8, f32)> {
        let mut order: Vec<(u8, f32)> = self.probs.iter().enumerate().map(|(c, &p)| (c as u8, p)).collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        order.truncate(n);
        order
    }
}

/// Which training set the indices refer to, so a review or an `apply` never runs against
/// another one by mistake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// The `--train` path as given to the run (empty: the default Fashion-MNIST look-up).
    pub train: String,
    /// Number of images.
    pub images: usize,
    /// SHA-256 over the pixel bytes followed by the label bytes, in file order.
    pub fingerprint: String,
}

impl DatasetRef {
    pub fn of(train: &str, data: &Dataset) -> DatasetRef {
        DatasetRef { train: train.to_string(), images: data.len(), fingerprint: fingerprint(data) }
    }

    /// An error naming `what` when `data` is not the dataset this refers to.
    pub fn check(&self, data: &Dataset, what: &Path) -> Result<(), String> {
        if data.len() != self.images || fingerprint(data) != self.fingerprint {
            return Err(format!(
                "{} refers to another training set: {} images with fingerprint {}…, but {} holds {} images with \
                 fingerprint {}…",
                what.display(),
                self.images,
                &self.fingerprint[..12.min(self.fingerprint.len())],
                data.source,
                data.len(),
                &fingerprint(data)[..12]
            ));
        }
        Ok(())
    }
}

/// SHA-256 (hex) of the pixels followed by the labels.
pub fn fingerprint(data: &Dataset) -> String {
    let mut hash = Sha256::new();
    hash.update(&data.images);
    hash.update(&data.labels);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `suspects.json`: how the list was made and what it refers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuspectsInfo {
    pub format: String,
    /// `last-epoch`, `cross-val`, `argmax`, ….
    pub method: String,
    /// The run folder (last-epoch) or cross-validation folder the probabilities came from.
    pub source: String,
    pub dataset: DatasetRef,
    pub class_names: Vec<String>,
    /// Number of suspects in the CSV.
    pub count: usize,
}

pub const FORMAT: &str = "fashion-cnn-suspects/1";

/// `dir/name.csv` → `dir/name.json`.
pub fn info_path(csv: &Path) -> PathBuf {
    csv.with_extension("json")
}

/// Writes `csv` and its sidecar, both atomically.
pub fn write_suspects(csv: &Path, info: &SuspectsInfo, suspects: &[Suspect]) -> Result<(), String> {
    let classes = info.class_names.len();
    let mut text = String::from("rank,index,given,suggested,p_given,p_suggested,score,given_name,suggested_name");
    for c in 0..classes {
        text += &format!(",p{c}");
    }
    text += "\n";
    for s in suspects {
        if s.probs.len() != classes {
            return Err(format!("suspect {} has {} probabilities for {classes} classes", s.index, s.probs.len()));
        }
        text += &format!(
            "{},{},{},{},{:.6},{:.6},{:.6},{},{}",
            s.rank,
            s.index,
            s.given,
            s.suggested,
            s.p_given(),
            s.p_suggested(),
            s.score,
            info.class_names[s.given as usize],
            info.class_names[s.suggested as usize]
        );
        for p in &s.probs {
            text += &format!(",{p:.6}");
        }
        text += "\n";
    }
    write_atomic(csv, text.as_bytes()).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(info).map_err(|e| e.to_string())?;
    write_atomic(&info_path(csv), format!("{json}\n").as_bytes()).map_err(|e| e.to_string())
}

/// Reads `csv` and its sidecar. Errors name the file, the line and the problem.
pub fn read_suspects(csv: &Path) -> Result<(SuspectsInfo, Vec<Suspect>), String> {
    let info: SuspectsInfo = read_json(&info_path(csv))?;
    if info.format != FORMAT {
        return Err(format!("{}: unknown suspects format '{}'", info_path(csv).display(), info.format));
    }
    let classes = info.class_names.len();
    let text = std::fs::read_to_string(csv).map_err(|e| format!("cannot read {}: {e}", csv.display()))?;
    let mut lines = text.lines().enumerate();
    let header_columns = 9 + classes;
    match lines.next() {
        Some((_, header)) if header.starts_with("rank,index,given,") && header.split(',').count() == header_columns => {
        }
        _ => {
            return Err(format!(
                "{}: line 1: expected the header rank,index,given,suggested,… with {header_columns} columns",
                csv.display()
            ));
        }
    }
    let mut suspects = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = |problem: String| format!("{}: line {}: {problem}", csv.display(), n + 1);
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header_columns {
            return Err(at(format!("{} columns, expected {header_columns}", fields.len())));
        }
        let int = |k: usize, name: &str| -> Result<usize, String> {
            fields[k].trim().parse().map_err(|_| at(format!("{name} '{}' is not a whole number", fields[k])))
        };
        let float = |k: usize, name: &str| -> Result<f64, String> {
            fields[k].trim().parse().map_err(|_| at(format!("{name} '{}' is not a number", fields[k])))
        };
        let label = |k: usize, name: &str| -> Result<u8, String> {
            let v = int(k, name)?;
            if v >= classes {
                return Err(at(format!("{name} {v} is not a class (0..={})", classes - 1)));
            }
            Ok(v as u8)
        };
        let index = int(1, "index")?;
        if index >= info.dataset.images {
            return Err(at(format!("index {index} is beyond the {} training images", info.dataset.images)));
        }
        let probs = (0..classes).map(|c| float(9 + c, &format!("p{c}")).map(|p| p as f32)).collect::<Result<_, _>>()?;
        suspects.push(Suspect {
            rank: int(0, "rank")?,
            index,
            given: label(2, "given")?,
            suggested: label(3, "suggested")?,
            probs,
            score: float(6, "score")?,
        });
    }
    Ok((info, suspects))
}
