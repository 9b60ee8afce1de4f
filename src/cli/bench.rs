//! `fashion-cnn bench`: training or inference throughput of a preset, one JSON line with the same
//! keys as `../shared/reference/bench.py`, so runs of ours and of the peers compare directly.
//! Like the reference: real Fashion-MNIST when it is on this machine (never downloaded here),
//! generated images otherwise; one warm-up pass, then the median of `--repeats` timed passes.
//!
//! `--thread-scaling` times the same passes on a pool of one thread and on a pool of `--threads`,
//! taking turns pass by pass, and reports the median of the rounds' speedups: on a shared machine
//! another tenant then slows both sides of a round alike, where two separate processes minutes
//! apart can meet very different machines. It also reports the two sides' fastest passes and
//! their ratio (see [`fastest`]).

use crate::data::idx::read_idx_dir;
use crate::data::locate::{DIR_ENV, find_fashion_dir, search_dirs};
use crate::engine::init::Init;
use crate::engine::kernels::simd_path;
use crate::engine::loss::SoftmaxCrossEntropy;
use crate::engine::model::{Sequential, preset};
use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::engine::rng::Rng;
use crate::engine::step::train_step;
use crate::engine::tensor::Tensor;
use clap::Args;
use rayon::ThreadPool;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[arg(long, default_value = "seed002")]
    pub preset: String,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Optimizer steps per timed pass (training).
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Time inference over the 10,000 test images instead of training.
    #[arg(long)]
    pub infer: bool,
    /// Images per timed inference pass (default: all 10,000 test images). A small pass keeps
    /// instruction-count profiles (`valgrind --tool=callgrind`) short.
    #[arg(long)]
    pub images: Option<usize>,
    /// Time each pass on one thread and on all of `--threads`, in turns, and print both lines
    /// and a third with the median speedup over the rounds.
    #[arg(long)]
    pub thread_scaling: bool,
}

/// Images scaled to [0, 1] and labels: the real training or test set, or generated ones.
fn images(test: bool, needed: usize) -> (Vec<f32>, Vec<u8>) {
    let env = std::env::var_os(DIR_ENV);
    if let Some(dir) = find_fashion_dir(&search_dirs(env.as_deref()))
        && let Ok(data) = read_idx_dir(&dir, if test { "t10k" } else { "train" })
    {
        return (data.images.iter().map(|&p| p as f32 / 255.0).collect(), data.labels);
    }
    let mut rng = Rng::new(0);
    let n = needed.max(1000);
    ((0..n * 784).map(|_| rng.next_f32()).collect(), (0..n).map(|_| rng.below(10) as u8).collect())
}

/// Peak resident memory of this process in MB (Linux `VmHWM`; 0 where unavailable).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    let p = preset(&args.preset).ok_or_else(|| format!("unknown preset '{}'", args.preset))?;
    if args.batch_size == 0 || args.steps == 0 || args.repeats == 0 {
        return Err("--batch-size, --steps and --repeats must be at least 1".into());
    }
    let mut model =
        Sequential::from_spec(p.name, p.spec, &[1, 28, 28], 10, Init::GlorotUniform, 0).map_err(|e| e.to_string())?;
    let b = args.batch_size;
    let (x, y) = images(args.infer, args.steps * b);
    let n = match (args.infer, args.images) {
        (true, Some(limit)) if limit == 0 || limit > y.len() => {
            return Err(format!("--images must be between 1 and {}", y.len()));
        }
        (true, Some(limit)) => limit,
        _ => y.len(),
    };
    if n <= b && !args.infer {
        return Err(format!("--batch-size {b} needs more than {n} images"));
    }
    let batch =
        |start: usize, len: usize| Tensor::from_vec(&[len, 1, 28, 28], x[start * 784..(start + len) * 784].to_vec());
    // The reference's optimizers: Adam 1e-3 for the CNNs, SGD 0.02 for the MLP.
    let (kind, lr) = if p.name == "mlp003" { ("sgd", 0.02) } else { ("adam", 1e-3) };
    let mut optimizer = Optimizer::new(OptimizerKind::parse(kind, None)?, 0.0);
    let loss = SoftmaxCrossEntropy::new(0.0);
    let forward_flops = 2.0 * model.forward_macs() as f64;
    let mut pass = || -> usize {
        if args.infer {
            for start in (0..n).step_by(b) {
                model.predict(batch(start, b.min(n - start)));
            }
            n
        } else {
            for s in 0..args.steps {
                let start = (s * b) % (n - b);
                train_step(&mut model, batch(start, b), &y[start..start + b], &loss, &mut optimizer, lr);
            }
            args.steps * b
        }
    };
    let mode = if args.infer { "infer" } else { "train" };
    let line = |threads: usize, images_per_sec: f64| {
        let factor = if args.infer { 1.0 } else { 3.0 };
        serde_json::json!({
            "framework": "fashion-cnn",
            "version": env!("CARGO_PKG_VERSION"),
            "preset": p.name,
            "mode": mode,
            "batch": b,
            "threads": threads,
            "images_per_sec": (images_per_sec * 10.0).round() / 10.0,
            "gflops": (factor * forward_flops * images_per_sec / 1e7).round() / 100.0,
            "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
            "simd": simd_path().name(),
        })
    };
    let timed = |pass: &mut dyn FnMut() -> usize| {
        let started = Instant::now();
        let images = pass();
        images as f64 / started.elapsed().as_secs_f64()
    };
    if !args.thread_scaling {
        pass(); // warm-up: allocator, caches, thread pool
        let rates: Vec<f64> = (0..args.repeats).map(|_| timed(&mut pass)).collect();
        println!("{}", line(rayon::current_num_threads(), median(&rates)));
        return Ok(());
    }
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return Err("--thread-scaling compares one thread with --threads, which must then be at least 2".into());
    }
    let pools = [pool(1)?, pool(threads)?];
    for pool in &pools {
        pool.install(&mut pass); // warm-up: each pool's threads have their own scratch buffers
    }
    let mut rates = [Vec::new(), Vec::new()];
    for _ in 0..args.repeats {
        for (pool, rates) in pools.iter().zip(&mut rates) {
            rates.push(pool.install(|| timed(&mut pass)));
        }
    }
    let speedups: Vec<f64> = rates[1].iter().zip(&rates[0]).map(|(many, one)| many / one).collect();
    println!("{}", line(1, median(&rates[0])));
    println!("{}", line(threads, median(&rates[1])));
    let round = |x: &f64| (x * 1000.0).round() / 1000.0;
    let summary = serde_json::json!({
        "preset": p.name,
        "mode": mode,
        "batch": b,
        "threads": threads,
        "speedup": round(&median(&speedups)),
        "fastest_images_per_sec": [round(&fastest(&rates[0])), round(&fastest(&rates[1]))],
        "fastest_speedup": round(&(fastest(&rates[1]) / fastest(&rates[0]))),
        "rounds": speedups.iter().map(round).collect::<Vec<_>>(),
    });
    println!("{summary}");
    Ok(())
}

/// The middle value (the upper one of an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The largest value. Another tenant of the machine only ever slows a pass down, so the fastest
/// pass of each side is the one nearest what the engine does alone: the ratio of the two fastest
/// is the scaling the code gives, the median of the rounds' ratios the one a user meets today.
fn fastest(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::MIN, f64::max)
}

/// A pool of `threads` workers like the command's own (`cli::run`).
fn pool(threads: usize) -> Result<ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(8 << 20)
        .build()
        .map_err(|e| format!("cannot start {threads} worker threads: {e}"))
}
