//! The whole label-fixing journey from the command line, as a user runs it: train, list the
//! suspects, review them with scripted answers, apply the journal, retrain on the new set and
//! compare the two runs. Every step after training runs from another working directory, so the
//! paths the files record must lead back to the data from anywhere.

mod common;

use common::cli::{sample_dir, temp_dir};
use fashion_cnn::data::{Split, read_path};
use fashion_cnn::labels::suspects::read_suspects;
use std::path::Path;
use std::process::Command;

/// Runs `fashion-cnn ARGS` in `cwd` and expects success; returns stdout.
fn run_in(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fashion-cnn")).args(args).current_dir(cwd).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "fashion-cnn {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    stdout.into_owned()
}

/// Runs `fashion-cnn ARGS` in `cwd` and expects a failure; returns stderr.
fn fail_in(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fashion-cnn")).args(args).current_dir(cwd).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "fashion-cnn {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn train_suspects_review_apply_retrain_compare() {
    let dir = temp_dir("label-journey");
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run_a = dir.join("run-a");
    let train_args = ["--preset", "mlp003", "--epochs", "1", "--seed", "5"];

    // 1. Train with a relative --train, from the project folder.
    let relative = ["train", "--train", "data/fashion-mnist-sample", "--out", run_a.to_str().unwrap()];
    run_in(manifest, &[&relative[..], &train_args[..]].concat());

    // 2. The notebook's method: last epoch's mistakes, the 4 most confident.
    let stdout = run_in(&elsewhere, &["suspects", run_a.to_str().unwrap(), "--method", "last-epoch", "--top", "4"]);
    assert!(stdout.contains("4 suspects (last-epoch) written to"), "{stdout}");
    let list_path = run_a.join("suspects.csv");
    let (info, list) = read_suspects(&list_path).unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(info.dataset.train, sample_dir().to_str().unwrap(), "model.json records the data path absolute");

    // 3. Review: relabel row 1 as suggested (by class name), remove row 2, a bad answer
    //    (re-asked), keep row 3, exit before row 4.
    let train = read_path(&sample_dir(), Split::Train).unwrap();
    let suggested_name = &train.class_names[list[0].suggested as usize];
    let answers = dir.join("answers.txt");
    std::fs::write(&answers, format!("{suggested_name}\nr\nmaybe\nk\nE\n")).unwrap();
    let stdout = run_in(&elsewhere, &["review", list_path.to_str().unwrap(), "--answers", answers.to_str().unwrap()]);
    assert!(stdout.contains("'maybe' is not an answer"), "{stdout}");
    let journal = run_a.join("suspects.journal");
    assert!(journal.is_file());

    // A new list under the same name would orphan the journal's answers: refused.
    let stderr = fail_in(&elsewhere, &["suspects", run_a.to_str().unwrap(), "--method", "last-epoch"]);
    assert_eq!(
        stderr.trim(),
        format!(
            "error: {} has a review journal beside it ({}); write the new list elsewhere with --out, or move the \
             journal away first",
            list_path.display(),
            journal.display()
        )
    );

    // 4. Apply, with the training set found through the journal.
    let new_train = dir.join("fixed.csv");
    let stdout =
        run_in(&elsewhere, &["apply", "--journal", journal.to_str().unwrap(), "--out", new_train.to_str().unwrap()]);
    assert!(stdout.contains("relabelled  1\n") && stdout.contains("removed     1\n"), "{stdout}");
    assert!(stdout.contains("images      2,000 in, 1,999 out"), "{stdout}");
    let changes = format!("changes: {} (2 rows); counts: ", dir.join("fixed.changes.csv").display());
    assert!(stdout.contains(&changes), "{stdout}");
    let fixed = read_path(&new_train, Split::Train).unwrap();
    assert_eq!(fixed.len(), 1999);
    let removed = list[1].index;
    let position = |index: usize| if index < removed { index } else { index - 1 };
    assert_eq!(fixed.labels[position(list[0].index)], list[0].suggested, "relabelled as suggested");
    assert_eq!(fixed.labels[position(list[2].index)], list[2].given, "kept as given");
    assert_eq!(fixed.labels[position(list[3].index)], list[3].given, "unanswered stays as given");

    // 5. Retrain on the corrected set and compare the two runs.
    let run_b = dir.join("run-b");
    let test = sample_dir().join("fashion-mnist_test.csv");
    let retrain = [
        "train",
        "--train",
        new_train.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--out",
        run_b.to_str().unwrap(),
    ];
    run_in(&elsewhere, &[&retrain[..], &train_args[..]].concat());
    let stdout = run_in(&elsewhere, &["compare", run_a.to_str().unwrap(), run_b.to_str().unwrap()]);
    assert!(stdout.starts_with(&format!("A: {}\nB: {}\n", run_a.display(), run_b.display())), "{stdout}");
    let images_row = stdout.lines().find(|l| l.starts_with("training images")).unwrap_or_else(|| panic!("{stdout}"));
    let fields: Vec<&str> = images_row.split_whitespace().collect();
    assert_eq!(&fields[fields.len() - 3..], ["2,000", "1,999", "-1"], "{stdout}");
}
