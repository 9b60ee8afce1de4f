//! `suspects`: every method end to end on a one-epoch run over the committed sample, folds run
//! one at a time giving the same list as all at once, and bad input refused with a message.

mod common;

use common::cli::{run, temp_dir};
use fashion_cnn::data::{Split, read_path};
use fashion_cnn::labels::suspects::read_suspects;
use std::path::{Path, PathBuf};

const HEADER: &str =
    "rank,index,given,suggested,p_given,p_suggested,score,given_name,suggested_name,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9";

/// A one-epoch mlp003 run on the sample, in `dir/run`.
fn trained_run(dir: &Path) -> PathBuf {
    let out = dir.join("run");
    let (code, _, stderr) = run(&[
        "train",
        "--train",
        "data/fashion-mnist-sample",
        "--preset",
        "mlp003",
        "--epochs",
        "1",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    out
}

/// Runs `suspects RUN ARGS…` and expects success.
fn suspects(run_dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(&[&["suspects", run_dir.to_str().unwrap()][..], args].concat());
    assert_eq!(code, 0, "{stderr}");
    stdout
}

/// Checks a written list against its sidecar and the training set; returns its (index, given,
/// suggested) rows in rank order.
fn check_list(csv: &Path, method: &str) -> Vec<(usize, u8, u8)> {
    let text = std::fs::read_to_string(csv).unwrap();
    assert_eq!(text.lines().next().unwrap(), HEADER);
    let (info, list) = read_suspects(csv).unwrap();
    assert_eq!(info.method, method);
    assert_eq!(info.count, list.len());
    assert_eq!(text.lines().count(), 1 + list.len());
    // model.json records the data path made absolute, and the list carries it on.
    let sample = std::path::absolute("data/fashion-mnist-sample").unwrap();
    assert_eq!((info.dataset.train.as_str(), info.dataset.images), (sample.to_str().unwrap(), 2000));
    let train = read_path(Path::new("data/fashion-mnist-sample"), Split::Train).unwrap();
    for (k, s) in list.iter().enumerate() {
        assert_eq!(s.rank, k + 1);
        assert_eq!(s.given, train.labels[s.index], "row {}", k + 1);
        assert_ne!(s.given, s.suggested);
        assert!((s.probs.iter().sum::<f32>() - 1.0).abs() < 1e-3);
        if k > 0 {
            assert!(list[k - 1].score >= s.score, "scores fall down the list");
        }
    }
    assert_eq!(csv.with_extension("png").is_file(), !list.is_empty());
    list.iter().map(|s| (s.index, s.given, s.suggested)).collect()
}

#[test]
fn every_method_writes_a_ranked_list_consistent_with_its_sidecar() {
    let dir = temp_dir("suspects-methods");
    let run_dir = trained_run(&dir);

    let stdout = suspects(&run_dir, &["--method", "last-epoch"]);
    let list = check_list(&run_dir.join("suspects.csv"), "last-epoch");
    let misclassified = std::fs::read_to_string(run_dir.join("misclassified.csv")).unwrap().lines().count() - 1;
    assert_eq!(list.len(), misclassified);
    assert!(stdout.contains(&format!("{misclassified} suspects (last-epoch) written to")), "{stdout}");
    // The top 10 as a table: a header, then ranks 1 to 10.
    let table: Vec<&str> =
        stdout.lines().skip_while(|l| !l.starts_with("rank")).take_while(|l| !l.starts_with("picture:")).collect();
    assert_eq!(table.len(), 11, "{stdout}");
    assert!(table[10].trim_start().starts_with("10 "), "{stdout}");

    let stdout = suspects(&run_dir, &["--method", "confident", "--folds", "2", "--epochs", "1"]);
    let flagged = |stdout: &str| -> (usize, usize) {
        let line = stdout.lines().find(|l| l.starts_with("out of 2000 images: ")).unwrap();
        let numbers: Vec<usize> = line.split([' ', ',']).filter_map(|w| w.parse().ok()).collect();
        (numbers[1], numbers[2])
    };
    let (confident, argmax) = flagged(&stdout);
    let list = check_list(&run_dir.join("suspects.csv"), "cross-val");
    assert_eq!(list.len(), confident);
    assert!(0 < confident && confident < argmax, "{stdout}");
    assert_eq!(std::fs::read_dir(run_dir.join("cross-val")).unwrap().count(), 4, "two folds, two files each");

    // argmax reuses the folds: nothing is trained again.
    let out = dir.join("argmax.csv");
    let stdout =
        suspects(&run_dir, &["--method", "argmax", "--folds", "2", "--epochs", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(stdout.matches("already in").count(), 2, "{stdout}");
    assert_eq!(check_list(&out, "argmax").len(), argmax);
    let top = dir.join("top.csv");
    suspects(
        &run_dir,
        &["--method", "argmax", "--folds", "2", "--epochs", "1", "--top", "7", "--out", top.to_str().unwrap()],
    );
    let top_list = check_list(&top, "argmax");
    assert_eq!(top_list, check_list(&out, "argmax")[..7]);
}

#[test]
fn folds_run_one_at_a_time_give_the_same_list_as_all_at_once() {
    let dir = temp_dir("suspects-folds");
    let all = trained_run(&dir);
    let parts = dir.join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    for file in ["model.json", "model.safetensors", "misclassified.csv"] {
        std::fs::copy(all.join(file), parts.join(file)).unwrap();
    }
    let flags = ["--method", "cross-val", "--folds", "3", "--epochs", "1", "--rank", "margin"];
    suspects(&all, &flags);

    let stdout = suspects(&parts, &[&flags[..], &["--fold", "2"]].concat());
    assert!(stdout.contains("fold(s) 1, 3 of 3 still to run: fashion-cnn suspects"), "{stdout}");
    assert!(!parts.join("suspects.csv").exists());
    suspects(&parts, &[&flags[..], &["--fold", "3"]].concat());
    assert!(!parts.join("suspects.csv").exists());
    suspects(&parts, &[&flags[..], &["--fold", "1"]].concat());
    check_list(&parts.join("suspects.csv"), "cross-val");
    assert_eq!(
        std::fs::read_to_string(parts.join("suspects.csv")).unwrap(),
        std::fs::read_to_string(all.join("suspects.csv")).unwrap()
    );

    // The same flags ranked by p(suggested), highest first: each score is that probability.
    let by_margin = check_list(&all.join("suspects.csv"), "cross-val");
    suspects(&all, &[&flags[..6], &["--rank", "suggested"]].concat());
    let by_suggested = check_list(&all.join("suspects.csv"), "cross-val");
    let (mut sorted, mut resorted) = (by_margin, by_suggested);
    sorted.sort();
    resorted.sort();
    assert_eq!(sorted, resorted, "the same flags");
    let (_, list) = read_suspects(&all.join("suspects.csv")).unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|s| (s.score - s.probs[s.suggested as usize] as f64).abs() < 1e-6));
}

#[test]
fn bad_input_is_refused_with_a_message_naming_the_problem() {
    let dir = temp_dir("suspects-errors");
    let run_dir = trained_run(&dir);
    let r = run_dir.to_str().unwrap();
    let refused = |args: &[&str]| -> String {
        let (code, stdout, stderr) = run(&[&["suspects", r][..], args].concat());
        assert_eq!(code, 1, "{stdout}{stderr}");
        stderr
    };
    assert_eq!(
        refused(&["--method", "vote"]),
        "error: unknown --method 'vote'; use last-epoch, cross-val (or confident) or argmax\n"
    );
    assert_eq!(
        refused(&["--method", "cross-val", "--rank", "loss"]),
        "error: unknown --rank 'loss'; use self-confidence, margin or suggested\n"
    );
    assert_eq!(
        refused(&["--method", "cross-val", "--prune", "both"]),
        "error: unknown --prune 'both'; use capped, noise-rate or self-confidence\n"
    );
    assert_eq!(
        refused(&["--method", "last-epoch", "--epochs", "3"]),
        "error: --fold, --epochs and --average-epochs belong to --method cross-val and argmax; last-epoch trains nothing\n"
    );
    assert_eq!(
        refused(&["--method", "cross-val", "--epochs", "2", "--average-epochs", "3"]),
        "error: --average-epochs must be between 1 and the 2 epochs each fold trains, not 3\n"
    );
    assert_eq!(
        refused(&["--method", "cross-val", "--average-epochs", "0"]),
        "error: --average-epochs must be between 1 and the 1 epochs each fold trains, not 0\n"
    );
    assert_eq!(
        refused(&["--method", "cross-val", "--folds", "2", "--fold", "3"]),
        "error: --fold 3 is not among folds 1..=2\n"
    );

    // Folds made with other settings are not mixed in.
    suspects(&run_dir, &["--method", "cross-val", "--folds", "2", "--epochs", "1", "--fold", "1"]);
    let folds = run_dir.join("cross-val");
    assert_eq!(
        refused(&["--method", "cross-val", "--folds", "3", "--epochs", "1"]),
        format!(
            "error: {} was made with 2 folds (here 3); delete {} or ask for the same settings\n",
            folds.join("fold-1.json").display(),
            folds.display()
        )
    );
    assert_eq!(
        refused(&["--method", "cross-val", "--folds", "2", "--epochs", "2", "--average-epochs", "2"]),
        format!(
            "error: {} was made with 1 epochs (here 2), --average-epochs 1 (here 2); delete {} or ask for the same settings\n",
            folds.join("fold-1.json").display(),
            folds.display()
        )
    );

    // A fold file that lost an image.
    suspects(&run_dir, &["--method", "cross-val", "--folds", "2", "--epochs", "1", "--fold", "2"]);
    let oof = folds.join("fold-1-oof.csv");
    let text = std::fs::read_to_string(&oof).unwrap();
    let dropped: usize = text.lines().nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    let without_first: Vec<&str> = text.lines().enumerate().filter(|(n, _)| *n != 1).map(|(_, l)| l).collect();
    std::fs::write(&oof, without_first.join("\n") + "\n").unwrap();
    assert_eq!(
        refused(&["--method", "argmax", "--folds", "2", "--epochs", "1"]),
        format!(
            "error: {}: image {dropped} has no out-of-fold probabilities (fold 1's file lacks it)\n",
            folds.display()
        )
    );

    std::fs::remove_file(run_dir.join("misclassified.csv")).unwrap();
    assert_eq!(
        refused(&["--method", "last-epoch"]),
        format!(
            "error: {} is missing: the run has not finished (train writes it after the last epoch)\n",
            run_dir.join("misclassified.csv").display()
        )
    );
}
