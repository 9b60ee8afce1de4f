//! `fashion-cnn noise-bench`: how good are the detectors? Flip a known share of the training
//! labels, run every detector on the noisy set, score their flags against the flips, and
//! retrain to see what finding them is worth in test accuracy.
//!
//! Stages, each timed: inject the noise (and write the noisy set and `flips.csv`), K-fold
//! cross-validation on the noisy set (confident learning and the argmax filter), then train on
//! the clean set (a) and on the noisy set (b, whose last epoch is also the `last-epoch`
//! detector), and retrain (c) with every confident-learning flag (of the `--prune` rule) given
//! its true label — a perfect reviewer — and (d) without the flagged images. Every model uses
//! the same recipe (the train flags). The last-epoch detector is also scored after every epoch
//! of (b), to show its recall fall as the network memorises the noisy labels. `--detect-only`
//! stops after the cross-validation. Folds already in `OUT/cross-val/` are reused, so a
//! `--detect-only` run can be completed later by the same command without the flag; so are
//! finished retrainings in `OUT/retrain/`. `--repeats N` trains each of (a)–(d) with N seeds:
//! at 20% symmetric noise the (a) − (b) gap is under a point, within the spread of one training.

use super::summary::resolve_architecture;
use super::train::{Progress, TrainArgs, config_from_args, timestamp};
use crate::data::{Dataset, load_pair, write_atomic, write_idx_dir};
use crate::engine::init::Init;
use crate::engine::optim::Schedule;
use crate::engine::step::argmax;
use crate::labels::confident::{Prune, Rank};
use crate::labels::detect::{Method, last_epoch, out_of_sample};
use crate::labels::noise::{Noise, Score, corrected, inject, score, without};
use crate::labels::suspects::{DatasetRef, FORMAT, SuspectsInfo, fingerprint, write_suspects};
use crate::train::cv::{FoldPlan, averaged_epochs, folds_present, read_oof, run_fold, training_settings};
use crate::train::evaluate::evaluate;
use crate::train::recipe::Recipe;
use crate::train::trainer::{EpochRecord, Misclassified, Observer, TrainConfig};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct NoiseBenchArgs {
    /// symmetric (to a random other class) or pairs (T-shirt↔Shirt, Pullover↔Coat,
    /// Sandal→Sneaker→Ankle boot→Sandal).
    #[arg(long)]
    pub noise: String,
    /// Fraction of all training images whose label is flipped, e.g. 0.2.
    #[arg(long)]
    pub rate: f64,
    /// Folds of the cross-validation the out-of-sample detectors use.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Average each fold's held-out predictions over its last N epochs (default: the second
    /// half of the epochs; 1 = the final model alone).
    #[arg(long)]
    pub average_epochs: Option<usize>,
    /// Only the cross-validation and its detectors: skip training (a)–(d) and the last-epoch
    /// detector, which needs (b).
    #[arg(long)]
    pub detect_only: bool,
    /// The confident-learning rule whose flags are written to `suspects.csv` and corrected (c)
    /// or removed (d): capped, noise-rate or self-confidence (all three are scored).
    #[arg(long, default_value = "capped")]
    pub prune: String,
    /// How every detector's flags are ordered for `suspects.csv` and the top-100/500
    /// precision: self-confidence, margin or suggested (as `suspects --rank`).
    #[arg(long, default_value = "self-confidence")]
    pub rank: String,
    /// Train each of (a)–(d) this many times, with seeds --seed, --seed + 1, …, and report the
    /// mean test accuracy: a gap of a point between (a) and (b) is within one training's spread.
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    /// The network the cross-validation folds train (default: the one every model trains): a
    /// stronger fold network can find flips the network under test cannot, while (a)–(d) keep
    /// the network under test. A preset name (seed002, seed000, mlp003).
    #[arg(long)]
    pub fold_preset: Option<String>,
    /// The folds' batch size (default: --batch-size).
    #[arg(long)]
    pub fold_batch_size: Option<usize>,
    /// The folds' epochs (default: --epochs): a fold network trained longer predicts its
    /// held-out part better, while (a)–(d) keep the recipe under test.
    #[arg(long)]
    pub fold_epochs: Option<usize>,
    /// The folds' learning-rate schedule (default: --schedule), in the forms of --schedule: the
    /// folds' recipe is part of the detector, while (a)–(d) keep the recipe under test.
    #[arg(long)]
    pub fold_schedule: Option<String>,
    /// The recipe every model is trained with; --seed also seeds the noise; --out is the
    /// benchmark's folder (default runs/noise-bench-<noise>-<UTC time>).
    #[command(flatten)]
    pub train: TrainArgs,
}

#[derive(Serialize)]
struct DetectorRow {
    detector: String,
    #[serde(flatten)]
    score: Score,
}

/// The last-epoch detector after each epoch of training on the noisy set: the images that
/// epoch's forward passes got wrong, scored against the flips. As the network memorises the
/// noisy labels, fewer flipped images are mistaken and recall falls.
#[derive(Serialize, Deserialize)]
struct EpochDetectorRow {
    epoch: usize,
    flagged: usize,
    true_positives: usize,
    precision: f64,
    recall: f64,
    f1: f64,
}

/// Shows progress and scores each epoch's mistakes against the flips.
struct ScoreEachEpoch<'a> {
    progress: Progress,
    flipped: &'a [usize],
    rows: Vec<EpochDetectorRow>,
}

impl Observer for ScoreEachEpoch<'_> {
    fn batch(&mut self, epoch: usize, done: usize, total: usize, loss: f64, accuracy: f64) {
        self.progress.batch(epoch, done, total, loss, accuracy);
    }

    fn epoch(&mut self, record: &EpochRecord) {
        self.progress.epoch(record);
    }

    fn misclassified(&mut self, epoch: usize, rows: &[Misclassified]) {
        let indices: Vec<usize> = rows.iter().map(|m| m.index).collect();
        let s = score(&indices, self.flipped);
        self.rows.push(EpochDetectorRow {
            epoch,
            flagged: s.flagged,
            true_positives: s.true_positives,
            precision: s.precision,
            recall: s.recall,
            f1: s.f1,
        });
    }
}

#[derive(Serialize)]
struct RetrainRow {
    training_set: String,
    images: usize,
    /// The mean of `test_accuracies`.
    test_accuracy: f64,
    /// One per repeat, seeds --seed, --seed + 1, …
    test_accuracies: Vec<f64>,
}

#[derive(Serialize)]
struct StageTime {
    stage: String,
    seconds: f64,
}

/// `noise-bench.json`.
#[derive(Serialize)]
struct Report {
    noise: String,
    rate: f64,
    seed: u64,
    train_images: usize,
    test_images: usize,
    flipped: usize,
    folds: usize,
    /// Each fold's held-out probabilities are averaged over its last this many epochs.
    averaged_epochs: usize,
    network: String,
    spec: String,
    epochs: usize,
    /// The learning-rate schedule (a)–(d) train with.
    schedule: String,
    /// What the cross-validation folds trained (the network above unless --fold-preset).
    fold_network: String,
    fold_spec: String,
    fold_batch_size: usize,
    fold_epochs: usize,
    fold_schedule: String,
    /// Only the cross-validation ran: no last-epoch detector, no retraining.
    detect_only: bool,
    /// The confident-learning rule whose flags (c) corrects and (d) removes.
    prune: String,
    /// How the flags are ordered (top-100/500 precision, `suspects.csv`).
    rank: String,
    detectors: Vec<DetectorRow>,
    last_epoch_by_epoch: Vec<EpochDetectorRow>,
    retrain: Vec<RetrainRow>,
    /// Each of (a)–(d) was trained this many times (seeds --seed, --seed + 1, …).
    repeats: usize,
    /// ((c) − (b)) / ((a) − (b)) on the mean accuracies; `None` when the noise cost no accuracy
    /// or nothing was retrained.
    recovered_share: Option<f64>,
    /// The same share for each seed alone ((a), (b) and (c) trained with that seed); `None`
    /// for a seed where (b) ≥ (a).
    recovered_share_each: Vec<Option<f64>>,
    /// How often the folds' averaged out-of-fold prediction equals the true (clean) label, and
    /// the noisy one: the detectors' precision is capped by the first.
    out_of_fold_accuracy_true: f64,
    out_of_fold_accuracy_noisy: f64,
    stages: Vec<StageTime>,
}

pub fn run(args: NoiseBenchArgs) -> Result<(), String> {
    let noise = Noise::parse(&args.noise)?;
    let prune = Prune::parse(&args.prune)?;
    let by = Rank::parse(&args.rank)?;
    if args.train.resume.is_some() || args.train.val_split != 0.0 {
        return Err("noise-bench takes neither --resume nor --val-split: it trains every model from scratch".into());
    }
    if args.repeats == 0 {
        return Err("--repeats must be at least 1".into());
    }
    if args.folds < 2 {
        return Err(format!("--folds must be at least 2, not {}", args.folds));
    }
    let (name, spec, config) = config_from_args(&args.train)?;
    let init = Init::parse(&args.train.init).ok_or_else(|| format!("unknown --init '{}'", args.train.init))?;
    let recipe = Recipe { name, spec, config, init };
    let fold_recipe = fold_recipe(&recipe, &args)?;
    let averaged_epochs = averaged_epochs(args.average_epochs, fold_recipe.config.epochs)?;
    let seed = recipe.config.seed;
    let mut stages = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |stage: &str, stages: &mut Vec<StageTime>| {
        stages.push(StageTime { stage: stage.into(), seconds: clock.elapsed().as_secs_f64() });
        clock = Instant::now();
    };

    let data = &args.train.data;
    let (clean, test) =
        load_pair(data.train.as_deref(), data.test.as_deref(), data.mirror.as_deref()).map_err(|e| e.to_string())?;
    if clean.len() < args.folds {
        return Err(format!("{} images cannot be split into {} folds", clean.len(), args.folds));
    }
    let (noisy_labels, flipped) = inject(&clean.labels, clean.class_names.len(), noise, args.rate, seed)?;
    let noisy = Dataset { labels: noisy_labels, source: format!("{} with noise", clean.source), ..clean.clone() };
    let dir = args
        .train
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("noise-bench-{}-{}", noise.name(), timestamp())));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let noisy_dir = write_noisy_set(&dir, &clean, &noisy, &flipped)?;
    println!(
        "{} of {} training labels flipped ({} noise, rate {}, seed {seed}); network {}, {} epochs, {} folds{}",
        flipped.len(),
        clean.len(),
        noise.name(),
        args.rate,
        recipe.name,
        recipe.config.epochs,
        args.folds,
        fold_network_text(&recipe, &fold_recipe)
    );
    lap("inject noise", &mut stages);

    let classes = clean.class_names.len();
    let folds_dir = dir.join("cross-val");
    let plan = FoldPlan {
        folds: args.folds,
        seed,
        spec: fold_recipe.spec.clone(),
        epochs: fold_recipe.config.epochs,
        averaged_epochs,
        training: training_settings(&fold_recipe),
    };
    // Folds an interrupted benchmark already wrote into the same --out are reused: the plan
    // (folds, seed, network, epochs, averaging) must match, and read_oof checks every noisy label.
    let present = folds_present(&folds_dir, &plan)?;
    for fold in 1..=args.folds {
        if present[fold - 1] {
            println!("cross-validation fold {fold}/{}: already in {}", args.folds, folds_dir.display());
            continue;
        }
        println!("cross-validation fold {fold}/{} on the noisy set", args.folds);
        run_fold(
            &fold_recipe,
            &noisy,
            args.folds,
            fold,
            averaged_epochs,
            &folds_dir,
            &mut Progress::new(fold_recipe.config.epochs),
        )?;
    }
    let probs = read_oof(&folds_dir, &plan, &noisy)?;
    let agreement = |labels: &[u8]| {
        let hits = probs.chunks_exact(classes).zip(labels).filter(|&(p, &l)| argmax(p) == l as usize).count();
        hits as f64 / labels.len() as f64
    };
    let (out_of_fold_accuracy_true, out_of_fold_accuracy_noisy) = (agreement(&clean.labels), agreement(&noisy.labels));
    let detect = |method, prune| out_of_sample(method, &probs, &noisy.labels, classes, prune, by);
    let rules = [Prune::Capped, Prune::NoiseRate, Prune::SelfConfidence];
    let by_rule: Vec<_> = rules.iter().map(|&rule| detect(Method::CrossVal, rule)).collect();
    let confident = &by_rule[rules.iter().position(|&rule| rule == prune).expect("every rule is scored")];
    let argmax = detect(Method::Argmax, Prune::SelfConfidence);
    if let Some(noisy_dir) = &noisy_dir {
        let info = SuspectsInfo {
            format: FORMAT.into(),
            method: Method::CrossVal.name().into(),
            source: folds_dir.display().to_string(),
            dataset: DatasetRef::of(&noisy_dir.display().to_string(), &noisy),
            class_names: noisy.class_names.clone(),
            count: confident.len(),
        };
        write_suspects(&dir.join("suspects.csv"), &info, confident)?;
    }
    lap("cross-validation on the noisy set (+ confident learning, argmax)", &mut stages);

    let ranked = |list: &[crate::labels::suspects::Suspect]| list.iter().map(|s| s.index).collect::<Vec<_>>();
    let flagged = ranked(confident);
    let mut detectors: Vec<DetectorRow> = rules
        .iter()
        .zip(&by_rule)
        .map(|(rule, flags)| DetectorRow {
            detector: format!("confident learning, --prune {}", rule.name()),
            score: score(&ranked(flags), &flipped),
        })
        .collect();
    detectors.push(DetectorRow { detector: "argmax (cross-val)".into(), score: score(&ranked(&argmax), &flipped) });
    let (mut last_epoch_by_epoch, mut retrain, mut recovered_share, mut recovered_share_each) =
        (Vec::new(), Vec::new(), None, Vec::new());
    if !args.detect_only {
        let all: Vec<usize> = (0..clean.len()).collect();
        let fixed = Dataset { labels: corrected(&noisy.labels, &clean.labels, &flagged), ..noisy.clone() };
        let kept = without(noisy.len(), &flagged);
        let sets: [(&str, &str, &Dataset, &[usize]); 4] = [
            ("a", "(a) clean", &clean, &all),
            ("b", "(b) noisy", &noisy, &all),
            ("c", "(c) noisy, flags given their true label", &fixed, &all),
            ("d", "(d) noisy, flags removed", &noisy, &kept),
        ];
        let retrain_dir = dir.join("retrain");
        let (test_fingerprint, truth_fingerprint) = (fingerprint(&test), fingerprint(&clean));
        let set_fingerprints: Vec<String> = sets.iter().map(|&(_, _, data, _)| fingerprint(data)).collect();
        let mut accuracies = vec![Vec::new(); sets.len()];
        for repeat in 0..args.repeats as u64 {
            let recipe =
                Recipe { config: TrainConfig { seed: seed + repeat, ..recipe.config.clone() }, ..recipe.clone() };
            for (k, &(key, what, data, indices)) in sets.iter().enumerate() {
                let what = format!("{what}, seed {}", recipe.config.seed);
                let cache = retrain_dir.join(format!("{key}-seed{}.json", recipe.config.seed));
                let fingerprints = [set_fingerprints[k].as_str(), &test_fingerprint, &truth_fingerprint];
                let identity = RetrainIdentity::of(&recipe, data.shape, fingerprints, indices);
                let mut stage = what.clone();
                let done = match read_retrained(&cache, &identity)? {
                    Some(done) => {
                        println!("{what}: already in {}", cache.display());
                        stage += " (reused)";
                        done
                    }
                    None => {
                        // (b) with the first seed is also the last-epoch detector.
                        let detector = key == "b" && repeat == 0;
                        let done = retrain_one(&recipe, &what, identity, data, indices, &test, &flipped, detector)?;
                        let json = serde_json::to_string_pretty(&done).map_err(|e| e.to_string())?;
                        std::fs::create_dir_all(&retrain_dir)
                            .map_err(|e| format!("cannot create {}: {e}", retrain_dir.display()))?;
                        write_atomic(&cache, format!("{json}\n").as_bytes()).map_err(|e| e.to_string())?;
                        done
                    }
                };
                if let Some((last, by_epoch)) = done.last_epoch {
                    detectors.insert(0, DetectorRow { detector: "last-epoch".into(), score: last });
                    last_epoch_by_epoch = by_epoch;
                }
                accuracies[k].push(done.test_accuracy);
                lap(&stage, &mut stages);
            }
        }
        let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
        retrain = sets
            .iter()
            .zip(&accuracies)
            .map(|(&(_, what, _, indices), each)| RetrainRow {
                training_set: what.into(),
                images: indices.len(),
                test_accuracy: mean(each),
                test_accuracies: each.clone(),
            })
            .collect();
        let share = |clean: f64, noisy: f64, corrected: f64| {
            let gap = clean - noisy;
            (gap > 0.0).then(|| (corrected - noisy) / gap)
        };
        recovered_share = share(retrain[0].test_accuracy, retrain[1].test_accuracy, retrain[2].test_accuracy);
        recovered_share_each =
            (0..args.repeats).map(|r| share(accuracies[0][r], accuracies[1][r], accuracies[2][r])).collect();
    }

    let report = Report {
        noise: noise.name().into(),
        rate: args.rate,
        seed,
        train_images: clean.len(),
        test_images: test.len(),
        flipped: flipped.len(),
        folds: args.folds,
        averaged_epochs,
        network: recipe.name.clone(),
        spec: recipe.spec.clone(),
        epochs: recipe.config.epochs,
        schedule: recipe.config.schedule.clone(),
        fold_network: fold_recipe.name.clone(),
        fold_spec: fold_recipe.spec.clone(),
        fold_batch_size: fold_recipe.config.batch_size,
        fold_epochs: fold_recipe.config.epochs,
        fold_schedule: fold_recipe.config.schedule.clone(),
        detect_only: args.detect_only,
        prune: prune.name().into(),
        rank: by.name().into(),
        detectors,
        last_epoch_by_epoch,
        retrain,
        repeats: args.repeats,
        recovered_share,
        recovered_share_each,
        out_of_fold_accuracy_true,
        out_of_fold_accuracy_noisy,
        stages,
    };
    let markdown = markdown(&report);
    println!("\n{markdown}");
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    write_atomic(&dir.join("noise-bench.json"), format!("{json}\n").as_bytes()).map_err(|e| e.to_string())?;
    write_atomic(&dir.join("noise-bench.md"), markdown.as_bytes()).map_err(|e| e.to_string())?;
    println!("results in {}/", dir.display());
    Ok(())
}

/// The recipe the cross-validation folds train: the benchmark's own, with the network, batch
/// size, epochs and schedule of `--fold-preset`, `--fold-batch-size`, `--fold-epochs` and
/// `--fold-schedule` where given.
fn fold_recipe(recipe: &Recipe, args: &NoiseBenchArgs) -> Result<Recipe, String> {
    let (preset, batch_size, epochs) = (args.fold_preset.as_deref(), args.fold_batch_size, args.fold_epochs);
    if let Some(schedule) = &args.fold_schedule {
        Schedule::parse(schedule).map_err(|e| format!("--fold-schedule: {e}"))?;
    }
    let (name, spec) = match preset {
        Some(preset) => resolve_architecture(Some(preset), None).map_err(|e| format!("--fold-preset: {e}"))?,
        None => (recipe.name.clone(), recipe.spec.clone()),
    };
    if batch_size == Some(0) {
        return Err("--fold-batch-size must be at least 1".into());
    }
    if epochs == Some(0) {
        return Err("--fold-epochs must be at least 1".into());
    }
    let config = TrainConfig {
        batch_size: batch_size.unwrap_or(recipe.config.batch_size),
        epochs: epochs.unwrap_or(recipe.config.epochs),
        schedule: args.fold_schedule.clone().unwrap_or_else(|| recipe.config.schedule.clone()),
        ..recipe.config.clone()
    };
    Ok(Recipe { name, spec, config, init: recipe.init })
}

/// " (the folds: seed000, batch 128, 15 epochs)" when the folds train something other than the
/// benchmark's recipe, else nothing.
fn fold_network_text(recipe: &Recipe, folds: &Recipe) -> String {
    let (same_network, ours, theirs) = (folds.spec == recipe.spec, &recipe.config, &folds.config);
    let schedule = fold_schedule_text(&theirs.schedule, &ours.schedule);
    if same_network && theirs.batch_size == ours.batch_size && theirs.epochs == ours.epochs && schedule.is_empty() {
        return String::new();
    }
    format!(" (the folds: {}, batch {}, {} epochs{schedule})", folds.name, theirs.batch_size, theirs.epochs)
}

/// ", constant schedule" when the folds' schedule is not the retrainings', else nothing.
fn fold_schedule_text(folds: &str, ours: &str) -> String {
    if folds == ours { String::new() } else { format!(", {folds} schedule") }
}

/// Writes `flips.csv` (index, true label, noisy label) and, for one-channel images, the noisy
/// training set as IDX files in `dir/noisy-train/` (its path is returned), so the noisy set can
/// be trained on, reviewed and corrected like any other.
fn write_noisy_set(dir: &Path, clean: &Dataset, noisy: &Dataset, flipped: &[usize]) -> Result<Option<PathBuf>, String> {
    let mut flips = String::from("index,true_label,noisy_label\n");
    for &i in flipped {
        flips += &format!("{i},{},{}\n", clean.labels[i], noisy.labels[i]);
    }
    write_atomic(&dir.join("flips.csv"), flips.as_bytes()).map_err(|e| e.to_string())?;
    if noisy.shape[0] != 1 {
        return Ok(None);
    }
    let noisy_dir = dir.join("noisy-train");
    write_idx_dir(noisy, &noisy_dir, "train", true).map_err(|e| e.to_string())?;
    Ok(Some(noisy_dir))
}

/// What a cached retraining was trained on and how; it is reused only when all of it matches.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
struct RetrainIdentity {
    /// The network and every training setting, seed included.
    recipe: String,
    /// SHA-256 of the training set's pixels and labels (as `suspects.json` names a dataset).
    train: String,
    images: usize,
    /// FNV-1a over the indices of the images trained on.
    indices_digest: u64,
    /// SHA-256 of the test set the accuracy was measured on, and of the clean labels the
    /// last-epoch detector was scored against.
    test: String,
    truth: String,
}

impl RetrainIdentity {
    /// `fingerprints` holds (training set, test set, clean set) fingerprints.
    fn of(recipe: &Recipe, shape: [usize; 3], fingerprints: [&str; 3], indices: &[usize]) -> RetrainIdentity {
        let mut digest = 0xcbf2_9ce4_8422_2325u64;
        for &i in indices {
            for byte in (i as u64).to_le_bytes() {
                digest = (digest ^ byte as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
        let [train, test, truth] = fingerprints.map(String::from);
        RetrainIdentity {
            recipe: format!("{} {:?} {:?} {:?}", recipe.spec, recipe.init, recipe.config, shape),
            train,
            images: indices.len(),
            indices_digest: digest,
            test,
            truth,
        }
    }
}

/// One finished retraining, kept in `OUT/retrain/` so an interrupted benchmark resumes.
#[derive(Serialize, Deserialize)]
struct Retrained {
    identity: RetrainIdentity,
    test_accuracy: f64,
    /// For (b) with the first seed: the last-epoch detector after the last epoch, and after each.
    last_epoch: Option<(Score, Vec<EpochDetectorRow>)>,
}

/// The cached retraining at `path` when it exists and was trained as `identity` says. A file this
/// version cannot read (an older version's, or another program's) is only a cache: it is trained
/// again and replaced, with a line saying so, rather than stopping the benchmark.
fn read_retrained(path: &Path, identity: &RetrainIdentity) -> Result<Option<Retrained>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    match serde_json::from_str::<Retrained>(&text) {
        Ok(done) => Ok((done.identity == *identity).then_some(done)),
        Err(e) => {
            println!("{}: not a retraining this version can reuse ({e}); training it again", path.display());
            Ok(None)
        }
    }
}

/// Trains a fresh model on `indices` of `train` and tests it; with `detector`, also scores the
/// last-epoch detector against `flipped`, after every epoch and after the last.
#[allow(clippy::too_many_arguments)]
fn retrain_one(
    recipe: &Recipe,
    what: &str,
    identity: RetrainIdentity,
    train: &Dataset,
    indices: &[usize],
    test: &Dataset,
    flipped: &[usize],
    detector: bool,
) -> Result<Retrained, String> {
    println!("{what}: training on {} images", indices.len());
    let epochs = recipe.config.epochs;
    let mut each_epoch = ScoreEachEpoch { progress: Progress::new(epochs), flipped, rows: Vec::new() };
    let mut state = recipe.train(train, indices, &mut each_epoch)?;
    let test_accuracy = evaluate(&mut state.model, test, None, recipe.config.normalization, 500).accuracy;
    println!("{what}: test accuracy {:.2}%", 100.0 * test_accuracy);
    let last_epoch = detector.then(|| {
        let norm = recipe.config.normalization;
        let last = last_epoch(&mut state.model, train, norm, &state.misclassified);
        let ranked: Vec<usize> = last.iter().map(|s| s.index).collect();
        (score(&ranked, flipped), std::mem::take(&mut each_epoch.rows))
    });
    Ok(Retrained { identity, test_accuracy, last_epoch })
}

/// ", cosine schedule" for a learning rate that is not constant, else nothing.
fn schedule_text(schedule: &str) -> String {
    if schedule == "constant" { String::new() } else { format!(", {schedule} schedule") }
}

fn markdown(r: &Report) -> String {
    let mut md = format!(
        "# noise-bench: {:.0}% {} noise, seed {}\n\n{} training images, {} labels flipped; {} test images; \
         network {} for {} epochs{}; {} folds{}, each predicting its held-out part after its last {} epoch(s) \
         and averaging.\n\n",
        100.0 * r.rate,
        r.noise,
        r.seed,
        r.train_images,
        r.flipped,
        r.test_images,
        r.network,
        r.epochs,
        schedule_text(&r.schedule),
        r.folds,
        if r.fold_spec == r.spec
            && r.fold_network == r.network
            && r.fold_epochs == r.epochs
            && r.fold_schedule == r.schedule
        {
            String::new()
        } else {
            format!(
                " of network {} (batch {}) for {} epochs{}",
                r.fold_network,
                r.fold_batch_size,
                r.fold_epochs,
                fold_schedule_text(&r.fold_schedule, &r.schedule)
            )
        },
        r.averaged_epochs
    );
    md += &format!(
        "The folds' out-of-fold predictions agree with the true labels for {:.2}% of the images and with the \
         noisy ones for {:.2}%. Their detectors' flags are ordered by `--rank {}` (the last-epoch detector's \
         by its confidence in its prediction).\n\n",
        100.0 * r.out_of_fold_accuracy_true,
        100.0 * r.out_of_fold_accuracy_noisy,
        r.rank
    );
    md += "| detector | flagged | flips found | precision | recall | F1 | precision top 100 | precision top 500 |\n";
    md += "|---|---|---|---|---|---|---|---|\n";
    for d in &r.detectors {
        let s = &d.score;
        md += &format!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            d.detector,
            s.flagged,
            s.true_positives,
            s.precision,
            s.recall,
            s.f1,
            s.precision_top_100,
            s.precision_top_500
        );
    }
    if r.detect_only {
        md += "\nRetraining (a)–(d) and the last-epoch detector were skipped (--detect-only).\n";
    } else {
        md += &retraining_markdown(r);
    }
    md += "\n| stage | seconds |\n|---|---|\n";
    for s in &r.stages {
        md += &format!("| {} | {:.1} |\n", s.stage, s.seconds);
    }
    md
}

/// The last-epoch detector epoch by epoch, and the test accuracies of (a)–(d).
fn retraining_markdown(r: &Report) -> String {
    let mut md = "\nThe last-epoch detector after each epoch of (b), training on the noisy labels:\n\n".to_string();
    md += "| epoch | flagged | flips found | precision | recall | F1 |\n|---|---|---|---|---|---|\n";
    for e in &r.last_epoch_by_epoch {
        md += &format!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} |\n",
            e.epoch, e.flagged, e.true_positives, e.precision, e.recall, e.f1
        );
    }
    let percent = |a: f64| format!("{:.2}%", 100.0 * a);
    let seeds: Vec<String> = (0..r.repeats as u64).map(|k| format!("seed {}", r.seed + k)).collect();
    md += &format!("\n(c) and (d) take the flags of confident learning with `--prune {}`.\n", r.prune);
    md += &format!("\n| training set | images | mean test accuracy | {} |\n", seeds.join(" | "));
    md += &format!("|---|---|---|{}\n", "---|".repeat(r.repeats));
    for t in &r.retrain {
        let each: Vec<String> = t.test_accuracies.iter().map(|&a| percent(a)).collect();
        md += &format!("| {} | {} | {} | {} |\n", t.training_set, t.images, percent(t.test_accuracy), each.join(" | "));
    }
    let share = |s: Option<f64>| s.map_or("no gap".to_string(), |s| format!("{:.1}%", 100.0 * s));
    md += &match r.recovered_share {
        Some(s) => format!("\n(c) recovers {:.1}% of the (a) − (b) gap in mean test accuracy", 100.0 * s),
        None => "\nThe noise cost no mean test accuracy ((b) ≥ (a)), so there is no gap to recover".into(),
    };
    if r.repeats > 1 {
        let each: Vec<String> = r.recovered_share_each.iter().map(|&s| share(s)).collect();
        md += &format!(" (each seed alone: {})", each.join(", "));
    }
    md += ".\n";
    md
}
