//! The confusion matrix as a heat map: true classes down the side, predicted classes along the
//! bottom, each cell shaded by its share of the true class and labelled with its count.
//!
//! Shading by the row's share rather than the raw count keeps the errors visible: on a test set
//! of 10,000 the diagonal holds nearly everything, and raw counts would leave every other cell
//! white.

use std::path::Path;

use super::canvas::Canvas;
use super::text::{Align, fit, measure};
use crate::data::thousands;
use crate::train::metrics::Confusion;

/// Picture size, in pixels, whatever the number of classes.
pub const CONFUSION_WIDTH: u32 = 1000;
pub const CONFUSION_HEIGHT: u32 = 960;
const TOP: usize = 96;
const LEFT: usize = 170;
const RIGHT_MARGIN: usize = 24;
const BOTTOM: usize = 96;
const LABEL_SIZE: f32 = 15.0;
const INK: (u8, u8, u8) = (0, 0, 0);
const GRAY: (u8, u8, u8) = (90, 90, 90);

/// matplotlib's `Blues` at 0 and at 1.
const LIGHT: [f64; 3] = [247.0, 251.0, 255.0];
const DARK: [f64; 3] = [8.0, 48.0, 107.0];

/// Draws `confusion` (rows true classes, columns predictions, named by `class_names`) and writes
/// the PNG (1000×960) to `path`.
pub fn confusion_png(path: &Path, confusion: &Confusion, class_names: &[String]) -> Result<(), String> {
    let k = confusion.classes;
    if k == 0 || Some(confusion.counts.len()) != k.checked_mul(k) {
        return Err(format!(
            "{}: a confusion matrix of {k} classes needs {} counts, not {}",
            path.display(),
            k.saturating_mul(k),
            confusion.counts.len()
        ));
    }
    let name = |c: usize| class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let room = (CONFUSION_WIDTH as usize - LEFT - RIGHT_MARGIN).min(CONFUSION_HEIGHT as usize - TOP - BOTTOM);
    let cell = (room / k).max(1);
    let grid = cell * k;
    let grid_left = LEFT + (CONFUSION_WIDTH as usize - LEFT - RIGHT_MARGIN - grid) / 2;
    let middle = (grid_left + grid / 2) as f32;

    let mut canvas = Canvas::new(CONFUSION_WIDTH, CONFUSION_HEIGHT).map_err(|e| format!("{}: {e}", path.display()))?;
    let title = format!(
        "Confusion matrix: {} of {} right ({:.2}%)",
        thousands(confusion.correct()),
        thousands(confusion.total()),
        100.0 * confusion.accuracy()
    );
    canvas.text(&title, 24.0, INK, middle, 32.0, Align::Center);
    let note = "each cell's shade is its share of the true class (its row)";
    canvas.text(note, 14.0, GRAY, middle, 62.0, Align::Center);

    let count_size = (cell as f32 * 0.28).clamp(6.0, 17.0);
    for t in 0..k {
        let row = &confusion.counts[t * k..(t + 1) * k];
        let row_total = row.iter().sum::<usize>().max(1) as f64;
        for (p, &count) in row.iter().enumerate() {
            let share = count as f64 / row_total;
            let fill: [u8; 3] = std::array::from_fn(|i| (LIGHT[i] + (DARK[i] - LIGHT[i]) * share).round() as u8);
            let (x, y) = (grid_left + p * cell, TOP + t * cell);
            canvas.fill_rect(x as i64, y as i64, cell, cell, fill);
            let ink = if share > 0.5 { (255, 255, 255) } else { INK };
            let (cx, cy) = ((x + cell / 2) as f32, (y + cell / 2) as f32);
            canvas.text(&count.to_string(), count_size, ink, cx, cy, Align::Center);
        }
    }
    frame(&mut canvas, grid_left, TOP, grid);

    // Row names right-aligned against the grid; the axis title just left of the widest.
    let mut widest = 0.0f32;
    for t in 0..k {
        let text = fit(&name(t), LABEL_SIZE, (LEFT - 44) as f32);
        widest = widest.max(measure(&text, LABEL_SIZE).0);
        let y = (TOP + t * cell + cell / 2) as f32;
        canvas.text(&text, LABEL_SIZE, INK, (grid_left - 8) as f32, y, Align::Right);
    }
    let axis_x = (grid_left as f32 - 8.0 - widest - 22.0).max(14.0);
    canvas.text_vertical("true class", 17.0, INK, axis_x, (TOP + grid / 2) as f32);
    // Column names under the grid, on two lines when one is too wide for a cell.
    let mut lines_used = 1;
    for p in 0..k {
        let x = (grid_left + p * cell + cell / 2) as f32;
        let lines = wrap(&name(p), LABEL_SIZE, cell.saturating_sub(6) as f32);
        lines_used = lines_used.max(lines.len());
        for (n, line) in lines.iter().enumerate() {
            canvas.text(line, LABEL_SIZE, INK, x, (TOP + grid + 16 + n * 19) as f32, Align::Center);
        }
    }
    canvas.text("predicted class", 17.0, INK, middle, (TOP + grid + 26 + lines_used * 19) as f32, Align::Center);
    canvas.save(path)
}

/// A one-pixel gray border around the `size`×`size` grid at (`left`, `top`).
fn frame(canvas: &mut Canvas, left: usize, top: usize, size: usize) {
    let gray = [120, 120, 120];
    let (left, top) = (left as i64 - 1, top as i64 - 1);
    canvas.fill_rect(left, top, size + 2, 1, gray);
    canvas.fill_rect(left, top + size as i64 + 1, size + 2, 1, gray);
    canvas.fill_rect(left, top, 1, size + 2, gray);
    canvas.fill_rect(left + size as i64 + 1, top, 1, size + 2, gray);
}

/// `text` on one line if it fits in `width` pixels, else split in two at the space, slash or
/// hyphen nearest its middle ("T-shirt/" "top", "Ankle" "boot"), each line shortened if still
/// too wide.
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    if measure(text, size).0 <= width {
        return vec![text.to_string()];
    }
    let middle = text.len() / 2;
    let split = text
        .char_indices()
        .filter(|&(_, c)| c == ' ' || c == '/' || c == '-')
        .map(|(i, c)| if c == ' ' { (i, i + 1) } else { (i + 1, i + 1) })
        .min_by_key(|&(end, _)| end.abs_diff(middle));
    match split {
        Some((end, start)) => vec![fit(&text[..end], size, width), fit(&text[start..], size, width)],
        None => vec![fit(text, size, width)],
    }
}
