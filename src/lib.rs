//! fashion-cnn: a convolutional-network engine written from scratch for the CPU, and the
//! command-line trainer built on it.
//!
//! `engine` is the numeric core (tensors, kernels, layers, models, optimizers); it knows nothing
//! of files or the command line.

pub mod engine;
pub mod data;
pub mod cli;
