//! Every picture of `report`, drawn from known inputs, decoded back and measured: the size the
//! layout promises, enough distinct colours to hold text and shapes, and the pie's slices in
//! the proportions of the counts.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use fashion_cnn::data::read_idx_dir;
use fashion_cnn::report::{
    NEUTRAL, RIGHT, Tile, WRONG, confusion_png, grid_columns, grid_size, history_png, image_grid_png,
    misclassified_tile, pie_png, prediction_tile, single_image_png, slice_color,
};
use fashion_cnn::train::metrics::Confusion;
use fashion_cnn::train::trainer::EpochRecord;

const SAMPLE: &str = "data/fashion-mnist-sample";

/// A fresh folder per test; left in place afterwards so the pictures can be opened and looked at.
fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fashion-cnn-report-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn decode(path: &Path) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display())).to_rgb8()
}

fn distinct_colors(img: &image::RgbImage) -> usize {
    img.pixels().map(|p| p.0).collect::<HashSet<_>>().len()
}

fn names() -> Vec<String> {
    fashion_cnn::data::FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
}

fn record(epoch: usize, loss: f64, accuracy: f64, val: Option<(f64, f64)>) -> EpochRecord {
    EpochRecord {
        epoch,
        lr: 1e-3,
        loss,
        accuracy,
        val_loss: val.map(|v| v.0),
        val_accuracy: val.map(|v| v.1),
        seconds: 1.0,
        images_per_sec: 1000.0,
    }
}

#[test]
fn history_has_two_panels_of_1200_by_500_with_text() {
    let dir = out_dir("history");
    let records: Vec<EpochRecord> = (1..=10)
        .map(|e| {
            let t = e as f64;
            record(e, 0.9 / t.sqrt(), 0.70 + 0.025 * t, Some((0.8 / t.sqrt() + 0.01 * t, 0.72 + 0.018 * t)))
        })
        .collect();
    let path = dir.join("history.png");
    history_png(&path, &records).unwrap();
    let img = decode(&path);
    assert_eq!(img.dimensions(), (1200, 500));
    assert!(distinct_colors(&img) > 20, "{} colours", distinct_colors(&img));

    let path = dir.join("history_no_val_one_epoch.png");
    history_png(&path, &[record(1, 0.5, 0.8, None)]).unwrap();
    assert_eq!(decode(&path).dimensions(), (1200, 500));
}

#[test]
fn confusion_matrix_is_1000_by_960_with_counts_and_names() {
    let dir = out_dir("confusion");
    let mut confusion = Confusion::new(10);
    for t in 0..10 {
        for p in 0..10 {
            let n = if t == p { 900 - 40 * t } else { (t * 7 + p * 3) % 23 };
            for _ in 0..n {
                confusion.add(t, p);
            }
        }
    }
    let path = dir.join("confusion_matrix.png");
    confusion_png(&path, &confusion, &names()).unwrap();
    let img = decode(&path);
    assert_eq!(img.dimensions(), (1000, 960));
    assert!(distinct_colors(&img) > 20, "{} colours", distinct_colors(&img));
}

#[test]
fn sample_grid_has_the_promised_size() {
    let dir = out_dir("grid");
    let train = read_idx_dir(Path::new(SAMPLE), "train").unwrap();
    let tiles: Vec<Tile> = (0..12)
        .map(|i| Tile {
            pixels: train.image(i),
            shape: train.shape,
            lines: vec![
                format!("{} {:.1}%", names()[train.labels[i] as usize], 99.5 - i as f64),
                format!("true: {}", names()[(train.labels[i] as usize + i % 2) % 10]),
            ],
            color: [RIGHT, WRONG, NEUTRAL][i % 3],
        })
        .collect();
    let path = dir.join("predictions.png");
    image_grid_png(&path, &tiles, 5, "Test predictions").unwrap();
    let img = decode(&path);
    assert_eq!(img.dimensions(), grid_size(&tiles, 5, "Test predictions"));
    assert!(distinct_colors(&img) > 20);

    let path = dir.join("single.png");
    single_image_png(&path, train.image(0), train.shape, "train #0: Ankle boot (label 9)").unwrap();
    let img = decode(&path);
    assert!(img.width() >= 280 && img.height() >= 280);
}

#[test]
fn pie_slices_follow_the_counts() {
    let dir = out_dir("pie");
    let counts = [600, 100, 300, 50, 950, 200, 120, 400, 80, 200];
    let path = dir.join("pie.png");
    pie_png(&path, &counts, &names(), "Uneven classes").unwrap();
    let img = decode(&path);
    assert_eq!(img.dimensions(), (900, 680));
    let mut by_color: HashMap<[u8; 3], usize> = HashMap::new();
    for p in img.pixels() {
        *by_color.entry(p.0).or_default() += 1;
    }
    let areas: Vec<usize> = (0..10)
        .map(|c| {
            let (r, g, b) = slice_color(c);
            by_color.get(&[r, g, b]).copied().unwrap_or(0)
        })
        .collect();
    let total: usize = counts.iter().sum();
    let area_total: usize = areas.iter().sum();
    for c in 0..10 {
        let want = counts[c] as f64 / total as f64;
        let got = areas[c] as f64 / area_total as f64;
        assert!(
            (want - got).abs() < 0.01,
            "class {c}: {:.2}% of the counts but {:.2}% of the pie",
            100.0 * want,
            100.0 * got
        );
    }
}

#[test]
fn prediction_captions_are_blue_when_right_and_red_when_wrong() {
    let dir = out_dir("captions");
    let train = read_idx_dir(Path::new(SAMPLE), "train").unwrap();
    let names = names();
    let right = prediction_tile(train.image(0), train.shape, "Ankle boot", 0.973, "Ankle boot");
    assert_eq!(right.lines, ["Ankle boot 97.3%", "true: Ankle boot"]);
    assert_eq!(right.color, RIGHT);
    let wrong = prediction_tile(train.image(1), train.shape, "Shirt", 0.51, "T-shirt/top");
    assert_eq!(wrong.color, WRONG);
    let miss = misclassified_tile(train.image(2), train.shape, 1234, "Shirt", "T-shirt/top", 0.871);
    assert_eq!(miss.lines, ["#1234", "given: Shirt", "pred: T-shirt/top 87%"]);
    assert_eq!(miss.color, WRONG);

    let tiles: Vec<Tile> = (0..10)
        .map(|i| {
            let label = train.labels[i] as usize;
            misclassified_tile(train.image(i), train.shape, 59_990 + i, &names[label], &names[(label + 3) % 10], 1.0)
        })
        .collect();
    let path = dir.join("misclassified.png");
    image_grid_png(&path, &tiles, grid_columns(tiles.len()), "Misclassified in the last epoch").unwrap();
    let img = decode(&path);
    assert_eq!(img.dimensions(), grid_size(&tiles, 4, "Misclassified in the last epoch"));
    // Red caption ink, and no blue: every tile is wrong.
    let (red, blue) = (image::Rgb([200, 0, 0]), image::Rgb([0, 0, 200]));
    assert!(img.pixels().filter(|&&p| p == red).count() > 100);
    assert_eq!(img.pixels().filter(|&&p| p == blue).count(), 0);
}

#[test]
fn grid_columns_are_about_square_and_at_most_ten() {
    assert_eq!([1, 4, 7, 25, 26, 100, 500].map(grid_columns), [1, 2, 3, 5, 6, 10, 10]);
}

#[test]
fn rgb_images_keep_their_colours_enlarged_ten_times() {
    let dir = out_dir("rgb");
    // 2×2 RGB planes: red, green / blue, white.
    let pixels = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255];
    let path = dir.join("rgb.png");
    single_image_png(&path, &pixels, [3, 2, 2], "rgb").unwrap();
    let img = decode(&path);
    for color in [[255, 0, 0], [0, 255, 0], [0, 0, 255]] {
        assert_eq!(img.pixels().filter(|p| p.0 == color).count(), 100, "{color:?}");
    }
}
