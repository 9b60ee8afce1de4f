//! Max-pooling over one H×W plane, remembering where each maximum came from.

/// `y` (OH×OW) holds the max of each `k×k` window moved by `stride`; `argmax` its index in the
/// plane (the first maximum in row-major order on ties). `OH = (h - k) / stride + 1`.
#[allow(clippy::too_many_arguments)]
pub fn maxpool_forward(x: &[f32], h: usize, w: usize, k: usize, stride: usize, y: &mut [f32], argmax: &mut [u32]) {
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

/// `dx[argmax[i]] += dy[i]`: each output's gradient goes to the input that won its window.
pub fn maxpool_backward(dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    assert_eq!(dy.len(), argmax.len());
    for (&g, &index) in dy.iter().zip(argmax) {
        dx[index as usize] += g;
    }
}
