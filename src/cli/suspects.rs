//! `fashion-cnn suspects RUN --method M`: rank a run's training images by how likely their
//! label is wrong, and write `suspects.csv` + `suspects.json` + `suspects.png` for `review`.
//!
//! - `last-epoch`: the run's `misclassified.csv`, most confident mistakes first; the
//!   probabilities in the list come from running the run's saved model over those images
//!   (eval mode), because training records only the predicted class.
//! - `cross-val` (alias `confident`) and `argmax`: K models trained with the run's recipe
//!   (network, optimizer, learning rate, batch size, normalisation, seed from `model.json`;
//!   `--epochs` may override) on the run's training set, each without the fold it then
//!   predicts. The fold files go to `RUN/cross-val/`; folds already there with the same
//!   settings are reused, so `argmax` after `cross-val` trains nothing, and `--fold I` runs one
//!   fold alone (on another machine, say) until all are present.

use super::review::default_journal;
use super::train::Progress;
use crate::labels::confident::{Prune, Rank, argmax_disagreement, confident_learning};
use crate::labels::detect::{Method, last_epoch, out_of_sample};
use crate::labels::suspects::{DatasetRef, FORMAT, Suspect, SuspectsInfo, write_suspects};
use crate::report::suspects::suspects_png;
use crate::train::cv::{FoldPlan, averaged_epochs, folds_present, read_oof, run_fold, training_settings};
use crate::train::recipe::Recipe;
use crate::train::run::{ModelInfo, load_model, read_json, read_misclassified, read_train_set};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SuspectsArgs {
    /// The run folder `fashion-cnn train` wrote.
    pub run: PathBuf,
    /// last-epoch, cross-val (alias confident) or argmax.
    #[arg(long)]
    pub method: String,
    /// The suspects list to write (default RUN/suspects.csv; the sidecar and picture go beside it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep only the N most suspect images.
    #[arg(long)]
    pub top: Option<usize>,
    /// cross-val/argmax: number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// cross-val/argmax: run only this fold (1-based); the list is written once all folds are there.
    #[arg(long)]
    pub fold: Option<usize>,
    /// cross-val/argmax: epochs per fold (default: the run's).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// cross-val/argmax: average each fold's held-out predictions over its last N epochs (a
    /// cheap ensemble; default: the second half of the epochs; 1 = the final model alone).
    #[arg(long)]
    pub average_epochs: Option<usize>,
    /// cross-val/argmax: order by self-confidence (p of the given label, lowest first), margin,
    /// or suggested (p of the suggested label, highest first).
    #[arg(long, default_value = "self-confidence")]
    pub rank: String,
    /// cross-val: which images confident learning flags once its joint has said how many:
    /// capped (per cell by margin, no more than the uncalibrated joint's off-diagonal total,
    /// lowest p of the given label kept), noise-rate (per cell, by margin) or self-confidence (lowest p of the
    /// given label).
    #[arg(long, default_value = "capped")]
    pub prune: String,
}

pub fn run(args: SuspectsArgs) -> Result<(), String> {
    let method = Method::parse(&args.method)?;
    let by = Rank::parse(&args.rank)?;
    let prune = Prune::parse(&args.prune)?;
    if method == Method::LastEpoch && (args.fold.is_some() || args.epochs.is_some() || args.average_epochs.is_some()) {
        return Err(
            "--fold, --epochs and --average-epochs belong to --method cross-val and argmax; last-epoch trains nothing"
                .into(),
        );
    }
    if args.top == Some(0) {
        return Err("--top must be at least 1".into());
    }
    let out = args.out.clone().unwrap_or_else(|| args.run.join("suspects.csv"));
    // A review's answers name rows of the list they were given on: a new list under the same
    // name would leave that journal pointing at other images.
    let journal = default_journal(&out);
    if journal.exists() {
        return Err(format!(
            "{} has a review journal beside it ({}); write the new list elsewhere with --out, \
             or move the journal away first",
            out.display(),
            journal.display()
        ));
    }
    let info: ModelInfo = read_json(&args.run.join("model.json"))?;
    let data = read_train_set(&info)?;
    let classes = data.class_names.len();
    let (mut suspects, source) = match method {
        Method::LastEpoch => {
            let rows = read_misclassified(&args.run, &data.labels, classes)?;
            let (mut model, info) = load_model(&args.run)?;
            println!("{} training images were misclassified in the run's last epoch", rows.len());
            (last_epoch(&mut model, &data, info.normalization, &rows), args.run.clone())
        }
        Method::CrossVal | Method::Argmax => {
            let dir = args.run.join("cross-val");
            let Some(probs) = cross_validate(&args, &info, &data, &dir)? else {
                return Ok(());
            };
            let confident = confident_learning(&probs, &data.labels, classes, prune).len();
            let argmax = argmax_disagreement(&probs, &data.labels, classes).len();
            println!(
                "out of {} images: confident learning (--prune {}) flags {confident}, the argmax filter {argmax}",
                data.len(),
                prune.name()
            );
            (out_of_sample(method, &probs, &data.labels, classes, prune, by), dir)
        }
    };
    if let Some(top) = args.top {
        suspects.truncate(top);
    }
    let sidecar = SuspectsInfo {
        format: FORMAT.into(),
        method: method.name().into(),
        source: source.display().to_string(),
        dataset: DatasetRef::of(&info.train_data, &data),
        class_names: data.class_names.clone(),
        count: suspects.len(),
    };
    write_suspects(&out, &sidecar, &suspects)?;
    let picture = out.with_extension("png");
    let title = format!("Suspects by {} (most suspect first)", method.name());
    suspects_png(&picture, &data, &suspects, &title)?;
    println!("{} suspects ({}) written to {}", suspects.len(), method.name(), out.display());
    if !suspects.is_empty() {
        println!("{}", table(&suspects[..suspects.len().min(10)], &data.class_names));
        println!("picture: {}", picture.display());
    }
    Ok(())
}

/// Runs the folds asked for and returns every image's out-of-fold probabilities, or `None`
/// (after saying how to finish) when folds are still missing.
fn cross_validate(
    args: &SuspectsArgs,
    info: &ModelInfo,
    data: &crate::data::Dataset,
    dir: &Path,
) -> Result<Option<Vec<f32>>, String> {
    if args.folds < 2 {
        return Err(format!("--folds must be at least 2, not {}", args.folds));
    }
    if let Some(f) = args.fold.filter(|f| !(1..=args.folds).contains(f)) {
        return Err(format!("--fold {f} is not among folds 1..={}", args.folds));
    }
    if data.len() < args.folds {
        return Err(format!("{} images cannot be split into {} folds", data.len(), args.folds));
    }
    let mut recipe = Recipe::of_run(info)?;
    if let Some(epochs) = args.epochs {
        if epochs == 0 {
            return Err("--epochs must be at least 1".into());
        }
        recipe.config.epochs = epochs;
    }
    recipe.config.val_split = 0.0;
    let averaged_epochs = averaged_epochs(args.average_epochs, recipe.config.epochs)?;
    let plan = FoldPlan {
        folds: args.folds,
        seed: recipe.config.seed,
        spec: recipe.spec.clone(),
        epochs: recipe.config.epochs,
        averaged_epochs,
        training: training_settings(&recipe),
    };
    let present = folds_present(dir, &plan)?;
    let to_run: Vec<usize> = match args.fold {
        Some(f) => vec![f],
        None => (1..=args.folds).filter(|f| !present[f - 1]).collect(),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for fold in 1..=args.folds {
        if present[fold - 1] && !to_run.contains(&fold) {
            println!("fold {fold}/{}: already in {}", args.folds, dir.display());
        }
    }
    for &fold in &to_run {
        println!("fold {fold}/{}: training {} for {} epochs", args.folds, recipe.name, recipe.config.epochs);
        let mut progress = Progress::new(recipe.config.epochs);
        let result = run_fold(&recipe, data, args.folds, fold, averaged_epochs, dir, &mut progress);
        progress.finish();
        let result = result?;
        println!(
            "fold {fold}/{}: held-out accuracy {:.2}% on {} images",
            args.folds,
            100.0 * result.accuracy,
            result.held_out_images
        );
    }
    let missing: Vec<usize> =
        folds_present(dir, &plan)?.iter().enumerate().filter(|(_, p)| !**p).map(|(f, _)| f + 1).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|f| f.to_string()).collect();
        println!(
            "fold(s) {} of {} still to run: fashion-cnn suspects {} --method {} --folds {}{} --fold I (or without --fold for all)",
            list.join(", "),
            args.folds,
            args.run.display(),
            args.method,
            args.folds,
            args.epochs.map(|e| format!(" --epochs {e}")).unwrap_or_default()
                + &args.average_epochs.map(|n| format!(" --average-epochs {n}")).unwrap_or_default()
        );
        return Ok(None);
    }
    read_oof(dir, &plan, data).map(Some)
}

/// The first suspects as an aligned text table.
fn table(suspects: &[Suspect], names: &[String]) -> String {
    let mut text = format!(
        "{:>4}  {:>6}  {:<12} {:<12} {:>8} {:>8} {:>7}",
        "rank", "index", "given", "suggested", "p(given)", "p(sugg.)", "score"
    );
    for s in suspects {
        text += &format!(
            "\n{:>4}  {:>6}  {:<12} {:<12} {:>8.3} {:>8.3} {:>7.3}",
            s.rank,
            s.index,
            names[s.given as usize],
            names[s.suggested as usize],
            s.p_given(),
            s.p_suggested(),
            s.score
        );
    }
    text
}
