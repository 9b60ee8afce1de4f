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
                        *dst += weight * src;
                    }
                }
            }
        }
        if relu {
            out_plane.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
}

/// Output rows computed together. Each output is a chain of k² dependent adds (the scalar twin's
/// order, for the same bits); a chain at a time waited on the adds' latency, four interleaved keep
/// the adder busy.
const CONV1_ROWS: usize = 4;

/// The stretch of `n ≤ LANES` columns (whole vector or masked) of `rows` output rows, each
/// accumulated in a register over the k×k taps. Each tap is a multiply then an add in the scalar
/// twin's order (no FMA), so every path gives the same bits.
#[inline(always)]
unsafe fn conv1_rows_chunk<V: F32Vector, const ROWS: usize>(
    src: *const f32,
    w: usize,
    taps: &[V],
    k: usize,
    bias: V,
    n: usize,
) -> [V; ROWS] {
    unsafe {
        let mut acc = [bias; ROWS];
        for ky in 0..k {
            for kx in 0..k {
                let tap = taps[ky * k + kx];
                for (r, acc) in acc.iter_mut().enumerate() {
                    let at = src.add((r + ky) * w + kx);
                    let input = if n == V::LANES { V::load(at) } else { V::load_partial(at, n, 0.0) };
                    *acc = acc.add(tap.mul(input));
                }
            }
        }
        acc
    }
}

/// One output channel's plane, with the taps already splatted. Called with a literal k = 3 and
/// an array of taps, the tap loops unroll and the taps stay in registers across the plane.
#[inline(always)]
unsafe fn conv1_plane<V: F32Vector>(
    plane: &[f32],
    w: usize,
    taps: &[V],
    k: usize,
    bias: f32,
    relu: bool,
    out_plane: &mut [f32],
) {
    let ow = w - k + 1;
    let oh = out_plane.len() / ow;
    assert!(plane.len() >= (oh + k - 1) * w && taps.len() == k * k);
    // SAFETY: rows y..y + k of the plane hold columns x..x + n + k - 1 for every chunk.
    unsafe {
        let bias = V::splat(bias);
        let mut y = 0;
        while y < oh {
            let (src, dst) = (plane.as_ptr().add(y * w), out_plane.as_mut_ptr().add(y * ow));
            let mut x = 0;
            while x < ow {
                // ow = 26 for 28×28 with k = 3: one whole vector and a masked one of 10 on AVX-512.
                let n = (ow - x).min(V::LANES);
                let store = |r: usize, chunk: V| {
                    let chunk = if relu { chunk.max(V::zero()) } else { chunk };
                    let at = dst.add(r * ow + x);
                    if n == V::LANES { chunk.store(at) } else { chunk.store_partial(at, n) }
                };
                if y + CONV1_ROWS <= oh {
                    let chunks = conv1_rows_chunk::<V, CONV1_ROWS>(src.add(x), w, taps, k, bias, n);
                    chunks.into_iter().enumerate().for_each(|(r, chunk)| store(r, chunk));
                } else {
                    store(0, conv1_rows_chunk::<V, 1>(src.add(x), w, taps, k, bias, n)[0]);
                }
                x += n;
            }
            y += if y + CONV1_ROWS <= oh { CONV1_ROWS } else { 1 };
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
    for (o, out_plane) in out.chunks_exact_mut(oh * ow).enumerate() {
        let kernel = &weights[o * k * k..(o + 1) * k * k];
        // SAFETY: conv1_plane checks that the plane holds every row it reads.
        unsafe {
            if k == 3 {
                let mut taps = [V::zero(); 9];
                for (tap, &weight) in taps.iter_mut().zip(kernel) {
                    *tap = V::splat(weight);
                }
                conv1_plane::<V>(plane, w, &taps, 3, bias[o], relu, out_plane);
            } else {
                let mut taps = Vec::with_capacity(k * k);
                for &weight in kernel {
                    taps.push(V::splat(weight));
                }
                conv1_plane::<V>(plane, w, &taps, k, bias[o], relu, out_plane);
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

/// Output channels whose 3×3 weight gradients are summed together: each input vector is loaded
/// once for all of them. Two with AVX-512 (20 accumulators of its 32 registers), one with AVX2
/// (its 16 registers).
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
    const TAPS: usize = 9;
    let together = channels_together(V::LANES);
    let out_channels = dbias.len();
    let mut o = 0;
    // SAFETY: the caller checked plane (h × w), dy (OC × oh × ow) and dweights (OC × 9); tap
    // (ky, kx) of output column x reads plane[(y + ky)·w + x + kx], inside the plane.
    unsafe {
        while o < out_channels {
            let channels = together.min(out_channels - o);
            let mut sums = [[V::zero(); TAPS]; 2];
            let mut bias_sums = [V::zero(); 2];
            for y in 0..oh {
                let mut x = 0;
                while x < ow {
                    let n = (ow - x).min(V::LANES);
                    let mut g = [V::zero(); 2];
                    for c in 0..channels {
                        g[c] = load_upto(dy.as_ptr().add((o + c) * oh * ow + y * ow + x), n);
                        bias_sums[c] = bias_sums[c].add(g[c]);
                    }
                    // The tap picks both the input's shift and the sum, in every channel.
                    #[allow(clippy::needless_range_loop)]
                    for tap in 0..TAPS {
                        let input = load_upto::<V>(plane.as_ptr().add((y + tap / 3) * w + x + tap % 3), n);
                        for c in 0..channels {
                            sums[c][tap] = g[c].mul_add(input, sums[c][tap]);
                        }
                    }
                    x += n;
                }
            }
            for c in 0..channels {
                dbias[o + c] += bias_sums[c].reduce_sum();
                for tap in 0..TAPS {
                    dweights[(o + c) * TAPS + tap] += sums[c][tap].reduce_sum();
                }
            }
            o += channels;
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
