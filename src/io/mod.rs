//! Saving and loading models and checkpoints.

pub mod checkpoint;
