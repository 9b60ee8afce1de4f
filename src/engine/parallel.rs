//! How work is split across rayon's threads, and per-thread scratch memory.
//!
//! Determinism rests on one rule: the batch is cut into chunks of a fixed number of samples that
//! does not depend on the thread count, every chunk computes its partial sums alone, and partial
//! sums are added in chunk order. So 1, 2 or 16 threads give bit-identical results.

use crate::engine::tensor::Tensor;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Samples per rayon task and per GEMM. sgemm at the `seed002` conv shapes runs at 73–109
/// GFLOP/s per core when one im2col covers 8 or more samples, 22–84 one sample at a time.
pub const SAMPLES_PER_TASK: usize = 8;

/// Rows of a dense layer's batch per rayon task.
pub const ROWS_PER_TASK: usize = 32;

/// Elements per task for element-wise layers (ReLU, dropout): large enough to amortise a task.
pub const ELEMENTS_PER_TASK: usize = 1 << 15;

/// A new tensor of `shape` filled by a two-input element-wise kernel, `kernel(a, b, out)`, run on
/// fixed chunks of `ELEMENTS_PER_TASK` in parallel (ReLU's backward, dropout's mask).
pub fn map2_par(shape: &[usize], a: &[f32], b: &[f32], kernel: impl Fn(&[f32], &[f32], &mut [f32]) + Sync) -> Tensor {
    let mut out = Tensor::for_overwrite(shape);
    let chunks =
        out.data.chunks_mut(ELEMENTS_PER_TASK).zip(a.chunks(ELEMENTS_PER_TASK).zip(b.chunks(ELEMENTS_PER_TASK)));
    for_each_task(chunks, |(out, (a, b))| kernel(a, b, out));
    out
}

/// Fills `out`, a row-major matrix `columns` wide, with `f(rows, columns, block, ld)` run on tasks
/// over row chunks of `rows_per_task` and, within each chunk, `blocks` column blocks whose widths
/// are multiples of `align`. `f` writes the block's `rows × columns` values at leading dimension
/// `ld`: straight into `out` when there is one column block, else into a matrix of its own that
/// is copied into place (the blocks' columns are not contiguous in `out`).
pub fn par_column_blocks(
    out: &mut [f32],
    columns: usize,
    rows_per_task: usize,
    blocks: usize,
    align: usize,
    f: impl Fn(Range<usize>, Range<usize>, &mut [f32], usize) + Sync,
) {
    let width = columns.div_ceil(blocks.max(1)).next_multiple_of(align).min(columns).max(1);
    for_each_task(out.chunks_mut(rows_per_task * columns).enumerate(), |(chunk, out)| {
        let first = chunk * rows_per_task;
        let rows = first..first + out.len() / columns;
        if width == columns {
            return f(rows, 0..columns, out, columns);
        }
        let block_columns = |block: usize| block * width..((block + 1) * width).min(columns);
        let results: Vec<Vec<f32>> = map_tasks(0..columns.div_ceil(width), |block| {
            let block_columns = block_columns(block);
            let mut values = vec![0.0; rows.len() * block_columns.len()];
            f(rows.clone(), block_columns.clone(), &mut values, block_columns.len());
            values
        });
        for (block, values) in results.iter().enumerate() {
            let block_columns = block_columns(block);
            for (row, values) in out.chunks_exact_mut(columns).zip(values.chunks_exact(block_columns.len())) {
                row[block_columns.clone()].copy_from_slice(values);
            }
        }
    });
}

thread_local! {
    static SCRATCH: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a per-thread scratch buffer of `len` floats whose contents are unspecified
/// (callers overwrite what they read). Buffers are reused across calls, so the hot loops do not
/// allocate (and fault in fresh pages) for every chunk; nested calls get distinct buffers.
pub fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buffer = SCRATCH.with(|pool| pool.borrow_mut().pop()).unwrap_or_default();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    let result = f(&mut buffer[..len]);
    SCRATCH.with(|pool| pool.borrow_mut().push(buffer));
    result
}

/// Runs `f` with the pool's other worker kept awake: it polls for work in a loop instead of going
/// to sleep whenever the thread running `f` does serial work between two parallel loops, so the
/// next loop does not wait for it to be woken. A `seed002` training step at batch 64 has about
/// ten parallel loops with serial work between them (the dense layers, the loss); there the idle
/// worker slept about 8 times a step, 0.2 ms each (`perf sched`), and each wake-up took longer
/// than the work it was woken for.
///
/// Only with exactly two threads: the poller is a job pushed before `f` starts, so the one other
/// worker, idle at that moment, steals it first. With more workers one of them could take it
/// while waiting inside a job of `f`, and poll there until `f` ends, which would never come.
pub fn with_workers_awake<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_num_threads() != 2 {
        return f();
    }
    let done = AtomicBool::new(false);
    let owner = rayon::current_thread_index();
    let (result, ()) = rayon::join(
        || {
            // Lets the poller go however `f` ends: after a panic in `f`, `join` would otherwise
            // wait for the poller forever.
            struct Release<'a>(&'a AtomicBool);
            impl Drop for Release<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Release);
                }
            }
            let _release = Release(&done);
            f()
        },
        || {
            // Taken back by `f`'s own thread (while it waited in a join of `f`, or after `f`):
            // polling there would hold up `f`.
            if rayon::current_thread_index() == owner {
                return;
            }
            while !done.load(Ordering::Acquire) {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::hint::spin_loop();
                }
            }
        },
    );
    result
}

/// `task` applied to every item, on all of the pool's threads, the results in the items' order.
///
/// Unlike a rayon parallel iterator, the calling thread never falls asleep waiting for the others
/// to finish their last items: it spins (running whatever rayon work there is meanwhile). Inside a
/// rayon join, a thread whose half was done first polled 32 times and then slept on a futex, and
/// waking it took longer than the wait. `seed002` b64 training on two threads made 4.8–5.5
/// voluntary context switches a step (`/usr/bin/time -v`, 660 steps of `bench`); with these
/// loops 1.3–1.4 (mostly the worker going to sleep between steps), and it ran at 1.11× the
/// images/s (`benches/ab.sh`, 10 rounds; 1.00× on one thread).
///
/// The items are handed out one at a time from a shared queue, so a thread slowed by anything
/// else on the machine simply takes fewer; which thread runs an item changes no result.
pub fn map_tasks<I: Send, R: Send>(items: impl IntoIterator<Item = I>, task: impl Fn(I) -> R + Sync) -> Vec<R> {
    let items: Vec<I> = items.into_iter().collect();
    let count = items.len();
    let helpers = rayon::current_num_threads().min(count).saturating_sub(1);
    if helpers == 0 {
        return items.into_iter().map(task).collect();
    }
    // The lock is held only to take the next item, never while a task runs: a panicking task
    // cannot poison it.
    let queue = Mutex::new(items.into_iter().enumerate());
    let next = || queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).next();
    let work = || std::iter::from_fn(next).map(|(index, item)| (index, task(item))).collect::<Vec<_>>();
    let done = Mutex::new(Vec::with_capacity(count));
    let running = AtomicUsize::new(helpers);
    rayon::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| {
                // Counts the helper out however its tasks end, or the spin below would not.
                let _finished = CountDown(&running);
                let results = work();
                done.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(results);
            });
        }
        let results = work();
        while running.load(Ordering::Acquire) > 0 {
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::hint::spin_loop();
            }
        }
        done.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(results);
    });
    let mut slots: Vec<Option<R>> = (0..count).map(|_| None).collect();
    for (index, result) in done.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()) {
        slots[index] = Some(result);
    }
    slots.into_iter().map(|result| result.expect("every item was taken once")).collect()
}

/// [`map_tasks`] for tasks that return nothing.
pub fn for_each_task<I: Send>(items: impl IntoIterator<Item = I>, task: impl Fn(I) + Sync) {
    map_tasks(items, task);
}

/// Decrements a counter when dropped.
struct CountDown<'a>(&'a AtomicUsize);

impl Drop for CountDown<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// Elements of `total` per task of [`sum_partials_into`].
const SUM_ELEMENTS_PER_TASK: usize = 4096;

/// Adds per-chunk partial sums into `total`, in chunk order for every element, so the result does
/// not depend on the thread count. In parallel over blocks of elements: `seed000`'s 256 chunks a
/// layer were 9.4 million serial adds a step for its last convolution.
pub fn sum_partials_into(total: &mut [f32], partials: &[Vec<f32>]) {
    for_each_task(total.chunks_mut(SUM_ELEMENTS_PER_TASK).enumerate(), |(block, total)| {
        let elements = block * SUM_ELEMENTS_PER_TASK..block * SUM_ELEMENTS_PER_TASK + total.len();
        for partial in partials {
            for (t, p) in total.iter_mut().zip(&partial[elements.clone()]) {
                *t += p;
            }
        }
    });
}

/// Asks glibc's allocator to keep freed memory for reuse instead of returning it to the kernel.
/// A training step frees and reallocates the same large activation buffers every batch; by
/// default glibc serves buffers over 32 MB with fresh `mmap`s, so every step paid for page faults
/// and the kernel zeroing pages (about 12% of a `seed000` batch-512 profile). One arena for all
/// threads: the commands run on a pool thread, and a thread's own arena grows in 64 MB heaps, so
/// a 51 MB activation there would still be a fresh `mmap` every time.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    /// Every item is taken exactly once and its result lands in the item's place, with tasks of
    /// very different lengths, nested inside one another and inside a step that keeps a worker
    /// awake, on 1, 2 and 3 threads; and both threads take part.
    #[test]
    fn tasks_return_every_result_in_order_on_any_number_of_threads() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (results, runners) = pool.install(|| {
                with_workers_awake(|| {
                    let runners = Mutex::new(std::collections::BTreeSet::new());
                    let results = map_tasks(0..200u64, |i| {
                        runners.lock().unwrap().insert(rayon::current_thread_index());
                        // Uneven work: every seventh item is a thousand times longer.
                        let work = if i % 7 == 0 { 100_000 } else { 100 };
                        let inner: u64 = map_tasks(0..4u64, |j| (0..work).map(|k| k % 3 + j).sum::<u64>()).iter().sum();
                        (i, inner)
                    });
                    (results, runners.into_inner().unwrap().len())
                })
            });
            let want: Vec<(u64, u64)> = (0..200u64)
                .map(|i| {
                    let work = if i % 7 == 0 { 100_000 } else { 100 };
                    (i, (0..4u64).map(|j| (0..work).map(|k| k % 3 + j).sum::<u64>()).sum())
                })
                .collect();
            assert_eq!(results, want, "{threads} threads");
            assert!(runners >= threads.min(2), "{threads} threads, tasks ran on {runners}");
        }
    }

    /// A task panicking on the helper thread reaches the caller once the other tasks are done
    /// (the helper counts itself out however its tasks end), and the pool works afterwards; waited for with a
    /// timeout, so a spin that never ends fails the test instead of hanging it.
    #[test]
    fn a_panicking_task_reaches_the_caller() {
        let (finished, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            let after = pool.install(|| {
                let caller = rayon::current_thread_index();
                let caught = std::panic::catch_unwind(|| {
                    for_each_task(0..64, |_| {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        assert_eq!(rayon::current_thread_index(), caller, "a task on the other thread failed");
                    })
                });
                caught.is_err().then(|| map_tasks(0..10u64, |i| i * i).iter().sum::<u64>())
            });
            finished.send(after).unwrap();
        });
        let after = outcome.recv_timeout(std::time::Duration::from_secs(30)).expect("the call never returned");
        assert_eq!(after, Some(285), "the panic was not passed on, or the next call went wrong");
    }

    /// The polling worker runs the work handed to it and lets go when `f` ends, through many
    /// short steps of nested parallel loops (as training runs them), on 1, 2 and 3 threads.
    #[test]
    fn keeping_a_worker_awake_finishes_every_step_with_the_same_result() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let sums: Vec<u64> = pool.install(|| {
                (0..300u64)
                    .map(|step| {
                        with_workers_awake(|| {
                            let first: u64 = (0..1000u64).into_par_iter().map(|i| i * step).sum();
                            let nested: u64 = (0..8u64)
                                .into_par_iter()
                                .map(|j| (0..100u64).into_par_iter().map(|i| i + j).sum::<u64>())
                                .sum();
                            first + nested
                        })
                    })
                    .collect()
            });
            let want: Vec<u64> = (0..300u64).map(|step| 499_500 * step + 8 * 4950 + 100 * 28).collect();
            assert_eq!(sums, want, "{threads} threads");
        }
    }

    /// A panic in `f` reaches the caller (instead of waiting for the poller forever), and the
    /// next call keeps a worker awake again. Run on a thread of its own and waited for with a
    /// timeout, so a poller that is never let go fails the test instead of hanging it.
    #[test]
    fn a_panic_inside_lets_the_poller_go() {
        let (finished, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            let sum: Option<u64> = pool.install(|| {
                let caught = std::panic::catch_unwind(|| with_workers_awake(|| panic!("a step failed")));
                caught.is_err().then(|| with_workers_awake(|| (0..1000u64).into_par_iter().sum()))
            });
            finished.send(sum).unwrap();
        });
        let sum = outcome.recv_timeout(std::time::Duration::from_secs(30)).expect("the call never returned");
        assert_eq!(sum, Some(499_500), "the panic was not passed on, or the next call went wrong");
    }

    /// Every element written exactly once, from the right row and column, whatever the cut:
    /// one or several column blocks, a short last row chunk, a short last column block.
    #[test]
    fn column_blocks_cover_every_element_once() {
        for (rows, columns, rows_per_task, blocks) in [(5, 7, 2, 1), (5, 70, 8, 3), (33, 50, 32, 2), (1, 40, 32, 9)] {
            let mut out = vec![-1.0; rows * columns];
            par_column_blocks(&mut out, columns, rows_per_task, blocks, 16, |r, c, block, ld| {
                assert!(r.len() <= rows_per_task && ld >= c.len());
                for (i, row) in r.clone().enumerate() {
                    for (j, column) in c.clone().enumerate() {
                        assert_eq!(block[i * ld + j], if ld == columns { -1.0 } else { 0.0 }, "written twice");
                        block[i * ld + j] = (row * 1000 + column) as f32;
                    }
                }
            });
            let want: Vec<f32> = (0..rows * columns).map(|i| ((i / columns) * 1000 + i % columns) as f32).collect();
            assert_eq!(out, want, "{rows}×{columns}, {rows_per_task} rows per task, {blocks} blocks");
        }
    }
}
