//! The numeric core: tensors, kernels, layers, models, optimizers. No files, no command line.

pub mod kernels;
pub mod rng;
pub mod tensor;
