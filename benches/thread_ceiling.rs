//! What this machine gives a second thread, to read `bench --thread-scaling` against.
//!
//! A "step" is `LOOPS` parallel loops of `TASKS` equal GEMMs each (the shape of `seed002`'s
//! second-convolution weight gradient over eight samples), as a training step is about ten
//! parallel loops of eight tasks, run as the engine runs them (`parallel::for_each_task`). Each
//! round times it on a pool of one thread and on a pool of two (the other worker kept awake, as
//! in training), and times the same GEMMs on two plain threads that never wait for each other.
//! It prints the medians over rounds of
//!
//! - `barrier_speedup`: one thread's time / two threads' with the loops' barriers, the best a
//!   training step could scale with no serial work and equal tasks;
//! - `independent_speedup`: one thread's time / two threads' with no barriers at all, what the
//!   two cores give side by side;
//!
//! and the same two ratios of the fastest rounds (`fastest_…`), as `bench --thread-scaling`
//! reports both.
//!
//! cargo bench --bench thread_ceiling

use fashion_cnn::engine::kernels::gemm::{Op, sgemm};
use fashion_cnn::engine::parallel::{for_each_task, with_scratch, with_workers_awake};
use fashion_cnn::engine::rng::Rng;
use std::hint::black_box;
use std::time::Instant;

const LOOPS: usize = 10;
const TASKS: usize = 8;
const STEPS_PER_ROUND: usize = 10;
const ROUNDS: usize = 21;
/// dY (64 channels × 8 samples · 121 pixels) times the patches (288 × the same columns).
const M: usize = 64;
const N: usize = 288;
const K: usize = 8 * 121;

fn task(a: &[f32], b: &[f32]) {
    with_scratch(M * N, |c| {
        sgemm(Op::N, Op::T, M, N, K, 1.0, a, K, b, K, 0.0, c, N);
        black_box(c[0]);
    });
}

fn seconds(f: impl FnOnce()) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_secs_f64()
}

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut rng = Rng::new(1);
    let a: Vec<f32> = (0..M * K).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let b: Vec<f32> = (0..N * K).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let (a, b) = (&a[..], &b[..]);
    let steps = || {
        for _ in 0..STEPS_PER_ROUND {
            for _ in 0..LOOPS {
                for_each_task(0..TASKS, |_| task(a, b));
            }
        }
    };
    let pools = [1, 2].map(|threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap());
    let time_on = |pool: &rayon::ThreadPool| pool.install(|| seconds(|| with_workers_awake(steps)));
    let independent = || {
        seconds(|| {
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| (0..STEPS_PER_ROUND * LOOPS * TASKS / 2).for_each(|_| task(a, b)));
                }
            })
        })
    };
    for pool in &pools {
        time_on(pool); // warm-up: threads, scratch buffers
    }
    let (mut one, mut two, mut apart) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        one.push(time_on(&pools[0]));
        two.push(time_on(&pools[1]));
        apart.push(independent());
    }
    let ratios = |many: &[f64]| one.iter().zip(many).map(|(one, many)| one / many).collect::<Vec<_>>();
    let (barrier, side_by_side) = (ratios(&two), ratios(&apart));
    let fastest = |times: &[f64]| times.iter().copied().fold(f64::MAX, f64::min);
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let line = serde_json::json!({
        "loops_per_step": LOOPS,
        "tasks_per_loop": TASKS,
        "rounds": ROUNDS,
        "barrier_speedup": round(median(&barrier)),
        "independent_speedup": round(median(&side_by_side)),
        "fastest_barrier_speedup": round(fastest(&one) / fastest(&two)),
        "fastest_independent_speedup": round(fastest(&one) / fastest(&apart)),
        "barrier_rounds": barrier.iter().map(|&x| round(x)).collect::<Vec<_>>(),
    });
    println!("{line}");
}
