//! Softmax with cross-entropy against a target distribution (one-hot or label-smoothed), per row.

/// Writes `probs = softmax(logits)` and returns `-Σ target·log(probs)` for one sample.
pub fn softmax_cross_entropy(logits: &[f32], target: &[f32], probs: &mut [f32]) -> f32 {
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

/// `dlogits = (probs - target) · scale`; the scale is 1 / batch size for a mean loss.
pub fn softmax_cross_entropy_backward(probs: &[f32], target: &[f32], scale: f32, dlogits: &mut [f32]) {
    assert_eq!(probs.len(), dlogits.len());
    assert_eq!(target.len(), dlogits.len());
    for ((d, &p), &t) in dlogits.iter_mut().zip(probs).zip(target) {
        *d = (p - t) * scale;
    }
}
