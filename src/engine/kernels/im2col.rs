//! im2col and col2im: unfold a C×H×W image into a matrix of patches so a convolution becomes one
//! GEMM, and fold patch gradients back into an image gradient.
//!
//! The column matrix has `C·K·K` rows (channel-major, then kernel row, then kernel column) and one
//! column per output pixel. Several samples share one matrix side by side (leading dimension
//! `ld`, this sample's first column `col0`) so one GEMM covers a chunk of the batch.

use super::vector::F32Vector;

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

    /// The output rows whose source row `oy*stride + ky - pad` is inside the image.
    fn valid_rows(&self, ky: usize) -> std::ops::Range<usize> {
        valid_outputs(ky, self.pad, self.stride, self.height, self.out_height())
    }

    /// The output columns whose source column `ox*stride + kx - pad` is inside the image.
    fn valid_columns(&self, kx: usize) -> std::ops::Range<usize> {
        valid_outputs(kx, self.pad, self.stride, self.width, self.out_width())
    }
}

/// The outputs `o` in `0..out_size` whose source `o*stride + k - pad` lies in `0..size`.
fn valid_outputs(k: usize, pad: usize, stride: usize, size: usize, out_size: usize) -> std::ops::Range<usize> {
    let first = pad.saturating_sub(k).div_ceil(stride).min(out_size);
    // o*stride + k - pad <= size - 1  ⇔  o <= (size - 1 + pad - k) / stride
    let last = match (size - 1 + pad).checked_sub(k) {
        Some(limit) => (limit / stride + 1).min(out_size),
        None => 0,
    };
    first..last.max(first)
}

/// Writes sample `x` (C×H×W) into columns `col0 .. col0 + OH·OW` of `cols` (leading dim `ld`).
///
/// The valid ranges are worked out once per kernel offset, so the inner loop is a plain strided
/// copy of `OW`-long runs (the border, when padded, is zero-filled around them).
pub fn im2col(x: &[f32], g: &ConvGeometry, cols: &mut [f32], ld: usize, col0: usize) {
    assert_eq!(x.len(), g.in_len());
    let (oh, ow, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    assert!(col0 + oh * ow <= ld && cols.len() >= (g.patch_len() - 1) * ld + col0 + oh * ow);
    for (c, plane) in x.chunks_exact(g.height * g.width).enumerate() {
        for ky in 0..k {
            let rows = g.valid_rows(ky);
            for kx in 0..k {
                let row = (c * k + ky) * k + kx;
                let out = &mut cols[row * ld + col0..row * ld + col0 + oh * ow];
                if g.pad == 0 && s == 1 {
                    // The common case (`seed002`): every run is a whole input row segment.
                    for (oy, dst) in out.chunks_exact_mut(ow).enumerate() {
                        let start = (oy + ky) * g.width + kx;
                        copy_run(dst, &plane[start..start + ow]);
                    }
                    continue;
                }
                out[..rows.start * ow].fill(0.0);
                out[rows.end * ow..].fill(0.0);
                let valid = g.valid_columns(kx);
                if valid.is_empty() {
                    out[rows.start * ow..rows.end * ow].fill(0.0);
                    continue;
                }
                let first_ix = valid.start * s + kx - g.pad;
                let first_iy = rows.start * s + ky - g.pad;
                let runs = out[rows.start * ow..rows.end * ow].chunks_exact_mut(ow);
                for (dst, src_row) in runs.zip(plane[first_iy * g.width..].chunks(s * g.width)) {
                    dst[..valid.start].fill(0.0);
                    dst[valid.end..].fill(0.0);
                    let src = &src_row[first_ix..];
                    if s == 1 {
                        copy_run(&mut dst[valid.clone()], &src[..valid.len()]);
                    } else {
                        for (d, &v) in dst[valid.clone()].iter_mut().zip(src.iter().step_by(s)) {
                            *d = v;
                        }
                    }
                }
            }
        }
    }
}

/// Copies a short run (an output row: 11 floats in `seed002`'s second convolution) without a
/// call to `memcpy`, whose set-up cost more than the copy itself at these lengths (measured: im2col
/// and memmove were 31% of an inference profile). Fixed-size 8-float moves compile to single
/// vector loads and stores; the tail is one more, overlapping the previous one.
#[inline(always)]
pub fn copy_run(dst: &mut [f32], src: &[f32]) {
    let n = src.len();
    assert_eq!(dst.len(), n);
    if n < 8 {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s;
        }
        return;
    }
    let (mut d8, mut s8) = (dst.chunks_exact_mut(8), src.chunks_exact(8));
    for (d, s) in (&mut d8).zip(&mut s8) {
        let d: &mut [f32; 8] = d.try_into().unwrap();
        *d = s.try_into().unwrap();
    }
    if !s8.remainder().is_empty() {
        let d: &mut [f32; 8] = (&mut dst[n - 8..]).try_into().unwrap();
        *d = src[n - 8..].try_into().unwrap();
    }
}

/// Adds the patch gradients in columns `col0 .. col0 + OH·OW` of `cols` into `dx` (C×H×W).
pub fn col2im(cols: &[f32], ld: usize, col0: usize, g: &ConvGeometry, dx: &mut [f32]) {
    assert_eq!(dx.len(), g.in_len());
    let (oh, ow, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    assert!(col0 + oh * ow <= ld && cols.len() >= (g.patch_len() - 1) * ld + col0 + oh * ow);
    for (c, plane) in dx.chunks_exact_mut(g.height * g.width).enumerate() {
        for ky in 0..k {
            let rows = g.valid_rows(ky);
            if rows.is_empty() {
                continue;
            }
            let first_iy = rows.start * s + ky - g.pad;
            for kx in 0..k {
                let valid = g.valid_columns(kx);
                if valid.is_empty() {
                    continue;
                }
                let row = (c * k + ky) * k + kx;
                let runs = cols[row * ld + col0 + rows.start * ow..row * ld + col0 + rows.end * ow].chunks_exact(ow);
                let first_ix = valid.start * s + kx - g.pad;
                for (src, dst_row) in runs.zip(plane[first_iy * g.width..].chunks_mut(s * g.width)) {
                    let src = &src[valid.clone()];
                    let dst = &mut dst_row[first_ix..];
                    if s == 1 {
                        // Zipped slices: no index arithmetic or bounds checks, so the compiler
                        // vectorises it inline (a dispatched kernel call per 11-value row cost
                        // more than the adds, measured).
                        for (d, &v) in dst[..src.len()].iter_mut().zip(src) {
                            *d += v;
                        }
                    } else {
                        for (d, &v) in dst.iter_mut().step_by(s).zip(src) {
                            *d += v;
                        }
                    }
                }
            }
        }
    }
}

simd_kernel! {
    /// col2im for stride 1, by rows of `dx`: writes (rather than adds) every value of `dx`
    /// (C×H×W), each the sum of its patch gradients in columns `col0 .. col0 + OH·OW` of `cols`,
    /// taken in (kernel row, kernel column) order, the order in which [`col2im`] adds them into a
    /// zeroed `dx`, so the two agree bit for bit. Gathering a row's 9 shifted runs into registers
    /// replaces 9 read-modify-write passes over 11-value runs with one store.
    pub fn col2im_rows / col2im_rows_on(cols: &[f32], ld: usize, col0: usize, g: ConvGeometry, dx: &mut [f32]) -> ()
        = col2im_rows_scalar, col2im_rows_vector;
}

fn check_col2im_rows(cols: &[f32], ld: usize, col0: usize, g: &ConvGeometry, dx: &[f32]) {
    assert_eq!(g.stride, 1, "col2im_rows is for stride 1");
    assert_eq!(dx.len(), g.in_len());
    let pixels = g.out_pixels();
    assert!(col0 + pixels <= ld && cols.len() >= (g.patch_len() - 1) * ld + col0 + pixels);
}

/// The output row that input row `iy` meets through kernel row `ky`, if any (stride 1).
fn source_row(iy: usize, ky: usize, g: &ConvGeometry) -> Option<usize> {
    (iy + g.pad).checked_sub(ky).filter(|&oy| oy < g.out_height())
}

pub fn col2im_rows_scalar(cols: &[f32], ld: usize, col0: usize, g: ConvGeometry, dx: &mut [f32]) {
    check_col2im_rows(cols, ld, col0, &g, dx);
    let (ow, k) = (g.out_width(), g.kernel);
    for (index, value) in dx.iter_mut().enumerate() {
        let (c, iy, ix) = (index / (g.height * g.width), index / g.width % g.height, index % g.width);
        let mut total = 0.0;
        for ky in 0..k {
            let Some(oy) = source_row(iy, ky, &g) else { continue };
            for kx in 0..k {
                let Some(ox) = (ix + g.pad).checked_sub(kx).filter(|&ox| ox < ow) else { continue };
                total += cols[((c * k + ky) * k + kx) * ld + col0 + oy * ow + ox];
            }
        }
        *value = total;
    }
}

/// Rows of `dx` summed at a time, in independent registers: one row's chain of 9 dependent adds
/// waits on every load.
const COL2IM_ROWS: usize = 4;

#[inline(always)]
unsafe fn col2im_rows_vector<V: F32Vector>(cols: &[f32], ld: usize, col0: usize, g: ConvGeometry, dx: &mut [f32]) {
    check_col2im_rows(cols, ld, col0, &g, dx);
    let (oh, ow, k, w) = (g.out_height() as isize, g.out_width() as isize, g.kernel, g.width);
    let (src, dst) = (cols.as_ptr(), dx.as_mut_ptr());
    unsafe {
        for c in 0..g.channels {
            for x0 in (0..w).step_by(V::LANES) {
                let lanes = (w - x0).min(V::LANES);
                for iy in (0..g.height).step_by(COL2IM_ROWS) {
                    let rows = (g.height - iy).min(COL2IM_ROWS);
                    let mut totals = [V::zero(); COL2IM_ROWS];
                    for ky in 0..k {
                        for kx in 0..k {
                            // Lane j is input column x0 + j, output column x0 + j + pad - kx.
                            let shift = (x0 + g.pad) as isize - kx as isize;
                            let first = (-shift).clamp(0, lanes as isize) as usize;
                            let end = (ow - shift).clamp(0, lanes as isize) as usize;
                            if first >= end {
                                continue;
                            }
                            let run = (((c * k + ky) * k + kx) * ld + col0) as isize + shift;
                            for (r, total) in totals.iter_mut().enumerate() {
                                // Output row of input row iy + r through kernel row ky.
                                let oy = (iy + r + g.pad) as isize - ky as isize;
                                if r < rows && (0..oh).contains(&oy) {
                                    let at = src.wrapping_offset(run + oy * ow);
                                    *total = total.add(V::load_lanes(at, first, end));
                                }
                            }
                        }
                    }
                    for (r, total) in totals.iter().take(rows).enumerate() {
                        let at = (c * g.height + iy + r) * w + x0;
                        if lanes == V::LANES || (x0 == 0 && at + V::LANES <= dx.len()) {
                            // A row narrower than a vector is stored whole, running into the rows
                            // after it, which are written later (its extra lanes hold zeros):
                            // masked stores are slow on Zen 4.
                            total.store(dst.add(at));
                        } else {
                            total.store_partial(dst.add(at), lanes);
                        }
                    }
                }
            }
        }
    }
}

simd_kernel! {
    /// Interleaves `samples` equal-length vectors: `out[i · samples + s] = x[s · len + i]`. In
    /// that layout each value of a C×H×W image is a run of `samples` floats, one per sample, so
    /// the patch matrix of a small output ([`im2col_interleaved`]) is built from runs that long
    /// instead of from output rows (3 floats in `seed002`'s last convolution).
    pub fn interleave / interleave_on(x: &[f32], samples: usize, out: &mut [f32]) -> ()
        = interleave_scalar, interleave_vector;

    /// The inverse of [`interleave`]: `out[s · len + i] = lanes[i · samples + s]`.
    pub fn deinterleave / deinterleave_on(lanes: &[f32], samples: usize, out: &mut [f32]) -> ()
        = deinterleave_scalar, deinterleave_vector;
}

/// Values per block of the transposes: a block is `TRANSPOSE_BLOCK` values of every sample.
const TRANSPOSE_BLOCK: usize = 16;

/// The most samples the vector transposes take (a block of them is held in registers).
const MAX_VECTOR_SAMPLES: usize = 32;

fn check_transpose(x: &[f32], samples: usize, out: &[f32]) -> usize {
    assert!(samples > 0 && x.len() == out.len() && x.len().is_multiple_of(samples));
    x.len() / samples
}

pub fn interleave_scalar(x: &[f32], samples: usize, out: &mut [f32]) {
    let len = check_transpose(x, samples, out);
    interleave_values(x, samples, len, 0, out);
}

/// The scalar interleave of values `from..` of every sample.
fn interleave_values(x: &[f32], samples: usize, len: usize, from: usize, out: &mut [f32]) {
    // A block of values at a time, so its output rows stay in L1 while every sample is read.
    for start in (from..len).step_by(TRANSPOSE_BLOCK) {
        let end = (start + TRANSPOSE_BLOCK).min(len);
        for (s, sample) in x.chunks_exact(len).enumerate() {
            for (i, &value) in sample[start..end].iter().enumerate() {
                out[(start + i) * samples + s] = value;
            }
        }
    }
}

pub fn deinterleave_scalar(lanes: &[f32], samples: usize, out: &mut [f32]) {
    let len = check_transpose(lanes, samples, out);
    deinterleave_values(lanes, samples, len, 0, out);
}

/// The scalar deinterleave of values `from..` of every sample.
fn deinterleave_values(lanes: &[f32], samples: usize, len: usize, from: usize, out: &mut [f32]) {
    for start in (from..len).step_by(TRANSPOSE_BLOCK) {
        let end = (start + TRANSPOSE_BLOCK).min(len);
        for (s, sample) in out.chunks_exact_mut(len).enumerate() {
            for (i, value) in sample[start..end].iter_mut().enumerate() {
                *value = lanes[(start + i) * samples + s];
            }
        }
    }
}

/// Whether the vector transposes take `samples`: a power of two up to `MAX_VECTOR_SAMPLES`
/// whose block fills whole pairs of vectors.
fn vector_transposable<V: F32Vector>(samples: usize) -> bool {
    samples.is_power_of_two()
        && samples <= MAX_VECTOR_SAMPLES
        && (TRANSPOSE_BLOCK * samples).is_multiple_of(2 * V::LANES)
}

/// One perfect unshuffle of the stream held in `from`, into `to`: its even-numbered values, then
/// its odd ones. That rotates each value's position right by one bit, so `b` of them turn a
/// block laid out (row, column) with `b` column bits into (column, row): a transpose.
#[inline(always)]
unsafe fn unshuffle<V: F32Vector, const N: usize>(from: &[V; N], to: &mut [V; N]) {
    for k in 0..N / 2 {
        // SAFETY (caller): the vector instructions are available.
        let (even, odd) = unsafe { V::deinterleave(from[2 * k], from[2 * k + 1]) };
        to[k] = even;
        to[N / 2 + k] = odd;
    }
}

/// `rounds` unshuffles of a block of `N` vectors (a count known when compiling, so the block
/// can stay in registers).
#[inline(always)]
unsafe fn unshuffled<V: F32Vector, const N: usize>(mut block: [V; N], rounds: u32) -> [V; N] {
    // SAFETY (caller): the vector instructions are available.
    unsafe {
        let mut spare = [V::zero(); N];
        for _ in 0..rounds / 2 {
            unshuffle(&block, &mut spare);
            unshuffle(&spare, &mut block);
        }
        if rounds % 2 == 1 {
            unshuffle(&block, &mut spare);
            return spare;
        }
    }
    block
}

/// The vector transposes' blocks of `N` vectors: `load(k)` gives vector k of the block's stream,
/// `store(k, v)` takes vector k of the stream after `rounds` unshuffles.
#[inline(always)]
unsafe fn transpose_blocks<V: F32Vector, const N: usize>(
    blocks: usize,
    rounds: u32,
    load: impl Fn(usize, usize) -> V,
    mut store: impl FnMut(usize, usize, V),
) {
    for block in 0..blocks {
        let vectors: [V; N] = std::array::from_fn(|k| load(block, k));
        // SAFETY (caller): the vector instructions are available.
        for (k, vector) in unsafe { unshuffled(vectors, rounds) }.into_iter().enumerate() {
            store(block, k, vector);
        }
    }
}

/// Calls `transpose_blocks` with the block's vector count as a constant: `TRANSPOSE_BLOCK ·
/// samples / LANES`, 2 to 64 for the sample counts `vector_transposable` takes.
macro_rules! with_block_vectors {
    ($vectors:expr, $call:ident :: <$v:ty> ($($arg:expr),*)) => {
        match $vectors {
            2 => $call::<$v, 2>($($arg),*),
            4 => $call::<$v, 4>($($arg),*),
            8 => $call::<$v, 8>($($arg),*),
            16 => $call::<$v, 16>($($arg),*),
            32 => $call::<$v, 32>($($arg),*),
            64 => $call::<$v, 64>($($arg),*),
            other => unreachable!("{other} vectors in a transpose block"),
        }
    };
}

/// [`interleave_scalar`] a block of `TRANSPOSE_BLOCK` values of every sample at a time,
/// transposed in registers by unshuffles; the values past the last whole block, and sample
/// counts the blocks do not take, as the scalar twin does them. Only moves values: the same bits.
#[inline(always)]
unsafe fn interleave_vector<V: F32Vector>(x: &[f32], samples: usize, out: &mut [f32]) {
    let len = check_transpose(x, samples, out);
    if !vector_transposable::<V>(samples) {
        return interleave_values(x, samples, len, 0, out);
    }
    let whole = len / TRANSPOSE_BLOCK;
    let (src, dst) = (x.as_ptr(), out.as_mut_ptr());
    // The block as a stream in (sample, value) order, turned into (value, sample) order by
    // log2(TRANSPOSE_BLOCK) unshuffles.
    // SAFETY: block b reads values b·TRANSPOSE_BLOCK ..+ TRANSPOSE_BLOCK ≤ len of every sample
    // (a vector never spans two samples: LANES divides TRANSPOSE_BLOCK) and writes
    // out[b · TRANSPOSE_BLOCK · samples ..+ TRANSPOSE_BLOCK · samples].
    unsafe {
        let load = |block: usize, k: usize| {
            let at = k * V::LANES;
            V::load(src.add((at / TRANSPOSE_BLOCK) * len + block * TRANSPOSE_BLOCK + at % TRANSPOSE_BLOCK))
        };
        let store = |block: usize, k: usize, v: V| v.store(dst.add(block * TRANSPOSE_BLOCK * samples + k * V::LANES));
        let rounds = TRANSPOSE_BLOCK.trailing_zeros();
        with_block_vectors!(TRANSPOSE_BLOCK * samples / V::LANES, transpose_blocks::<V>(whole, rounds, load, store));
    }
    interleave_values(x, samples, len, whole * TRANSPOSE_BLOCK, out);
}

/// [`deinterleave_scalar`] by blocks transposed in registers, as [`interleave_vector`].
#[inline(always)]
unsafe fn deinterleave_vector<V: F32Vector>(lanes: &[f32], samples: usize, out: &mut [f32]) {
    let len = check_transpose(lanes, samples, out);
    if !vector_transposable::<V>(samples) {
        return deinterleave_values(lanes, samples, len, 0, out);
    }
    let whole = len / TRANSPOSE_BLOCK;
    let (src, dst) = (lanes.as_ptr(), out.as_mut_ptr());
    // (value, sample) to (sample, value): log2(samples) unshuffles.
    // SAFETY: as in `interleave_vector`, with the roles of the two layouts swapped.
    unsafe {
        let load = |block: usize, k: usize| V::load(src.add(block * TRANSPOSE_BLOCK * samples + k * V::LANES));
        let store = |block: usize, k: usize, v: V| {
            let at = k * V::LANES;
            v.store(dst.add((at / TRANSPOSE_BLOCK) * len + block * TRANSPOSE_BLOCK + at % TRANSPOSE_BLOCK))
        };
        let rounds = samples.trailing_zeros();
        with_block_vectors!(TRANSPOSE_BLOCK * samples / V::LANES, transpose_blocks::<V>(whole, rounds, load, store));
    }
    deinterleave_values(lanes, samples, len, whole * TRANSPOSE_BLOCK, out);
}

/// im2col of `samples` images at once, interleaved ([`interleave`]): row (c, ky, kx) of `cols`
/// holds, for each output pixel in turn, that pixel's input value in every sample, so the
/// matrix is `C·K·K × OH·OW·samples` and column `pixel · samples + s` is sample s's.
pub fn im2col_interleaved(x: &[f32], g: &ConvGeometry, samples: usize, cols: &mut [f32]) {
    let (oh, ow, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    let run = ow * samples;
    assert!(x.len() == g.in_len() * samples && cols.len() == g.patch_len() * oh * run);
    for (row, out) in cols.chunks_exact_mut(oh * run).enumerate() {
        let (c, ky, kx) = (row / (k * k), row / k % k, row % k);
        let (rows, valid) = (g.valid_rows(ky), g.valid_columns(kx));
        for (oy, out) in out.chunks_exact_mut(run).enumerate() {
            if !rows.contains(&oy) || valid.is_empty() {
                out.fill(0.0);
                continue;
            }
            out[..valid.start * samples].fill(0.0);
            out[valid.end * samples..].fill(0.0);
            let iy = oy * s + ky - g.pad;
            let first = (c * g.height + iy) * g.width + valid.start * s + kx - g.pad;
            if s == 1 {
                // Adjacent output columns read adjacent input columns: one run for the row.
                let n = valid.len() * samples;
                copy_run(&mut out[valid.start * samples..valid.end * samples], &x[first * samples..][..n]);
            } else {
                for (j, dst) in out[valid.start * samples..valid.end * samples].chunks_exact_mut(samples).enumerate() {
                    copy_run(dst, &x[(first + j * s) * samples..][..samples]);
                }
            }
        }
    }
}

/// The adjoint of [`im2col_interleaved`]: writes `dx` (C×H×W for `samples` samples,
/// interleaved) as the sum of the patch gradients in `cols`, taken in row order as [`col2im`]
/// takes them, so each sample's values are the bits col2im gives it.
pub fn col2im_interleaved(cols: &[f32], g: &ConvGeometry, samples: usize, dx: &mut [f32]) {
    let (oh, ow, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    let run = ow * samples;
    assert!(dx.len() == g.in_len() * samples && cols.len() == g.patch_len() * oh * run);
    dx.fill(0.0);
    for (row, src) in cols.chunks_exact(oh * run).enumerate() {
        let (c, ky, kx) = (row / (k * k), row / k % k, row % k);
        let valid = g.valid_columns(kx);
        if valid.is_empty() {
            continue;
        }
        for oy in g.valid_rows(ky) {
            let first = (c * g.height + oy * s + ky - g.pad) * g.width + valid.start * s + kx - g.pad;
            let src = &src[oy * run..][valid.start * samples..valid.end * samples];
            for (j, src) in src.chunks_exact(samples).enumerate() {
                let dst = &mut dx[(first + j * s) * samples..][..samples];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d += v;
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

    /// Every path's transposes move each value where the scalar twin does, for sample counts
    /// the register blocks take (8, 16, 32, on vectors of 8 and 16) and ones they leave to the
    /// scalar loop (1, 3, 64), with and without values past the last whole block.
    #[test]
    fn every_path_interleaves_and_deinterleaves_as_the_scalar_twin() {
        for samples in [1, 3, 8, 16, 32, 64] {
            for len in [5, 16, 121, 169] {
                let x: Vec<f32> = (0..samples * len).map(|i| i as f32).collect();
                let mut want = vec![0.0; x.len()];
                interleave_scalar(&x, samples, &mut want);
                if samples > 1 {
                    assert_eq!(want[1], x[len], "the definition: value 0 of sample 1 second");
                }
                for path in crate::engine::kernels::SimdPath::supported() {
                    let mut lanes = vec![f32::NAN; x.len()];
                    interleave_on(path, &x, samples, &mut lanes);
                    assert_eq!(lanes, want, "interleave, {samples} samples of {len}, {path:?}");
                    let mut back = vec![f32::NAN; x.len()];
                    deinterleave_on(path, &lanes, samples, &mut back);
                    assert_eq!(back, x, "deinterleave, {samples} samples of {len}, {path:?}");
                }
            }
        }
    }

    #[test]
    fn interleaved_im2col_and_col2im_give_each_sample_the_bits_of_the_plain_ones() {
        let mut rng = Rng::new(9);
        for &(c, h, w, k, stride, pad, samples) in &[
            (64, 5, 5, 3, 1, 0, 32),
            (3, 7, 9, 3, 1, 1, 5),
            (2, 8, 7, 5, 2, 2, 3),
            (1, 5, 5, 3, 3, 1, 2),
            (2, 4, 5, 1, 1, 0, 1),
        ] {
            let g = ConvGeometry { channels: c, height: h, width: w, kernel: k, stride, pad };
            let n = g.out_pixels();
            let x: Vec<f32> = (0..g.in_len() * samples).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let mut lanes = vec![f32::NAN; x.len()];
            interleave(&x, samples, &mut lanes);
            let mut back = vec![f32::NAN; x.len()];
            deinterleave(&lanes, samples, &mut back);
            assert_eq!(back, x);
            let mut cols = vec![f32::NAN; g.patch_len() * n * samples];
            im2col_interleaved(&lanes, &g, samples, &mut cols);
            let dy: Vec<f32> = (0..cols.len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let mut dx_lanes = vec![f32::NAN; x.len()];
            col2im_interleaved(&dy, &g, samples, &mut dx_lanes);
            let mut dx = vec![0.0; x.len()];
            deinterleave(&dx_lanes, samples, &mut dx);
            for s in 0..samples {
                let reference = im2col_reference(&x[s * g.in_len()..(s + 1) * g.in_len()], &g);
                let mut plain_dy = vec![0.0; g.patch_len() * n];
                for row in 0..g.patch_len() {
                    for j in 0..n {
                        let at = row * n * samples + j * samples + s;
                        assert_eq!(cols[at], reference[row * n + j], "{g:?} sample {s}");
                        plain_dy[row * n + j] = dy[at];
                    }
                }
                let mut plain_dx = vec![0.0; g.in_len()];
                col2im(&plain_dy, n, 0, &g, &mut plain_dx);
                let got = &dx[s * g.in_len()..(s + 1) * g.in_len()];
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    plain_dx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{g:?}"
                );
            }
        }
    }
}
