//! Element-wise kernels: bias, ReLU, sums, affine maps.

use super::vector::{F32Vector, map1, map2, sum_map1};

simd_kernel! {
    /// `out[i] = x[i] + bias`: adds one channel's bias while copying it out of a GEMM result.
    pub fn add_bias / add_bias_on(x: &[f32], bias: f32, out: &mut [f32]) -> ()
        = add_bias_scalar, add_bias_vector;

    /// `out[i] = max(x[i] + bias, 0)`: bias and ReLU in one pass over memory.
    pub fn add_bias_relu / add_bias_relu_on(x: &[f32], bias: f32, out: &mut [f32]) -> ()
        = add_bias_relu_scalar, add_bias_relu_vector;

    /// Plane c of `out`, `rows` rows of `cols = out.len() / (biases.len() · rows)` values, is the
    /// first `cols` values of each `ld`-long row of plane c of `x`, plus `biases[c]`, clamped at 0
    /// when `relu`: a convolution's wide rows (`kernels::conv_wide`) cut to its output with the
    /// bias and fused ReLU added, in one call per sample rather than one per short row.
    pub fn add_bias_cropped / add_bias_cropped_on(
        x: &[f32], ld: usize, rows: usize, biases: &[f32], relu: bool, out: &mut [f32]
    ) -> () = add_bias_cropped_scalar, add_bias_cropped_vector;

    /// `y[i] = max(x[i], 0)`.
    pub fn relu_forward / relu_forward_on(x: &[f32], y: &mut [f32]) -> ()
        = relu_forward_scalar, relu_forward_vector;

    /// `dx[i] = dy[i]` where the ReLU's output `y[i] > 0`, else 0.
    pub fn relu_backward / relu_backward_on(y: &[f32], dy: &[f32], dx: &mut [f32]) -> ()
        = relu_backward_scalar, relu_backward_vector;

    /// `Σ x[i]` (f32 lanes; callers sum many such partial sums in f64).
    pub fn sum / sum_on(x: &[f32]) -> f32 = sum_scalar, sum_vector;

    /// `out[i] = x[i] * scale + shift` (batch-norm normalisation with folded statistics).
    pub fn scale_shift / scale_shift_on(x: &[f32], scale: f32, shift: f32, out: &mut [f32]) -> ()
        = scale_shift_scalar, scale_shift_vector;

    /// `out[i] = max(x[i] * scale + shift, 0)`: batch-norm and the ReLU after it in one pass.
    pub fn scale_shift_relu / scale_shift_relu_on(x: &[f32], scale: f32, shift: f32, out: &mut [f32]) -> ()
        = scale_shift_relu_scalar, scale_shift_relu_vector;

    /// `acc[i] += x[i]`.
    pub fn add_assign / add_assign_on(acc: &mut [f32], x: &[f32]) -> ()
        = add_assign_scalar, add_assign_vector;

    /// `out[i] = x[i] * m[i]` (dropout's mask, forward and back).
    pub fn multiply / multiply_on(x: &[f32], m: &[f32], out: &mut [f32]) -> ()
        = multiply_scalar, multiply_vector;
}

pub fn add_bias_scalar(x: &[f32], bias: f32, out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v + bias;
    }
}

#[inline(always)]
unsafe fn add_bias_vector<V: F32Vector>(x: &[f32], bias: f32, out: &mut [f32]) {
    unsafe {
        let b = V::splat(bias);
        map1::<V>(x, out, |v| v.add(b))
    }
}

pub fn add_bias_relu_scalar(x: &[f32], bias: f32, out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v + bias).max(0.0);
    }
}

#[inline(always)]
unsafe fn add_bias_relu_vector<V: F32Vector>(x: &[f32], bias: f32, out: &mut [f32]) {
    unsafe {
        let (b, zero) = (V::splat(bias), V::zero());
        map1::<V>(x, out, |v| v.add(b).max(zero))
    }
}

/// The number of columns of [`add_bias_cropped`]'s output, after checking the lengths.
fn cropped_columns(x: &[f32], ld: usize, rows: usize, biases: &[f32], out: &[f32]) -> usize {
    let planes = biases.len();
    assert!(
        rows > 0 && planes > 0 && out.len().is_multiple_of(planes * rows),
        "{} values for {planes} planes of {rows} rows",
        out.len()
    );
    let cols = out.len() / (planes * rows);
    assert!(
        cols <= ld && x.len() >= planes * rows * ld,
        "{} wide values for {planes} planes of {rows} × {ld}",
        x.len()
    );
    cols
}

pub fn add_bias_cropped_scalar(x: &[f32], ld: usize, rows: usize, biases: &[f32], relu: bool, out: &mut [f32]) {
    let cols = cropped_columns(x, ld, rows, biases, out);
    for (row, out) in out.chunks_exact_mut(cols).enumerate() {
        let (src, bias) = (&x[row * ld..row * ld + cols], biases[row / rows]);
        if relu {
            add_bias_relu_scalar(src, bias, out);
        } else {
            add_bias_scalar(src, bias, out);
        }
    }
}

#[inline(always)]
unsafe fn add_bias_cropped_vector<V: F32Vector>(
    x: &[f32],
    ld: usize,
    rows: usize,
    biases: &[f32],
    relu: bool,
    out: &mut [f32],
) {
    let cols = cropped_columns(x, ld, rows, biases, out);
    // SAFETY: map1 reads and writes `cols` values of rows the lengths were checked for.
    unsafe {
        for (row, out) in out.chunks_exact_mut(cols).enumerate() {
            let (src, bias) = (&x[row * ld..row * ld + cols], V::splat(biases[row / rows]));
            if relu {
                let zero = V::zero();
                map1::<V>(src, out, |v| v.add(bias).max(zero));
            } else {
                map1::<V>(src, out, |v| v.add(bias));
            }
        }
    }
}

pub fn relu_forward_scalar(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v.max(0.0);
    }
}

#[inline(always)]
unsafe fn relu_forward_vector<V: F32Vector>(x: &[f32], y: &mut [f32]) {
    unsafe {
        let zero = V::zero();
        map1::<V>(x, y, |v| v.max(zero))
    }
}

pub fn relu_backward_scalar(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_eq!(y.len(), dx.len());
    assert_eq!(dy.len(), dx.len());
    for ((d, &g), &out) in dx.iter_mut().zip(dy).zip(y) {
        *d = if out > 0.0 { g } else { 0.0 };
    }
}

#[inline(always)]
unsafe fn relu_backward_vector<V: F32Vector>(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    unsafe {
        let zero = V::zero();
        map2::<V>(y, dy, dx, |out, g| out.select_gt(zero, g, zero))
    }
}

pub fn sum_scalar(x: &[f32]) -> f32 {
    // Eight running sums, as the vector paths keep lanes: one alone drifts with the length (a
    // bias gradient over 17 × 676 values came out 1.1e-3 off the direct kernel's).
    let mut partial = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (total, &v) in partial.iter_mut().zip(chunk) {
            *total += v;
        }
    }
    partial.iter().sum::<f32>() + rest
}

#[inline(always)]
unsafe fn sum_vector<V: F32Vector>(x: &[f32]) -> f32 {
    unsafe { sum_map1::<V>(x, 0.0, |v| v) }
}

pub fn scale_shift_scalar(x: &[f32], scale: f32, shift: f32, out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.mul_add(scale, shift);
    }
}

#[inline(always)]
unsafe fn scale_shift_vector<V: F32Vector>(x: &[f32], scale: f32, shift: f32, out: &mut [f32]) {
    unsafe {
        let (a, b) = (V::splat(scale), V::splat(shift));
        map1::<V>(x, out, |v| v.mul_add(a, b))
    }
}

pub fn scale_shift_relu_scalar(x: &[f32], scale: f32, shift: f32, out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.mul_add(scale, shift).max(0.0);
    }
}

#[inline(always)]
unsafe fn scale_shift_relu_vector<V: F32Vector>(x: &[f32], scale: f32, shift: f32, out: &mut [f32]) {
    unsafe {
        let (a, b, zero) = (V::splat(scale), V::splat(shift), V::zero());
        map1::<V>(x, out, |v| v.mul_add(a, b).max(zero))
    }
}

pub fn add_assign_scalar(acc: &mut [f32], x: &[f32]) {
    assert_eq!(acc.len(), x.len());
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += v;
    }
}

#[inline(always)]
unsafe fn add_assign_vector<V: F32Vector>(acc: &mut [f32], x: &[f32]) {
    assert_eq!(acc.len(), x.len());
    let n = acc.len();
    let (pa, px) = (acc.as_mut_ptr(), x.as_ptr());
    let mut i = 0;
    unsafe {
        while i + V::LANES <= n {
            V::load(pa.add(i)).add(V::load(px.add(i))).store(pa.add(i));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            V::load_partial(pa.add(i), rest, 0.0)
                .add(V::load_partial(px.add(i), rest, 0.0))
                .store_partial(pa.add(i), rest);
        }
    }
}

pub fn multiply_scalar(x: &[f32], m: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    assert_eq!(m.len(), out.len());
    for ((o, &v), &k) in out.iter_mut().zip(x).zip(m) {
        *o = v * k;
    }
}

#[inline(always)]
unsafe fn multiply_vector<V: F32Vector>(x: &[f32], m: &[f32], out: &mut [f32]) {
    unsafe { map2::<V>(x, m, out, |v, k| v.mul(k)) }
}
