//! Softmax with cross-entropy against a target distribution (one-hot or label-smoothed), per row.

use super::vector::{F32Vector, map2};

simd_kernel! {
    /// Writes `probs = softmax(logits)` and returns `-Σ target·log(probs)` for one sample.
    pub fn softmax_cross_entropy / softmax_cross_entropy_on(logits: &[f32], target: &[f32], probs: &mut [f32]) -> f32
        = softmax_cross_entropy_scalar, softmax_cross_entropy_vector;

    /// `dlogits = (probs - target) · scale`; the scale is 1 / batch size for a mean loss.
    pub fn softmax_cross_entropy_backward / softmax_cross_entropy_backward_on(
        probs: &[f32], target: &[f32], scale: f32, dlogits: &mut [f32]
    ) -> () = softmax_cross_entropy_backward_scalar, softmax_cross_entropy_backward_vector;
}

pub fn softmax_cross_entropy_scalar(logits: &[f32], target: &[f32], probs: &mut [f32]) -> f32 {
    assert_eq!(logits.len(), probs.len());
    assert_eq!(target.len(), probs.len());
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for (p, &z) in probs.iter_mut().zip(logits) {
        *p = (z - max).exp();
        total += *p;
    }
    let inv_total = 1.0 / total;
    let log_total = total.ln();
    let mut loss = 0.0;
    for ((p, &z), &t) in probs.iter_mut().zip(logits).zip(target) {
        *p *= inv_total;
        // -log p = log Σ e^(z_j - max) - (z - max), exact even where p underflows.
        loss += t * (log_total - (z - max));
    }
    loss
}

/// Below this, e^x is under f32's smallest normal number; `F32Vector::exp` clamps its input there.
const EXP_FLOOR: f32 = -87.3;

/// `e^(z - max)`, set to 0 below EXP_FLOOR: the clamped exp would give ~1e-38 there, and the
/// padding lanes (z = -inf) must add nothing to the total. (A function, not a closure: a closure
/// called twice is not inlined, and neither are the intrinsics inside it.)
#[inline(always)]
unsafe fn shifted_exp<V: F32Vector>(z: V, max: V) -> V {
    unsafe {
        let d = z.sub(max);
        d.select_gt(V::splat(EXP_FLOOR), d.exp(), V::zero())
    }
}

#[inline(always)]
unsafe fn softmax_cross_entropy_vector<V: F32Vector>(logits: &[f32], target: &[f32], probs: &mut [f32]) -> f32 {
    assert_eq!(logits.len(), probs.len());
    assert_eq!(target.len(), probs.len());
    let n = logits.len();
    let full = n - n % V::LANES;
    let rest = n - full;
    let (pz, pt, pp) = (logits.as_ptr(), target.as_ptr(), probs.as_mut_ptr());
    unsafe {
        // Padding lanes hold -inf, which never wins the max.
        let mut max_v = V::splat(f32::NEG_INFINITY);
        for i in (0..full).step_by(V::LANES) {
            max_v = max_v.max(V::load(pz.add(i)));
        }
        if rest > 0 {
            max_v = max_v.max(V::load_partial(pz.add(full), rest, f32::NEG_INFINITY));
        }
        let max = max_v.reduce_max();

        let vmax = V::splat(max);
        let mut total_v = V::zero();
        for i in (0..full).step_by(V::LANES) {
            let p = shifted_exp(V::load(pz.add(i)), vmax);
            p.store(pp.add(i));
            total_v = total_v.add(p);
        }
        // The tail stays in a register for the normalisation: reloading right after a masked
        // store would stall on store forwarding, once per row of 10 classes.
        let tail = shifted_exp(V::load_partial(pz.add(full), rest, f32::NEG_INFINITY), vmax);
        let total = total_v.add(tail).reduce_sum();

        let (inv_total, log_total) = (V::splat(1.0 / total), V::splat(total.ln()));
        // -log p = log Σ e^(z_j - max) - (z - max), exact even where p underflows.
        let mut loss_v = V::zero();
        for i in (0..full).step_by(V::LANES) {
            V::load(pp.add(i)).mul(inv_total).store(pp.add(i));
            let nll = log_total.sub(V::load(pz.add(i)).sub(vmax));
            loss_v = V::load(pt.add(i)).mul_add(nll, loss_v);
        }
        if rest > 0 {
            tail.mul(inv_total).store_partial(pp.add(full), rest);
            // Padding: target 0 times a finite term (z = max there), so nothing.
            let nll = log_total.sub(V::load_partial(pz.add(full), rest, max).sub(vmax));
            loss_v = V::load_partial(pt.add(full), rest, 0.0).mul_add(nll, loss_v);
        }
        loss_v.reduce_sum()
    }
}

pub fn softmax_cross_entropy_backward_scalar(probs: &[f32], target: &[f32], scale: f32, dlogits: &mut [f32]) {
    assert_eq!(probs.len(), dlogits.len());
    assert_eq!(target.len(), dlogits.len());
    for ((d, &p), &t) in dlogits.iter_mut().zip(probs).zip(target) {
        *d = (p - t) * scale;
    }
}

#[inline(always)]
unsafe fn softmax_cross_entropy_backward_vector<V: F32Vector>(
    probs: &[f32],
    target: &[f32],
    scale: f32,
    dlogits: &mut [f32],
) {
    unsafe {
        let s = V::splat(scale);
        map2::<V>(probs, target, dlogits, |p, t| p.sub(t).mul(s))
    }
}
