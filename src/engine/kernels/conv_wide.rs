//! Stride-1 convolution over "wide" rows, without im2col: an implicit GEMM whose B operand is
//! read straight from the (padded) input.
//!
//! Output pixel (oy, ox) of a stride-1 convolution over an `hp × wp` plane reads the input at
//! `(oy + ky) · wp + (ox + kx)`: the flat index `n = oy · wp + ox` plus a tap offset
//! `ky · wp + kx`. So if the output is computed for every `n` in `0 .. oh · wp` (that is, with
//! rows as wide as the input, the last `k - 1` columns of each row being garbage to drop), the
//! input values one tap needs for a run of consecutive `n` are consecutive in memory: the GEMM
//! `out (OC × oh·wp) = W (OC × C·k·k) · patches (C·k·k × oh·wp)` can load its B rows with plain
//! vector loads from the input and needs neither the patch matrix nor a packed copy of it.
//! The price is the dropped columns: `wp / ow` more multiply-adds (13 / 11 for `seed002`'s second
//! convolution, 30 / 28 for `seed000`'s).
//!
//! The weights are packed once per call of the layer into panels of [`PANEL_ROWS`] output
//! channels, tap-major, so a tile's weights for one tap are adjacent and broadcast from L1.
//!
//! The same kernel computes a stride-1 convolution's input gradient: `dx` is the convolution of
//! `dy`, padded by `k - 1 - pad`, with the weights transposed (input and output channels swapped)
//! and flipped (see [`transposed_flipped`]).

// The plane's geometry travels as separate arguments; the `_on` forms add the path.
#![allow(clippy::too_many_arguments)]

use super::vector::F32Vector;

/// Output channels per weight panel; the layer's count is padded with zero rows to a multiple.
pub const PANEL_ROWS: usize = 8;

/// Output columns per tile: two AVX-512 vectors. The kernel reads up to this many floats past a
/// tap's last needed input, so the input carries [`input_len`]'s slack.
const TILE_COLUMNS: usize = 32;

/// Floats the kernel's `input` must hold for `channels` planes of `hp × wp` with kernel `k`:
/// the planes and a tail of slack that full-width loads of the last tile may touch (its values
/// only reach the dropped columns past the end).
pub fn input_len(channels: usize, hp: usize, wp: usize, k: usize) -> usize {
    channels * hp * wp + k + TILE_COLUMNS
}

/// Rows of the packed weights and of the kernel's output: `out_channels` rounded up to panels.
pub fn padded_rows(out_channels: usize) -> usize {
    out_channels.div_ceil(PANEL_ROWS) * PANEL_ROWS
}

/// `weights` (rows × patch, row-major) as panels of [`PANEL_ROWS`] rows, each stored tap-major:
/// `panels[(p · patch + t) · PANEL_ROWS + r] = weights[(p · PANEL_ROWS + r) · patch + t]`, with
/// zeros for the padding rows.
pub fn pack_panels(weights: &[f32], rows: usize, patch: usize) -> Vec<f32> {
    assert_eq!(weights.len(), rows * patch);
    let mut panels = vec![0.0; padded_rows(rows) * patch];
    for (row, weights) in weights.chunks_exact(patch).enumerate() {
        let (panel, r) = (row / PANEL_ROWS, row % PANEL_ROWS);
        let base = panel * patch * PANEL_ROWS + r;
        for (t, &w) in weights.iter().enumerate() {
            panels[base + t * PANEL_ROWS] = w;
        }
    }
    panels
}

/// The weights of the input-gradient convolution: `out[c][o][ky][kx] = w[o][c][k-1-ky][k-1-kx]`
/// for `w` of shape (out_channels, channels, k, k).
pub fn transposed_flipped(weights: &[f32], out_channels: usize, channels: usize, k: usize) -> Vec<f32> {
    assert_eq!(weights.len(), out_channels * channels * k * k);
    let mut out = vec![0.0; weights.len()];
    for o in 0..out_channels {
        for c in 0..channels {
            for ky in 0..k {
                for kx in 0..k {
                    out[((c * out_channels + o) * k + ky) * k + kx] =
                        weights[((o * channels + c) * k + k - 1 - ky) * k + k - 1 - kx];
                }
            }
        }
    }
    out
}

simd_kernel! {
    /// `out[o][n] = Σ_{c,ky,kx} w[o][c][ky][kx] · input[c][n + ky·wp + kx]` for every row `o` of
    /// the panels and every wide column `n < (hp - k + 1) · wp`. `input` is `channels` planes of
    /// `hp × wp` followed by slack ([`input_len`]); `panels` come from [`pack_panels`] with
    /// patch length `channels · k · k`; `out` is `padded_rows × (hp - k + 1) · wp`.
    pub fn conv_wide / conv_wide_on(
        input: &[f32], channels: usize, hp: usize, wp: usize, k: usize, panels: &[f32], out: &mut [f32]
    ) -> () = conv_wide_scalar, conv_wide_vector;
}

/// Checks the shapes and returns (columns, rows, patch length).
fn shapes(
    input: &[f32],
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    panels: &[f32],
    out: &[f32],
) -> (usize, usize, usize) {
    assert!(k >= 1 && hp >= k && wp >= k, "a {k}×{k} kernel does not fit a {hp}×{wp} plane");
    let columns = (hp - k + 1) * wp;
    let patch = channels * k * k;
    assert!(input.len() >= input_len(channels, hp, wp, k), "input lacks its slack");
    assert_eq!(out.len() % columns, 0);
    let rows = out.len() / columns;
    assert!(rows.is_multiple_of(PANEL_ROWS) && panels.len() == rows * patch, "panels do not match the output rows");
    (columns, rows, patch)
}

pub fn conv_wide_scalar(
    input: &[f32],
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    panels: &[f32],
    out: &mut [f32],
) {
    let (columns, _, patch) = shapes(input, channels, hp, wp, k, panels, out);
    for (row, out_row) in out.chunks_exact_mut(columns).enumerate() {
        let (panel, r) = (row / PANEL_ROWS, row % PANEL_ROWS);
        let weights = &panels[panel * patch * PANEL_ROWS..(panel + 1) * patch * PANEL_ROWS];
        out_row.fill(0.0);
        let taps =
            (0..channels).flat_map(|c| (0..k).flat_map(move |ky| (0..k).map(move |kx| c * hp * wp + ky * wp + kx)));
        for (t, offset) in taps.enumerate() {
            let w = weights[t * PANEL_ROWS + r];
            for (o, &x) in out_row.iter_mut().zip(&input[offset..offset + columns]) {
                *o += w * x;
            }
        }
    }
}

/// One tile: `ROWS` output rows (their weights for tap t at `weights[t · PANEL_ROWS ..]`) by
/// `VECTORS` vectors of columns, accumulated in registers over every tap, then stored (`columns` of them,
/// the last vector masked).
#[inline(always)]
unsafe fn tile<V: F32Vector, const ROWS: usize, const VECTORS: usize>(
    input: *const f32,
    channels: usize,
    plane: usize,
    wp: usize,
    k: usize,
    weights: *const f32,
    out: *mut f32,
    ld_out: usize,
    columns: usize,
) {
    unsafe {
        let mut acc = [[V::zero(); VECTORS]; ROWS];
        let mut w = weights;
        for c in 0..channels {
            for ky in 0..k {
                let src = input.add(c * plane + ky * wp);
                for kx in 0..k {
                    let mut b = [V::zero(); VECTORS];
                    for (v, b) in b.iter_mut().enumerate() {
                        *b = V::load(src.add(kx + v * V::LANES));
                    }
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let weight = V::splat(*w.add(r));
                        for (acc, &b) in acc.iter_mut().zip(&b) {
                            *acc = weight.mul_add(b, *acc);
                        }
                    }
                    w = w.add(PANEL_ROWS);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let dst = out.add(r * ld_out);
            for (v, acc) in acc.iter().enumerate() {
                let start = v * V::LANES;
                if columns >= start + V::LANES {
                    acc.store(dst.add(start));
                } else if columns > start {
                    acc.store_partial(dst.add(start), columns - start);
                }
            }
        }
    }
}

/// One panel's tile of `VECTORS` vectors of columns: 8 rows at once on AVX-512 (16 or 8
/// accumulators of 32 registers), two tiles of 4 rows on AVX2 (16 registers).
#[inline(always)]
unsafe fn panel_tile<V: F32Vector, const VECTORS: usize>(
    input: *const f32,
    channels: usize,
    plane: usize,
    wp: usize,
    k: usize,
    weights: *const f32,
    out: *mut f32,
    ld_out: usize,
    columns: usize,
) {
    unsafe {
        if V::LANES >= 16 {
            tile::<V, 8, VECTORS>(input, channels, plane, wp, k, weights, out, ld_out, columns);
        } else {
            tile::<V, 4, VECTORS>(input, channels, plane, wp, k, weights, out, ld_out, columns);
            tile::<V, 4, VECTORS>(input, channels, plane, wp, k, weights.add(4), out.add(4 * ld_out), ld_out, columns);
        }
    }
}

#[inline(always)]
unsafe fn conv_wide_vector<V: F32Vector>(
    input: &[f32],
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    panels: &[f32],
    out: &mut [f32],
) {
    let (columns, rows, patch) = shapes(input, channels, hp, wp, k, panels, out);
    debug_assert!(2 * V::LANES <= TILE_COLUMNS);
    // SAFETY: `shapes` checked that the input holds every tap's run of `TILE_COLUMNS` floats from any
    // n < columns (the slack), and the stores stay within `columns` of each output row.
    unsafe {
        for panel in 0..rows / PANEL_ROWS {
            let weights = panels.as_ptr().add(panel * patch * PANEL_ROWS);
            let out = out.as_mut_ptr().add(panel * PANEL_ROWS * columns);
            let mut n = 0;
            while n < columns {
                let (src, dst, left) = (input.as_ptr().add(n), out.add(n), columns - n);
                let plane = hp * wp;
                if left > V::LANES {
                    panel_tile::<V, 2>(src, channels, plane, wp, k, weights, dst, columns, left.min(2 * V::LANES));
                    n += 2 * V::LANES;
                } else {
                    // A last stretch of one vector or less: a narrower tile wastes less.
                    panel_tile::<V, 1>(src, channels, plane, wp, k, weights, dst, columns, left);
                    n += V::LANES;
                }
            }
        }
    }
}

simd_kernel! {
    /// `dweights[o][c][ky][kx] += Σ_s Σ_n dy[s][o][n] · input[s][c][n + ky·wp + kx]` over the
    /// wide columns `n < (hp - k + 1) · wp` of `samples` samples: the weight gradient of
    /// [`conv_wide`]. `input` holds the samples one after another, each as for [`conv_wide`]
    /// ([`input_len`] floats, with finite values in the slack: the last taps reach k - 2 floats into
    /// it, multiplied by dropped columns' zeros); `dy` holds them one after another, each
    /// `out_channels × (hp - k + 1) · wp`, zero in each row's dropped last k - 1 columns;
    /// `dweights` is `out_channels × channels·k·k`.
    pub fn conv_wide_weight_gradient / conv_wide_weight_gradient_on(
        input: &[f32], samples: usize, channels: usize, hp: usize, wp: usize, k: usize, dy: &[f32], dweights: &mut [f32]
    ) -> () = conv_wide_weight_gradient_scalar, conv_wide_weight_gradient_vector;
}

/// The weight gradient's shapes: (floats per sample of input, columns, output channels, the tap
/// offsets).
struct GradientShapes {
    input_stride: usize,
    columns: usize,
    out_channels: usize,
    taps: Vec<usize>,
}

fn gradient_shapes(
    input: &[f32],
    samples: usize,
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    dy: &[f32],
    dweights: &[f32],
) -> GradientShapes {
    assert!(k >= 1 && hp >= k && wp >= k, "a {k}×{k} kernel does not fit a {hp}×{wp} plane");
    let (input_stride, columns) = (input_len(channels, hp, wp, k), (hp - k + 1) * wp);
    assert_eq!(input.len(), samples * input_stride, "input is not {samples} padded samples");
    assert!(samples > 0 && dy.len().is_multiple_of(samples * columns), "dy is not {samples} samples of wide rows");
    let out_channels = dy.len() / (samples * columns);
    assert_eq!(dweights.len(), out_channels * channels * k * k);
    let taps = (0..channels).flat_map(|c| (0..k).flat_map(move |ky| (0..k).map(move |kx| c * hp * wp + ky * wp + kx)));
    GradientShapes { input_stride, columns, out_channels, taps: taps.collect() }
}

pub fn conv_wide_weight_gradient_scalar(
    input: &[f32],
    samples: usize,
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    dy: &[f32],
    dweights: &mut [f32],
) {
    let GradientShapes { input_stride, columns, out_channels, taps } =
        gradient_shapes(input, samples, channels, hp, wp, k, dy, dweights);
    for (o, dweights) in dweights.chunks_exact_mut(taps.len()).enumerate() {
        for (dw, &offset) in dweights.iter_mut().zip(&taps) {
            let mut acc = 0.0;
            for s in 0..samples {
                let (dy, x) = (&dy[(s * out_channels + o) * columns..][..columns], &input[s * input_stride + offset..]);
                acc += dy.iter().zip(&x[..columns]).map(|(g, x)| g * x).sum::<f32>();
            }
            *dw += acc;
        }
    }
}

/// One step along the columns: `ROWS · TAPS` multiply-adds from `ROWS + TAPS` vector loads
/// (`width` lanes of them, the rest zero, when `PARTIAL`).
#[inline(always)]
unsafe fn gradient_step<V: F32Vector, const ROWS: usize, const TAPS: usize, const PARTIAL: bool>(
    acc: &mut [[V; TAPS]; ROWS],
    x: &[*const f32; TAPS],
    dy: &[*const f32; ROWS],
    n: usize,
    width: usize,
) {
    unsafe {
        let load = |src: *const f32| if PARTIAL { V::load_partial(src, width, 0.0) } else { V::load(src) };
        let mut xs = [V::zero(); TAPS];
        for (xs, &x) in xs.iter_mut().zip(x) {
            *xs = load(x.add(n));
        }
        for (acc, &dy) in acc.iter_mut().zip(dy) {
            let g = load(dy.add(n));
            for (acc, &x) in acc.iter_mut().zip(&xs) {
                *acc = g.mul_add(x, *acc);
            }
        }
    }
}

/// `ROWS` output channels (their dy rows at `dy + r · columns` within each sample) by the `TAPS`
/// tap offsets `taps`: one vector accumulator per pair, running along every sample's columns,
/// summed across lanes once at the end into `dweights[r · ld + t]`.
#[inline(always)]
unsafe fn gradient_tile<V: F32Vector, const ROWS: usize, const TAPS: usize>(
    shapes: &GradientShapes,
    input: *const f32,
    samples: usize,
    taps: &[usize],
    dy: *const f32,
    dweights: *mut f32,
) {
    unsafe {
        let columns = shapes.columns;
        let whole = columns - columns % V::LANES;
        let mut acc = [[V::zero(); TAPS]; ROWS];
        for s in 0..samples {
            let input = input.add(s * shapes.input_stride);
            let dy = dy.add(s * shapes.out_channels * columns);
            let x: [*const f32; TAPS] = std::array::from_fn(|t| input.add(taps[t]));
            let dy: [*const f32; ROWS] = std::array::from_fn(|r| dy.add(r * columns));
            let mut n = 0;
            while n < whole {
                gradient_step::<V, ROWS, TAPS, false>(&mut acc, &x, &dy, n, V::LANES);
                n += V::LANES;
            }
            if n < columns {
                gradient_step::<V, ROWS, TAPS, true>(&mut acc, &x, &dy, n, columns - n);
            }
        }
        let ld = shapes.taps.len();
        for (r, acc) in acc.iter().enumerate() {
            for (t, acc) in acc.iter().enumerate() {
                *dweights.add(r * ld + t) += acc.reduce_sum();
            }
        }
    }
}

/// Every tap of `ROWS` output channels: tiles of `TAPS` taps, then one tap at a time.
#[inline(always)]
unsafe fn gradient_rows<V: F32Vector, const ROWS: usize, const TAPS: usize>(
    shapes: &GradientShapes,
    input: *const f32,
    samples: usize,
    dy: *const f32,
    dweights: *mut f32,
) {
    unsafe {
        let mut groups = shapes.taps.chunks_exact(TAPS);
        for (g, group) in (&mut groups).enumerate() {
            gradient_tile::<V, ROWS, TAPS>(shapes, input, samples, group, dy, dweights.add(g * TAPS));
        }
        let done = shapes.taps.len() - groups.remainder().len();
        for (t, tap) in groups.remainder().chunks(1).enumerate() {
            gradient_tile::<V, ROWS, 1>(shapes, input, samples, tap, dy, dweights.add(done + t));
        }
    }
}

#[inline(always)]
unsafe fn conv_wide_weight_gradient_vector<V: F32Vector>(
    input: &[f32],
    samples: usize,
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    dy: &[f32],
    dweights: &mut [f32],
) {
    let shapes = gradient_shapes(input, samples, channels, hp, wp, k, dy, dweights);
    // Rows × taps per tile: AVX-512 4 × 4 = 16 accumulators of 32 registers, AVX2 2 × 4 = 8 of 16.
    const WIDE_ROWS: usize = 4;
    const NARROW_ROWS: usize = 2;
    let rows = if V::LANES >= 16 { WIDE_ROWS } else { NARROW_ROWS };
    let (columns, patch) = (shapes.columns, shapes.taps.len());
    // SAFETY: every tap reads input[s · stride + offset + n] for n < columns, inside sample s's
    // slack (the length was checked); dy rows hold `columns` values per sample; the tiles write
    // within dweights' rows.
    unsafe {
        let (input, dy, dweights) = (input.as_ptr(), dy.as_ptr(), dweights.as_mut_ptr());
        let mut o = 0;
        while o + rows <= shapes.out_channels {
            let (dy, dw) = (dy.add(o * columns), dweights.add(o * patch));
            if V::LANES >= 16 {
                gradient_rows::<V, WIDE_ROWS, 4>(&shapes, input, samples, dy, dw);
            } else {
                gradient_rows::<V, NARROW_ROWS, 4>(&shapes, input, samples, dy, dw);
            }
            o += rows;
        }
        for o in o..shapes.out_channels {
            gradient_rows::<V, 1, 4>(&shapes, input, samples, dy.add(o * columns), dweights.add(o * patch));
        }
    }
}
