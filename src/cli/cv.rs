//! `fashion-cnn cv`: k-fold cross-validation. `--fold I` runs one fold alone (so folds can be
//! spread over machines by any batch scheduler) and `cv merge DIR` combines the fold results.
//! Each fold also writes the held-out samples' predicted probabilities (`fold-I-oof.csv`), the
//! out-of-sample predictions that label-error detection builds on.

use super::train::{Progress, TrainArgs, config_from_args, timestamp};
use crate::data::{load_pair, write_atomic};
use crate::engine::init::Init;
use crate::engine::optim::OptimizerKind;
use crate::train::cv::{FoldResult, fold_assignment, fold_split, mean_std, run_fold};
use crate::train::recipe::Recipe;
use crate::train::run::read_json;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CvArgs {
    #[command(subcommand)]
    pub command: Option<CvCommand>,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Run only this fold (1-based); combine later with `cv merge`.
    #[arg(long)]
    pub fold: Option<usize>,
    #[command(flatten)]
    pub train: TrainArgs,
}

#[derive(Subcommand, Debug)]
pub enum CvCommand {
    /// Combine the fold results in a cross-validation folder: mean ± standard deviation.
    Merge {
        /// The folder the folds wrote to (their --out).
        dir: PathBuf,
    },
}

pub fn run(args: CvArgs) -> Result<(), String> {
    if let Some(CvCommand::Merge { dir }) = &args.command {
        return merge(dir);
    }
    if args.train.resume.is_some() || args.train.val_split != 0.0 {
        return Err("cv takes neither --resume nor --val-split: each fold holds out its own part".into());
    }
    if args.folds < 2 {
        return Err(format!("--folds must be at least 2, not {}", args.folds));
    }
    let folds: Vec<usize> = match args.fold {
        Some(f) if (1..=args.folds).contains(&f) => vec![f],
        Some(f) => return Err(format!("--fold {f} is not among folds 1..={}", args.folds)),
        None => (1..=args.folds).collect(),
    };
    let (name, spec, cfg) = config_from_args(&args.train)?;
    OptimizerKind::parse(&cfg.optimizer, cfg.momentum)?;
    let init = Init::parse(&args.train.init).ok_or_else(|| format!("unknown --init '{}'", args.train.init))?;
    let (data, _) =
        load_pair(args.train.data.train.as_deref(), args.train.data.test.as_deref(), args.train.data.mirror.as_deref())
            .map_err(|e| e.to_string())?;
    if data.len() < args.folds {
        return Err(format!("{} images cannot be split into {} folds", data.len(), args.folds));
    }
    let dir =
        args.train.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("cv-{name}-{}", timestamp())));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let recipe = Recipe { name, spec, config: cfg, init };
    let fold_of = fold_assignment(data.len(), args.folds, recipe.config.seed);
    for fold in folds {
        let (train_indices, held_out) = fold_split(&fold_of, fold - 1);
        println!(
            "fold {fold}/{}: training on {} images, holding out {}",
            args.folds,
            train_indices.len(),
            held_out.len()
        );
        let mut progress = Progress::new(recipe.config.epochs);
        let result = run_fold(&recipe, &data, args.folds, fold, 1, &dir, &mut progress);
        progress.finish();
        let result = result?;
        println!(
            "fold {fold}/{}: held-out accuracy {:.2}%  loss {:.4}",
            args.folds,
            100.0 * result.accuracy,
            result.loss
        );
    }
    if args.fold.is_none() {
        merge(&dir)?;
    } else {
        println!("fold results in {}/; combine them with: fashion-cnn cv merge {}", dir.display(), dir.display());
    }
    Ok(())
}

/// Reads every `fold-<i>.json` in `dir`, checks they belong together, prints and writes `cv.json`.
fn merge(dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut results: Vec<FoldResult> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("fold-") && name.ends_with(".json") {
            results.push(read_json(&entry.path())?);
        }
    }
    let Some(first) = results.first().cloned() else {
        return Err(format!(
            "{} holds no fold results (fold-<i>.json); run `fashion-cnn cv --fold I --out {}` first",
            dir.display(),
            dir.display()
        ));
    };
    if let Some(odd) = results.iter().find(|r| r.folds != first.folds || r.seed != first.seed || r.spec != first.spec) {
        return Err(format!(
            "{}: fold {} was run with other settings (folds, seed or network) than fold {}",
            dir.display(),
            odd.fold,
            first.fold
        ));
    }
    results.sort_by_key(|r| r.fold);
    let missing: Vec<String> =
        (1..=first.folds).filter(|f| !results.iter().any(|r| r.fold == *f)).map(|f| f.to_string()).collect();
    if !missing.is_empty() {
        return Err(format!("{}: fold(s) {} of {} are missing", dir.display(), missing.join(", "), first.folds));
    }
    let accuracies: Vec<f64> = results.iter().map(|r| r.accuracy).collect();
    let (mean, std) = mean_std(&accuracies);
    for r in &results {
        println!(
            "fold {}/{}: accuracy {:.2}%  loss {:.4}  ({} held out)",
            r.fold,
            r.folds,
            100.0 * r.accuracy,
            r.loss,
            r.held_out_images
        );
    }
    println!(
        "cross-validation accuracy: {:.2}% ± {:.2}% (mean ± standard deviation over {} folds)",
        100.0 * mean,
        100.0 * std,
        results.len()
    );
    let report = serde_json::json!({ "folds": results, "mean_accuracy": mean, "std_accuracy": std });
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    write_atomic(&dir.join("cv.json"), format!("{json}\n").as_bytes()).map_err(|e| e.to_string())
}
