//! What every picture shares: the embedded font, an RGB pixel buffer to draw on, and writing it
//! out as a PNG, atomically.

use std::path::Path;
use std::sync::OnceLock;

use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu`), compiled in so that text
/// renders from any working directory and on machines without fonts.
pub(super) static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The family every picture asks for; plotters' own defaults (axis labels) ask for it too.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font with plotters once per process. plotters' `ab_glyph` backend
/// knows no font until one is registered, and drawing text before that fails.
pub fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the embedded font DejaVuSans.ttf cannot be read".to_string())
        })
        .clone()
}

/// The embedded font at `size` pixels, for text plotters draws (the history chart's axes).
pub fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

/// An RGB image being drawn, 3 bytes per pixel, rows top to bottom.
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    /// A white canvas. Sizes come from our own layouts, never from a file, but a zero size would
    /// make an unreadable PNG, so it is refused.
    pub fn new(width: u32, height: u32) -> Result<Canvas, String> {
        if width == 0 || height == 0 {
            return Err(format!("cannot draw a picture of {width}×{height} pixels"));
        }
        ensure_font()?;
        Ok(Canvas { width, height, pixels: vec![255; width as usize * height as usize * 3] })
    }

    /// Sets one pixel; points outside the canvas are ignored, as plotters does.
    pub fn put(&mut self, x: i64, y: i64, rgb: [u8; 3]) {
        if x >= 0 && y >= 0 && x < i64::from(self.width) && y < i64::from(self.height) {
            let at = (y as usize * self.width as usize + x as usize) * 3;
            self.pixels[at..at + 3].copy_from_slice(&rgb);
        }
    }

    /// Fills the rectangle of `width`×`height` pixels whose top-left corner is (`x`, `y`).
    pub fn fill_rect(&mut self, x: i64, y: i64, width: usize, height: usize, rgb: [u8; 3]) {
        for row in 0..height as i64 {
            for col in 0..width as i64 {
                self.put(x + col, y + row, rgb);
            }
        }
    }

    /// Draws a dataset image (`shape` C×H×W, C = 1 gray or 3 RGB planes) with its top-left corner
    /// at (`x`, `y`), each pixel a `scale`×`scale` square: nearest-neighbour enlargement keeps the
    /// pixels visible as pixels, which is what a person inspecting a 28×28 image wants.
    pub fn blit(&mut self, pixels: &[u8], shape: [usize; 3], x: i64, y: i64, scale: usize) {
        let [_, h, w] = shape;
        for row in 0..h * scale {
            for col in 0..w * scale {
                let rgb = pixel_rgb(pixels, shape, row / scale, col / scale);
                self.put(x + col as i64, y + row as i64, rgb);
            }
        }
    }

    /// A plotters drawing area over the buffer, for shapes and text.
    pub fn area(&mut self) -> DrawingArea<BitMapBackend<'_>, plotters::coord::Shift> {
        BitMapBackend::with_buffer(&mut self.pixels, (self.width, self.height)).into_drawing_area()
    }

    /// Encodes the canvas as PNG and writes it to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(&self.pixels, self.width, self.height, image::ExtendedColorType::Rgb8)
            .map_err(|e| format!("{}: cannot encode PNG: {e}", path.display()))?;
        crate::data::write_atomic(path, &png).map_err(|e| e.to_string())
    }
}

/// The colour of pixel (`row`, `col`) of a C×H×W image: gray for one channel, the three planes
/// for RGB.
pub fn pixel_rgb(pixels: &[u8], shape: [usize; 3], row: usize, col: usize) -> [u8; 3] {
    let [c, h, w] = shape;
    let at = row * w + col;
    if c == 3 { [pixels[at], pixels[h * w + at], pixels[2 * h * w + at]] } else { [pixels[at]; 3] }
}

/// Checks an image's pixel count against its shape, and that it is gray or RGB, so that drawing
/// it cannot index out of bounds.
pub fn check_image(pixels: &[u8], shape: [usize; 3]) -> Result<(), String> {
    let [c, h, w] = shape;
    if c != 1 && c != 3 {
        return Err(format!("cannot draw an image with {c} channels (only 1, gray, or 3, RGB)"));
    }
    if h == 0 || w == 0 {
        return Err(format!("cannot draw an empty image of {c}×{h}×{w}"));
    }
    let needed = c.checked_mul(h).and_then(|n| n.checked_mul(w));
    if needed != Some(pixels.len()) {
        let needed = needed.map_or("more".to_string(), |n| n.to_string());
        return Err(format!("an image of {c}×{h}×{w} needs {needed} pixel bytes, not {}", pixels.len()));
    }
    Ok(())
}

/// A plotters drawing error as one message naming the picture.
pub fn draw_error(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: cannot draw: {e}", path.display())
}
