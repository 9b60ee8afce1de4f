//! `noise-bench` on the committed sample: the exact number of flips, every table row, and
//! scores that agree with their own counts.

mod common;

use common::cli::{TempDir, run, temp_dir};
use fashion_cnn::data::{Split, read_path};
use fashion_cnn::labels::noise::pair_target;
use serde_json::Value;
use std::path::Path;

/// Runs a small benchmark (mlp003, 2 epochs, 2 folds) into a fresh folder; returns the folder,
/// the JSON report and stdout.
fn bench(name: &str, noise: &str, rate: &str) -> (TempDir, Value, String) {
    let dir = temp_dir(name);
    let (code, stdout, stderr) = run(&bench_args(noise, rate, &dir));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("noise-bench.json")).unwrap()).unwrap();
    (dir, report, stdout)
}

fn bench_args<'a>(noise: &'a str, rate: &'a str, dir: &'a Path) -> Vec<&'a str> {
    let out = dir.to_str().unwrap();
    let flags = ["--seed", "5", "--train", "data/fashion-mnist-sample", "--preset", "mlp003", "--epochs", "2"];
    [
        &["noise-bench", "--noise", noise, "--rate", rate][..],
        &flags,
        &["--folds", "2", "--average-epochs", "2", "--out", out],
    ]
    .concat()
}

/// (true label, noisy label) of each flip in `flips.csv`, checked against the clean sample.
fn flips(dir: &Path) -> Vec<(u8, u8)> {
    let clean = read_path(Path::new("data/fashion-mnist-sample"), Split::Train).unwrap();
    let noisy = read_path(&dir.join("noisy-train"), Split::Train).unwrap();
    let text = std::fs::read_to_string(dir.join("flips.csv")).unwrap();
    assert_eq!(text.lines().next().unwrap(), "index,true_label,noisy_label");
    let rows: Vec<(usize, u8, u8)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].parse().unwrap(), c[1].parse().unwrap(), c[2].parse().unwrap())
        })
        .collect();
    for &(i, t, n) in &rows {
        assert_eq!((clean.labels[i], noisy.labels[i]), (t, n));
    }
    let changed = (0..clean.len()).filter(|&i| clean.labels[i] != noisy.labels[i]).count();
    assert_eq!(changed, rows.len(), "only the listed images differ");
    rows.iter().map(|&(_, t, n)| (t, n)).collect()
}

#[test]
fn symmetric_noise_bench_reports_every_detector_and_retraining() {
    let (dir, r, stdout) = bench("noise-symmetric", "symmetric", "0.2");
    assert_eq!((r["train_images"].as_u64(), r["test_images"].as_u64()), (Some(2000), Some(500)));
    assert_eq!(r["flipped"], 400);
    let flipped = flips(&dir);
    assert_eq!(flipped.len(), 400);
    assert!(flipped.iter().all(|(t, n)| t != n));

    let detectors = r["detectors"].as_array().unwrap();
    let names: Vec<&str> = detectors.iter().map(|d| d["detector"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "last-epoch",
            "confident learning, --prune capped",
            "confident learning, --prune noise-rate",
            "confident learning, --prune self-confidence",
            "argmax (cross-val)"
        ]
    );
    for d in detectors {
        let (flagged, hits) = (d["flagged"].as_u64().unwrap() as f64, d["true_positives"].as_u64().unwrap() as f64);
        let (p, rc, f1) = (d["precision"].as_f64().unwrap(), d["recall"].as_f64().unwrap(), d["f1"].as_f64().unwrap());
        assert!(0.0 < hits && hits <= flagged && hits <= 400.0, "{d}");
        assert!((p - hits / flagged).abs() < 1e-12 && (rc - hits / 400.0).abs() < 1e-12, "{d}");
        assert!((f1 - 2.0 * p * rc / (p + rc)).abs() < 1e-12, "{d}");
        for key in ["precision_top_100", "precision_top_500"] {
            assert!((0.0..=1.0).contains(&d[key].as_f64().unwrap()), "{d}");
        }
        println!("{}: F1 {f1:.3} (precision {p:.3}, recall {rc:.3})", d["detector"]);
    }
    // The confident-learning list is written for review, one row per flag.
    let confident = detectors[1]["flagged"].as_u64().unwrap() as usize;
    let suspects = std::fs::read_to_string(dir.join("suspects.csv")).unwrap();
    assert_eq!(suspects.lines().count(), 1 + confident);

    let retrain = r["retrain"].as_array().unwrap();
    let images: Vec<u64> = retrain.iter().map(|t| t["images"].as_u64().unwrap()).collect();
    assert_eq!(images, [2000, 2000, 2000, 2000 - confident as u64]);
    assert!(retrain.iter().all(|t| (0.0..=1.0).contains(&t["test_accuracy"].as_f64().unwrap())));
    let accuracy = |k: usize| retrain[k]["test_accuracy"].as_f64().unwrap();
    match r["recovered_share"].as_f64() {
        Some(share) => assert!((share - (accuracy(2) - accuracy(1)) / (accuracy(0) - accuracy(1))).abs() < 1e-12),
        None => assert!(accuracy(1) >= accuracy(0)),
    }
    assert_eq!(r["stages"].as_array().unwrap().len(), 6);

    // The last-epoch detector after each epoch of (b); after the last, it is the detector above.
    let by_epoch = r["last_epoch_by_epoch"].as_array().unwrap();
    let epochs: Vec<u64> = by_epoch.iter().map(|e| e["epoch"].as_u64().unwrap()).collect();
    assert_eq!(epochs, [1, 2]);
    for key in ["flagged", "true_positives", "precision", "recall", "f1"] {
        assert_eq!(by_epoch[1][key], detectors[0][key], "{key}");
    }

    // The Markdown: the same three tables, printed and written.
    let md = std::fs::read_to_string(dir.join("noise-bench.md")).unwrap();
    assert!(stdout.contains(&md), "{stdout}");
    let rows = |header: &str| {
        md.lines().skip_while(|l| !l.starts_with(header)).skip(2).take_while(|l| l.starts_with("| ")).count()
    };
    assert_eq!((rows("| detector"), rows("| epoch"), rows("| training set"), rows("| stage")), (5, 2, 4, 6));
    assert!(md.starts_with("# noise-bench: 20% symmetric noise, seed 5\n"), "{md}");
    assert!(
        md.contains("; 2 folds, each predicting its held-out part after its last 2 epoch(s) and averaging."),
        "{md}"
    );
    assert_eq!(r["averaged_epochs"], 2);
    let fold: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cross-val/fold-1.json")).unwrap()).unwrap();

    // The out-of-fold agreement with the true and the noisy labels, recounted from the fold files.
    let clean = read_path(Path::new("data/fashion-mnist-sample"), Split::Train).unwrap();
    let (mut with_true, mut with_noisy) = (0, 0);
    for f in 1..=2 {
        let text = std::fs::read_to_string(dir.join(format!("cross-val/fold-{f}-oof.csv"))).unwrap();
        for line in text.lines().skip(1) {
            let cells: Vec<usize> = line.split(',').take(3).map(|c| c.parse().unwrap()).collect();
            with_true += usize::from(cells[2] == clean.labels[cells[0]] as usize);
            with_noisy += usize::from(cells[2] == cells[1]);
        }
    }
    assert_eq!(r["out_of_fold_accuracy_true"].as_f64(), Some(with_true as f64 / 2000.0));
    assert_eq!(r["out_of_fold_accuracy_noisy"].as_f64(), Some(with_noisy as f64 / 2000.0));
    assert!(with_true > with_noisy, "{with_true} {with_noisy}");
    assert_eq!((fold["epochs"].as_u64(), fold["averaged_epochs"].as_u64()), (Some(2), Some(2)));

    // Run again into the same folder: the folds are reused and every figure comes out the same.
    let (code, stdout, stderr) = run(&bench_args("symmetric", "0.2", &dir));
    assert_eq!(code, 0, "{stderr}");
    for fold in 1..=2 {
        let line = format!("cross-validation fold {fold}/2: already in {}", dir.join("cross-val").display());
        assert!(stdout.contains(&line), "{stdout}");
    }
    // So are the retrainings, each kept in retrain/ with what it was trained on.
    for key in ["a", "b", "c", "d"] {
        let line = format!("seed 5: already in {}", dir.join(format!("retrain/{key}-seed5.json")).display());
        assert!(stdout.contains(&line), "{stdout}");
    }
    assert!(!stdout.contains(": training on"), "{stdout}");
    let again: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("noise-bench.json")).unwrap()).unwrap();
    assert_eq!(again["stages"][2]["stage"], "(a) clean, seed 5 (reused)");
    assert_eq!((&again["detectors"], &again["retrain"]), (&r["detectors"], &r["retrain"]));
    assert_eq!(again["last_epoch_by_epoch"], r["last_epoch_by_epoch"]);

    // A retraining measured on another test set is not reused: one test image fewer retrains
    // all four, while the folds (trained on the same set) are reused.
    let csv = std::fs::read_to_string("data/fashion-mnist-sample/fashion-mnist_test.csv").unwrap();
    let shorter = dir.join("test-minus-one.csv");
    std::fs::write(&shorter, csv.lines().take(csv.lines().count() - 1).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let other_test = [&bench_args("symmetric", "0.2", &dir)[..], &["--test", shorter.to_str().unwrap()]].concat();
    let (code, stdout, stderr) = run(&other_test);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("cross-validation fold 2/2: already in"), "{stdout}");
    assert_eq!(stdout.matches(", seed 5: training on").count(), 4, "{stdout}");

    // A cache file this version cannot read (an older version's) is trained again and replaced.
    let cache = dir.join("retrain/a-seed5.json");
    std::fs::write(&cache, "{\"identity\": {\"recipe\": \"old\"}, \"accuracy\": 0.5}\n").unwrap();
    let (code, stdout, stderr) = run(&other_test);
    assert_eq!(code, 0, "{stderr}");
    let line = format!("{}: not a retraining this version can reuse (missing field", cache.display());
    assert!(stdout.contains(&line), "{stdout}");
    assert_eq!(stdout.matches(", seed 5: training on").count(), 1, "{stdout}");
    let replaced: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert!(replaced["test_accuracy"].is_f64(), "{replaced}");

    // Folds trained with another learning rate are refused, not mixed in.
    let (code, _, stderr) = run(&[&bench_args("symmetric", "0.2", &dir)[..], &["--lr", "0.002"]].concat());
    assert_eq!(code, 1);
    let fold_file = dir.join("cross-val").join("fold-1.json");
    let refused = format!(
        "error: {} was made with other training settings (optimizer, learning rate, batch size, augmentation or init); \
         delete {} or ask for the same settings\n",
        fold_file.display(),
        dir.join("cross-val").display()
    );
    assert_eq!(stderr, refused);
}

/// Pair noise, first with `--detect-only` (the cross-validation alone), then completed by the
/// same command without the flag, which reuses the folds.
#[test]
fn pair_noise_flips_only_along_the_pairs_and_a_detect_only_run_can_be_completed() {
    let dir = temp_dir("noise-pairs");
    let args = bench_args("pairs", "0.1", &dir);
    let (code, stdout, stderr) = run(&[&args[..], &["--detect-only"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let json =
        || serde_json::from_str::<Value>(&std::fs::read_to_string(dir.join("noise-bench.json")).unwrap()).unwrap();
    let r = json();
    assert_eq!((r["flipped"].as_u64(), r["detect_only"].as_bool()), (Some(200), Some(true)));
    let flipped = flips(&dir);
    assert_eq!(flipped.len(), 200);
    assert!(flipped.iter().all(|&(t, n)| pair_target(t) == Some(n)), "{flipped:?}");

    let names: Vec<&str> = r["detectors"].as_array().unwrap().iter().map(|d| d["detector"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "confident learning, --prune capped",
            "confident learning, --prune noise-rate",
            "confident learning, --prune self-confidence",
            "argmax (cross-val)"
        ]
    );
    assert_eq!((r["retrain"].as_array().unwrap().len(), r["last_epoch_by_epoch"].as_array().unwrap().len()), (0, 0));
    assert!(r["recovered_share"].is_null());
    let stages: Vec<&str> = r["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["inject noise", "cross-validation on the noisy set (+ confident learning, argmax)"]);
    let md = std::fs::read_to_string(dir.join("noise-bench.md")).unwrap();
    assert!(md.contains("\nRetraining (a)–(d) and the last-epoch detector were skipped (--detect-only).\n"), "{md}");
    assert!(!md.contains("| training set") && !md.contains("| epoch") && stdout.contains(&md), "{md}");

    // Completed with every retraining twice (seeds 5 and 6), on the noise-rate rule's flags:
    // the means, each seed's share, and (d) without exactly those flags.
    let (code, stdout, stderr) = run(&[&args[..], &["--repeats", "2", "--prune", "noise-rate"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("cross-validation fold 2/2: already in"), "{stdout}");
    let full = json();
    assert_eq!((full["detect_only"].as_bool(), full["repeats"].as_u64()), (Some(false), Some(2)));
    assert_eq!(full["detectors"][0]["detector"], "last-epoch");
    assert_eq!(full["detectors"].as_array().unwrap()[1..], r["detectors"].as_array().unwrap()[..]);
    let retrain = full["retrain"].as_array().unwrap();
    assert_eq!(retrain.len(), 4);
    assert_eq!(full["prune"], "noise-rate");
    assert_eq!(full["detectors"][2]["detector"], "confident learning, --prune noise-rate");
    assert_eq!(retrain[3]["images"].as_u64(), Some(2000 - full["detectors"][2]["flagged"].as_u64().unwrap()));
    let each = |k: usize| -> Vec<f64> {
        retrain[k]["test_accuracies"].as_array().unwrap().iter().map(|a| a.as_f64().unwrap()).collect()
    };
    for (k, row) in retrain.iter().enumerate() {
        let (a, mean) = (each(k), row["test_accuracy"].as_f64().unwrap());
        assert_eq!(a.len(), 2);
        assert!((mean - (a[0] + a[1]) / 2.0).abs() < 1e-12, "{a:?} {mean}");
    }
    let shares = full["recovered_share_each"].as_array().unwrap();
    assert_eq!(shares.len(), 2);
    for (r, share) in shares.iter().enumerate() {
        let (clean, noisy, fixed) = (each(0)[r], each(1)[r], each(2)[r]);
        match share.as_f64() {
            Some(s) => assert!((s - (fixed - noisy) / (clean - noisy)).abs() < 1e-12),
            None => assert!(noisy >= clean),
        }
    }
    let stages: Vec<&str> = full["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages.len(), 2 + 8);
    assert_eq!((stages[2], stages[9]), ("(a) clean, seed 5", "(d) noisy, flags removed, seed 6"));
    let md = std::fs::read_to_string(dir.join("noise-bench.md")).unwrap();
    assert!(md.contains("\n(c) and (d) take the flags of confident learning with `--prune noise-rate`.\n"), "{md}");
    assert!(md.contains("| training set | images | mean test accuracy | seed 5 | seed 6 |\n"), "{md}");
    assert!(
        md.contains(" of the (a) − (b) gap in mean test accuracy (each seed alone: ")
            || md.contains("no gap to recover (each seed alone: "),
        "{md}"
    );

    // Another order moves the flags in suspects.csv (each scored by its p(suggested), highest
    // first), never which ones they are.
    let (code, _, stderr) = run(&[&args[..], &["--detect-only", "--rank", "suggested"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let reordered = json();
    assert_eq!(reordered["rank"], "suggested");
    let (_, list) = fashion_cnn::labels::suspects::read_suspects(&dir.join("suspects.csv")).unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|s| (s.score - s.probs[s.suggested as usize] as f64).abs() < 1e-6));
    assert!(list.windows(2).all(|w| w[0].score >= w[1].score), "highest p(suggested) first");
    for (a, b) in reordered["detectors"].as_array().unwrap().iter().zip(r["detectors"].as_array().unwrap()) {
        for key in ["detector", "flagged", "true_positives", "f1"] {
            assert_eq!(a[key], b[key], "{key}");
        }
    }
    let md = std::fs::read_to_string(dir.join("noise-bench.md")).unwrap();
    assert!(md.contains("Their detectors' flags are ordered by `--rank suggested`"), "{md}");

    // --repeats 0 and unknown rules are refused.
    let (code, _, stderr) = run(&[&args[..], &["--repeats", "0"]].concat());
    assert_eq!((code, stderr.as_str()), (1, "error: --repeats must be at least 1\n"));
    let (code, _, stderr) = run(&[&args[..], &["--prune", "both"]].concat());
    let refused = "error: unknown --prune 'both'; use capped, noise-rate or self-confidence\n";
    assert_eq!((code, stderr.as_str()), (1, refused));
}

#[test]
fn unknown_noise_and_impossible_rates_are_refused() {
    let args = ["--train", "data/fashion-mnist-sample", "--preset", "mlp003", "--epochs", "1"];
    let (code, _, stderr) = run(&[&["noise-bench", "--noise", "uniform", "--rate", "0.2"][..], &args].concat());
    assert_eq!((code, stderr.as_str()), (1, "error: unknown --noise 'uniform'; use symmetric or pairs\n"));
    let (code, _, stderr) = run(&[&["noise-bench", "--noise", "pairs", "--rate", "0.9"][..], &args].concat());
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: --rate 0.9 asks for 1800 flips but only ")
            && stderr.ends_with(" images are in the classes pairs noise can flip\n"),
        "{stderr}"
    );
}

/// `--fold-preset`, `--fold-batch-size`, `--fold-epochs` and `--fold-schedule`: the folds train
/// another network for another number of epochs with another schedule (recorded in their files
/// and the report) while (a)–(d) keep the benchmark's; folds of one network are refused by a run
/// asking for another, and an unknown preset or schedule is named.
#[test]
fn the_folds_can_train_another_network_than_the_retrainings() {
    let dir = temp_dir("noise-fold-preset");
    let args = bench_args("pairs", "0.1", &dir);
    let folds = [
        "--detect-only",
        "--fold-preset",
        "seed002",
        "--fold-batch-size",
        "32",
        "--fold-epochs",
        "3",
        "--fold-schedule",
        "cosine",
    ];
    let (code, stdout, stderr) = run(&[&args[..], &folds].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            "; network mlp003, 2 epochs, 2 folds (the folds: seed002, batch 32, 3 epochs, cosine schedule)\n"
        ),
        "{stdout}"
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("noise-bench.json")).unwrap()).unwrap();
    assert_eq!((r["network"].as_str(), r["fold_network"].as_str()), (Some("mlp003"), Some("seed002")));
    assert_eq!(r["fold_batch_size"].as_u64(), Some(32));
    assert_eq!((r["schedule"].as_str(), r["fold_schedule"].as_str()), (Some("constant"), Some("cosine")));
    assert_eq!(
        (r["epochs"].as_u64(), r["fold_epochs"].as_u64(), r["averaged_epochs"].as_u64()),
        (Some(2), Some(3), Some(2))
    );
    let seed002 = fashion_cnn::engine::model::preset("seed002").unwrap().spec;
    assert_eq!(r["fold_spec"].as_str(), Some(seed002));
    for fold in 1..=2 {
        let path = dir.join("cross-val").join(format!("fold-{fold}.json"));
        let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(f["spec"].as_str(), Some(seed002), "{f}");
        let training = f["training"].as_str().unwrap();
        assert!(training.contains(" batch_size: 32, ") && training.contains(" schedule: \"cosine\", "), "{f}");
        assert_eq!((f["epochs"].as_u64(), f["averaged_epochs"].as_u64()), (Some(3), Some(2)), "{f}");
    }
    let md = std::fs::read_to_string(dir.join("noise-bench.md")).unwrap();
    assert!(
        md.contains(
            "network mlp003 for 2 epochs; 2 folds of network seed002 (batch 32) for 3 epochs, cosine schedule, \
             each predicting its held-out part after its last 2 epoch(s)"
        ),
        "{md}"
    );

    // The same folds again are reused; mlp003's folds are not these.
    let (code, stdout, stderr) = run(&[&args[..], &folds].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("cross-validation fold 2/2: already in"), "{stdout}");
    let (code, _, stderr) = run(&[&args[..], &["--detect-only"]].concat());
    assert_eq!(code, 1);
    assert!(stderr.contains("fold-1.json was made with ") && stderr.contains("delete "), "{stderr}");
    let (code, _, stderr) = run(&[&args[..], &["--fold-preset", "seed007"]].concat());
    assert_eq!(code, 1);
    assert!(stderr.starts_with("error: --fold-preset: unknown preset 'seed007'; known presets: "), "{stderr}");
    let (code, _, stderr) = run(&[&args[..], &["--fold-epochs", "0"]].concat());
    assert_eq!((code, stderr.as_str()), (1, "error: --fold-epochs must be at least 1\n"));
    let (code, _, stderr) = run(&[&args[..], &["--fold-schedule", "warm"]].concat());
    let want = "error: --fold-schedule: bad schedule 'warm'; use constant, step[:EPOCHS[:GAMMA]], cosine or onecycle\n";
    assert_eq!((code, stderr.as_str()), (1, want));
}
