//! Optimizer parameter updates, one parameter tensor at a time (PyTorch's conventions).
//!
//! The vector twins repeat the scalar operations in the same order, without FMA, so every kernel
//! path produces bit-identical weights: the updates are memory-bound and gain nothing from fusing.

use super::vector::F32Vector;

simd_kernel! {
    /// `g' = g + wd·w; v = μ·v + g'; w -= lr · (nesterov ? g' + μ·v : v)`.
    pub fn sgd_update / sgd_update_on(w: &mut [f32], g: &[f32], velocity: &mut [f32], step: SgdStep) -> ()
        = sgd_update_scalar, sgd_update_vector;

    /// Without momentum (PyTorch keeps no velocity then): `w -= lr · (g + wd·w)`.
    pub fn sgd_plain_update / sgd_plain_update_on(w: &mut [f32], g: &[f32], step: SgdStep) -> ()
        = sgd_plain_update_scalar, sgd_plain_update_vector;

    /// `m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; w -= lr · (m/c1) / (√(v/c2) + ε)`, with weight
    /// decay either in `g` (Adam) or as `w -= lr·wd·w` (AdamW).
    pub fn adam_update / adam_update_on(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: AdamStep) -> ()
        = adam_update_scalar, adam_update_vector;
}

/// The scalars of one SGD step.
#[derive(Clone, Copy, Debug)]
pub struct SgdStep {
    pub lr: f32,
    pub momentum: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    pub nesterov: bool,
}

pub fn sgd_update_scalar(w: &mut [f32], g: &[f32], velocity: &mut [f32], step: SgdStep) {
    assert_eq!(w.len(), g.len());
    assert_eq!(w.len(), velocity.len());
    for ((w, &g), v) in w.iter_mut().zip(g).zip(velocity.iter_mut()) {
        let g = g + step.weight_decay * *w;
        *v = step.momentum * *v + g;
        let direction = if step.nesterov { g + step.momentum * *v } else { *v };
        *w -= step.lr * direction;
    }
}

/// One vector of SGD: `(w, g, v) -> (w', v')`. (Functions, not closures, here and below: a
/// closure called twice is not inlined, and neither are the intrinsics inside it.)
#[inline(always)]
unsafe fn sgd_lanes<V: F32Vector>(w: V, g: V, v: V, step: SgdStep) -> (V, V) {
    unsafe {
        let (lr, mu, wd) = (V::splat(step.lr), V::splat(step.momentum), V::splat(step.weight_decay));
        let g = g.add(wd.mul(w));
        let v = mu.mul(v).add(g);
        let direction = if step.nesterov { g.add(mu.mul(v)) } else { v };
        (w.sub(lr.mul(direction)), v)
    }
}

#[inline(always)]
unsafe fn sgd_update_vector<V: F32Vector>(w: &mut [f32], g: &[f32], velocity: &mut [f32], step: SgdStep) {
    assert_eq!(w.len(), g.len());
    assert_eq!(w.len(), velocity.len());
    let n = w.len();
    let (pw, pg, pv) = (w.as_mut_ptr(), g.as_ptr(), velocity.as_mut_ptr());
    unsafe {
        let mut i = 0;
        while i + V::LANES <= n {
            let (w_new, v_new) = sgd_lanes(V::load(pw.add(i)), V::load(pg.add(i)), V::load(pv.add(i)), step);
            w_new.store(pw.add(i));
            v_new.store(pv.add(i));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            let (w_new, v_new) = sgd_lanes(
                V::load_partial(pw.add(i), rest, 0.0),
                V::load_partial(pg.add(i), rest, 0.0),
                V::load_partial(pv.add(i), rest, 0.0),
                step,
            );
            w_new.store_partial(pw.add(i), rest);
            v_new.store_partial(pv.add(i), rest);
        }
    }
}

/// Plain SGD reads and writes half the memory of [`sgd_update`] (no velocity), and gives the same
/// weights as it does with momentum 0, where `v = 0·v + g` is `g`.
pub fn sgd_plain_update_scalar(w: &mut [f32], g: &[f32], step: SgdStep) {
    assert_eq!(w.len(), g.len());
    for (w, &g) in w.iter_mut().zip(g) {
        *w -= step.lr * (g + step.weight_decay * *w);
    }
}

#[inline(always)]
unsafe fn sgd_plain_lanes<V: F32Vector>(w: V, g: V, step: SgdStep) -> V {
    unsafe { w.sub(V::splat(step.lr).mul(g.add(V::splat(step.weight_decay).mul(w)))) }
}

#[inline(always)]
unsafe fn sgd_plain_update_vector<V: F32Vector>(w: &mut [f32], g: &[f32], step: SgdStep) {
    assert_eq!(w.len(), g.len());
    let n = w.len();
    let (pw, pg) = (w.as_mut_ptr(), g.as_ptr());
    unsafe {
        let mut i = 0;
        while i + V::LANES <= n {
            sgd_plain_lanes(V::load(pw.add(i)), V::load(pg.add(i)), step).store(pw.add(i));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            let w_new =
                sgd_plain_lanes(V::load_partial(pw.add(i), rest, 0.0), V::load_partial(pg.add(i), rest, 0.0), step);
            w_new.store_partial(pw.add(i), rest);
        }
    }
}

/// The scalars of one Adam / AdamW step.
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// AdamW: decay the weights directly instead of adding `wd·w` to the gradient.
    pub decoupled: bool,
    /// `1 - β1^t` and `1 - β2^t` for step `t` (from 1).
    pub bias_correction1: f32,
    pub bias_correction2: f32,
}

pub fn adam_update_scalar(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: AdamStep) {
    assert_eq!(w.len(), g.len());
    assert_eq!(w.len(), m.len());
    assert_eq!(w.len(), v.len());
    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = if step.decoupled {
            *w -= step.lr * step.weight_decay * *w;
            g
        } else {
            g + step.weight_decay * *w
        };
        *m = step.beta1 * *m + (1.0 - step.beta1) * g;
        *v = step.beta2 * *v + (1.0 - step.beta2) * g * g;
        let m_hat = *m / step.bias_correction1;
        let v_hat = *v / step.bias_correction2;
        *w -= step.lr * m_hat / (v_hat.sqrt() + step.eps);
    }
}

/// One vector of Adam: `(w, g, m, v) -> (w', m', v')`.
#[inline(always)]
unsafe fn adam_lanes<V: F32Vector>(w: V, g: V, m: V, v: V, step: AdamStep) -> (V, V, V) {
    unsafe {
        let (w, g) = if step.decoupled {
            (w.sub(V::splat(step.lr * step.weight_decay).mul(w)), g)
        } else {
            (w, g.add(V::splat(step.weight_decay).mul(w)))
        };
        let m = V::splat(step.beta1).mul(m).add(V::splat(1.0 - step.beta1).mul(g));
        let v = V::splat(step.beta2).mul(v).add(V::splat(1.0 - step.beta2).mul(g).mul(g));
        let m_hat = m.div(V::splat(step.bias_correction1));
        let v_hat = v.div(V::splat(step.bias_correction2));
        let w = w.sub(V::splat(step.lr).mul(m_hat).div(v_hat.sqrt().add(V::splat(step.eps))));
        (w, m, v)
    }
}

#[inline(always)]
unsafe fn adam_update_vector<V: F32Vector>(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: AdamStep) {
    assert_eq!(w.len(), g.len());
    assert_eq!(w.len(), m.len());
    assert_eq!(w.len(), v.len());
    let n = w.len();
    let (pw, pg, pm, pv) = (w.as_mut_ptr(), g.as_ptr(), m.as_mut_ptr(), v.as_mut_ptr());
    unsafe {
        let mut i = 0;
        while i + V::LANES <= n {
            let (w_new, m_new, v_new) =
                adam_lanes(V::load(pw.add(i)), V::load(pg.add(i)), V::load(pm.add(i)), V::load(pv.add(i)), step);
            w_new.store(pw.add(i));
            m_new.store(pm.add(i));
            v_new.store(pv.add(i));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            let (w_new, m_new, v_new) = adam_lanes(
                V::load_partial(pw.add(i), rest, 0.0),
                V::load_partial(pg.add(i), rest, 0.0),
                V::load_partial(pm.add(i), rest, 0.0),
                V::load_partial(pv.add(i), rest, 0.0),
                step,
            );
            w_new.store_partial(pw.add(i), rest);
            m_new.store_partial(pm.add(i), rest);
            v_new.store_partial(pv.add(i), rest);
        }
    }
}
