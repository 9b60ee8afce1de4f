//! im2col and col2im: unfold a C×H×W image into a matrix of patches so a convolution becomes one
//! GEMM, and fold patch gradients back into an image gradient.
//!
//! The column matrix has `C·K·K` rows (channel-major, then kernel row, then kernel column) and one
//! column per output pixel. Several samples share one matrix side by side (leading dimension
//! `ld`, this sample's first column `col0`) so one GEMM covers a chunk of the batch.

/// The shapes of one 2-D convolution (square kernel, equal stride and padding on both axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvGeometry {
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.pad - self.kernel) / self.stride + 1
    }

    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.pad - self.kernel) / self.stride + 1
    }

    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Columns of the column matrix per sample: one per output pixel.
    pub fn out_pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    pub fn in_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Input coordinate for output coordinate `o` and kernel offset `k`, if inside the image.
    fn source(&self, o: usize, k: usize, size: usize) -> Option<usize> {
        (o * self.stride + k).checked_sub(self.pad).filter(|&i| i < size)
    }

    /// The range of output columns whose source column `ox*stride + kx - pad` is inside the image.
    fn valid_columns(&self, kx: usize) -> std::ops::Range<usize> {
        let ow = self.out_width();
        let first = (self.pad.saturating_sub(kx)).div_ceil(self.stride).min(ow);
        // ox*stride + kx - pad <= width - 1  ⇔  ox <= (width - 1 + pad - kx) / stride
        let last = match (self.width - 1 + self.pad).checked_sub(kx) {
            Some(limit) => (limit / self.stride + 1).min(ow),
            None => 0,
        };
        first..last.max(first)
    }
}

/// Writes sample `x` (C×H×W) into columns `col0 .. col0 + OH·OW` of `cols` (leading dim `ld`).
pub fn im2col(x: &[f32], g: &ConvGeometry, cols: &mut [f32], ld: usize, col0: usize) {
    assert_eq!(x.len(), g.in_len());
    let (oh, ow, k) = (g.out_height(), g.out_width(), g.kernel);
    assert!(col0 + oh * ow <= ld && cols.len() >= (g.patch_len() - 1) * ld + col0 + oh * ow);
    for c in 0..g.channels {
        let plane = &x[c * g.height * g.width..(c + 1) * g.height * g.width];
        for ky in 0..k {
            for kx in 0..k {
                let row = (c * k + ky) * k + kx;
                let out_row = &mut cols[row * ld + col0..row * ld + col0 + oh * ow];
                let valid = g.valid_columns(kx);
                for oy in 0..oh {
                    let dst = &mut out_row[oy * ow..(oy + 1) * ow];
                    let Some(iy) = g.source(oy, ky, g.height) else {
                        dst.fill(0.0);
                        continue;
                    };
                    let src_row = &plane[iy * g.width..(iy + 1) * g.width];
                    dst[..valid.start].fill(0.0);
                    dst[valid.end..].fill(0.0);
                    let first_ix = valid.start * g.stride + kx - g.pad;
                    if g.stride == 1 {
                        dst[valid.clone()].copy_from_slice(&src_row[first_ix..first_ix + valid.len()]);
                    } else {
                        for (j, d) in dst[valid.clone()].iter_mut().enumerate() {
                            *d = src_row[first_ix + j * g.stride];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the patch gradients in columns `col0 .. col0 + OH·OW` of `cols` into `dx` (C×H×W).
pub fn col2im(cols: &[f32], ld: usize, col0: usize, g: &ConvGeometry, dx: &mut [f32]) {
    assert_eq!(dx.len(), g.in_len());
    let (oh, ow, k) = (g.out_height(), g.out_width(), g.kernel);
    assert!(col0 + oh * ow <= ld && cols.len() >= (g.patch_len() - 1) * ld + col0 + oh * ow);
    for c in 0..g.channels {
        let plane = &mut dx[c * g.height * g.width..(c + 1) * g.height * g.width];
        for ky in 0..k {
            for kx in 0..k {
                let row = (c * k + ky) * k + kx;
                let in_row = &cols[row * ld + col0..row * ld + col0 + oh * ow];
                let valid = g.valid_columns(kx);
                if valid.is_empty() {
                    continue;
                }
                let first_ix = valid.start * g.stride + kx - g.pad;
                for oy in 0..oh {
                    let Some(iy) = g.source(oy, ky, g.height) else { continue };
                    let src = &in_row[oy * ow + valid.start..oy * ow + valid.end];
                    let dst_row = &mut plane[iy * g.width..(iy + 1) * g.width];
                    if g.stride == 1 {
                        // Zipped slices: no index arithmetic or bounds checks, so the compiler
                        // vectorises it inline (a dispatched kernel call per 11-value row cost
                        // more than the adds, measured).
                        for (d, &v) in dst_row[first_ix..first_ix + src.len()].iter_mut().zip(src) {
                            *d += v;
                        }
                    } else {
                        for (j, &v) in src.iter().enumerate() {
                            dst_row[first_ix + j * g.stride] += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    /// The definition, one element at a time.
    fn im2col_reference(x: &[f32], g: &ConvGeometry) -> Vec<f32> {
        let (oh, ow, k) = (g.out_height(), g.out_width(), g.kernel);
        let mut cols = vec![0.0; g.patch_len() * oh * ow];
        for c in 0..g.channels {
            for ky in 0..k {
                for kx in 0..k {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * g.stride + ky) as isize - g.pad as isize;
                            let ix = (ox * g.stride + kx) as isize - g.pad as isize;
                            let inside = iy >= 0 && ix >= 0 && (iy as usize) < g.height && (ix as usize) < g.width;
                            cols[((c * k + ky) * k + kx) * oh * ow + oy * ow + ox] =
                                if inside { x[(c * g.height + iy as usize) * g.width + ix as usize] } else { 0.0 };
                        }
                    }
                }
            }
        }
        cols
    }

    #[test]
    fn im2col_matches_definition_and_col2im_is_its_adjoint() {
        let mut rng = Rng::new(5);
        for &(c, h, w, k, stride, pad) in &[
            (1, 28, 28, 3, 1, 0),
            (3, 7, 9, 3, 1, 1),
            (2, 8, 7, 5, 2, 2),
            (2, 6, 6, 2, 2, 0),
            (1, 5, 5, 3, 3, 1),
            (2, 4, 5, 1, 1, 0),
        ] {
            let g = ConvGeometry { channels: c, height: h, width: w, kernel: k, stride, pad };
            let x: Vec<f32> = (0..g.in_len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let n = g.out_pixels();
            let ld = 2 * n + 3; // the sample sits in the middle of a wider chunk matrix
            let mut cols = vec![f32::NAN; g.patch_len() * ld];
            im2col(&x, &g, &mut cols, ld, n);
            let reference = im2col_reference(&x, &g);
            for row in 0..g.patch_len() {
                assert_eq!(&cols[row * ld + n..row * ld + 2 * n], &reference[row * n..(row + 1) * n], "{g:?}");
            }
            // <im2col(x), y> == <x, col2im(y)> for every y: col2im is the exact adjoint.
            let y: Vec<f32> = (0..cols.len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let mut back = vec![0.0; g.in_len()];
            col2im(&y, ld, n, &g, &mut back);
            let lhs: f64 = (0..g.patch_len())
                .flat_map(|r| (0..n).map(move |j| (r, j)))
                .map(|(r, j)| reference[r * n + j] as f64 * y[r * ld + n + j] as f64)
                .sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| *a as f64 * *b as f64).sum();
            assert!((lhs - rhs).abs() < 1e-4, "{g:?}: {lhs} vs {rhs}");
        }
    }
}
