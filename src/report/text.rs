//! Text drawn straight from the embedded font with `ab_glyph`.
//!
//! plotters' own `ab_glyph` text drops each glyph's left side bearing, so letters after a
//! narrow one crowd it ("T-shirt/top" reads "Tshirt/top", the dot of "10.0%" touches its
//! digits). Captions, class names and titles are the content of these pictures, so they are
//! laid out here: advance, kerning and bearing as the font defines them, each glyph's coverage
//! blended over what is already drawn. plotters still draws the history chart's tick labels,
//! where the flaw is slight.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use super::canvas::{Canvas, FONT};

/// Where the given x lies on the text: its left end, its middle or its right end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// The embedded font, parsed once. It is compiled in and known good, so failing to parse it is
/// a build defect; callers still get an error, not a panic.
fn face() -> Result<&'static FontRef<'static>, String> {
    static FACE: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FACE.get_or_init(|| FontRef::try_from_slice(FONT).ok())
        .as_ref()
        .ok_or_else(|| "the embedded font DejaVuSans.ttf cannot be read".to_string())
}

/// Width of `text` at `size` pixels, and the height of a line (ascent + descent).
pub fn measure(text: &str, size: f32) -> (f32, f32) {
    let Ok(face) = face() else { return (0.0, 0.0) };
    let font = face.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            width += font.kern(p, id);
        }
        width += font.h_advance(id);
        previous = Some(id);
    }
    (width, font.ascent() - font.descent())
}

/// `text` as it is, or cut and ended with "…" so that it is at most `max_width` pixels wide.
pub fn fit(text: &str, size: f32, max_width: f32) -> String {
    if measure(text, size).0 <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len())
        .rev()
        .map(|n| chars[..n].iter().collect::<String>() + "…")
        .find(|t| measure(t, size).0 <= max_width)
        .unwrap_or_default()
}

/// The coverage (0–1) of `text` at `size` in a box one line high: `(width, height, values)`.
fn rasterize(face: &FontRef<'static>, text: &str, size: f32) -> (usize, usize, Vec<f32>) {
    let font = face.as_scaled(PxScale::from(size));
    let (text_width, line_height) = measure(text, size);
    let (width, height) = (text_width.ceil() as usize + 2, line_height.ceil() as usize + 2);
    let mut coverage = vec![0.0f32; width * height];
    let mut caret = 1.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            caret += font.kern(p, id);
        }
        let glyph = id.with_scale_and_position(font.scale(), point(caret, 1.0 + font.ascent()));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, value| {
                let (x, y) = (bounds.min.x as i64 + gx as i64, bounds.min.y as i64 + gy as i64);
                if x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height {
                    let at = y as usize * width + x as usize;
                    coverage[at] = coverage[at].max(value.clamp(0.0, 1.0));
                }
            });
        }
        caret += font.h_advance(id);
        previous = Some(id);
    }
    (width, height, coverage)
}

impl Canvas {
    /// Draws one line of `text` at `size` pixels in `color`. `x` is its left end, middle or right
    /// end as `align` says; `y` the middle of the line. Pixels off the canvas are dropped.
    pub fn text(&mut self, text: &str, size: f32, color: (u8, u8, u8), x: f32, y: f32, align: Align) {
        let Ok(face) = face() else { return };
        let (width, height, coverage) = rasterize(face, text, size);
        let left = match align {
            Align::Left => x - 1.0,
            Align::Center => x - width as f32 / 2.0,
            Align::Right => x - width as f32 + 1.0,
        };
        let (left, top) = (left.round() as i64, (y - height as f32 / 2.0).round() as i64);
        for row in 0..height {
            for col in 0..width {
                self.blend(left + col as i64, top + row as i64, color, coverage[row * width + col]);
            }
        }
    }

    /// Draws `text` turned a quarter to the left, reading bottom to top (an axis title beside a
    /// vertical axis), centred on (`x`, `y`).
    pub fn text_vertical(&mut self, text: &str, size: f32, color: (u8, u8, u8), x: f32, y: f32) {
        let Ok(face) = face() else { return };
        let (width, height, coverage) = rasterize(face, text, size);
        let left = (x - height as f32 / 2.0).round() as i64;
        let top = (y - width as f32 / 2.0).round() as i64;
        for row in 0..height {
            for col in 0..width {
                // Turning left: the text's column becomes the picture's row, counted from the bottom.
                let (px, py) = (left + row as i64, top + (width - 1 - col) as i64);
                self.blend(px, py, color, coverage[row * width + col]);
            }
        }
    }

    /// Mixes `color` into pixel (`x`, `y`) by `alpha` (0 leaves it, 1 replaces it).
    fn blend(&mut self, x: i64, y: i64, color: (u8, u8, u8), alpha: f32) {
        if alpha <= 0.0 || x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let at = (y as usize * self.width as usize + x as usize) * 3;
        for (channel, ink) in self.pixels[at..at + 3].iter_mut().zip([color.0, color.1, color.2]) {
            *channel = (*channel as f32 + (ink as f32 - *channel as f32) * alpha).round() as u8;
        }
    }
}
