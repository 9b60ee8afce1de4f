//! The numeric core: tensors, kernels, layers, models, optimizers. No files, no command line.

pub mod init;
pub mod kernels;
pub mod layers;
pub mod loss;
pub mod model;
pub mod optim;
pub mod parallel;
pub mod rng;
pub mod step;
pub mod tensor;
