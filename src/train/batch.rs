//! From dataset images (u8) to a normalised, optionally augmented f32 batch.

use crate::data::Dataset;
use crate::engine::rng::Rng;
use crate::engine::tensor::Tensor;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How pixels 0–255 become network inputs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Input = (pixel/255 − mean) / std; mean 0 and std 1 is plain scaling to [0, 1].
    pub mean: f32,
    pub std: f32,
}

impl Normalization {
    pub const SCALE: Normalization = Normalization { mean: 0.0, std: 1.0 };

    pub fn apply(&self, pixel: u8) -> f32 {
        (pixel as f32 / 255.0 - self.mean) / self.std
    }
}

/// Random augmentation applied to training images only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    pub hflip: bool,
    pub vflip: bool,
    /// Random shift by up to this many pixels each way (zero padding, then crop).
    pub shift: usize,
    /// Probability of erasing one random rectangle (random erasing, Zhong et al.).
    pub erase: f32,
}

impl Augment {
    pub fn is_identity(&self) -> bool {
        !self.hflip && !self.vflip && self.shift == 0 && self.erase == 0.0
    }

    /// Augments one C×H×W image in place; `background` is the normalised value of pixel 0.
    pub fn apply(&self, image: &mut [f32], shape: [usize; 3], background: f32, rng: &mut Rng) {
        let [channels, h, w] = shape;
        if self.hflip && rng.next_f32() < 0.5 {
            for row in image.chunks_exact_mut(w) {
                row.reverse();
            }
        }
        if self.vflip && rng.next_f32() < 0.5 {
            for plane in image.chunks_exact_mut(h * w) {
                for y in 0..h / 2 {
                    let (top, bottom) = plane.split_at_mut((h - 1 - y) * w);
                    top[y * w..(y + 1) * w].swap_with_slice(&mut bottom[..w]);
                }
            }
        }
        if self.shift > 0 {
            let range = 2 * self.shift + 1;
            let dy = rng.below(range) as isize - self.shift as isize;
            let dx = rng.below(range) as isize - self.shift as isize;
            if dy != 0 || dx != 0 {
                let source = image.to_vec();
                for c in 0..channels {
                    for y in 0..h {
                        for x in 0..w {
                            let (sy, sx) = (y as isize - dy, x as isize - dx);
                            let inside = sy >= 0 && sx >= 0 && (sy as usize) < h && (sx as usize) < w;
                            image[(c * h + y) * w + x] =
                                if inside { source[(c * h + sy as usize) * w + sx as usize] } else { background };
                        }
                    }
                }
            }
        }
        if self.erase > 0.0 && rng.next_f32() < self.erase {
            // A rectangle of 2–33% of the area with aspect ratio between 1:3 and 3:1.
            let area = (h * w) as f32 * rng.uniform(0.02, 0.33);
            let ratio = rng.uniform(1.0 / 3.0, 3.0);
            let eh = ((area * ratio).sqrt() as usize).clamp(1, h);
            let ew = ((area / ratio).sqrt() as usize).clamp(1, w);
            let (y0, x0) = (rng.below(h - eh + 1), rng.below(w - ew + 1));
            for c in 0..channels {
                for y in y0..y0 + eh {
                    image[(c * h + y) * w + x0..(c * h + y) * w + x0 + ew].fill(background);
                }
            }
        }
    }
}

/// The batch of `indices` as an (N, C, H, W) tensor and its labels. With `augment`, each image
/// gets its own stream derived from `(augment seed, position in the epoch)`, so the result does
/// not depend on the thread count.
pub fn make_batch(
    data: &Dataset,
    indices: &[usize],
    norm: Normalization,
    augment: Option<(&Augment, u64)>,
) -> (Tensor, Vec<u8>) {
    let [c, h, w] = data.shape;
    let len = c * h * w;
    let mut x = Tensor::zeros(&[indices.len(), c, h, w]);
    x.data.par_chunks_mut(len).zip(indices.par_iter()).for_each(|(out, &i)| {
        for (o, &p) in out.iter_mut().zip(data.image(i)) {
            *o = norm.apply(p);
        }
        if let Some((augment, seed)) = augment
            && !augment.is_identity()
        {
            let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            augment.apply(out, data.shape, norm.apply(0), &mut rng);
        }
    });
    let labels = indices.iter().map(|&i| data.labels[i]).collect();
    (x, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_mirror_the_image_and_shift_pads_with_background() {
        let shape = [1, 3, 4];
        let base: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let flip = |a: Augment| {
            // Find a seed whose coin says "flip".
            (0..64u64)
                .map(|s| {
                    let mut img = base.clone();
                    a.apply(&mut img, shape, -1.0, &mut Rng::new(s));
                    img
                })
                .find(|img| *img != base)
                .unwrap()
        };
        assert_eq!(
            flip(Augment { hflip: true, ..Default::default() }),
            vec![3., 2., 1., 0., 7., 6., 5., 4., 11., 10., 9., 8.]
        );
        assert_eq!(
            flip(Augment { vflip: true, ..Default::default() }),
            vec![8., 9., 10., 11., 4., 5., 6., 7., 0., 1., 2., 3.]
        );
        let shifted = flip(Augment { shift: 1, ..Default::default() });
        assert!(shifted.contains(&-1.0));
        assert_eq!(shifted.iter().filter(|&&v| v >= 0.0).count() + shifted.iter().filter(|&&v| v == -1.0).count(), 12);
    }
}
