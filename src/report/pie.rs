//! The class-distribution pie: one slice per class, its angle proportional to the class's
//! count, the class name outside the slice and its percentage inside (after the name when the
//! slice is too thin to hold it).
//!
//! Slices are filled polygons of one flat colour each ([`slice_color`]), which is what lets a test
//! measure each slice's share of the picture.

use std::f64::consts::PI;
use std::path::Path;

use plotters::prelude::*;

use super::canvas::{Canvas, draw_error};
use super::text::{Align, measure};

/// Picture size, in pixels.
pub const PIE_WIDTH: u32 = 900;
pub const PIE_HEIGHT: u32 = 680;
const RADIUS: f64 = 230.0;
const CENTER: (f64, f64) = (450.0, 370.0);
const BLACK_INK: (u8, u8, u8) = (0, 0, 0);
const NAME_SIZE: f32 = 17.0;
const PERCENT_SIZE: f32 = 15.0;
/// Percentages sit at this fraction of the radius, where slices are still wide.
const INSIDE: f64 = 0.7;

/// matplotlib's `tab10`, the palette the source notebooks' pies were drawn with.
const TAB10: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// The fill colour of class `i`'s slice: `tab10` for the first ten, then evenly spread hues.
pub fn slice_color(i: usize) -> (u8, u8, u8) {
    match TAB10.get(i) {
        Some(&c) => c,
        None => {
            let hue = (i as f64 * 0.618_034).fract();
            let c = HSLColor(hue, 0.55, 0.55).to_rgba();
            (c.0, c.1, c.2)
        }
    }
}

/// Draws the pie of `counts` (one per class, named by `class_names`) under `title` and writes
/// the PNG (900×680) to `path`. Slices start at twelve o'clock and go clockwise in class order;
/// empty classes get no slice and no label.
pub fn pie_png(path: &Path, counts: &[usize], class_names: &[String], title: &str) -> Result<(), String> {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return Err(format!("{}: no images to draw a class distribution of", path.display()));
    }
    let mut canvas = Canvas::new(PIE_WIDTH, PIE_HEIGHT).map_err(|e| format!("{}: {e}", path.display()))?;
    let point = |angle: f64, radius: f64| (CENTER.0 + radius * angle.cos(), CENTER.1 + radius * angle.sin());
    let pixel = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    let mut slices = Vec::new();
    let area = canvas.area();
    let mut start = -PI / 2.0;
    for (class, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let share = count as f64 / total as f64;
        let end = start + share * 2.0 * PI;
        // One vertex per half degree keeps the rim round at this radius.
        let steps = ((end - start) / (PI / 360.0)).ceil().max(1.0) as usize;
        let mut outline = vec![pixel(CENTER)];
        outline.extend((0..=steps).map(|s| pixel(point(start + (end - start) * s as f64 / steps as f64, RADIUS))));
        let (r, g, b) = slice_color(class);
        area.draw(&Polygon::new(outline, RGBColor(r, g, b).filled())).map_err(|e| draw_error(path, e))?;
        slices.push((class, share, (start + end) / 2.0));
        start = end;
    }
    area.present().map_err(|e| draw_error(path, e))?;
    drop(area);

    canvas.text(title, 24.0, BLACK_INK, CENTER.0 as f32, 36.0, Align::Center);
    for (class, share, middle) in slices {
        let name = class_names.get(class).cloned().unwrap_or_else(|| format!("class {class}"));
        // Names sit outside the rim and grow away from it: left-aligned on the right half,
        // right-aligned on the left, centred at the top and bottom.
        let align = if middle.cos().abs() < 0.15 {
            Align::Center
        } else if middle.cos() > 0.0 {
            Align::Left
        } else {
            Align::Right
        };
        // A name near the top or bottom needs more room than one at the side, where only its
        // width (not its height) points away from the pie.
        let gap = 14.0 + 10.0 * middle.sin().abs();
        let (x, y) = point(middle, RADIUS + gap);
        let percent = format!("{:.1}%", 100.0 * share);
        // The percentage goes inside when the slice's arc there is wider than the text, else
        // after the name.
        let arc = share * 2.0 * PI * RADIUS * INSIDE;
        let inside = arc as f32 > measure(&percent, PERCENT_SIZE).0 + 8.0;
        let label = if inside { name } else { format!("{name} ({percent})") };
        canvas.text(&label, NAME_SIZE, BLACK_INK, x as f32, y as f32, align);
        if inside {
            let (r, g, b) = slice_color(class);
            let light = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64 > 135.0;
            let ink = if light { BLACK_INK } else { (255, 255, 255) };
            let (x, y) = point(middle, RADIUS * INSIDE);
            canvas.text(&percent, PERCENT_SIZE, ink, x as f32, y as f32, Align::Center);
        }
    }
    canvas.save(path)
}
