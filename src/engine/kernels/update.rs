//! Optimizer parameter updates, one parameter tensor at a time (PyTorch's conventions).

/// The scalars of one SGD step.
#[derive(Clone, Copy, Debug)]
pub struct SgdStep {
    pub lr: f32,
    pub momentum: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    pub nesterov: bool,
}

/// `g' = g + wd·w; v = μ·v + g'; w -= lr · (nesterov ? g' + μ·v : v)`.
pub fn sgd_update(w: &mut [f32], g: &[f32], velocity: &mut [f32], step: SgdStep) {
    assert_eq!(w.len(), g.len());
    assert_eq!(w.len(), velocity.len());
    for ((w, &g), v) in w.iter_mut().zip(g).zip(velocity.iter_mut()) {
        let g = g + step.weight_decay * *w;
        *v = step.momentum * *v + g;
        let direction = if step.nesterov { g + step.momentum * *v } else { *v };
        *w -= step.lr * direction;
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

/// `m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; w -= lr · (m/c1) / (√(v/c2) + ε)`, with weight
/// decay either in `g` (Adam) or as `w -= lr·wd·w` (AdamW).
pub fn adam_update(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: AdamStep) {
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
