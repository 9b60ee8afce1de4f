//! Bad input to the pictures is an error naming the file, never a panic.

use std::path::Path;

use fashion_cnn::report::{Tile, confusion_png, history_png, image_grid_png, pie_png, single_image_png};
use fashion_cnn::train::metrics::Confusion;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("fashion-cnn-report-errors");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("class {i}")).collect()
}

#[test]
fn an_image_whose_pixels_disagree_with_its_shape_is_refused() {
    let path = temp("bad.png");
    let short = [0u8; 700];
    let e = single_image_png(&path, &short, [1, 28, 28], "x").unwrap_err();
    assert!(e.contains("bad.png") && e.contains("784 pixel bytes, not 700"), "{e}");
    let tiles = [Tile { pixels: &short, shape: [1, 28, 28], lines: vec![], color: (0, 0, 0) }];
    let e = image_grid_png(&path, &tiles, 5, "t").unwrap_err();
    assert!(e.contains("bad.png") && e.contains("image 1"), "{e}");
    let e = single_image_png(&path, &[0; 2 * 4], [2, 2, 2], "x").unwrap_err();
    assert!(e.contains("2 channels"), "{e}");
    let e = single_image_png(&path, &[], [usize::MAX, 2, 2], "x").unwrap_err();
    assert!(e.contains("channels"), "{e}");
    let e = single_image_png(&path, &[], [1, usize::MAX, 2], "x").unwrap_err();
    assert!(e.contains("needs more pixel bytes"), "{e}");
    assert!(!path.exists());
}

#[test]
fn nothing_to_draw_is_an_error() {
    let path = temp("empty.png");
    assert!(image_grid_png(&path, &[], 5, "t").unwrap_err().contains("no images"));
    assert!(pie_png(&path, &[0, 0], &names(2), "t").unwrap_err().contains("no images"));
    assert!(pie_png(&path, &[], &[], "t").unwrap_err().contains("no images"));
    assert!(history_png(&path, &[]).unwrap_err().contains("no epochs"));
    let e = confusion_png(&path, &Confusion { classes: 3, counts: vec![1; 8] }, &names(3)).unwrap_err();
    assert!(e.contains("3 classes needs 9 counts, not 8"), "{e}");
    assert!(confusion_png(&path, &Confusion::new(0), &[]).is_err());
    assert!(!path.exists());
}

#[test]
fn missing_class_names_fall_back_to_numbers() {
    let path = temp("few-names.png");
    pie_png(&path, &[3, 4, 5], &names(1), "t").unwrap();
    confusion_png(&path, &Confusion { classes: 3, counts: vec![1; 9] }, &names(1)).unwrap();
    assert!(path.exists());
}

#[test]
fn an_unwritable_path_is_an_error_naming_it() {
    let path = Path::new("/nonexistent-dir/pie.png");
    let e = pie_png(path, &[1, 2], &names(2), "t").unwrap_err();
    assert!(e.contains("/nonexistent-dir/pie.png"), "{e}");
}
