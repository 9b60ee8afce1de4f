//! Batch-norm reductions and the input-gradient map. The per-channel statistics are summed per
//! (sample, channel) plane here and across samples in f64 by the layer, in a fixed order.

use super::vector::{F32Vector, sum_map1};

simd_kernel! {
    /// `Σ (x[i] - mean)²` over one plane: the second pass of the two-pass variance.
    pub fn sum_sq_dev / sum_sq_dev_on(x: &[f32], mean: f32) -> f32 = sum_sq_dev_scalar, sum_sq_dev_vector;

    /// `(Σ dy[i], Σ dy[i]·x̂[i])` with `x̂ = (x - mean)·inv_std`: the two sums batch-norm's backward
    /// needs.
    pub fn sum_dy_dy_xhat / sum_dy_dy_xhat_on(dy: &[f32], x: &[f32], mean: f32, inv_std: f32) -> (f32, f32)
        = sum_dy_dy_xhat_scalar, sum_dy_dy_xhat_vector;

    /// `dx[i] = k_dy·dy[i] + k_x·x[i] + k_const`: batch-norm's input gradient with the per-channel
    /// sums folded into three coefficients.
    pub fn affine2 / affine2_on(dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, dx: &mut [f32]) -> ()
        = affine2_scalar, affine2_vector;
}

pub fn sum_sq_dev_scalar(x: &[f32], mean: f32) -> f32 {
    x.iter().map(|&v| (v - mean) * (v - mean)).sum()
}

#[inline(always)]
unsafe fn sum_sq_dev_vector<V: F32Vector>(x: &[f32], mean: f32) -> f32 {
    unsafe {
        let m = V::splat(mean);
        // Padding lanes hold `mean`, so they add (mean - mean)² = 0.
        sum_map1::<V>(x, mean, |v| {
            let d = v.sub(m);
            d.mul(d)
        })
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
