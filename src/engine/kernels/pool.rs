//! Max-pooling over one H×W plane, remembering where each maximum came from.

// The plane's geometry travels as separate arguments; `maxpool_forward_on` adds the path.
#![allow(clippy::too_many_arguments)]

use super::vector::F32Vector;

simd_kernel! {
    /// `y` (OH×OW) holds the max of each `k×k` window moved by `stride`; `argmax` its index in the
    /// plane (the first maximum in row-major order on ties). `OH = (h - k) / stride + 1`.
    pub fn maxpool_forward / maxpool_forward_on(
        x: &[f32], h: usize, w: usize, k: usize, stride: usize, y: &mut [f32], argmax: &mut [u32]
    ) -> () = maxpool_forward_scalar, maxpool_forward_vector;

    /// `dx[argmax[i]] += dy[i]`: each output's gradient goes to the input that won its window.
    pub fn maxpool_backward / maxpool_backward_on(dy: &[f32], argmax: &[u32], dx: &mut [f32]) -> ()
        = maxpool_backward_scalar, maxpool_backward_vector;
}

pub fn maxpool_forward_scalar(
    x: &[f32],
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    y: &mut [f32],
    argmax: &mut [u32],
) {
    let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
    assert_eq!(x.len(), h * w);
    assert_eq!(y.len(), oh * ow);
    assert_eq!(argmax.len(), oh * ow);
    for oy in 0..oh {
        for ox in 0..ow {
            let mut best = f32::NEG_INFINITY;
            let mut best_index = (oy * stride) * w + ox * stride;
            for ky in 0..k {
                for kx in 0..k {
                    let index = (oy * stride + ky) * w + ox * stride + kx;
                    if x[index] > best {
                        best = x[index];
                        best_index = index;
                    }
                }
            }
            y[oy * ow + ox] = x[best_index];
            argmax[oy * ow + ox] = best_index as u32;
        }
    }
}

/// Loads `count` values from `base + offset` (only the first `LANES` are used), padding with -inf;
/// the address is only formed when something is read, so it never points past the plane.
#[inline(always)]
unsafe fn load_upto<V: F32Vector>(base: *const f32, offset: usize, count: usize) -> V {
    unsafe {
        match count {
            0 => V::splat(f32::NEG_INFINITY),
            c if c >= V::LANES => V::load(base.add(offset)),
            c => V::load_partial(base.add(offset), c, f32::NEG_INFINITY),
        }
    }
}

/// The max of a 2×2 window's candidates, given in row-major order, and the index of the first
/// one holding it: each candidate replaces the best only if strictly greater, as in the scalar
/// loop. `corner` is the top-left index, `below` the plane width.
#[inline(always)]
unsafe fn window_max<V: F32Vector>(candidates: [V; 4], corner: V::Index, below: u32) -> (V, V::Index) {
    unsafe {
        let offsets = [1, below, below.wrapping_add(1)];
        let (mut best, mut index) = (candidates[0], corner);
        for (&candidate, offset) in candidates[1..].iter().zip(offsets) {
            index = candidate.select_index_gt(best, V::index_add(corner, V::index_splat(offset)), index);
            best = candidate.select_gt(best, candidate, best);
        }
        (best, index)
    }
}

/// The 2×2, stride-2 case (the only pooling the presets use), vectorised along output columns:
/// the even and odd input columns of the two input rows give the window's four candidates.
#[inline(always)]
unsafe fn maxpool_forward_vector<V: F32Vector>(
    x: &[f32],
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    y: &mut [f32],
    argmax: &mut [u32],
) {
    if k != 2 || stride != 2 {
        return maxpool_forward_scalar(x, h, w, k, stride, y, argmax);
    }
    let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
    assert_eq!(x.len(), h * w);
    assert_eq!(y.len(), oh * ow);
    assert_eq!(argmax.len(), oh * ow);
    unsafe {
        for oy in 0..oh {
            let top = x.as_ptr().add(2 * oy * w);
            let bottom = top.add(w);
            let (y_row, argmax_row) = (y.as_mut_ptr().add(oy * ow), argmax.as_mut_ptr().add(oy * ow));
            let mut ox = 0;
            while ox < ow {
                // Output columns ox..ox + count read input columns 2·ox..2·(ox + count).
                let count = (ow - ox).min(V::LANES);
                let (col, inputs) = (2 * ox, 2 * count);
                let rest = inputs.saturating_sub(V::LANES);
                let (top_even, top_odd) =
                    V::deinterleave(load_upto::<V>(top, col, inputs), load_upto::<V>(top, col + V::LANES, rest));
                let (bottom_even, bottom_odd) =
                    V::deinterleave(load_upto::<V>(bottom, col, inputs), load_upto::<V>(bottom, col + V::LANES, rest));
                // Indices wrap exactly as the scalar `as u32` truncates.
                let corner = V::index_ramp((2 * oy * w + col) as u32, 2);
                let candidates = [top_even, top_odd, bottom_even, bottom_odd];
                let (best, index) = window_max(candidates, corner, w as u32);
                if count == V::LANES {
                    best.store(y_row.add(ox));
                    V::store_index(index, argmax_row.add(ox));
                } else {
                    best.store_partial(y_row.add(ox), count);
                    V::store_index_partial(index, argmax_row.add(ox), count);
                }
                ox += count;
            }
        }
    }
}

pub fn maxpool_backward_scalar(dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    assert_eq!(dy.len(), argmax.len());
    for (&g, &index) in dy.iter().zip(argmax) {
        dx[index as usize] += g;
    }
}

/// Stays the scalar loop on every path. Without the plane's geometry (not among the arguments)
/// the only vector form is gather, add, scatter, with a lane-conflict check since overlapping
/// windows repeat indices; AVX2 has no scatter, and on AVX-512 (Zen 5) even the unchecked
/// gather/scatter measured ~1.3× slower than this loop.
#[inline(always)]
#[allow(clippy::extra_unused_type_parameters)] // `simd_kernel!` instantiates it per vector type
unsafe fn maxpool_backward_vector<V: F32Vector>(dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    maxpool_backward_scalar(dy, argmax, dx)
}
