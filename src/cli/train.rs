//! `fashion-cnn train`: train a preset or custom network and keep everything in a run folder.

use super::DataArgs;
use super::summary::resolve_architecture;
use crate::data::{Dataset, load_pair, locate_fashion_mnist};
use crate::engine::init::Init;
use crate::engine::kernels::simd_path;
use crate::engine::model::Sequential;
use crate::engine::optim::{Optimizer, OptimizerKind, Schedule};
use crate::report::run_report::{
    write_evaluation_pictures, write_history_picture, write_misclassified_picture, write_report,
};
use crate::train::batch::{Augment, Normalization};
use crate::train::evaluate::evaluate;
use crate::train::run::{
    FORMAT, ModelInfo, load_checkpoint, read_json, save_checkpoint, save_model, write_history, write_metrics,
    write_misclassified,
};
use crate::train::trainer::{EpochRecord, Observer, TrainConfig, TrainState, split_indices, train};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Network preset: seed002, seed000, mlp003 (default seed002).
    #[arg(long, conflicts_with = "arch")]
    pub preset: Option<String>,
    /// Custom network spec, e.g. conv32k3,relu,pool2,flatten,dense10 (or @FILE).
    #[arg(long)]
    pub arch: Option<String>,
    /// Epochs (default 10; with --resume, a new total to extend the run to).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// sgd, momentum, nesterov, adam, adamw.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Momentum for sgd/momentum/nesterov.
    #[arg(long)]
    pub momentum: Option<f32>,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// constant, step[:EPOCHS[:GAMMA]], cosine, onecycle.
    #[arg(long, default_value = "constant")]
    pub schedule: String,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f32,
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f32,
    /// Fraction of the training set held out for validation, e.g. 0.2.
    #[arg(long, default_value_t = 0.0)]
    pub val_split: f32,
    /// Random horizontal flips.
    #[arg(long)]
    pub hflip: bool,
    /// Random vertical flips.
    #[arg(long)]
    pub vflip: bool,
    /// Random shifts by up to N pixels.
    #[arg(long, default_value_t = 0)]
    pub shift: usize,
    /// Probability of random erasing.
    #[arg(long, default_value_t = 0.0)]
    pub erase: f32,
    /// Input normalisation: `scale` (pixels/255) or `MEAN,STD` applied after scaling, e.g. 0.5,0.5.
    #[arg(long, default_value = "scale")]
    pub normalize: String,
    /// Weight initialisation: glorot or he.
    #[arg(long, default_value = "glorot")]
    pub init: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run folder (default runs/<preset>-<UTC timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the interrupted run in this folder.
    #[arg(long, conflicts_with_all = ["preset", "arch", "out"])]
    pub resume: Option<PathBuf>,
}

/// The architecture (name, spec) and training settings the flags ask for.
pub fn config_from_args(args: &TrainArgs) -> Result<(String, String, TrainConfig), String> {
    let (name, spec) = resolve_architecture(
        Some(args.preset.as_deref().unwrap_or("seed002")).filter(|_| args.arch.is_none()),
        args.arch.as_deref(),
    )?;
    let training = TrainConfig {
        epochs: args.epochs.unwrap_or(10),
        batch_size: args.batch_size,
        optimizer: args.optimizer.clone(),
        momentum: args.momentum,
        lr: args.lr,
        schedule: args.schedule.clone(),
        weight_decay: args.weight_decay,
        label_smoothing: args.label_smoothing,
        val_split: args.val_split,
        seed: args.seed,
        augment: Augment { hflip: args.hflip, vflip: args.vflip, shift: args.shift, erase: args.erase },
        normalization: parse_normalization(&args.normalize)?,
    };
    validate(&training)?;
    Ok((name, spec, training))
}

fn parse_normalization(text: &str) -> Result<Normalization, String> {
    if text == "scale" {
        return Ok(Normalization::SCALE);
    }
    let bad = || format!("bad --normalize '{text}'; use scale or MEAN,STD such as 0.5,0.5");
    let (mean, std) = text.split_once(',').ok_or_else(bad)?;
    let (mean, std): (f32, f32) = (mean.trim().parse().map_err(|_| bad())?, std.trim().parse().map_err(|_| bad())?);
    if std.is_nan() || std <= 0.0 {
        return Err(bad());
    }
    Ok(Normalization { mean, std })
}

/// `YYYYMMDD-HHMMSS` in UTC, from the civil-from-days algorithm (no date crate needed).
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!("{year:04}{month:02}{day:02}-{:02}{:02}{:02}", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Prints progress: a live bar on a terminal, one line per epoch otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Progress {
    /// A live bar when stderr is a terminal, plain lines otherwise.
    pub fn new(epochs: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}  {per_sec}  ETA {eta}")
                    .unwrap()
                    .progress_chars("=> "),
            );
            bar
        });
        Progress { bar, epochs }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, r: &EpochRecord) -> String {
        let mut s =
            format!("epoch {:>3}/{}  loss {:.4}  acc {:6.2}%", r.epoch, self.epochs, r.loss, 100.0 * r.accuracy);
        if let (Some(l), Some(a)) = (r.val_loss, r.val_accuracy) {
            s += &format!("  val_loss {l:.4}  val_acc {:6.2}%", 100.0 * a);
        }
        s + &format!("  {:>7.0} img/s  {:6.1} s", r.images_per_sec, r.seconds)
    }
}

/// A bar left behind by an early return or a `?` is cleared all the same.
impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Observer for Progress {
    fn batch(&mut self, epoch: usize, done: usize, total: usize, loss: f64, accuracy: f64) {
        if let Some(bar) = &self.bar {
            if done == 1 {
                bar.reset();
                bar.set_length(total as u64);
                bar.set_prefix(format!("epoch {}/{}", epoch + 1, self.epochs));
            }
            bar.set_position(done as u64);
            bar.set_message(format!("loss {loss:.4}  acc {:.2}%", 100.0 * accuracy));
        }
    }

    fn epoch(&mut self, record: &EpochRecord) {
        let line = self.line(record);
        match &self.bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
    }
}

fn load_data(train: Option<&Path>, test: Option<&Path>, mirror: Option<&str>) -> Result<(Dataset, Dataset), String> {
    load_pair(train, test, mirror).map_err(|e| e.to_string())
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let command_line: Vec<String> = std::env::args().collect();
    // A resumed run takes its recorded settings; only --epochs may extend it.
    let (dir, info, resuming) = match &args.resume {
        Some(dir) => {
            let mut info: ModelInfo = read_json(&dir.join("model.json"))?;
            if let Some(epochs) = args.epochs {
                info.training.epochs = epochs;
            }
            (dir.clone(), info, true)
        }
        None => {
            let (name, spec, training) = config_from_args(&args)?;
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("{name}-{}", timestamp())));
            let info = ModelInfo {
                format: FORMAT.into(),
                name,
                spec,
                input_shape: Vec::new(),
                class_names: Vec::new(),
                normalization: training.normalization,
                params: 0,
                seed: args.seed,
                command_line,
                train_data: args.data.train.as_deref().map(recorded_path).unwrap_or_default(),
                test_data: args.data.test.as_deref().map(recorded_path).unwrap_or_default(),
                training,
            };
            (dir, info, false)
        }
    };
    let mut info = info;
    let cfg = info.training.clone();
    validate(&cfg)?;
    let optimizer_kind = OptimizerKind::parse(&cfg.optimizer, cfg.momentum)?;
    let init = Init::parse(&args.init).ok_or_else(|| format!("unknown --init '{}'; use glorot or he", args.init))?;

    // The default dataset is recorded as the directory it was found in, so that later commands
    // read the same files even if another copy appears first in the look-up.
    if info.train_data.is_empty() {
        let dir = locate_fashion_mnist(args.data.mirror.as_deref()).map_err(|e| e.to_string())?;
        info.train_data = recorded_path(&dir);
    }
    let train_path = PathBuf::from(&info.train_data);
    let test_path = (!info.test_data.is_empty()).then(|| PathBuf::from(&info.test_data));
    let (train_set, test_set) = load_data(Some(&train_path), test_path.as_deref(), args.data.mirror.as_deref())?;
    info.input_shape = train_set.shape.to_vec();
    info.class_names = train_set.class_names.clone();
    let model =
        Sequential::from_spec(&info.name, &info.spec, &info.input_shape, info.class_names.len(), init, cfg.seed)
            .map_err(|e| e.to_string())?;
    info.params = model.trainable_count() + model.non_trainable_count();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create run folder {}: {e}", dir.display()))?;

    println!("{}", model.summary());
    println!(
        "data: {} training images ({}), {} test images ({}); kernels: {}; threads: {}",
        train_set.len(),
        train_set.source,
        test_set.len(),
        test_set.source,
        simd_path().name(),
        rayon::current_num_threads()
    );
    let mut state = TrainState {
        model,
        optimizer: Optimizer::new(optimizer_kind, cfg.weight_decay),
        epochs_done: 0,
        history: Vec::new(),
        misclassified: Vec::new(),
    };
    if resuming {
        load_checkpoint(&dir, &mut state, optimizer_kind, cfg.weight_decay)?;
        println!("resuming {} after epoch {} of {}", dir.display(), state.epochs_done, cfg.epochs);
    }
    let (train_indices, val_indices) = split_indices(train_set.len(), cfg.val_split, cfg.seed);
    if train_indices.is_empty() {
        return Err(format!("--val-split {} leaves no training images", cfg.val_split));
    }
    let mut progress = Progress::new(cfg.epochs);
    save_model_files(&dir, &mut state, &info)?;
    let mut after_epoch = |state: &mut TrainState| -> Result<(), String> {
        save_checkpoint(&dir, state)?;
        write_history(&dir, &state.history)?;
        write_history_picture(&dir, &state.history)
    };
    let trained = train(&mut state, &cfg, &train_set, &train_indices, &val_indices, &mut progress, &mut after_epoch);
    if let Err(message) = trained {
        progress.finish();
        return Err(match state.epochs_done {
            0 => format!("{message}; no epoch completed, so no checkpoint was written"),
            n => format!(
                "{message}; the checkpoint after epoch {n} is kept in {} (continue with --resume)",
                dir.display()
            ),
        });
    }
    progress.finish();

    save_model_files(&dir, &mut state, &info)?;
    write_misclassified(&dir, &state.misclassified, &info.class_names)?;
    let test = evaluate(&mut state.model, &test_set, None, cfg.normalization, 500);
    let train_seconds: f64 = state.history.iter().map(|r| r.seconds).sum();
    let images: f64 = state.history.iter().map(|r| r.images_per_sec * r.seconds).sum();
    let per_class = test.confusion.per_class(&info.class_names);
    let metrics = serde_json::json!({
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        // Recall per class (the accuracy on that class's test images), for `compare`.
        "per_class_recall": per_class.iter().map(|c| c.recall).collect::<Vec<_>>(),
        "train_images": train_indices.len(),
        "params": info.params,
        "epochs": state.epochs_done,
        "train_seconds": train_seconds,
        "train_images_per_sec": images / train_seconds.max(1e-9),
        "misclassified_last_epoch": state.misclassified.len(),
        "preset": info.name,
        "seed": cfg.seed,
        "kernels": simd_path().name(),
        "threads": rayon::current_num_threads(),
    });
    write_metrics(&dir, &metrics)?;
    write_misclassified_picture(&dir, &train_set, &state.misclassified)?;
    write_evaluation_pictures(&dir, &test_set, &test, false)?;
    write_report(&dir, &info, &state.model.summary(), &state.history, test.accuracy, test.loss, &per_class)?;
    println!(
        "test accuracy {:.2}%  test loss {:.4}  ({} of {} wrong); {} training images misclassified in the last epoch",
        100.0 * test.accuracy,
        test.loss,
        test.confusion.total() - test.confusion.correct(),
        test.confusion.total(),
        state.misclassified.len()
    );
    println!("results in {}/", dir.display());
    Ok(())
}

fn save_model_files(dir: &Path, state: &mut TrainState, info: &ModelInfo) -> Result<(), String> {
    save_model(dir, &mut state.model, info)
}

pub fn validate(cfg: &TrainConfig) -> Result<(), String> {
    if cfg.epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    if cfg.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
        return Err(format!("--lr must be a positive number, not {}", cfg.lr));
    }
    if !(0.0..1.0).contains(&cfg.val_split) {
        return Err(format!("--val-split must be in [0, 1), not {}", cfg.val_split));
    }
    if !(0.0..1.0).contains(&cfg.label_smoothing) {
        return Err(format!("--label-smoothing must be in [0, 1), not {}", cfg.label_smoothing));
    }
    if !(0.0..=1.0).contains(&cfg.augment.erase) {
        return Err(format!("--erase must be a probability in [0, 1], not {}", cfg.augment.erase));
    }
    Schedule::parse(&cfg.schedule)?;
    Ok(())
}

/// A data path as `model.json` records it: absolute, so that `eval`, `suspects` and `apply` find
/// the data from any working directory.
fn recorded_path(path: &Path) -> String {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}
