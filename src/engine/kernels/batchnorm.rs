//! Batch-norm reductions and the input-gradient map. The per-channel statistics are summed per
//! (sample, channel) plane here and across samples in f64 by the layer, in a fixed order.

/// `Σ (x[i] - mean)²` over one plane: the second pass of the two-pass variance.
pub fn sum_sq_dev(x: &[f32], mean: f32) -> f32 {
    x.iter().map(|&v| (v - mean) * (v - mean)).sum()
}

/// `(Σ dy[i], Σ dy[i]·x̂[i])` with `x̂ = (x - mean)·inv_std`: the two sums batch-norm's backward needs.
pub fn sum_dy_dy_xhat(dy: &[f32], x: &[f32], mean: f32, inv_std: f32) -> (f32, f32) {
    assert_eq!(dy.len(), x.len());
    let mut sum_dy = 0.0;
    let mut sum_dy_xhat = 0.0;
    for (&g, &v) in dy.iter().zip(x) {
        sum_dy += g;
        sum_dy_xhat += g * (v - mean) * inv_std;
    }
    (sum_dy, sum_dy_xhat)
}

/// `dx[i] = k_dy·dy[i] + k_x·x[i] + k_const`: batch-norm's input gradient with the per-channel
/// sums folded into three coefficients.
pub fn affine2(dy: &[f32], x: &[f32], k_dy: f32, k_x: f32, k_const: f32, dx: &mut [f32]) {
    assert_eq!(dy.len(), dx.len());
    assert_eq!(x.len(), dx.len());
    for ((d, &g), &v) in dx.iter_mut().zip(dy).zip(x) {
        *d = k_dy * g + k_x * v + k_const;
    }
}
