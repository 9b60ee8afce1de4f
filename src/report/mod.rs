//! Pictures a person opens instead of reading numbers: class-distribution pies, image grids,
//! training curves and the confusion matrix as PNG files, and a preview of one image in the
//! terminal.
//!
//! Every picture is drawn into an RGB buffer in memory (plotters' bitmap backend for shapes and
//! text, plain loops for the dataset images), encoded as PNG with `image`, and written with
//! [`crate::data::write_atomic`], so a report folder never holds half a picture. Text uses the
//! DejaVu Sans file shipped in `assets/fonts/` and compiled into the binary: a machine with no
//! fonts installed (a server, a container, CI) draws the same pictures as a desktop.
//!
//! One picture per file: [`history`], [`confusion`], [`grid`] (image grids and single images,
//! with [`captions`] for predictions), [`pie`]; [`preview`] is the terminal rendering; [`canvas`] holds what they share and [`text`]
//! draws their words.

pub mod canvas;
pub mod captions;
pub mod confusion;
pub mod grid;
pub mod history;
pub mod pie;
pub mod preview;
pub mod run_report;
pub mod suspects;
pub mod text;

pub use captions::{grid_columns, misclassified_tile, prediction_tile, suspect_tile};
pub use confusion::confusion_png;
pub use grid::{NEUTRAL, RIGHT, Tile, WRONG, grid_size, image_grid_png, single_image_png};
pub use history::history_png;
pub use pie::{pie_png, slice_color};
pub use preview::{terminal_preview, use_color};
