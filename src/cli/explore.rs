//! `fashion-cnn explore`: look at a dataset before training on it: the counts per class, the
//! class-distribution pies, a grid of random training images, and one image by index, as PNG
//! files and in the terminal.

use super::DataArgs;
use super::train::timestamp;
use crate::data::{Dataset, load_pair, thousands};
use crate::engine::rng::{Purpose, Rng};
use crate::report::{
    NEUTRAL, Tile, grid_columns, image_grid_png, pie_png, single_image_png, terminal_preview, use_color,
};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Folder for the pictures (default runs/explore-<UTC timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How many random training images samples.png shows.
    #[arg(long, default_value_t = 25)]
    pub samples: usize,
    /// Seed of the random choice of samples.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also draw image N enlarged and print it in the terminal.
    #[arg(long)]
    pub index: Option<usize>,
    /// Which split --index refers to: train or test.
    #[arg(long, default_value = "train", requires = "index")]
    pub split: String,
}

pub fn run(args: ExploreArgs) -> Result<(), String> {
    if args.samples == 0 {
        return Err("--samples must be at least 1".into());
    }
    if args.split != "train" && args.split != "test" {
        return Err(format!("unknown --split '{}'; use train or test", args.split));
    }
    let (train, test) = load_pair(args.data.train.as_deref(), args.data.test.as_deref(), args.data.mirror.as_deref())
        .map_err(|e| e.to_string())?;
    // Checked before anything is written, so a typo leaves no half-filled folder behind.
    let picked = match args.index {
        Some(index) => {
            let set = if args.split == "train" { &train } else { &test };
            if index >= set.len() {
                return Err(format!(
                    "--index {index} is out of range: the {} set has {} images (0 to {})",
                    args.split,
                    thousands(set.len()),
                    set.len().saturating_sub(1)
                ));
            }
            Some((set, index))
        }
        None => None,
    };
    print!("{}", counts_table(&train, &test));

    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("explore-{}", timestamp())));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create folder {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (set, split, what) in [(&train, "train", "Training set"), (&test, "test", "Test set")] {
        let path = dir.join(format!("class_distribution_{split}.png"));
        let title = format!("{what}: {} images", thousands(set.len()));
        pie_png(&path, &set.class_counts(), &set.class_names, &title)?;
        written.push(path);
    }
    written.push(samples_png(&dir, &train, args.samples, args.seed)?);
    if let Some((set, index)) = picked {
        let caption = caption(set, &args.split, index);
        let path = dir.join(format!("image_{}_{index}.png", args.split));
        single_image_png(&path, set.image(index), set.shape, &caption)?;
        written.push(path);
        println!("\n{caption}");
        print!("{}", terminal_preview(set.image(index), set.shape, use_color()));
    }
    println!();
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The counts people check first: images per split, classes, and per class count and share.
pub fn counts_table(train: &Dataset, test: &Dataset) -> String {
    let mut out = format!("training images: {}  ({})\n", thousands(train.len()), train.source);
    out += &format!("test images:     {}  ({})\n", thousands(test.len()), test.source);
    out += &format!("classes:         {}\n", train.class_names.len());
    out += &format!("image shape:     {}\n\n", train.shape_text());
    let width = train.class_names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(5);
    out += &format!("{:<width$}  {:>16}  {:>16}\n", "class", "train", "test");
    let share = |count: usize, total: usize| 100.0 * count as f64 / total.max(1) as f64;
    let (train_counts, test_counts) = (train.class_counts(), test.class_counts());
    for (c, name) in train.class_names.iter().enumerate() {
        let (a, b) = (train_counts[c], test_counts.get(c).copied().unwrap_or(0));
        out += &format!(
            "{name:<width$}  {:>8} {:>6.2}%  {:>8} {:>6.2}%\n",
            thousands(a),
            share(a, train.len()),
            thousands(b),
            share(b, test.len())
        );
    }
    out
}

/// `samples.png`: `n` training images drawn without repeats by `seed`, each captioned with its
/// class and index.
fn samples_png(dir: &Path, train: &Dataset, n: usize, seed: u64) -> Result<PathBuf, String> {
    let mut order: Vec<usize> = (0..train.len()).collect();
    Rng::stream(seed, Purpose::Other(1), 0).shuffle(&mut order);
    order.truncate(n);
    let tiles: Vec<Tile> = order
        .iter()
        .map(|&i| Tile {
            pixels: train.image(i),
            shape: train.shape,
            lines: vec![class_name(train, i), format!("#{i}")],
            color: NEUTRAL,
        })
        .collect();
    let path = dir.join("samples.png");
    let title = format!("{} random training images (seed {seed})", tiles.len());
    image_grid_png(&path, &tiles, grid_columns(tiles.len()), &title)?;
    Ok(path)
}

fn class_name(set: &Dataset, i: usize) -> String {
    let label = set.labels[i] as usize;
    set.class_names.get(label).cloned().unwrap_or_else(|| format!("class {label}"))
}

/// `train #17: Sneaker (label 7)`.
fn caption(set: &Dataset, split: &str, i: usize) -> String {
    format!("{split} #{i}: {} (label {})", class_name(set, i), set.labels[i])
}
