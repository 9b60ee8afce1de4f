//! The captions of prediction grids, in one place so that `eval`'s predictions, `train`'s
//! misclassified images and the suspects list all read the same way.

use super::grid::{RIGHT, Tile, WRONG};

/// A test image with the model's answer: "Sneaker 97.3%" over "true: Sneaker", blue when the
/// prediction is right and red when it is wrong.
pub fn prediction_tile<'a>(
    pixels: &'a [u8],
    shape: [usize; 3],
    predicted: &str,
    confidence: f32,
    truth: &str,
) -> Tile<'a> {
    Tile {
        pixels,
        shape,
        lines: vec![format!("{predicted} {:.1}%", 100.0 * confidence), format!("true: {truth}")],
        color: if predicted == truth { RIGHT } else { WRONG },
    }
}

/// A training image the model got wrong: "#1234", "given: Shirt", "pred: T-shirt/top 87%", in
/// red (three lines: with 60,000 images an index and a class name do not fit one line).
pub fn misclassified_tile<'a>(
    pixels: &'a [u8],
    shape: [usize; 3],
    index: usize,
    given: &str,
    predicted: &str,
    confidence: f32,
) -> Tile<'a> {
    Tile {
        pixels,
        shape,
        lines: vec![
            format!("#{index}"),
            format!("given: {given}"),
            format!("pred: {predicted} {:.0}%", 100.0 * confidence),
        ],
        color: WRONG,
    }
}

/// About as many columns as rows for `n` images, at most 10 so a wide grid still fits a screen.
pub fn grid_columns(n: usize) -> usize {
    ((n as f64).sqrt().ceil() as usize).clamp(1, 10)
}

/// A suspect of a suspects list: "1. #1234", "given: Shirt", "maybe: T-shirt/top 87%", in red
/// (the image's label is the one in doubt).
pub fn suspect_tile<'a>(
    pixels: &'a [u8],
    shape: [usize; 3],
    rank: usize,
    index: usize,
    given: &str,
    suggested: &str,
    p_suggested: f32,
) -> Tile<'a> {
    Tile {
        pixels,
        shape,
        lines: vec![
            format!("{rank}. #{index}"),
            format!("given: {given}"),
            format!("maybe: {suggested} {:.0}%", 100.0 * p_suggested),
        ],
        color: WRONG,
    }
}
