//! The command line: one file per subcommand, no numerics here.

pub mod summary;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "fashion-cnn", version, about = "Train small CNNs on the CPU and fix mislabeled training images")]
pub struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a network's layers, output shapes and parameter counts.
    Summary(summary::SummaryArgs),
}

/// Runs the parsed command; errors come back as one message for `main` to print.
pub fn run(cli: Cli) -> Result<(), String> {
    crate::engine::kernels::init_simd_path()?;
    if let Some(threads) = cli.threads {
        if threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    }
    match cli.command {
        Command::Summary(args) => summary::run(args),
    }
}
