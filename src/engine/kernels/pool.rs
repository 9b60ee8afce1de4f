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

    /// The `y` of [`maxpool_forward`] without the `argmax` (inference, where no backward
    /// follows): the same values, bit for bit, with a third of the vector work.
    pub fn maxpool_values / maxpool_values_on(
        x: &[f32], h: usize, w: usize, k: usize, stride: usize, y: &mut [f32]
    ) -> () = maxpool_values_scalar, maxpool_values_vector;

    /// Writes the h×w plane `dx`: each input the sum of the gradients `dy[i]` of the outputs it
    /// won (`argmax[i]`), 0 where it won none. `dy` and `argmax` are the OH×OW outputs of
    /// `maxpool_forward` with the same geometry, which the 2×2 stride-2 vector path relies on: it
    /// only looks for each window's winner inside that window, and stores whole windows instead of
    /// clearing the plane and adding into it. With `relu_y`, the pool's outputs, each `dy[i]`
    /// counts only where `relu_y[i] > 0`: the backward of a ReLU before the pool, applied on the
    /// way in (empty: no ReLU).
    pub fn maxpool_backward / maxpool_backward_on(
        dy: &[f32], relu_y: &[f32], argmax: &[u32], h: usize, w: usize, k: usize, stride: usize, dx: &mut [f32]
    ) -> () = maxpool_backward_scalar, maxpool_backward_vector;
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

pub fn maxpool_values_scalar(x: &[f32], h: usize, w: usize, k: usize, stride: usize, y: &mut [f32]) {
    let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
    assert_eq!(x.len(), h * w);
    assert_eq!(y.len(), oh * ow);
    for oy in 0..oh {
        for ox in 0..ow {
            let corner = (oy * stride) * w + ox * stride;
            let mut best = x[corner];
            for ky in 0..k {
                for kx in 0..k {
                    let value = x[corner + ky * w + kx];
                    if value > best {
                        best = value;
                    }
                }
            }
            y[oy * ow + ox] = best;
        }
    }
}

/// The 2×2, stride-2 case like [`maxpool_forward_vector`], keeping only the values: each
/// candidate replaces the best only if strictly greater, as in the scalar loop.
#[inline(always)]
unsafe fn maxpool_values_vector<V: F32Vector>(x: &[f32], h: usize, w: usize, k: usize, stride: usize, y: &mut [f32]) {
    if k != 2 || stride != 2 {
        return maxpool_values_scalar(x, h, w, k, stride, y);
    }
    let (oh, ow) = (h / 2, w / 2);
    assert_eq!(x.len(), h * w);
    assert_eq!(y.len(), oh * ow);
    unsafe {
        for oy in 0..oh {
            let top = x.as_ptr().add(2 * oy * w);
            let bottom = top.add(w);
            let y_row = y.as_mut_ptr().add(oy * ow);
            let mut ox = 0;
            while ox < ow {
                let count = (ow - ox).min(V::LANES);
                let [top_even, top_odd, bottom_even, bottom_odd] = window_candidates::<V>(top, bottom, 2 * ox, count);
                let mut best = top_even;
                for candidate in [top_odd, bottom_even, bottom_odd] {
                    best = candidate.select_gt(best, candidate, best);
                }
                if count == V::LANES {
                    best.store(y_row.add(ox));
                } else {
                    best.store_partial(y_row.add(ox), count);
                }
                ox += count;
            }
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

/// The four candidates of `count` 2×2 windows whose first input column is `col`, in row-major
/// order: the even and odd columns of the `top` and `bottom` input rows from `col` on (they read
/// columns `col .. col + 2·count`), -inf past them.
#[inline(always)]
unsafe fn window_candidates<V: F32Vector>(top: *const f32, bottom: *const f32, col: usize, count: usize) -> [V; 4] {
    unsafe {
        let (inputs, rest) = (2 * count, (2 * count).saturating_sub(V::LANES));
        let (top_even, top_odd) =
            V::deinterleave(load_upto::<V>(top, col, inputs), load_upto::<V>(top, col + V::LANES, rest));
        let (bottom_even, bottom_odd) =
            V::deinterleave(load_upto::<V>(bottom, col, inputs), load_upto::<V>(bottom, col + V::LANES, rest));
        [top_even, top_odd, bottom_even, bottom_odd]
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
                let count = (ow - ox).min(V::LANES);
                let candidates = window_candidates::<V>(top, bottom, 2 * ox, count);
                // Indices wrap exactly as the scalar `as u32` truncates.
                let corner = V::index_ramp((2 * oy * w + 2 * ox) as u32, 2);
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

/// Checks the slice lengths against the plane's geometry.
fn check_backward_lengths(
    dy: &[f32],
    relu_y: &[f32],
    argmax: &[u32],
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    dx: &[f32],
) {
    assert!(k >= 1 && stride >= 1 && k <= h && k <= w, "pooling {k}×{k} stride {stride} over a {h}×{w} plane");
    let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
    assert_eq!(dy.len(), oh * ow);
    assert!(relu_y.is_empty() || relu_y.len() == dy.len(), "{} ReLU outputs for {} gradients", relu_y.len(), dy.len());
    assert_eq!(argmax.len(), oh * ow);
    assert_eq!(dx.len(), h * w);
}

/// The geometry only serves the length checks: any window shape works, overlapping ones included.
pub fn maxpool_backward_scalar(
    dy: &[f32],
    relu_y: &[f32],
    argmax: &[u32],
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    dx: &mut [f32],
) {
    check_backward_lengths(dy, relu_y, argmax, h, w, k, stride, dx);
    dx.fill(0.0);
    for (i, (&g, &index)) in dy.iter().zip(argmax).enumerate() {
        dx[index as usize] += if relu_y.is_empty() || relu_y[i] > 0.0 { g } else { 0.0 };
    }
}

/// Stores a row's tail of `count` gradients at `plane + at`, whole where the plane of `len` has
/// room: its extra lanes hold zeros and land on inputs written after it (the top row's tail on
/// the bottom row, stored next; the bottom row's on the next row pair). Masked stores are slow on
/// Zen 4: done for every tail, a masked store and the instruction after it held 35% of the
/// kernel's profile samples.
#[inline(always)]
unsafe fn store_tail<V: F32Vector>(plane: *mut f32, len: usize, at: usize, count: usize, v: V) {
    unsafe {
        if at + V::LANES <= len {
            v.store(plane.add(at));
        } else {
            v.store_partial(plane.add(at), count);
        }
    }
}

/// `g` where `offset` equals `target`, 0 elsewhere.
#[inline(always)]
unsafe fn keep_where<V: F32Vector>(offset: V::Index, target: V::Index, g: V) -> V {
    unsafe { V::select_index_eq(offset, target, g, V::zero()) }
}

/// The gradients of a window row pair's `2·LANES` input columns from `LANES` outputs `g` whose
/// windows won at plane indices `winner`: `[top lo, top hi, bottom lo, bottom hi]`, 0 where an
/// input lost its window. `corners` holds each window's top-left index; `targets` the winner's
/// possible offsets from it, 0, 1, w and w + 1.
#[inline(always)]
unsafe fn window_gradients<V: F32Vector>(g: V, winner: V::Index, corners: V::Index, targets: &[V::Index; 4]) -> [V; 4] {
    unsafe {
        let offset = V::index_sub(winner, corners);
        let (top_lo, top_hi) = V::interleave(keep_where(offset, targets[0], g), keep_where(offset, targets[1], g));
        let (bottom_lo, bottom_hi) =
            V::interleave(keep_where(offset, targets[2], g), keep_where(offset, targets[3], g));
        [top_lo, top_hi, bottom_lo, bottom_hi]
    }
}

/// The 2×2, stride-2 case, vectorised along output columns like the forward pass. The windows
/// don't overlap, so each input receives at most one gradient: the winner's offset in its window
/// (0, 1, w or w + 1) routes `dy` to one of the four candidates (top/bottom row, even/odd column),
/// the others get 0, and the even and odd columns are interleaved back and stored into the two
/// input rows, so the plane needs no clearing first (`memset` was 3.5% of a `seed002` profile).
/// This matches the scalar loop bit for bit up to the sign of a zero (the scalar loop adds a
/// negative zero to 0). An odd side's last column or row, in no window, is set to 0. Other
/// windows fall back to the scalar loop.
#[inline(always)]
unsafe fn maxpool_backward_vector<V: F32Vector>(
    dy: &[f32],
    relu_y: &[f32],
    argmax: &[u32],
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    dx: &mut [f32],
) {
    if k != 2 || stride != 2 {
        return maxpool_backward_scalar(dy, relu_y, argmax, h, w, k, stride, dx);
    }
    check_backward_lengths(dy, relu_y, argmax, h, w, k, stride, dx);
    let relu = !relu_y.is_empty();
    let (oh, ow) = (h / 2, w / 2);
    // Output columns `whole..ow` (`partial` of them) form the partial chunk, writing input
    // columns `2·whole..2·ow`: whole vectors, then `tail_count` columns at `tail_col`.
    let (whole, partial) = (ow - ow % V::LANES, ow % V::LANES);
    let (tail_col, tail_count) = (2 * whole + 2 * partial / V::LANES * V::LANES, 2 * partial % V::LANES);
    unsafe {
        let zero = V::zero();
        let targets = [
            V::index_splat(0),
            V::index_splat(1),
            V::index_splat(w as u32),
            V::index_splat((w as u32).wrapping_add(1)),
        ];
        // Window corners of a row's first chunk, and the steps to the next chunk and row (indices
        // wrap exactly as the forward pass's `as u32` truncates).
        let (chunk_step, row_step) = (V::index_splat(2 * V::LANES as u32), V::index_splat((2 * w) as u32));
        let mut row_corners = V::index_ramp(0, 2);
        let (plane, plane_len) = (dx.as_mut_ptr(), dx.len());
        for oy in 0..oh {
            let (top_at, bottom_at) = (2 * oy * w, (2 * oy + 1) * w);
            let (dy_row, argmax_row) = (dy.as_ptr().add(oy * ow), argmax.as_ptr().add(oy * ow));
            // With the ReLU, dy counts where it passed its input: where the pooled output is > 0.
            let y_row = relu_y.as_ptr().wrapping_add(oy * ow);
            let tails = if partial > 0 {
                let corners = V::index_add(row_corners, V::index_splat((2 * whole) as u32));
                let g = V::load_partial(dy_row.add(whole), partial, 0.0);
                let g = if relu { V::load_partial(y_row.add(whole), partial, 0.0).select_gt(zero, g, zero) } else { g };
                let winner = V::index_load_partial(argmax_row.add(whole), partial);
                let [top_lo, top_hi, bottom_lo, bottom_hi] = window_gradients(g, winner, corners, &targets);
                let (top_tail, bottom_tail) =
                    if 2 * partial >= V::LANES { (top_hi, bottom_hi) } else { (top_lo, bottom_lo) };
                if tail_count > 0 {
                    store_tail(plane, plane_len, top_at + tail_col, tail_count, top_tail);
                }
                Some((top_lo, bottom_lo, bottom_tail))
            } else {
                None
            };
            let (top, bottom) = (plane.add(top_at), plane.add(bottom_at));
            let mut corners = row_corners;
            let mut ox = 0;
            while ox < whole {
                let (g, winner) = (V::load(dy_row.add(ox)), V::index_load(argmax_row.add(ox)));
                let g = if relu { V::load(y_row.add(ox)).select_gt(zero, g, zero) } else { g };
                let [top_lo, top_hi, bottom_lo, bottom_hi] = window_gradients(g, winner, corners, &targets);
                top_lo.store(top.add(2 * ox));
                top_hi.store(top.add(2 * ox + V::LANES));
                bottom_lo.store(bottom.add(2 * ox));
                bottom_hi.store(bottom.add(2 * ox + V::LANES));
                corners = V::index_add(corners, chunk_step);
                ox += V::LANES;
            }
            if let Some((top_lo, bottom_lo, bottom_tail)) = tails {
                if 2 * partial >= V::LANES {
                    top_lo.store(top.add(2 * whole));
                    bottom_lo.store(bottom.add(2 * whole));
                }
                if tail_count > 0 {
                    store_tail(plane, plane_len, bottom_at + tail_col, tail_count, bottom_tail);
                }
            }
            if w % 2 == 1 {
                *top.add(w - 1) = 0.0;
                *bottom.add(w - 1) = 0.0;
            }
            row_corners = V::index_add(row_corners, row_step);
        }
    }
    if h % 2 == 1 {
        dx[(h - 1) * w..].fill(0.0);
    }
}
