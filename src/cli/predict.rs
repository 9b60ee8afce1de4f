//! `fashion-cnn predict RUN FILE…`: top-k classes for the user's own photos or dataset images.

use crate::data::load_pair;
use crate::engine::kernels::softmax::softmax_cross_entropy;
use crate::engine::tensor::Tensor;
use crate::report::{terminal_preview, use_color};
use crate::train::run::{ModelInfo, load_model};
use clap::Args;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageReader};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The run folder written by `train`.
    pub run: PathBuf,
    /// PNG or JPEG images to classify.
    pub files: Vec<PathBuf>,
    /// Classify dataset image N instead (repeatable).
    #[arg(long)]
    pub index: Vec<usize>,
    /// Which split --index refers to: test or train.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// How many classes to show.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    /// Show each image, as the model sees it, before its classes (the default on a terminal).
    #[arg(long)]
    pub preview: bool,
}

/// Decodes an image file, applies its EXIF orientation, and returns it as model pixels (0–255,
/// C×H×W): centred on a square canvas, resized, and inverted when its border is light, since
/// the dataset shows light objects on a dark background.
pub fn load_photo(path: &Path, shape: [usize; 3]) -> Result<Vec<u8>, String> {
    let unreadable = |e: &dyn std::fmt::Display| format!("cannot read image {}: {e}", path.display());
    let reader =
        ImageReader::open(path).map_err(|e| unreadable(&e))?.with_guessed_format().map_err(|e| unreadable(&e))?;
    if reader.format().is_none() {
        return Err(format!("cannot read image {}: not a PNG or JPEG file", path.display()));
    }
    let mut decoder = reader.into_decoder().map_err(|e| unreadable(&e))?;
    let orientation = decoder.orientation().map_err(|e| unreadable(&e))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| unreadable(&e))?;
    img.apply_orientation(orientation);
    let [channels, h, w] = shape;
    let rgb = img.to_rgb8();
    let (iw, ih) = rgb.dimensions();
    // Border brightness decides the polarity; the canvas is filled with the border colour.
    let border: Vec<[u8; 3]> = (0..iw)
        .flat_map(|x| [(x, 0), (x, ih - 1)])
        .chain((0..ih).flat_map(|y| [(0, y), (iw - 1, y)]))
        .map(|(x, y)| rgb.get_pixel(x, y).0)
        .collect();
    let mean = |c: usize| (border.iter().map(|p| p[c] as u64).sum::<u64>() / border.len() as u64) as u8;
    let background = image::Rgb([mean(0), mean(1), mean(2)]);
    let side = iw.max(ih);
    let mut canvas = image::RgbImage::from_pixel(side, side, background);
    image::imageops::overlay(&mut canvas, &rgb, ((side - iw) / 2) as i64, ((side - ih) / 2) as i64);
    let small = DynamicImage::ImageRgb8(canvas).resize_exact(w as u32, h as u32, FilterType::Triangle);
    let light_background = (background.0.iter().map(|&v| v as u32).sum::<u32>() / 3) > 127;
    let fix = |v: u8| if light_background { 255 - v } else { v };
    let mut out = Vec::with_capacity(channels * h * w);
    if channels == 1 {
        out.extend(small.to_luma8().pixels().map(|p| fix(p.0[0])));
    } else {
        let rgb = small.to_rgb8();
        for c in 0..channels.min(3) {
            out.extend(rgb.pixels().map(|p| fix(p.0[c])));
        }
    }
    debug_assert_eq!(small.dimensions(), (w as u32, h as u32));
    Ok(out)
}

/// Class probabilities for each image (pixels 0–255, C×H×W each).
fn probabilities(model: &mut crate::engine::model::Sequential, info: &ModelInfo, images: &[Vec<u8>]) -> Vec<Vec<f32>> {
    let shape: Vec<usize> = std::iter::once(images.len()).chain(info.input_shape.iter().copied()).collect();
    let data = images.iter().flat_map(|img| img.iter().map(|&p| info.normalization.apply(p))).collect();
    let logits = model.predict(Tensor::from_vec(&shape, data));
    let k = info.class_names.len();
    let target = vec![1.0 / k as f32; k];
    logits
        .data
        .chunks_exact(k)
        .map(|row| {
            let mut p = vec![0.0; k];
            softmax_cross_entropy(row, &target, &mut p);
            p
        })
        .collect()
}

fn top_k(p: &[f32], k: usize, names: &[String]) -> String {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    order
        .iter()
        .take(k)
        .enumerate()
        .map(|(r, &c)| format!("{}. {} {:.1}%", r + 1, names[c], 100.0 * p[c]))
        .collect::<Vec<_>>()
        .join("   ")
}

pub fn run(args: PredictArgs) -> Result<(), String> {
    if args.files.is_empty() && args.index.is_empty() {
        return Err("give image files to classify, or --index N for dataset images".into());
    }
    let (mut model, info) = load_model(&args.run)?;
    let shape = [info.input_shape[0], info.input_shape[1], info.input_shape[2]];
    let mut names = Vec::new();
    let mut images = Vec::new();
    for file in &args.files {
        images.push(load_photo(file, shape)?);
        names.push(file.display().to_string());
    }
    if !args.index.is_empty() {
        let train = (!info.train_data.is_empty()).then(|| PathBuf::from(&info.train_data));
        let test = (!info.test_data.is_empty()).then(|| PathBuf::from(&info.test_data));
        let (train, test) = load_pair(train.as_deref(), test.as_deref(), None).map_err(|e| e.to_string())?;
        let data = match args.split.as_str() {
            "test" => test,
            "train" => train,
            other => return Err(format!("--split must be test or train, not '{other}'")),
        };
        for &i in &args.index {
            if i >= data.len() {
                return Err(format!("--index {i} is out of range: the {} set has {} images", args.split, data.len()));
            }
            images.push(data.image(i).to_vec());
            names.push(format!("{} #{i} (labelled {})", args.split, info.class_names[data.labels[i] as usize]));
        }
    }
    let color = use_color();
    for ((name, p), image) in names.iter().zip(probabilities(&mut model, &info, &images)).zip(&images) {
        if args.preview || color {
            print!("{}", terminal_preview(image, shape, color));
        }
        println!("{name}: {}", top_k(&p, args.top.max(1), &info.class_names));
    }
    Ok(())
}
