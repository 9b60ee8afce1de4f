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

/// Where a tile reads: the padded input at the tile's first column, and the planes' geometry.
#[derive(Clone, Copy)]
struct TileSource {
    input: *const f32,
    channels: usize,
    plane: usize,
    wp: usize,
    k: usize,
}

/// Where a tile writes: its first output, the output rows' stride and how many columns to store.
#[derive(Clone, Copy)]
struct TileTarget {
    out: *mut f32,
    ld: usize,
    columns: usize,
}

/// One tile: `ROWS` output rows (their weights for tap t at `weights[t · PANEL_ROWS ..]`) by
/// `VECTORS` vectors of columns, accumulated in registers over every tap, then stored (the
/// target's `columns` of them, the last vector masked).
#[inline(always)]
unsafe fn tile<V: F32Vector, const ROWS: usize, const VECTORS: usize>(
    source: TileSource,
    weights: *const f32,
    target: TileTarget,
) {
    let TileSource { input, channels, plane, wp, k } = source;
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
            let dst = target.out.add(r * target.ld);
            for (v, acc) in acc.iter().enumerate() {
                let start = v * V::LANES;
                if target.columns >= start + V::LANES {
                    acc.store(dst.add(start));
                } else if target.columns > start {
                    acc.store_partial(dst.add(start), target.columns - start);
                }
            }
        }
    }
}

/// One panel's tile of `VECTORS` vectors of columns: 8 rows at once on AVX-512 (16 or 8
/// accumulators of 32 registers), two tiles of 4 rows on AVX2 (16 registers).
#[inline(always)]
unsafe fn panel_tile<V: F32Vector, const VECTORS: usize>(source: TileSource, weights: *const f32, target: TileTarget) {
    unsafe {
        if V::LANES >= 16 {
            tile::<V, 8, VECTORS>(source, weights, target);
        } else {
            tile::<V, 4, VECTORS>(source, weights, target);
            let lower = TileTarget { out: target.out.add(4 * target.ld), ..target };
            tile::<V, 4, VECTORS>(source, weights.add(4), lower);
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
                let source = TileSource { input: input.as_ptr().add(n), channels, plane: hp * wp, wp, k };
                let target = TileTarget { out: out.add(n), ld: columns, columns: columns - n };
                if target.columns > V::LANES {
                    let target = TileTarget { columns: target.columns.min(2 * V::LANES), ..target };
                    panel_tile::<V, 2>(source, weights, target);
                    n += 2 * V::LANES;
                } else {
                    // A last stretch of one vector or less: a narrower tile wastes less.
                    panel_tile::<V, 1>(source, weights, target);
                    n += V::LANES;
                }
            }
        }
    }
}

simd_kernel! {
    /// `dweights_t[c][ky][kx][o] += Σ_s Σ_n dy_t[s][n][o] · input[s][c][n + ky·wp + kx]` over the
    /// wide columns `n < (hp - k + 1) · wp` of `samples` samples: the weight gradient of
    /// [`conv_wide`], transposed. `input` holds the samples one after another, each as for
    /// [`conv_wide`] ([`input_len`] floats, with finite values in the slack: the last taps reach
    /// k - 2 floats into it, multiplied by dropped columns' zeros). `dy_t` holds them one after
    /// another, each `(hp - k + 1) · wp` rows of `channels_out` values (channels last, zero in the
    /// dropped columns' rows and in padding channels), with `channels_out` a multiple of
    /// [`GRADIENT_CHANNELS`]; `dweights_t` is `channels·k·k × channels_out`.
    pub fn conv_wide_weight_gradient / conv_wide_weight_gradient_on(
        input: &[f32], samples: usize, channels: usize, hp: usize, wp: usize, k: usize,
        dy_t: &[f32], channels_out: usize, dweights_t: &mut [f32]
    ) -> () = conv_wide_weight_gradient_scalar, conv_wide_weight_gradient_vector;
}

/// The weight gradient's `dy_t` rows hold a multiple of this many output channels (two AVX-512
/// vectors: the kernel's tiles span them).
pub const GRADIENT_CHANNELS: usize = 32;

/// The weight gradient's shapes: floats per sample of input, columns, the tap offsets.
struct GradientShapes {
    input_stride: usize,
    columns: usize,
    taps: Vec<usize>,
}

fn gradient_shapes(
    input: &[f32],
    samples: usize,
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    dy_t: &[f32],
    channels_out: usize,
    dweights_t: &[f32],
) -> GradientShapes {
    assert!(k >= 1 && hp >= k && wp >= k, "a {k}×{k} kernel does not fit a {hp}×{wp} plane");
    let (input_stride, columns) = (input_len(channels, hp, wp, k), (hp - k + 1) * wp);
    assert_eq!(input.len(), samples * input_stride, "input is not {samples} padded samples");
    assert!(channels_out.is_multiple_of(GRADIENT_CHANNELS), "{channels_out} channels are not whole tiles");
    assert_eq!(dy_t.len(), samples * columns * channels_out, "dy_t is not {samples} samples of wide rows");
    assert_eq!(dweights_t.len(), channels * k * k * channels_out);
    let taps = (0..channels).flat_map(|c| (0..k).flat_map(move |ky| (0..k).map(move |kx| c * hp * wp + ky * wp + kx)));
    GradientShapes { input_stride, columns, taps: taps.collect() }
}

pub fn conv_wide_weight_gradient_scalar(
    input: &[f32],
    samples: usize,
    channels: usize,
    hp: usize,
    wp: usize,
    k: usize,
    dy_t: &[f32],
    channels_out: usize,
    dweights_t: &mut [f32],
) {
    let GradientShapes { input_stride, columns, taps } =
        gradient_shapes(input, samples, channels, hp, wp, k, dy_t, channels_out, dweights_t);
    for (dw, &offset) in dweights_t.chunks_exact_mut(channels_out).zip(&taps) {
        for s in 0..samples {
            let x = &input[s * input_stride + offset..][..columns];
            let dy = &dy_t[s * columns * channels_out..][..columns * channels_out];
            for (&x, dy) in x.iter().zip(dy.chunks_exact(channels_out)) {
                for (dw, &g) in dw.iter_mut().zip(dy) {
                    *dw += g * x;
                }
            }
        }
    }
}

/// `TAPS` taps by two vectors of output channels (from `o0`): one accumulator per pair, over
/// every column of every sample. Per column: two vector loads of `dy_t`, `TAPS` broadcasts of
/// input values, `2 · TAPS` multiply-adds (the forward kernel's shape, with the roles turned).
#[inline(always)]
unsafe fn gradient_tile<V: F32Vector, const TAPS: usize>(
    shapes: &GradientShapes,
    input: *const f32,
    samples: usize,
    taps: &[usize],
    dy_t: *const f32,
    channels_out: usize,
    dweights_t: *mut f32,
) {
    unsafe {
        let columns = shapes.columns;
        let mut acc = [[V::zero(); 2]; TAPS];
        for s in 0..samples {
            let input = input.add(s * shapes.input_stride);
            let mut dy = dy_t.add(s * columns * channels_out);
            let x: [*const f32; TAPS] = std::array::from_fn(|t| input.add(taps[t]));
            for n in 0..columns {
                let (g0, g1) = (V::load(dy), V::load(dy.add(V::LANES)));
                for (acc, &x) in acc.iter_mut().zip(&x) {
                    let value = V::splat(*x.add(n));
                    acc[0] = value.mul_add(g0, acc[0]);
                    acc[1] = value.mul_add(g1, acc[1]);
                }
                dy = dy.add(channels_out);
            }
        }
        for (t, acc) in acc.iter().enumerate() {
            let dst = dweights_t.add(t * channels_out);
            V::load(dst).add(acc[0]).store(dst);
            V::load(dst.add(V::LANES)).add(acc[1]).store(dst.add(V::LANES));
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
    dy_t: &[f32],
    channels_out: usize,
    dweights_t: &mut [f32],
) {
    let shapes = gradient_shapes(input, samples, channels, hp, wp, k, dy_t, channels_out, dweights_t);
    // Taps per tile: AVX-512 8 × 2 = 16 accumulators of 32 registers, AVX2 4 × 2 = 8 of 16.
    const WIDE_TAPS: usize = 8;
    const NARROW_TAPS: usize = 4;
    let tile_taps = if V::LANES >= 16 { WIDE_TAPS } else { NARROW_TAPS };
    // SAFETY: every tap reads input[s · stride + offset + n] for n < columns, inside sample s's
    // slack (the length was checked); each column of dy_t holds `channels_out` values, a whole
    // number of two-vector stretches, and so does each row of dweights_t.
    unsafe {
        let (input, dy_t, dw) = (input.as_ptr(), dy_t.as_ptr(), dweights_t.as_mut_ptr());
        for o in (0..channels_out).step_by(2 * V::LANES) {
            let mut groups = shapes.taps.chunks_exact(tile_taps);
            for (g, group) in (&mut groups).enumerate() {
                let (dy, dw) = (dy_t.add(o), dw.add(g * tile_taps * channels_out + o));
                if V::LANES >= 16 {
                    gradient_tile::<V, WIDE_TAPS>(&shapes, input, samples, group, dy, channels_out, dw);
                } else {
                    gradient_tile::<V, NARROW_TAPS>(&shapes, input, samples, group, dy, channels_out, dw);
                }
            }
            let done = shapes.taps.len() - groups.remainder().len();
            for (t, tap) in groups.remainder().chunks(1).enumerate() {
                let (dy, dw) = (dy_t.add(o), dw.add((done + t) * channels_out + o));
                gradient_tile::<V, 1>(&shapes, input, samples, tap, dy, channels_out, dw);
            }
        }
    }
}

simd_kernel! {
    /// One sample's `dy` laid out for [`conv_wide_weight_gradient`]: `dst[n·dst_ld + o] =
    /// src[o·src_ld + p]` for channels `o < channels` and pixels `p < pixels` of an `ow`-wide
    /// output, pixel p = (y, x) going to wide column n = y·wp + x. Other cells of `dst` are left
    /// as they are.
    pub fn wide_columns / wide_columns_on(
        src: &[f32], src_ld: usize, channels: usize, pixels: usize, ow: usize, wp: usize, dst: &mut [f32], dst_ld: usize
    ) -> () = wide_columns_scalar, wide_columns_vector;
}

/// The wide column of output pixel `p`.
fn wide_column(p: usize, ow: usize, wp: usize) -> usize {
    p / ow * wp + p % ow
}

fn check_wide_columns(
    src: &[f32],
    src_ld: usize,
    channels: usize,
    pixels: usize,
    ow: usize,
    wp: usize,
    dst: &[f32],
    dst_ld: usize,
) {
    assert!(ow >= 1 && ow <= wp && channels <= dst_ld && pixels <= src_ld);
    if channels > 0 && pixels > 0 {
        assert!(src.len() >= (channels - 1) * src_ld + pixels, "dy too short");
        assert!(dst.len() >= wide_column(pixels - 1, ow, wp) * dst_ld + channels, "wide columns too short");
    }
}

pub fn wide_columns_scalar(
    src: &[f32],
    src_ld: usize,
    channels: usize,
    pixels: usize,
    ow: usize,
    wp: usize,
    dst: &mut [f32],
    dst_ld: usize,
) {
    check_wide_columns(src, src_ld, channels, pixels, ow, wp, dst, dst_ld);
    move_to_wide_columns(src, src_ld, 0..channels, 0..pixels, ow, wp, dst, dst_ld);
}

/// [`wide_columns`]'s moves for some channels and pixels, one value at a time.
fn move_to_wide_columns(
    src: &[f32],
    src_ld: usize,
    channels: std::ops::Range<usize>,
    pixels: std::ops::Range<usize>,
    ow: usize,
    wp: usize,
    dst: &mut [f32],
    dst_ld: usize,
) {
    for p in pixels {
        let column = wide_column(p, ow, wp) * dst_ld;
        for o in channels.clone() {
            dst[column + o] = src[o * src_ld + p];
        }
    }
}

/// Blocks of `LANES` channels × `LANES` pixels are transposed in registers: `log2 LANES` rounds
/// of interleaving row j with row j + LANES/2 turn the channels' rows into the pixels' columns
/// (2 permutes per pair of rows and round: 64 for a 16 × 16 block, against 256 scalar moves).
/// The remaining pixels and channels go one at a time.
#[inline(always)]
unsafe fn wide_columns_vector<V: F32Vector>(
    src: &[f32],
    src_ld: usize,
    channels: usize,
    pixels: usize,
    ow: usize,
    wp: usize,
    dst: &mut [f32],
    dst_ld: usize,
) {
    check_wide_columns(src, src_ld, channels, pixels, ow, wp, dst, dst_ld);
    let lanes = V::LANES;
    let (block_channels, block_pixels) = (channels - channels % lanes, pixels - pixels % lanes);
    unsafe {
        for o0 in (0..block_channels).step_by(lanes) {
            for p0 in (0..block_pixels).step_by(lanes) {
                let mut rows = [V::zero(); 16];
                for (r, row) in rows.iter_mut().enumerate().take(lanes) {
                    *row = V::load(src.as_ptr().add((o0 + r) * src_ld + p0));
                }
                let mut half = lanes / 2;
                while half > 0 {
                    let mut next = [V::zero(); 16];
                    for j in 0..lanes / 2 {
                        (next[2 * j], next[2 * j + 1]) = V::interleave(rows[j], rows[j + lanes / 2]);
                    }
                    rows = next;
                    half /= 2;
                }
                for (p, row) in rows.iter().enumerate().take(lanes) {
                    row.store(dst.as_mut_ptr().add(wide_column(p0 + p, ow, wp) * dst_ld + o0));
                }
            }
            move_to_wide_columns(src, src_ld, o0..o0 + lanes, block_pixels..pixels, ow, wp, dst, dst_ld);
        }
        move_to_wide_columns(src, src_ld, block_channels..channels, 0..pixels, ow, wp, dst, dst_ld);
    }
}
