//! Batch-norm reductions and the input-gradient map. The per-channel statistics are summed per
//! (sample, channel) plane here and across samples in f64 by the layer, in a fixed order.

// The gated input gradient takes the three coefficients and the gate beside its slices.
#![allow(clippy::too_many_arguments)]

use super::vector::F32Vector;

simd_kernel! {
    /// `(Σ (x[i] - shift), Σ (x[i] - shift)²)` over one plane: mean and variance in one pass.
    /// Removing the mean afterwards (Σd² − (Σd)²/n) cancels about log₁₀(1 + ((shift − mean)/σ)²)
    /// digits, so `shift` should sit near the mean in units of the spread σ: the layer passes the
    /// plane's first value.
    pub fn sum_and_sum_sq_dev / sum_and_sum_sq_dev_on(x: &[f32], shift: f32) -> (f32, f32)
        = sum_and_sum_sq_dev_scalar, sum_and_sum_sq_dev_vector;

    /// `(Σ dy[i], Σ dy[i]·x̂[i])` with `x̂ = (x - mean)·inv_std`: the two sums batch-norm's backward
    /// needs.
    pub fn sum_dy_dy_xhat / sum_dy_dy_xhat_on(dy: &[f32], x: &[f32], mean: f32, inv_std: f32) -> (f32, f32)
        = sum_dy_dy_xhat_scalar, sum_dy_dy_xhat_vector;

    /// `dx[i] = k_dy·dy[i] + k_x·x[i] + k_const`: batch-norm's input gradient with the per-channel
    /// sums folded into three coefficients.
    pub fn affine2 / affine2_on(dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, dx: &mut [f32]) -> ()
        = affine2_scalar, affine2_vector;

    /// [`sum_dy_dy_xhat`] of a fused ReLU's input gradient: `dy[i]` counts only where the forward's
    /// `x[i]·gate.0 + gate.1` (one fused multiply-add, as `scale_shift_relu` computes it) was
    /// positive, which is exactly where the ReLU passed its input. The same bits as masking `dy`
    /// with `relu_backward` first, without reading the output or writing the masked copy.
    pub fn sum_dy_dy_xhat_relu / sum_dy_dy_xhat_relu_on(
        dy: &[f32], x: &[f32], mean: f32, inv_std: f32, gate: (f32, f32)
    ) -> (f32, f32) = sum_dy_dy_xhat_relu_scalar, sum_dy_dy_xhat_relu_vector;

    /// [`affine2`] with `dy` gated as in [`sum_dy_dy_xhat_relu`].
    pub fn affine2_relu / affine2_relu_on(
        dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, gate: (f32, f32), dx: &mut [f32]
    ) -> () = affine2_relu_scalar, affine2_relu_vector;
}

/// `dy` where the fused ReLU passed `x·scale + shift`, else 0.
#[inline(always)]
fn relu_gated(dy: f32, x: f32, (scale, shift): (f32, f32)) -> f32 {
    if x.mul_add(scale, shift) > 0.0 { dy } else { 0.0 }
}

/// The vector form of [`relu_gated`].
#[inline(always)]
unsafe fn relu_gated_vector<V: F32Vector>(dy: V, x: V, scale: V, shift: V) -> V {
    unsafe { x.mul_add(scale, shift).select_gt(V::zero(), dy, V::zero()) }
}

pub fn sum_and_sum_sq_dev_scalar(x: &[f32], shift: f32) -> (f32, f32) {
    x.iter().fold((0.0, 0.0), |(s, s2), &v| {
        let d = v - shift;
        (s + d, s2 + d * d)
    })
}

#[inline(always)]
unsafe fn sum_and_sum_sq_dev_vector<V: F32Vector>(x: &[f32], shift: f32) -> (f32, f32) {
    let n = x.len();
    let src = x.as_ptr();
    let mut i = 0;
    unsafe {
        let s = V::splat(shift);
        let (mut sum, mut squares) = (V::zero(), V::zero());
        while i + V::LANES <= n {
            let d = V::load(src.add(i)).sub(s);
            sum = sum.add(d);
            squares = d.mul_add(d, squares);
            i += V::LANES;
        }
        if i < n {
            // Padding lanes hold `shift`: they add 0 to both sums.
            let d = V::load_partial(src.add(i), n - i, shift).sub(s);
            sum = sum.add(d);
            squares = d.mul_add(d, squares);
        }
        (sum.reduce_sum(), squares.reduce_sum())
    }
}

pub fn sum_dy_dy_xhat_scalar(dy: &[f32], x: &[f32], mean: f32, inv_std: f32) -> (f32, f32) {
    assert_eq!(dy.len(), x.len());
    let mut sum_dy = 0.0;
    let mut sum_dy_xhat = 0.0;
    for (&g, &v) in dy.iter().zip(x) {
        sum_dy += g;
        sum_dy_xhat += g * (v - mean) * inv_std;
    }
    (sum_dy, sum_dy_xhat)
}

#[inline(always)]
unsafe fn sum_dy_dy_xhat_vector<V: F32Vector>(dy: &[f32], x: &[f32], mean: f32, inv_std: f32) -> (f32, f32) {
    assert_eq!(dy.len(), x.len());
    let n = dy.len();
    let (pg, px) = (dy.as_ptr(), x.as_ptr());
    let mut i = 0;
    unsafe {
        let m = V::splat(mean);
        let (mut acc_dy, mut acc_dy_dev) = (V::zero(), V::zero());
        while i + V::LANES <= n {
            let g = V::load(pg.add(i));
            acc_dy = acc_dy.add(g);
            acc_dy_dev = g.mul_add(V::load(px.add(i)).sub(m), acc_dy_dev);
            i += V::LANES;
        }
        if i < n {
            // Padding lanes have dy = 0, so they add nothing to either sum.
            let g = V::load_partial(pg.add(i), n - i, 0.0);
            acc_dy = acc_dy.add(g);
            acc_dy_dev = g.mul_add(V::load_partial(px.add(i), n - i, 0.0).sub(m), acc_dy_dev);
        }
        // inv_std is common to every term: one multiply at the end instead of one per element.
        (acc_dy.reduce_sum(), acc_dy_dev.reduce_sum() * inv_std)
    }
}

pub fn sum_dy_dy_xhat_relu_scalar(dy: &[f32], x: &[f32], mean: f32, inv_std: f32, gate: (f32, f32)) -> (f32, f32) {
    assert_eq!(dy.len(), x.len());
    let mut sum_dy = 0.0;
    let mut sum_dy_xhat = 0.0;
    for (&g, &v) in dy.iter().zip(x) {
        let g = relu_gated(g, v, gate);
        sum_dy += g;
        sum_dy_xhat += g * (v - mean) * inv_std;
    }
    (sum_dy, sum_dy_xhat)
}

#[inline(always)]
unsafe fn sum_dy_dy_xhat_relu_vector<V: F32Vector>(
    dy: &[f32],
    x: &[f32],
    mean: f32,
    inv_std: f32,
    gate: (f32, f32),
) -> (f32, f32) {
    assert_eq!(dy.len(), x.len());
    let n = dy.len();
    let (pg, px) = (dy.as_ptr(), x.as_ptr());
    let mut i = 0;
    unsafe {
        let (m, scale, shift) = (V::splat(mean), V::splat(gate.0), V::splat(gate.1));
        let (mut acc_dy, mut acc_dy_dev) = (V::zero(), V::zero());
        while i + V::LANES <= n {
            let v = V::load(px.add(i));
            let g = relu_gated_vector(V::load(pg.add(i)), v, scale, shift);
            acc_dy = acc_dy.add(g);
            acc_dy_dev = g.mul_add(v.sub(m), acc_dy_dev);
            i += V::LANES;
        }
        if i < n {
            // Padding lanes have dy = 0, so they add nothing to either sum.
            let v = V::load_partial(px.add(i), n - i, 0.0);
            let g = relu_gated_vector(V::load_partial(pg.add(i), n - i, 0.0), v, scale, shift);
            acc_dy = acc_dy.add(g);
            acc_dy_dev = g.mul_add(v.sub(m), acc_dy_dev);
        }
        (acc_dy.reduce_sum(), acc_dy_dev.reduce_sum() * inv_std)
    }
}

pub fn affine2_scalar(dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, dx: &mut [f32]) {
    assert_eq!(dy.len(), dx.len());
    assert_eq!(x.len(), dx.len());
    for ((d, &g), &v) in dx.iter_mut().zip(dy).zip(x) {
        *d = k_dy * g + k_x * v + k_const;
    }
}

#[inline(always)]
unsafe fn affine2_vector<V: F32Vector>(dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, dx: &mut [f32]) {
    unsafe {
        let (a, b, c) = (V::splat(k_dy), V::splat(k_x), V::splat(k_const));
        // The scalar twin's roundings in its order (no FMA): every path gives the same bits, and the
        // map is memory-bound anyway.
        super::vector::map2::<V>(dy, x, dx, |g, v| a.mul(g).add(b.mul(v)).add(c))
    }
}

pub fn affine2_relu_scalar(dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, gate: (f32, f32), dx: &mut [f32]) {
    assert_eq!(dy.len(), dx.len());
    assert_eq!(x.len(), dx.len());
    for ((d, &g), &v) in dx.iter_mut().zip(dy).zip(x) {
        *d = k_dy * relu_gated(g, v, gate) + k_x * v + k_const;
    }
}

#[inline(always)]
unsafe fn affine2_relu_vector<V: F32Vector>(
    dy: &[f32],
    x: &[f32],
    k_dy: f32,
    k_x: f32,
    k_const: f32,
    gate: (f32, f32),
    dx: &mut [f32],
) {
    assert_eq!(dy.len(), dx.len());
    assert_eq!(x.len(), dx.len());
    let n = dx.len();
    let (pg, px, out) = (dy.as_ptr(), x.as_ptr(), dx.as_mut_ptr());
    let mut i = 0;
    unsafe {
        let (a, b, c) = (V::splat(k_dy), V::splat(k_x), V::splat(k_const));
        let (scale, shift) = (V::splat(gate.0), V::splat(gate.1));
        // As affine2: the scalar twin's roundings in its order. An explicit loop with an
        // always-inlined helper, not `map2`'s closure: a closure this size was not inlined, so it
        // ran without the target feature, every vector operation an out-of-line call (perf: 8%
        // of a seed000 step).
        while i + V::LANES <= n {
            gated_affine_vector(V::load(pg.add(i)), V::load(px.add(i)), (a, b, c), scale, shift).store(out.add(i));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            let (g, v) = (V::load_partial(pg.add(i), rest, 0.0), V::load_partial(px.add(i), rest, 0.0));
            gated_affine_vector(g, v, (a, b, c), scale, shift).store_partial(out.add(i), rest);
        }
    }
}

/// `k_dy·gated(dy) + k_x·x + k_const` on one vector.
#[inline(always)]
unsafe fn gated_affine_vector<V: F32Vector>(dy: V, x: V, (k_dy, k_x, k_const): (V, V, V), scale: V, shift: V) -> V {
    unsafe { k_dy.mul(relu_gated_vector(dy, x, scale, shift)).add(k_x.mul(x)).add(k_const) }
}
