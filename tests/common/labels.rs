//! Suspects lists and journals for the review, apply and compare tests, built over the `data/`
//! sample so no test waits for `fashion-cnn suspects`.

use super::cli::sample_dir;
use fashion_cnn::data::{Dataset, FASHION_CLASSES, Split, read_path};
use fashion_cnn::labels::suspects::{DatasetRef, FORMAT, Suspect, SuspectsInfo, write_suspects};
use std::path::Path;

/// The sample's 2,000 training images.
pub fn sample_train() -> Dataset {
    read_path(&sample_dir(), Split::Train).expect("the sample reads")
}

/// The reference to the sample the lists and journals carry (absolute path, so any working
/// directory will do).
pub fn sample_ref(train: &Dataset) -> DatasetRef {
    DatasetRef::of(sample_dir().to_str().unwrap(), train)
}

/// Writes `dir/suspects.csv` (+ sidecar) listing `indices` of the sample, in that order, each
/// suggested as the next class with p = 0.6, its given label 0.3, and 0.1 for the class after.
pub fn write_sample_suspects(dir: &Path, indices: &[usize]) -> std::path::PathBuf {
    let train = sample_train();
    let suspects: Vec<Suspect> = indices
        .iter()
        .enumerate()
        .map(|(k, &index)| {
            let given = train.labels[index];
            let suggested = (given + 1) % 10;
            let mut probs = vec![0.0; 10];
            probs[given as usize] = 0.3;
            probs[suggested as usize] = 0.6;
            probs[(given as usize + 2) % 10] = 0.1;
            Suspect { rank: k + 1, index, given, suggested, probs, score: 0.6 }
        })
        .collect();
    let info = SuspectsInfo {
        format: FORMAT.into(),
        method: "last-epoch".into(),
        source: "runs/test".into(),
        dataset: sample_ref(&train),
        class_names: FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
        count: suspects.len(),
    };
    let csv = dir.join("suspects.csv");
    write_suspects(&csv, &info, &suspects).expect("write the suspects");
    csv
}

/// The journal's answer lines without their time column: `index\told\tanswer`.
pub fn journal_answers(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the journal reads");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (time, rest) = l.split_once('\t').expect("a tab after the time");
            assert!(time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T', "time '{time}'");
            rest.to_string()
        })
        .collect()
}

/// A class name by label.
pub fn name(label: u8) -> &'static str {
    FASHION_CLASSES[label as usize]
}

/// Writes a journal by hand for the sample: `answers` are (index, answer word), the old label
/// taken from the sample; lines are stamped with a fixed time.
pub fn write_sample_journal(path: &Path, answers: &[(usize, String)]) {
    let train = sample_train();
    let dataset = sample_ref(&train);
    let mut text = format!(
        "# fashion-cnn review journal/1\n# suspects: suspects.csv\n# suspects-sha256: {}\n# train: {}\n# images: {}\n\
         # fingerprint: {}\n# classes: (not read)\n# time\tindex\told\tanswer\n",
        "0".repeat(64),
        dataset.train,
        dataset.images,
        dataset.fingerprint
    );
    for (index, answer) in answers {
        text += &format!("2026-11-22T10:00:00Z\t{index}\t{}\t{answer}\n", train.labels[*index]);
    }
    std::fs::write(path, text).expect("write the journal");
}
