//! An image in the terminal: two pixels per character cell with the upper half block `▀`
//! (foreground = upper pixel, background = lower pixel) in 24-bit colour, so a 28×28 image takes
//! 28 columns × 14 rows; or, where colour cannot be shown, characters by brightness.

use std::io::IsTerminal;

use super::canvas::{check_image, pixel_rgb};

/// Characters from dark to bright for the plain rendering. Fashion-MNIST draws the garment
/// bright on black, so bright pixels get the dense characters.
const RAMP: &[u8] = b" .:-=+*#%@";

/// Resets colours at the end of each row, so a row never bleeds its background into the next
/// line or the prompt.
pub const RESET: &str = "\x1b[0m";

/// True when stdout is a terminal and `NO_COLOR` is not set to a non-empty value (the
/// no-color.org convention): escape codes in a file or a pipe are noise.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The image (`shape` C×H×W, gray or RGB) as text: ⌈H/2⌉ rows of W characters, each ending in a
/// newline (after [`RESET`] with `color`). An odd last row shows its upper pixel alone. An image
/// whose pixel count does not match its shape gives a one-line message instead of a picture.
pub fn terminal_preview(pixels: &[u8], shape: [usize; 3], color: bool) -> String {
    if let Err(e) = check_image(pixels, shape) {
        return format!("(no preview: {e})\n");
    }
    let [_, h, w] = shape;
    let mut out = String::new();
    for row in (0..h).step_by(2) {
        for col in 0..w {
            let upper = pixel_rgb(pixels, shape, row, col);
            let lower = (row + 1 < h).then(|| pixel_rgb(pixels, shape, row + 1, col));
            if color {
                let [r, g, b] = upper;
                out += &format!("\x1b[38;2;{r};{g};{b}m");
                match lower {
                    Some([r, g, b]) => out += &format!("\x1b[48;2;{r};{g};{b}m▀"),
                    None => out += "\x1b[49m▀",
                }
            } else {
                let level = match lower {
                    Some(lower) => (brightness(upper) + brightness(lower)) / 2,
                    None => brightness(upper),
                };
                out.push(RAMP[level * (RAMP.len() - 1) / 255] as char);
            }
        }
        if color {
            out += RESET;
        }
        out.push('\n');
    }
    out
}

/// Perceived brightness 0–255 (ITU-R BT.601 weights), so an RGB image's plain rendering shows
/// shapes as the eye sees them.
fn brightness([r, g, b]: [u8; 3]) -> usize {
    (299 * r as usize + 587 * g as usize + 114 * b as usize) / 1000
}
