//! The terminal preview: a 28×28 image is 14 rows of 28 cells, in colour and in plain text, and
//! the cells show the image's pixels.

use std::path::Path;

use fashion_cnn::data::read_idx_dir;
use fashion_cnn::report::preview::RESET;
use fashion_cnn::report::terminal_preview;

fn sample_image() -> (Vec<u8>, [usize; 3]) {
    let train = read_idx_dir(Path::new("data/fashion-mnist-sample"), "train").unwrap();
    (train.image(0).to_vec(), train.shape)
}

/// The (upper, lower) colours of each cell of a colour preview, row by row, read back from its
/// escape codes `ESC[38;2;R;G;Bm ESC[48;2;R;G;Bm ▀`.
fn decode_cells(text: &str) -> Vec<Vec<([u8; 3], [u8; 3])>> {
    let rgb = |s: &str| -> [u8; 3] {
        let v: Vec<u8> = s.split(';').map(|n| n.parse().unwrap()).collect();
        [v[0], v[1], v[2]]
    };
    text.lines()
        .map(|line| {
            line.split('▀')
                .filter(|cell| cell.contains("38;2;"))
                .map(|cell| {
                    let fg = cell.split("\x1b[38;2;").nth(1).unwrap().split('m').next().unwrap();
                    let bg = cell.split("\x1b[48;2;").nth(1).unwrap().split('m').next().unwrap();
                    (rgb(fg), rgb(bg))
                })
                .collect()
        })
        .collect()
}

#[test]
fn colour_preview_of_28x28_is_14_rows_of_28_half_blocks_each_ending_in_a_reset() {
    let (pixels, shape) = sample_image();
    let text = terminal_preview(&pixels, shape, true);
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 14);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line.matches('▀').count(), 28, "row {i}");
        assert!(line.ends_with(RESET), "row {i} does not end with a reset: {line:?}");
    }
    assert!(text.ends_with('\n'));
}

#[test]
fn colour_cells_carry_the_upper_pixel_in_front_and_the_lower_behind() {
    let (pixels, shape) = sample_image();
    let cells = decode_cells(&terminal_preview(&pixels, shape, true));
    for (row, line) in cells.iter().enumerate() {
        for (col, &(upper, lower)) in line.iter().enumerate() {
            assert_eq!(upper, [pixels[2 * row * 28 + col]; 3], "row {row} col {col}");
            assert_eq!(lower, [pixels[(2 * row + 1) * 28 + col]; 3], "row {row} col {col}");
        }
    }
}

#[test]
fn plain_preview_of_28x28_is_14_lines_of_28_characters_dark_as_space_bright_as_at() {
    let (pixels, shape) = sample_image();
    let text = terminal_preview(&pixels, shape, false);
    assert!(!text.contains('\x1b'));
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 14);
    for line in &lines {
        assert_eq!(line.chars().count(), 28, "{line:?}");
    }
    // Fashion-MNIST's corners are black background; the garment has bright pixels somewhere.
    assert_eq!(lines[0].chars().next(), Some(' '));
    let black = [0u8; 2 * 28];
    let white = [255u8; 2 * 28];
    assert_eq!(terminal_preview(&black, [1, 2, 28], false), format!("{}\n", " ".repeat(28)));
    assert_eq!(terminal_preview(&white, [1, 2, 28], false), format!("{}\n", "@".repeat(28)));
}

#[test]
fn odd_heights_rgb_and_bad_sizes_are_handled() {
    // 3 rows: the last text row shows one pixel over the terminal's own background.
    let text = terminal_preview(&[255; 3 * 4], [1, 3, 4], true);
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().nth(1).unwrap().contains("\x1b[49m▀"));
    // RGB planes: pure red comes out as red.
    let mut red = vec![0u8; 3 * 2 * 2];
    red[..4].fill(255);
    assert!(terminal_preview(&red, [3, 2, 2], true).contains("\x1b[38;2;255;0;0m\x1b[48;2;255;0;0m▀"));
    // A pixel count that disagrees with the shape is a message, not a panic.
    let text = terminal_preview(&[0; 10], [1, 28, 28], false);
    assert!(text.contains("784") && text.contains("not 10"), "{text}");
}
