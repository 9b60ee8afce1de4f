//! `suspects.png`: the top of a suspects list, each image with its given label and the label
//! the detector suggests, so a person can judge the list at a glance before reviewing it.

use super::{grid_columns, image_grid_png, suspect_tile};
use crate::data::Dataset;
use crate::labels::suspects::Suspect;
use std::path::Path;

/// At most this many suspects are drawn: 50 fit a screen at 10 columns.
pub const SUSPECTS_SHOWN: usize = 50;

/// Draws the first [`SUSPECTS_SHOWN`] of `suspects` (images of `train`) to `path`; nothing is
/// written for an empty list.
pub fn suspects_png(path: &Path, train: &Dataset, suspects: &[Suspect], title: &str) -> Result<(), String> {
    let shown = &suspects[..suspects.len().min(SUSPECTS_SHOWN)];
    if shown.is_empty() {
        return Ok(());
    }
    let names = &train.class_names;
    let tiles: Vec<_> = shown
        .iter()
        .map(|s| {
            let (given, suggested) = (&names[s.given as usize], &names[s.suggested as usize]);
            suspect_tile(train.image(s.index), train.shape, s.rank, s.index, given, suggested, s.p_suggested())
        })
        .collect();
    image_grid_png(path, &tiles, grid_columns(tiles.len()), title)
}
