//! Direct convolution for layers with one input channel (the first layer on gray images), where
//! im2col would build a 9-row matrix and the GEMM would spend its time packing.

// The plane's geometry travels as separate arguments; the `_on` forms add the path.
#![allow(clippy::too_many_arguments)]

use super::vector::{F32Vector, sum_map1};

simd_kernel! {
    /// `out[o][y][x] = bias[o] + Σ w[o][ky][kx] · plane[y+ky][x+kx]`: stride 1 over an already
    /// padded `h × w` plane; `out` is OC × (h-k+1) × (w-k+1), `weights` OC × k × k. With
    /// `relu`, each output is max(0, ·) as it is stored, saving a pass over the layer's output.
    pub fn conv1_forward / conv1_forward_on(
        plane: &[f32], h: usize, w: usize, weights: &[f32], bias: &[f32], k: usize, relu: bool, out: &mut [f32]
    ) -> () = conv1_forward_scalar, conv1_forward_vector;

    /// `dweights[o][ky][kx] += Σ dy[o][y][x] · plane[y+ky][x+kx]` and `dbias[o] += Σ dy[o]`.
    pub fn conv1_backward_weights / conv1_backward_weights_on(
        plane: &[f32], h: usize, w: usize, dy: &[f32], k: usize, dweights: &mut [f32], dbias: &mut [f32]
    ) -> () = conv1_backward_weights_scalar, conv1_backward_weights_vector;
}

pub fn conv1_forward_scalar(
    plane: &[f32],
    h: usize,
    w: usize,
    weights: &[f32],
    bias: &[f32],
    k: usize,
    relu: bool,
    out: &mut [f32],
) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let out_channels = bias.len();
    assert_eq!(plane.len(), h * w);
    assert_eq!(weights.len(), out_channels * k * k);
    assert_eq!(out.len(), out_channels * oh * ow);
    for (o, out_plane) in out.chunks_exact_mut(oh * ow).enumerate() {
        out_plane.fill(bias[o]);
        let kernel = &weights[o * k * k..(o + 1) * k * k];
        for y in 0..oh {
            let out_row = &mut out_plane[y * ow..(y + 1) * ow];
            for ky in 0..k {
                let in_row = &plane[(y + ky) * w..(y + ky + 1) * w];
                for kx in 0..k {
                    let weight = kernel[ky * k + kx];
                    for (dst, &src) in out_row.iter_mut().zip(&in_row[kx..kx + ow]) {
                        *dst = weight.mul_add(src, *dst);
                    }
                }
            }
        }
        if relu {
            out_plane.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
}

/// Output rows computed together: a loaded input vector serves every row whose window covers it
/// (up to k of them), so four rows of a 3×3 layer load 6 input rows' worth, not 12.
const CONV1_ROWS: usize = 4;

/// The stretch of `n ≤ LANES` columns (whole vector or masked) of `ROWS` output rows of
/// `CHANNELS` 3×3 output channels, each accumulated in a register over its 9 taps in the scalar
/// twin's order (ky, then kx, one fused multiply-add each), so every path gives the same bits.
/// The input is walked row by row and each shifted vector loaded once, for all the rows and
/// channels it feeds.
#[inline(always)]
unsafe fn conv1_block_3x3<V: F32Vector, const ROWS: usize, const CHANNELS: usize>(
    src: *const f32,
    w: usize,
    taps: &[[V; 9]; CHANNELS],
    bias: &[V; CHANNELS],
    n: usize,
) -> [[V; ROWS]; CHANNELS] {
    let mut acc = [[bias[0]; ROWS]; CHANNELS];
    for c in 1..CHANNELS {
        acc[c] = [bias[c]; ROWS];
    }
    // SAFETY (caller): rows 0..ROWS + 2 of `src` hold columns 0..n + 2.
    unsafe {
        for input_row in 0..ROWS + 2 {
            for kx in 0..3 {
                let input = load_upto::<V>(src.add(input_row * w + kx), n);
                // Tap (ky, kx) of output row r reads input row r + ky: ky ascends with the input
                // row, as in the scalar order.
                for ky in 0..3 {
                    if input_row >= ky && input_row - ky < ROWS {
                        let row = input_row - ky;
                        for c in 0..CHANNELS {
                            acc[c][row] = taps[c][ky * 3 + kx].mul_add(input, acc[c][row]);
                        }
                    }
                }
            }
        }
    }
    acc
}

/// `CHANNELS` output planes of a 3×3 layer (`weights` CHANNELS × 9, `out` CHANNELS × oh × ow),
/// their taps splatted into registers that stay there across the planes.
#[inline(always)]
unsafe fn conv1_planes_3x3<V: F32Vector, const CHANNELS: usize>(
    plane: &[f32],
    w: usize,
    weights: &[f32],
    bias: &[f32],
    relu: bool,
    out: &mut [f32],
) {
    let ow = w - 2;
    let oh = out.len() / CHANNELS / ow;
    assert!(plane.len() >= (oh + 2) * w && weights.len() == CHANNELS * 9 && bias.len() == CHANNELS);
    // SAFETY: rows y..y + rows + 2 of the plane hold columns x..x + n + 2 for every chunk, and
    // channel c's output row y + r, columns x..x + n, lies inside `out`.
    unsafe {
        // Explicit loops: `array::from_fn`'s closures left the splats out of line.
        let mut taps = [[V::zero(); 9]; CHANNELS];
        let mut splat_bias = [V::zero(); CHANNELS];
        for c in 0..CHANNELS {
            for (tap, &weight) in taps[c].iter_mut().zip(&weights[c * 9..]) {
                *tap = V::splat(weight);
            }
            splat_bias[c] = V::splat(bias[c]);
        }
        let bias = splat_bias;
        let mut y = 0;
        while y < oh {
            let whole_block = y + CONV1_ROWS <= oh;
            let src = plane.as_ptr().add(y * w);
            let mut x = 0;
            while x < ow {
                // ow = 26 for 28×28: one whole vector and a masked one of 10 on AVX-512.
                let n = (ow - x).min(V::LANES);
                let dst = out.as_mut_ptr().add(y * ow + x);
                if whole_block {
                    let block = conv1_block_3x3::<V, CONV1_ROWS, CHANNELS>(src.add(x), w, &taps, &bias, n);
                    for (c, rows) in block.into_iter().enumerate() {
                        for (r, chunk) in rows.into_iter().enumerate() {
                            store_output(dst.add(c * oh * ow + r * ow), chunk, n, relu);
                        }
                    }
                } else {
                    let block = conv1_block_3x3::<V, 1, CHANNELS>(src.add(x), w, &taps, &bias, n);
                    for (c, rows) in block.into_iter().enumerate() {
                        store_output(dst.add(c * oh * ow), rows[0], n, relu);
                    }
                }
                x += n;
            }
            y += if whole_block { CONV1_ROWS } else { 1 };
        }
    }
}

/// Stores `n ≤ LANES` outputs at `at`, clamped at 0 with a fused ReLU. A function, not a
/// closure: closures in these kernels were compiled out of line, without the target feature.
#[inline(always)]
unsafe fn store_output<V: F32Vector>(at: *mut f32, chunk: V, n: usize, relu: bool) {
    // SAFETY (caller): `at` holds n floats.
    unsafe {
        let chunk = if relu { chunk.max(V::zero()) } else { chunk };
        if n == V::LANES { chunk.store(at) } else { chunk.store_partial(at, n) }
    }
}

/// One output plane of any kernel size: each output vector a chain of k² fused multiply-adds
/// in the scalar order, `CONV1_ROWS` chains interleaved to hide their latency.
#[inline(always)]
unsafe fn conv1_plane_any<V: F32Vector>(
    plane: &[f32],
    w: usize,
    kernel: &[f32],
    k: usize,
    bias: f32,
    relu: bool,
    out: &mut [f32],
) {
    let ow = w - k + 1;
    let oh = out.len() / ow;
    assert!(plane.len() >= (oh + k - 1) * w && kernel.len() == k * k);
    // SAFETY: rows y..y + rows + k - 1 of the plane hold columns x..x + n + k - 1.
    unsafe {
        let mut taps = Vec::with_capacity(kernel.len());
        for &weight in kernel {
            taps.push(V::splat(weight));
        }
        let mut y = 0;
        while y < oh {
            let rows = if y + CONV1_ROWS <= oh { CONV1_ROWS } else { 1 };
            let mut x = 0;
            while x < ow {
                let n = (ow - x).min(V::LANES);
                let mut acc = [V::splat(bias); CONV1_ROWS];
                for ky in 0..k {
                    for kx in 0..k {
                        for (r, acc) in acc.iter_mut().enumerate().take(rows) {
                            let input = load_upto::<V>(plane.as_ptr().add((y + r + ky) * w + x + kx), n);
                            *acc = taps[ky * k + kx].mul_add(input, *acc);
                        }
                    }
                }
                for (r, chunk) in acc.into_iter().enumerate().take(rows) {
                    store_output(out.as_mut_ptr().add((y + r) * ow + x), chunk, n, relu);
                }
                x += n;
            }
            y += rows;
        }
    }
}

#[inline(always)]
unsafe fn conv1_forward_vector<V: F32Vector>(
    plane: &[f32],
    h: usize,
    w: usize,
    weights: &[f32],
    bias: &[f32],
    k: usize,
    relu: bool,
    out: &mut [f32],
) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let out_channels = bias.len();
    assert_eq!(plane.len(), h * w);
    assert_eq!(weights.len(), out_channels * k * k);
    assert_eq!(out.len(), out_channels * oh * ow);
    let plane_len = oh * ow;
    // SAFETY: the lengths are checked above; the kernels check the rows they read.
    unsafe {
        if k != 3 {
            for (o, out_plane) in out.chunks_exact_mut(plane_len).enumerate() {
                conv1_plane_any::<V>(plane, w, &weights[o * k * k..(o + 1) * k * k], k, bias[o], relu, out_plane);
            }
            return;
        }
        let mut o = 0;
        while o < out_channels {
            let (weights, bias, out) = (&weights[o * 9..], &bias[o..], &mut out[o * plane_len..]);
            if channels_together(V::LANES) == 2 && o + 2 <= out_channels {
                conv1_planes_3x3::<V, 2>(plane, w, &weights[..18], &bias[..2], relu, &mut out[..2 * plane_len]);
                o += 2;
            } else {
                conv1_planes_3x3::<V, 1>(plane, w, &weights[..9], &bias[..1], relu, &mut out[..plane_len]);
                o += 1;
            }
        }
    }
}

pub fn conv1_backward_weights_scalar(
    plane: &[f32],
    h: usize,
    w: usize,
    dy: &[f32],
    k: usize,
    dweights: &mut [f32],
    dbias: &mut [f32],
) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let out_channels = dbias.len();
    assert_eq!(plane.len(), h * w);
    assert_eq!(dy.len(), out_channels * oh * ow);
    assert_eq!(dweights.len(), out_channels * k * k);
    for (o, dy_plane) in dy.chunks_exact(oh * ow).enumerate() {
        dbias[o] += dy_plane.iter().sum::<f32>();
        for ky in 0..k {
            for kx in 0..k {
                let mut acc = 0.0;
                for y in 0..oh {
                    let in_row = &plane[(y + ky) * w + kx..(y + ky) * w + kx + ow];
                    let g_row = &dy_plane[y * ow..(y + 1) * ow];
                    acc += g_row.iter().zip(in_row).map(|(g, x)| g * x).sum::<f32>();
                }
                dweights[(o * k + ky) * k + kx] += acc;
            }
        }
    }
}

/// `Σ_y Σ_x dy[y][x] · plane[y+ky][x+kx]` for one tap: dot products along the rows, all into
/// one pair of vector accumulators.
#[inline(always)]
unsafe fn conv1_tap_dot<V: F32Vector>(shifted: *const f32, w: usize, dy_plane: &[f32], oh: usize, ow: usize) -> f32 {
    unsafe {
        let (mut acc0, mut acc1) = (V::zero(), V::zero());
        for y in 0..oh {
            let (src, g) = (shifted.add(y * w), dy_plane.as_ptr().add(y * ow));
            let mut x = 0;
            while x + 2 * V::LANES <= ow {
                acc0 = V::load(g.add(x)).mul_add(V::load(src.add(x)), acc0);
                acc1 = V::load(g.add(x + V::LANES)).mul_add(V::load(src.add(x + V::LANES)), acc1);
                x += 2 * V::LANES;
            }
            if x + V::LANES <= ow {
                acc0 = V::load(g.add(x)).mul_add(V::load(src.add(x)), acc0);
                x += V::LANES;
            }
            if x < ow {
                let rest = ow - x;
                acc1 = V::load_partial(g.add(x), rest, 0.0).mul_add(V::load_partial(src.add(x), rest, 0.0), acc1);
            }
        }
        acc0.add(acc1).reduce_sum()
    }
}

/// The first `n ≤ LANES` values at `src`, zeros after them.
#[inline(always)]
unsafe fn load_upto<V: F32Vector>(src: *const f32, n: usize) -> V {
    unsafe { if n == V::LANES { V::load(src) } else { V::load_partial(src, n, 0.0) } }
}

/// Output channels whose 3×3 weight gradients are summed together, and whose forward outputs are
/// computed together: each input vector is loaded once for all of them. Two with AVX-512 (the
/// gradient's 20 accumulators, or the forward's 18 taps and 8 sums, of its 32 registers), one
/// with AVX2 (its 16 registers).
const fn channels_together(lanes: usize) -> usize {
    if lanes >= 16 { 2 } else { 1 }
}

/// The 3×3 case: every (channel, tap) sum in a register of its own across the whole plane, so a
/// row chunk of `dy` is loaded once for its 9 taps (not once per tap) and a shifted input chunk
/// once for `channels_together` channels: 11 loads per channel and row chunk instead of 36.
#[inline(always)]
unsafe fn conv1_backward_weights_3x3<V: F32Vector>(
    plane: &[f32],
    w: usize,
    oh: usize,
    ow: usize,
    dy: &[f32],
    dweights: &mut [f32],
    dbias: &mut [f32],
) {
    let out_channels = dbias.len();
    let pairs = if channels_together(V::LANES) == 2 { out_channels / 2 * 2 } else { 0 };
    // SAFETY: the caller checked plane (h × w), dy (OC × oh × ow) and dweights (OC × 9).
    unsafe {
        for o in (0..pairs).step_by(2) {
            conv1_channels_3x3::<V, 2>(plane, w, oh, ow, dy, o, dweights, dbias);
        }
        for o in pairs..out_channels {
            conv1_channels_3x3::<V, 1>(plane, w, oh, ow, dy, o, dweights, dbias);
        }
    }
}

/// The weight and bias gradients of output channels `first..first + CHANNELS`. The channel count
/// is a constant so that the sums stay in registers and the loops over channels and taps unroll;
/// each row goes in whole vectors, then one partial vector for its last `ow % LANES` columns.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn conv1_channels_3x3<V: F32Vector, const CHANNELS: usize>(
    plane: &[f32],
    w: usize,
    oh: usize,
    ow: usize,
    dy: &[f32],
    first: usize,
    dweights: &mut [f32],
    dbias: &mut [f32],
) {
    let whole = ow / V::LANES * V::LANES;
    let rest = ow - whole;
    // SAFETY: dy holds OC × oh × ow values; tap (ky, kx) of output column x reads
    // plane[(y + ky)·w + x + kx], inside the h × w plane; the loads end at the row's last column
    // (x + LANES ≤ ow, then the last `rest` columns).
    unsafe {
        let mut sums = [[V::zero(); 9]; CHANNELS];
        let mut bias_sums = [V::zero(); CHANNELS];
        for y in 0..oh {
            let dy_row: [*const f32; CHANNELS] =
                std::array::from_fn(|c| dy.as_ptr().add((first + c) * oh * ow + y * ow));
            let rows = [plane.as_ptr().add(y * w), plane.as_ptr().add((y + 1) * w), plane.as_ptr().add((y + 2) * w)];
            for x in (0..whole).step_by(V::LANES) {
                conv1_chunk_3x3(|src| V::load(src), dy_row, rows, x, &mut sums, &mut bias_sums);
            }
            if rest > 0 {
                let partial = |src| V::load_partial(src, rest, 0.0);
                conv1_chunk_3x3(partial, dy_row, rows, whole, &mut sums, &mut bias_sums);
            }
        }
        for c in 0..CHANNELS {
            dbias[first + c] += bias_sums[c].reduce_sum();
            for tap in 0..9 {
                dweights[(first + c) * 9 + tap] += sums[c][tap].reduce_sum();
            }
        }
    }
}

/// Adds one vector of columns, from column `x` of the rows `dy_row` (one per channel) and of the
/// three input rows `rows`, into the channels' tap and bias sums; `load` reads a whole or a
/// partial vector.
#[inline(always)]
unsafe fn conv1_chunk_3x3<V: F32Vector, const CHANNELS: usize>(
    load: impl Fn(*const f32) -> V,
    dy_row: [*const f32; CHANNELS],
    rows: [*const f32; 3],
    x: usize,
    sums: &mut [[V; 9]; CHANNELS],
    bias_sums: &mut [V; CHANNELS],
) {
    // SAFETY: the caller's bounds: every pointer plus x (plus the tap's shift) is in its row.
    unsafe {
        let g: [V; CHANNELS] = std::array::from_fn(|c| load(dy_row[c].add(x)));
        for c in 0..CHANNELS {
            bias_sums[c] = bias_sums[c].add(g[c]);
        }
        for tap in 0..9 {
            let input = load(rows[tap / 3].add(x + tap % 3));
            for c in 0..CHANNELS {
                sums[c][tap] = g[c].mul_add(input, sums[c][tap]);
            }
        }
    }
}

#[inline(always)]
unsafe fn conv1_backward_weights_vector<V: F32Vector>(
    plane: &[f32],
    h: usize,
    w: usize,
    dy: &[f32],
    k: usize,
    dweights: &mut [f32],
    dbias: &mut [f32],
) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let out_channels = dbias.len();
    assert_eq!(plane.len(), h * w);
    assert_eq!(dy.len(), out_channels * oh * ow);
    assert_eq!(dweights.len(), out_channels * k * k);
    if k == 3 {
        // SAFETY: the lengths are checked above.
        return unsafe { conv1_backward_weights_3x3::<V>(plane, w, oh, ow, dy, dweights, dbias) };
    }
    for (o, dy_plane) in dy.chunks_exact(oh * ow).enumerate() {
        // SAFETY: the tap (ky, kx) reads plane rows ky..ky + oh, columns kx..kx + ow.
        unsafe {
            dbias[o] += sum_map1::<V>(dy_plane, 0.0, |g| g);
            for ky in 0..k {
                for kx in 0..k {
                    let shifted = plane.as_ptr().add(ky * w + kx);
                    dweights[(o * k + ky) * k + kx] += conv1_tap_dot::<V>(shifted, w, dy_plane, oh, ow);
                }
            }
        }
    }
}
