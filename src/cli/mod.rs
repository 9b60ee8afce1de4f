//! The command line: one file per subcommand, no numerics here.

pub mod apply;
pub mod bench;
pub mod compare;
pub mod cv;
pub mod eval;
pub mod explore;
pub mod noise_bench;
pub mod predict;
pub mod review;
pub mod summary;
pub mod suspects;
pub mod train;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Where the data comes from: shared by the commands that read a dataset.
#[derive(clap::Args, Debug)]
pub struct DataArgs {
    /// Training data: a Kaggle CSV, an IDX images file, or a directory (default: Fashion-MNIST
    /// from data/fashion-mnist/, $FASHION_MNIST_DIR, /usr/share/datasets/fashion-mnist/, or a download).
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Test data, in the same forms.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Mirror to download Fashion-MNIST from when it is not found locally.
    #[arg(long)]
    pub mirror: Option<String>,
}

/// `train`'s arguments with every default, for a bare `fashion-cnn`.
fn default_train_args() -> train::TrainArgs {
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        inner: train::TrainArgs,
    }
    Wrapper::parse_from(["fashion-cnn"]).inner
}

#[derive(Parser, Debug)]
#[command(name = "fashion-cnn", version, about = "Train small CNNs on the CPU and fix mislabeled training images")]
pub struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,

    /// With no command at all, `train` runs with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Look at a dataset: counts per class, distribution pies, random samples, one image by index.
    Explore(explore::ExploreArgs),
    /// Print a network's layers, output shapes and parameter counts.
    Summary(summary::SummaryArgs),
    /// Train a network and keep the model, history and reports in a run folder.
    Train(Box<train::TrainArgs>),
    /// Evaluate a trained run on a test set: accuracy, per-class metrics, confusion matrix.
    Eval(eval::EvalArgs),
    /// Classify your own PNG/JPEG images or dataset images with a trained run.
    Predict(predict::PredictArgs),
    /// Training or inference throughput of a preset, as one JSON line (same keys as the
    /// reference bench.py).
    Bench(bench::BenchArgs),
    /// k-fold cross-validation (all folds, or one with --fold I; `cv merge DIR` combines them).
    #[command(args_conflicts_with_subcommands = true)]
    Cv(Box<cv::CvArgs>),
    /// Rank a run's training images by how likely their label is wrong (suspects.csv + .png).
    Suspects(suspects::SuspectsArgs),
    /// Flip known labels, run every detector and retrain: precision, recall, F1, accuracy.
    NoiseBench(Box<noise_bench::NoiseBenchArgs>),
    /// Walk a suspects list and say what each label should be; every answer is saved in a
    /// journal at once, and a new session resumes where the last one stopped.
    Review(review::ReviewArgs),
    /// Write the corrected training set a review journal decided on, with a change log.
    Apply(apply::ApplyArgs),
    /// Two runs side by side: test accuracy, per-class recall, losses, and the difference.
    Compare(compare::CompareArgs),
}

/// Runs the parsed command; errors come back as one message for `main` to print.
pub fn run(cli: Cli) -> Result<(), String> {
    crate::engine::kernels::init_simd_path()?;
    if cli.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    // The whole command runs on one of the pool's threads, so every parallel loop is forked
    // from inside the pool: the idle worker steals its half, and no loop has to be handed over
    // from an outside thread that then sleeps until the loop is done (two context switches per
    // loop, dozens of loops per training step).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cli.threads.unwrap_or(0))
        .stack_size(8 << 20)
        .build()
        .map_err(|e| format!("cannot start the worker threads: {e}"))?;
    pool.install(|| run_command(cli))
}

fn run_command(cli: Cli) -> Result<(), String> {
    let command = match cli.command {
        Some(command) => command,
        None => Command::Train(Box::new(default_train_args())),
    };
    match command {
        Command::Explore(args) => explore::run(args),
        Command::Summary(args) => summary::run(args),
        Command::Train(args) => train::run(*args),
        Command::Eval(args) => eval::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Cv(args) => cv::run(*args),
        Command::Bench(args) => bench::run(args),
        Command::Suspects(args) => suspects::run(args),
        Command::NoiseBench(args) => noise_bench::run(*args),
        Command::Review(args) => review::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Compare(args) => compare::run(args),
    }
}
