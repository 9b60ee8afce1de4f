//! Winograd's minimal filtering F(2×2, 3×3) for stride-1 3×3 convolutions: each 2×2 block of
//! output pixels comes from a 4×4 tile of the input in 16 multiply-adds per input channel instead
//! of 36. With `U = G·g·Gᵀ` (the 3×3 kernel `g` turned into a 4×4 one, once per call) and
//! `V = Bᵀ·d·B` (the 4×4 input tile `d`), the outputs are `Aᵀ·(Σ_c U ⊙ V)·A`; the sum over input
//! channels of each of the 16 positions is a GEMM `M[ξ] (OC × tiles) = U[ξ] (OC × C) · V[ξ]
//! (C × tiles)`, run on the wide-row kernel with a 1×1 "kernel" (`conv_wide` with k = 1).
//!
//! The input and output transforms only add and subtract. They work on samples interleaved
//! (`x[c][y][x][s]`, see `im2col::interleave`), so each value of a tile is a run of the chunk's
//! samples and the transforms are plain vector adds over those runs.
//!
//! The results differ from the direct sum by rounding only: against an f64 convolution, at most
//! 9.6e-7 for outputs up to 3.75 in magnitude (`winograd_forward_matches_the_definition`,
//! `seed002`'s second convolution).

// Tile geometry travels as separate arguments; the `_on` forms add the path.
#![allow(clippy::too_many_arguments)]

use super::conv_wide::{PANEL_ROWS, padded_rows};
use super::vector::F32Vector;

/// Positions of a transformed tile (4×4).
pub const TILE_POSITIONS: usize = 16;

/// Output pixels per tile side.
pub const OUTPUT_TILE: usize = 2;

/// Tiles along a side of `pixels` outputs.
pub fn tiles(pixels: usize) -> usize {
    pixels.div_ceil(OUTPUT_TILE)
}

/// Input rows (or columns) a side of `pixels` outputs reads, tiles rounded up: 2·tiles + 2.
pub fn padded_side(pixels: usize) -> usize {
    OUTPUT_TILE * tiles(pixels) + 2
}

/// `G·g·Gᵀ` for one 3×3 kernel `g`, row-major 4×4: `G` applied down the columns (rows g0,
/// (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 of the kernel's rows), then along each row.
fn transform_kernel(g: &[f32]) -> [f32; TILE_POSITIONS] {
    let along = |a: f32, b: f32, c: f32| [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
    let mut gg = [[0.0f32; 3]; 4];
    for j in 0..3 {
        let (a, b, c) = (g[j], g[3 + j], g[6 + j]);
        let column = along(a, b, c);
        for i in 0..4 {
            gg[i][j] = column[i];
        }
    }
    let mut u = [0.0; TILE_POSITIONS];
    for (i, r) in gg.iter().enumerate() {
        u[i * 4..i * 4 + 4].copy_from_slice(&along(r[0], r[1], r[2]));
    }
    u
}

/// The 16 matrices `U[ξ]` (OC × C) of `weights` (OC, C, 3, 3), each packed as `conv_wide`'s
/// panels with patch length C: position ξ's panels start at `ξ · padded_rows(OC) · C`, and within
/// them `[(p · C + c) · PANEL_ROWS + r] = U[ξ][p · PANEL_ROWS + r][c]` (as `pack_panels` lays out
/// a matrix), zeros in the padding rows. Written in place in one pass: gathering each position's
/// matrix first and packing it took about 0.1 ms of serial time per training step.
pub fn transform_weights(weights: &[f32], out_channels: usize, channels: usize) -> Vec<f32> {
    assert_eq!(weights.len(), out_channels * channels * 9, "3×3 weights");
    let position_len = padded_rows(out_channels) * channels;
    let mut packed = vec![0.0; TILE_POSITIONS * position_len];
    // A panel's rows for one input channel at a time: each position then receives a run of
    // PANEL_ROWS floats. (One kernel at a time, its 16 values went to addresses a multiple of
    // 4 KiB apart, one L1 set, and the call took 0.13 ms.)
    for panel in 0..padded_rows(out_channels) / PANEL_ROWS {
        for c in 0..channels {
            let mut runs = [[0.0; PANEL_ROWS]; TILE_POSITIONS];
            for r in 0..PANEL_ROWS.min(out_channels - panel * PANEL_ROWS) {
                let kernel = (panel * PANEL_ROWS + r) * channels + c;
                for (run, u) in runs.iter_mut().zip(transform_kernel(&weights[kernel * 9..kernel * 9 + 9])) {
                    run[r] = u;
                }
            }
            let at = (panel * channels + c) * PANEL_ROWS;
            for (position, run) in runs.iter().enumerate() {
                let start = position * position_len + at;
                packed[start..start + PANEL_ROWS].copy_from_slice(run);
            }
        }
    }
    packed
}

simd_kernel! {
    /// Transforms one row of tiles: `padded` is `channels` planes of `hq × wq` pixels (zero
    /// borders included), each pixel a run of `lanes` samples; tile `tx` of row `tile_row` reads
    /// rows `2·tile_row ..+ 4` and columns `2·tx ..+ 4`. Writes `V[ξ][c][tx · lanes + s]` at
    /// `v[ξ · v_stride ..]`, for the `(wq - 2) / 2` tiles of the row.
    pub fn winograd_input_row / winograd_input_row_on(
        padded: &[f32], channels: usize, hq: usize, wq: usize, lanes: usize, tile_row: usize, v: &mut [f32],
        v_stride: usize
    ) -> () = winograd_input_row_scalar, winograd_input_row_vector;

    /// The outputs of one row of tiles from `M[ξ][o][tx · lanes + s]` (at `m[ξ · m_stride ..]`):
    /// `y[o][2·tile_row + i][2·tx + j][s]` = bias[o] + (Aᵀ·M·A)[i][j] (then max(0, ·) with
    /// `relu`), for the pixels inside `oh × ow`. `y` is OC × oh × ow pixels of `lanes` samples.
    pub fn winograd_output_row / winograd_output_row_on(
        m: &[f32], m_stride: usize, bias: &[f32], relu: bool, tile_row: usize, oh: usize, ow: usize,
        lanes: usize, y: &mut [f32]
    ) -> () = winograd_output_row_scalar, winograd_output_row_vector;
}

/// Checks `winograd_input_row`'s shapes; returns the tiles of the row and the columns of `V`.
fn input_shapes(
    padded: &[f32],
    channels: usize,
    hq: usize,
    wq: usize,
    lanes: usize,
    tile_row: usize,
) -> (usize, usize) {
    assert!(lanes > 0 && wq >= 4 && wq.is_multiple_of(2) && 2 * tile_row + 4 <= hq, "tile row outside the plane");
    assert_eq!(padded.len(), channels * hq * wq * lanes);
    let tiles_x = (wq - 2) / 2;
    (tiles_x, tiles_x * lanes)
}

/// `Bᵀ·d·B` of one tile, the 16 values in row-major order, generic over a lane type: rows
/// first (d0 - d2, d1 + d2, d2 - d1, d1 - d3), then the same along each row.
#[inline(always)]
fn input_tile<T: Copy>(d: [[T; 4]; 4], add: impl Fn(T, T) -> T, sub: impl Fn(T, T) -> T) -> [T; TILE_POSITIONS] {
    let rows = [
        std::array::from_fn::<T, 4, _>(|j| sub(d[0][j], d[2][j])),
        std::array::from_fn(|j| add(d[1][j], d[2][j])),
        std::array::from_fn(|j| sub(d[2][j], d[1][j])),
        std::array::from_fn(|j| sub(d[1][j], d[3][j])),
    ];
    std::array::from_fn(|p| {
        let r = rows[p / 4];
        match p % 4 {
            0 => sub(r[0], r[2]),
            1 => add(r[1], r[2]),
            2 => sub(r[2], r[1]),
            _ => sub(r[1], r[3]),
        }
    })
}

/// `Aᵀ·m·A` of one tile's 16 products: the 2×2 outputs, row-major. Rows first (m0 + m1 + m2,
/// m1 - m2 - m3), then the same along each row.
#[inline(always)]
fn output_tile<T: Copy>(m: [T; TILE_POSITIONS], add: impl Fn(T, T) -> T, sub: impl Fn(T, T) -> T) -> [T; 4] {
    let row = |i: usize| [m[i * 4], m[i * 4 + 1], m[i * 4 + 2], m[i * 4 + 3]];
    let (m0, m1, m2, m3) = (row(0), row(1), row(2), row(3));
    let t0: [T; 4] = std::array::from_fn(|j| add(add(m0[j], m1[j]), m2[j]));
    let t1: [T; 4] = std::array::from_fn(|j| sub(sub(m1[j], m2[j]), m3[j]));
    let along = |t: [T; 4]| [add(add(t[0], t[1]), t[2]), sub(sub(t[1], t[2]), t[3])];
    let (top, bottom) = (along(t0), along(t1));
    [top[0], top[1], bottom[0], bottom[1]]
}

pub fn winograd_input_row_scalar(
    padded: &[f32],
    channels: usize,
    hq: usize,
    wq: usize,
    lanes: usize,
    tile_row: usize,
    v: &mut [f32],
    v_stride: usize,
) {
    let (tiles_x, columns) = input_shapes(padded, channels, hq, wq, lanes, tile_row);
    assert!(v.len() >= 15 * v_stride + channels * columns);
    for c in 0..channels {
        for tx in 0..tiles_x {
            let corner = ((c * hq + 2 * tile_row) * wq + 2 * tx) * lanes;
            for s in 0..lanes {
                let d = std::array::from_fn(|i| std::array::from_fn(|j| padded[corner + (i * wq + j) * lanes + s]));
                let tile = input_tile(d, |a, b| a + b, |a, b| a - b);
                for (position, value) in tile.into_iter().enumerate() {
                    v[position * v_stride + c * columns + tx * lanes + s] = value;
                }
            }
        }
    }
}

/// Loads `count` floats (a whole vector when `count` is the lane count), zeros past them.
#[inline(always)]
unsafe fn load_run<V: F32Vector>(src: *const f32, count: usize) -> V {
    unsafe { if count == V::LANES { V::load(src) } else { V::load_partial(src, count, 0.0) } }
}

#[inline(always)]
unsafe fn store_run<V: F32Vector>(value: V, dst: *mut f32, count: usize) {
    unsafe { if count == V::LANES { value.store(dst) } else { value.store_partial(dst, count) } }
}

/// [`winograd_input_row_scalar`] a vector of samples at a time: the same adds in the same
/// order, so the same bits.
#[inline(always)]
unsafe fn winograd_input_row_vector<V: F32Vector>(
    padded: &[f32],
    channels: usize,
    hq: usize,
    wq: usize,
    lanes: usize,
    tile_row: usize,
    v: &mut [f32],
    v_stride: usize,
) {
    let (tiles_x, columns) = input_shapes(padded, channels, hq, wq, lanes, tile_row);
    assert!(v.len() >= 15 * v_stride + channels * columns);
    // SAFETY: the tile's 4×4 pixels lie inside the plane (checked by `input_shapes`), each a run
    // of `lanes` floats of which `s .. s + count` are read; the stores go to rows of `columns`
    // inside `v` (asserted above).
    unsafe {
        let (add, sub) = (|a: V, b: V| a.add(b), |a: V, b: V| a.sub(b));
        for c in 0..channels {
            for tx in 0..tiles_x {
                let corner = padded.as_ptr().add(((c * hq + 2 * tile_row) * wq + 2 * tx) * lanes);
                let out = v.as_mut_ptr().add(c * columns + tx * lanes);
                let mut s = 0;
                while s < lanes {
                    let count = (lanes - s).min(V::LANES);
                    let d = std::array::from_fn(|i| {
                        std::array::from_fn(|j| load_run::<V>(corner.add((i * wq + j) * lanes + s), count))
                    });
                    let tile = input_tile(d, add, sub);
                    for (position, value) in tile.into_iter().enumerate() {
                        store_run(value, out.add(position * v_stride + s), count);
                    }
                    s += count;
                }
            }
        }
    }
}

/// Checks `winograd_output_row`'s shapes; returns the tiles per row and the columns of `M`.
fn output_shapes(
    m: &[f32],
    m_stride: usize,
    bias: &[f32],
    tile_row: usize,
    oh: usize,
    ow: usize,
    lanes: usize,
    y: &[f32],
) -> (usize, usize) {
    let tiles_x = tiles(ow);
    let columns = tiles_x * lanes;
    assert!(lanes > 0 && tile_row < tiles(oh), "tile row outside the output");
    assert!(m.len() >= 15 * m_stride + bias.len() * columns, "M lacks rows");
    assert_eq!(y.len(), bias.len() * oh * ow * lanes);
    (tiles_x, columns)
}

pub fn winograd_output_row_scalar(
    m: &[f32],
    m_stride: usize,
    bias: &[f32],
    relu: bool,
    tile_row: usize,
    oh: usize,
    ow: usize,
    lanes: usize,
    y: &mut [f32],
) {
    let (tiles_x, columns) = output_shapes(m, m_stride, bias, tile_row, oh, ow, lanes, y);
    for (o, &b) in bias.iter().enumerate() {
        for tx in 0..tiles_x {
            for s in 0..lanes {
                let products = std::array::from_fn(|position| m[position * m_stride + o * columns + tx * lanes + s]);
                let outputs = output_tile(products, |a, b| a + b, |a, b| a - b);
                for (k, value) in outputs.into_iter().enumerate() {
                    let (oy, ox) = (2 * tile_row + k / 2, 2 * tx + k % 2);
                    if oy < oh && ox < ow {
                        let value = value + b;
                        y[((o * oh + oy) * ow + ox) * lanes + s] = if relu { value.max(0.0) } else { value };
                    }
                }
            }
        }
    }
}

/// [`winograd_output_row_scalar`] a vector of samples at a time, the same bits.
#[inline(always)]
unsafe fn winograd_output_row_vector<V: F32Vector>(
    m: &[f32],
    m_stride: usize,
    bias: &[f32],
    relu: bool,
    tile_row: usize,
    oh: usize,
    ow: usize,
    lanes: usize,
    y: &mut [f32],
) {
    let (tiles_x, columns) = output_shapes(m, m_stride, bias, tile_row, oh, ow, lanes, y);
    // SAFETY: `M` holds 16 positions of OC rows of `columns` (checked), and each stored pixel is
    // inside the OC × oh × ow runs of `lanes` floats of `y`.
    unsafe {
        let (add, sub) = (|a: V, b: V| a.add(b), |a: V, b: V| a.sub(b));
        let zero = V::zero();
        for (o, &b) in bias.iter().enumerate() {
            let b = V::splat(b);
            for tx in 0..tiles_x {
                let products = m.as_ptr().add(o * columns + tx * lanes);
                let mut s = 0;
                while s < lanes {
                    let count = (lanes - s).min(V::LANES);
                    let m = std::array::from_fn(|position| load_run::<V>(products.add(position * m_stride + s), count));
                    let outputs = output_tile(m, add, sub);
                    for (k, value) in outputs.into_iter().enumerate() {
                        let (oy, ox) = (2 * tile_row + k / 2, 2 * tx + k % 2);
                        if oy < oh && ox < ow {
                            let value = value.add(b);
                            let value = if relu { value.max(zero) } else { value };
                            store_run(value, y.as_mut_ptr().add(((o * oh + oy) * ow + ox) * lanes + s), count);
                        }
                    }
                    s += count;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::kernels::SimdPath;

    /// The 1-D identity behind the 2-D one, on one tile by hand: F(2,3) of d = (1, 2, 3, 4),
    /// g = (1, 10, 100) is (1 + 20 + 300, 2 + 30 + 400).
    #[test]
    fn one_tile_by_hand_gives_the_direct_sums() {
        // A kernel that only uses its middle row, an input tile whose rows are equal: the 2-D
        // outputs are the 1-D ones.
        let g = [0.0, 0.0, 0.0, 1.0, 10.0, 100.0, 0.0, 0.0, 0.0];
        let u = transform_kernel(&g);
        let d = [[1.0f32, 2.0, 3.0, 4.0]; 4];
        let v = input_tile(d, |a, b| a + b, |a, b| a - b);
        let products: [f32; 16] = std::array::from_fn(|p| u[p] * v[p]);
        assert_eq!(output_tile(products, |a, b| a + b, |a, b| a - b), [321.0, 432.0, 321.0, 432.0]);
    }

    /// The in-place packing is `pack_panels` of each position's matrix, padding rows included
    /// (10 output channels: a second panel with 6 rows of zeros).
    #[test]
    fn transformed_weights_are_each_positions_matrix_packed() {
        use crate::engine::kernels::conv_wide::pack_panels;
        let (oc, c) = (10, 3);
        let weights: Vec<f32> = (0..oc * c * 9).map(|i| (i % 13) as f32 - 6.0).collect();
        let transformed: Vec<[f32; TILE_POSITIONS]> = weights.chunks_exact(9).map(transform_kernel).collect();
        let mut want = Vec::new();
        for position in 0..TILE_POSITIONS {
            let u: Vec<f32> = transformed.iter().map(|t| t[position]).collect();
            want.extend(pack_panels(&u, oc, c));
        }
        assert_eq!(transform_weights(&weights, oc, c), want);
    }

    /// Every path's transforms give the scalar twin's bits, with lane counts that fill vectors,
    /// leave a remainder and fit in one partial vector.
    #[test]
    fn every_path_transforms_as_the_scalar_twin() {
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for lanes in [1, 5, 16, 19] {
            let (channels, hq, wq, oc, oh, ow) = (3, 8, 10, 2, 5, 7);
            let padded: Vec<f32> = (0..channels * hq * wq * lanes).map(|_| next()).collect();
            let columns = (wq - 2) / 2 * lanes;
            let v_stride = channels * columns + 3;
            let m: Vec<f32> = (0..16 * v_stride).map(|_| next()).collect();
            let bias = [0.25, -0.5];
            for path in SimdPath::supported() {
                for tile_row in 0..3 {
                    let mut want = vec![0.0; 16 * v_stride];
                    let mut got = want.clone();
                    winograd_input_row_scalar(&padded, channels, hq, wq, lanes, tile_row, &mut want, v_stride);
                    winograd_input_row_on(path, &padded, channels, hq, wq, lanes, tile_row, &mut got, v_stride);
                    assert_eq!(got, want, "input, {} lanes, {path:?}", lanes);
                    for relu in [false, true] {
                        let m_stride = oc * tiles(ow) * lanes;
                        let mut want = vec![f32::NAN; oc * oh * ow * lanes];
                        let mut got = want.clone();
                        winograd_output_row_scalar(&m, m_stride, &bias, relu, tile_row, oh, ow, lanes, &mut want);
                        winograd_output_row_on(path, &m, m_stride, &bias, relu, tile_row, oh, ow, lanes, &mut got);
                        assert_eq!(format!("{got:?}"), format!("{want:?}"), "output, {lanes} lanes, {path:?}");
                    }
                }
            }
        }
    }
}
