//! Training: batches, the epoch loop, evaluation, metrics, the run folder.

pub mod batch;
pub mod cv;
pub mod evaluate;
pub mod metrics;
pub mod recipe;
pub mod run;
pub mod trainer;
