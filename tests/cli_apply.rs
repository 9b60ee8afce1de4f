//! `apply`: a known journal over the `data/` sample gives exact counts, labels and change log, in
//! CSV and in IDX; the original files are never modified nor overwritten.

mod common;

use common::cli::{run, sample_dir, temp_dir};
use common::labels::{name, sample_train, write_sample_journal};
use fashion_cnn::data::{Dataset, Split, read_path};
use sha2::{Digest, Sha256};
use std::path::Path;

/// SHA-256 of every file in the sample folder, by name.
fn sample_hashes() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(sample_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let hash: String = Sha256::digest(std::fs::read(p).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), hash)
        })
        .collect()
}

/// The journal every test applies, and the sample as it should come out.
fn journal_and_expected(path: &Path) -> (Dataset, String) {
    let train = sample_train();
    let l = |i: usize| train.labels[i];
    let (new0, new5, new6) = ((l(0) + 1) % 10, (l(5) + 3) % 10, (l(6) + 4) % 10);
    let answers: Vec<(usize, String)> = vec![
        (0, new0.to_string()),
        (1, "remove".into()),
        (2, "keep".into()),
        (3, "skip".into()),
        (4, ((l(4) + 2) % 10).to_string()),
        (4, "undo".into()),
        (5, new5.to_string()),
        (5, "skip".into()), // a skip leaves the decision before it standing
        (6, "remove".into()),
        (6, new6.to_string()), // the last decision wins
        (1999, "remove".into()),
    ];
    write_sample_journal(path, &answers);
    let kept: Vec<usize> = (0..2000).filter(|&i| i != 1 && i != 1999).collect();
    let mut expected = train.subset(&kept);
    expected.labels[0] = new0;
    expected.labels[4] = new5; // image 5 is the 5th kept
    expected.labels[5] = new6;
    let changes = format!(
        "index,old,new,old_name,new_name\n0,{},{new0},{},{}\n1,{},removed,{},removed\n5,{},{new5},{},{}\n\
         6,{},{new6},{},{}\n1999,{},removed,{},removed\n",
        l(0),
        name(l(0)),
        name(new0),
        l(1),
        name(l(1)),
        l(5),
        name(l(5)),
        name(new5),
        l(6),
        name(l(6)),
        name(new6),
        l(1999),
        name(l(1999)),
    );
    (expected, changes)
}

fn expected_summary(journal: &Path, expected: &Dataset) -> String {
    let before = sample_train().class_counts();
    let after = expected.class_counts();
    let mut text = format!(
        "{}: 9 answers in force, for {}\nkept        1\nrelabelled  3\nremoved     2\nuntouched   1,994 (1 skipped)\n\
         images      2,000 in, 1,998 out\nclass            before    after  change\n",
        journal.display(),
        sample_train().source
    );
    for c in 0..10 {
        let change = after[c] as i64 - before[c] as i64;
        let change = if change == 0 { "0".to_string() } else { format!("{change:+}") };
        text += &format!("{:<14}  {:>7}  {:>7}  {:>6}\n", name(c as u8), before[c], after[c], change);
    }
    text
}

#[test]
fn a_known_journal_gives_exact_counts_and_labels_in_csv_and_idx() {
    let hashes = sample_hashes();
    let dir = temp_dir("apply");
    let journal = dir.join("review.journal");
    let (expected, changes) = journal_and_expected(&journal);

    let csv = dir.join("corrected.csv");
    let (code, stdout, stderr) =
        run(&["apply", "--journal", journal.to_str().unwrap(), "--out", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with(&expected_summary(&journal, &expected)), "{stdout}");
    assert!(stdout.ends_with(&format!("retrain with: fashion-cnn train --train {} --test TEST\n", csv.display())));
    let back = read_path(&csv, Split::Train).unwrap();
    assert_eq!((back.images, back.labels), (expected.images.clone(), expected.labels.clone()));
    assert_eq!(std::fs::read_to_string(dir.join("corrected.changes.csv")).unwrap(), changes);
    let counts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("corrected.counts.json")).unwrap()).unwrap();
    assert_eq!(counts["counts"]["images_out"], 1998);
    assert_eq!(counts["counts"]["relabelled"], 3);
    assert_eq!(counts["counts"]["after"], serde_json::json!(expected.class_counts()));

    let idx = dir.join("corrected");
    let (code, stdout, stderr) =
        run(&["apply", "--journal", journal.to_str().unwrap(), "--out", idx.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with(&expected_summary(&journal, &expected)), "{stdout}");
    assert!(stdout.ends_with(&format!("retrain with: fashion-cnn train --train {}\n", idx.display())));
    let back = read_path(&idx, Split::Train).unwrap();
    assert_eq!((back.images, back.labels), (expected.images, expected.labels));
    // The test set rides along, so `train --train corrected` finds both halves.
    let test = read_path(&idx, Split::Test).unwrap();
    assert_eq!(test.labels, read_path(&sample_dir(), Split::Test).unwrap().labels);
    assert_eq!(std::fs::read_to_string(idx.join("changes.csv")).unwrap(), changes);
    assert!(idx.join("counts.json").is_file());

    assert_eq!(sample_hashes(), hashes, "the sample's files changed");
}

#[test]
fn the_input_is_never_overwritten_and_another_dataset_is_refused() {
    let hashes = sample_hashes();
    let dir = temp_dir("apply-refuse");
    let journal = dir.join("review.journal");
    journal_and_expected(&journal);
    let sample = sample_dir();
    for out in [sample.clone(), sample.join("fashion-mnist_test.csv")] {
        let (code, _, stderr) = run(&["apply", "--journal", journal.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert_eq!(
            stderr,
            format!(
                "error: --out {} would overwrite the training set being corrected or a file beside it ({}); name a \
                 new file or directory\n",
                out.display(),
                sample.display()
            )
        );
    }
    let other = sample.join("fashion-mnist_test.csv");
    let out = dir.join("x.csv");
    let (code, _, stderr) = run(&[
        "apply",
        "--journal",
        journal.to_str().unwrap(),
        "--train",
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!("error: {} refers to another training set: 2000 images", journal.display())),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(sample_hashes(), hashes, "the sample's files changed");
}
