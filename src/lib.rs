//! fashion-cnn: a convolutional-network engine written from scratch for the CPU, and the
//! command-line trainer built on it.
//!
//! Dependencies point one way: `engine` (tensors, kernels, layers, models, optimizers) knows
//! nothing of files or the command line; `data` (readers, writers, locating the dataset) knows
//! nothing of the engine; `train` joins them; `io` saves models; `labels` finds and fixes wrong
//! training labels; `report` draws pictures of data and results; `cli` sits on top.

pub mod cli;
pub mod data;
pub mod engine;
pub mod io;
pub mod labels;
pub mod report;
pub mod train;
