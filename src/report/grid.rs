//! Grids of dataset images with a caption under each (samples, test predictions, misclassified
//! training images, suspects), and one image on its own, enlarged.
//!
//! The layout depends only on the images' shape, the number of caption lines and the column
//! count, never on the caption text, so a caller (and a test) can know the size in advance with
//! [`grid_size`]; captions too long for a cell are shortened with an ellipsis.

use std::path::Path;

use super::canvas::{Canvas, check_image};
use super::text::{Align, fit, measure};

/// Caption colour of a right prediction.
pub const RIGHT: (u8, u8, u8) = (0, 0, 200);
/// Caption colour of a wrong prediction.
pub const WRONG: (u8, u8, u8) = (200, 0, 0);
/// Caption colour when there is nothing to judge (samples).
pub const NEUTRAL: (u8, u8, u8) = (0, 0, 0);

/// One image of a grid with its caption.
pub struct Tile<'a> {
    /// C×H×W pixels, C = 1 (gray) or 3 (RGB planes), as a [`crate::data::Dataset`] holds them.
    pub pixels: &'a [u8],
    pub shape: [usize; 3],
    /// Caption lines, drawn under the image, one per line.
    pub lines: Vec<String>,
    /// Caption colour: [`RIGHT`], [`WRONG`] or [`NEUTRAL`].
    pub color: (u8, u8, u8),
}

/// Each pixel of a grid image becomes a 3×3 square: 28×28 shows as 84×84, big enough to see the
/// garment, small enough for 25 on a laptop screen.
const GRID_SCALE: usize = 3;
/// Enlargement of a single image: 28×28 becomes 280×280.
const SINGLE_SCALE: usize = 10;
/// Cells are at least this wide so that the longest Fashion-MNIST captions ("true: T-shirt/top",
/// "pred: T-shirt/top 100%") fit under a 28×28 image.
const MIN_CAPTION_WIDTH: usize = 160;
const MARGIN: usize = 12;
const PAD: usize = 8;
const TITLE_HEIGHT: usize = 40;
const TITLE_SIZE: f32 = 22.0;
const CAPTION_SIZE: f32 = 14.0;
const LINE_HEIGHT: usize = 17;

/// Where things go in a grid.
struct Layout {
    columns: usize,
    rows: usize,
    cell_width: usize,
    cell_height: usize,
    image_height: usize,
    top: usize,
}

impl Layout {
    fn new(tiles: &[Tile], columns: usize, has_title: bool) -> Layout {
        let height = tiles.iter().map(|t| t.shape[1]).max().unwrap_or(0);
        let width = tiles.iter().map(|t| t.shape[2]).max().unwrap_or(0);
        let lines = tiles.iter().map(|t| t.lines.len()).max().unwrap_or(0);
        let columns = columns.clamp(1, tiles.len().max(1));
        let image_height = height * GRID_SCALE;
        Layout {
            columns,
            rows: tiles.len().div_ceil(columns),
            cell_width: (width * GRID_SCALE).max(MIN_CAPTION_WIDTH) + 2 * PAD,
            cell_height: PAD + image_height + PAD / 2 + lines * LINE_HEIGHT + PAD,
            image_height,
            top: MARGIN + if has_title { TITLE_HEIGHT } else { 0 },
        }
    }

    fn size(&self) -> (u32, u32) {
        (
            (2 * MARGIN + self.columns * self.cell_width) as u32,
            (self.top + self.rows * self.cell_height + MARGIN) as u32,
        )
    }
}

/// The pixel size [`image_grid_png`] gives these tiles in `columns` columns (a column count of 0,
/// or more columns than tiles, is taken as 1 or the tile count).
pub fn grid_size(tiles: &[Tile], columns: usize, title: &str) -> (u32, u32) {
    Layout::new(tiles, columns, !title.is_empty()).size()
}

/// Draws `tiles` row by row in `columns` columns under `title` and writes the PNG to `path`.
/// Each image is enlarged 3× (nearest neighbour) and centred in its cell, its caption lines
/// centred under it in the tile's colour.
pub fn image_grid_png(path: &Path, tiles: &[Tile], columns: usize, title: &str) -> Result<(), String> {
    if tiles.is_empty() {
        return Err(format!("{}: no images to draw", path.display()));
    }
    for (i, tile) in tiles.iter().enumerate() {
        check_image(tile.pixels, tile.shape).map_err(|e| format!("{}: image {}: {e}", path.display(), i + 1))?;
    }
    let layout = Layout::new(tiles, columns, !title.is_empty());
    let (width, height) = layout.size();
    let mut canvas = Canvas::new(width, height).map_err(|e| format!("{}: {e}", path.display()))?;
    let cell_origin = |i: usize| {
        let (row, col) = (i / layout.columns, i % layout.columns);
        (MARGIN + col * layout.cell_width, layout.top + row * layout.cell_height)
    };
    for (i, tile) in tiles.iter().enumerate() {
        let (x, y) = cell_origin(i);
        let image_width = tile.shape[2] * GRID_SCALE;
        let image_x = x + (layout.cell_width - image_width) / 2;
        canvas.blit(tile.pixels, tile.shape, image_x as i64, (y + PAD) as i64, GRID_SCALE);
    }
    if !title.is_empty() {
        canvas.text(title, TITLE_SIZE, NEUTRAL, width as f32 / 2.0, (MARGIN + TITLE_HEIGHT / 2) as f32, Align::Center);
    }
    let caption_width = (layout.cell_width - PAD) as f32;
    for (i, tile) in tiles.iter().enumerate() {
        let (x, y) = cell_origin(i);
        for (n, line) in tile.lines.iter().enumerate() {
            let middle = y + PAD + layout.image_height + PAD / 2 + n * LINE_HEIGHT + LINE_HEIGHT / 2;
            let text = fit(line, CAPTION_SIZE, caption_width);
            canvas.text(
                &text,
                CAPTION_SIZE,
                tile.color,
                (x + layout.cell_width / 2) as f32,
                middle as f32,
                Align::Center,
            );
        }
    }
    canvas.save(path)
}

/// Draws one image enlarged 10× with `caption` under it and writes the PNG to `path`.
pub fn single_image_png(path: &Path, pixels: &[u8], shape: [usize; 3], caption: &str) -> Result<(), String> {
    check_image(pixels, shape).map_err(|e| format!("{}: {e}", path.display()))?;
    const CAPTION: f32 = 20.0;
    let (image_width, image_height) = (shape[2] * SINGLE_SCALE, shape[1] * SINGLE_SCALE);
    let content_width = image_width.max(measure(caption, CAPTION).0.ceil() as usize);
    let (width, height) = (content_width + 4 * MARGIN, 2 * MARGIN + image_height + PAD + 30 + MARGIN);
    let mut canvas = Canvas::new(width as u32, height as u32).map_err(|e| format!("{}: {e}", path.display()))?;
    canvas.blit(pixels, shape, ((width - image_width) / 2) as i64, (2 * MARGIN) as i64, SINGLE_SCALE);
    let middle = 2 * MARGIN + image_height + PAD + 15;
    canvas.text(caption, CAPTION, NEUTRAL, width as f32 / 2.0, middle as f32, Align::Center);
    canvas.save(path)
}
