//! Direct convolution for layers with one input channel (the first layer on gray images), where
//! im2col would build a 9-row matrix and the GEMM would spend its time packing.

/// `out[o][y][x] = bias[o] + Σ w[o][ky][kx] · plane[y+ky][x+kx]`: stride 1 over an already padded
/// `h × w` plane; `out` is OC × (h-k+1) × (w-k+1), `weights` OC × k × k.
#[allow(clippy::too_many_arguments)]
pub fn conv1_forward(plane: &[f32], h: usize, w: usize, weights: &[f32], bias: &[f32], k: usize, out: &mut [f32]) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let out_channels = bias.len();
    assert_eq!(plane.len(), h * w);
    assert_eq!(weights.len(), out_channels * k * k);
    assert_eq!(out.len(), out_channels * oh * ow);
    for (o, out_plane) in out.chunks_exact_mut(oh * ow).enumerate() {
        out_plane.fill(bias[o]);
        let kernel = &weights[o * k * k..(o + 1) * k * k];
        for y in 0..oh {
            let out_row = &mut out_plane[y * ow..(y + 1) * ow];
            for ky in 0..k {
                let in_row = &plane[(y + ky) * w..(y + ky + 1) * w];
                for kx in 0..k {
                    let weight = kernel[ky * k + kx];
                    for (dst, &src) in out_row.iter_mut().zip(&in_row[kx..kx + ow]) {
                        *dst += weight * src;
                    }
                }
            }
        }
    }
}

/// `dweights[o][ky][kx] += Σ dy[o][y][x] · plane[y+ky][x+kx]` and `dbias[o] += Σ dy[o]`.
#[allow(clippy::too_many_arguments)]
pub fn conv1_backward_weights(
    plane: &[f32],
    h: usize,
    w: usize,
    dy: &[f32],
    k: usize,
    dweights: &mut [f32],
    dbias: &mut [f32],
) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let out_channels = dbias.len();
    assert_eq!(plane.len(), h * w);
    assert_eq!(dy.len(), out_channels * oh * ow);
    assert_eq!(dweights.len(), out_channels * k * k);
    for (o, dy_plane) in dy.chunks_exact(oh * ow).enumerate() {
        dbias[o] += dy_plane.iter().sum::<f32>();
        for ky in 0..k {
            for kx in 0..k {
                let mut acc = 0.0;
                for y in 0..oh {
                    let in_row = &plane[(y + ky) * w + kx..(y + ky) * w + kx + ow];
                    let g_row = &dy_plane[y * ow..(y + 1) * ow];
                    acc += g_row.iter().zip(in_row).map(|(g, x)| g * x).sum::<f32>();
                }
                dweights[(o * k + ky) * k + kx] += acc;
            }
        }
    }
}
