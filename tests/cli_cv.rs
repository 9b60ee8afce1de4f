//! `cv`: all folds at once, or one at a time and merged, give the same figures.

mod common;

use common::cli::{run, temp_dir};

#[test]
fn separate_folds_merge_to_the_same_result_as_one_run() {
    let (all, parts) = (temp_dir("all"), temp_dir("parts"));
    let common =
        ["--folds", "3", "--epochs", "1", "--train", "data/fashion-mnist-sample", "--preset", "mlp003", "--seed", "3"];
    let (code, stdout, stderr) = run(&[&["cv", "--out", all.to_str().unwrap()][..], &common].concat());
    assert_eq!(code, 0, "{stderr}");
    let summary = stdout.lines().last().unwrap().to_string();
    assert!(
        summary.starts_with("cross-validation accuracy: ")
            && summary.ends_with("(mean ± standard deviation over 3 folds)"),
        "{summary}"
    );

    for fold in ["2", "1"] {
        let (code, stdout, stderr) =
            run(&[&["cv", "--fold", fold, "--out", parts.to_str().unwrap()][..], &common].concat());
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("combine them with: fashion-cnn cv merge"), "{stdout}");
    }
    let (code, _, stderr) = run(&["cv", "merge", parts.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(stderr, format!("error: {}: fold(s) 3 of 3 are missing\n", parts.display()));

    let (code, _, _) = run(&[&["cv", "--fold", "3", "--out", parts.to_str().unwrap()][..], &common].concat());
    assert_eq!(code, 0);
    let (code, stdout, _) = run(&["cv", "merge", parts.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().last().unwrap(), summary);

    // Every training image is held out exactly once, with probabilities that sum to 1.
    let mut seen = vec![0; 2000];
    for fold in 1..=3 {
        let oof = std::fs::read_to_string(all.join(format!("fold-{fold}-oof.csv"))).unwrap();
        for line in oof.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            seen[cells[0].parse::<usize>().unwrap()] += 1;
            let total: f64 = cells[3..].iter().map(|p| p.parse::<f64>().unwrap()).sum();
            assert!((total - 1.0).abs() < 1e-4, "{line}");
        }
    }
    assert!(seen.iter().all(|&n| n == 1));
    let cv: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(all.join("cv.json")).unwrap()).unwrap();
    assert_eq!(cv["folds"].as_array().unwrap().len(), 3);
}
