//! A plain f64 reference forward pass of a sequential network, written from the definitions
//! with nested loops. The whole-network gradient checks difference *this* function (in f64,
//! where a step of 1e-6 is far above rounding and far below the distance to most ReLU and
//! max-pool kinks) and compare with the engine's f32 backward pass.

use fashion_cnn::engine::layers::Padding;
use fashion_cnn::engine::model::LayerSpec;

/// Batch-norm's ε in the engine.
const BN_EPS: f64 = 1e-5;

/// A batch of activations: shape per sample and the flat f64 data.
#[derive(Clone)]
pub struct Batch {
    pub n: usize,
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Runs `layers` over `x`. `params` holds each parameterised layer's tensors in order
/// (conv/dense: weight, bias; bn: gamma, beta); `masks` each dropout layer's mask in order.
pub fn forward(layers: &[LayerSpec], params: &[Vec<f64>], masks: &[Vec<f64>], x: Batch) -> Batch {
    forward_with_pool_gap(layers, params, masks, x).0
}

/// [`forward`], and the smallest gap between the largest and the second largest value of any
/// max-pool window whose largest value is positive. Where that gap is within rounding, the f32
/// engine may pick the other winner than this reference, and a finite difference across the
/// kink does not check the gradient.
pub fn forward_with_pool_gap(layers: &[LayerSpec], params: &[Vec<f64>], masks: &[Vec<f64>], x: Batch) -> (Batch, f64) {
    let mut x = x;
    let mut gap = f64::INFINITY;
    let mut p = params.iter();
    let mut m = masks.iter();
    for layer in layers {
        x = match *layer {
            LayerSpec::Conv { filters, kernel, stride, padding } => {
                let pad = match padding {
                    Padding::Valid => 0,
                    Padding::Same => (kernel - 1) / 2,
                    Padding::Explicit(p) => p,
                };
                conv(&x, p.next().unwrap(), p.next().unwrap(), filters, kernel, stride, pad)
            }
            LayerSpec::Pool { kernel, stride } => {
                gap = gap.min(smallest_window_gap(&x, kernel, stride));
                maxpool(&x, kernel, stride)
            }
            LayerSpec::BatchNorm => batchnorm(&x, p.next().unwrap(), p.next().unwrap()),
            LayerSpec::Relu => Batch { data: x.data.iter().map(|v| v.max(0.0)).collect(), ..x },
            LayerSpec::Dropout(_) => {
                let mask = m.next().unwrap();
                Batch { data: x.data.iter().zip(mask).map(|(v, k)| v * k).collect(), ..x }
            }
            LayerSpec::Flatten => Batch { shape: vec![x.shape.iter().product()], ..x },
            LayerSpec::Dense(units) => dense(&x, p.next().unwrap(), p.next().unwrap(), units),
        };
    }
    (x, gap)
}

/// The smallest (largest − second largest) over the windows of a max-pool whose largest value
/// is positive.
fn smallest_window_gap(x: &Batch, k: usize, s: usize) -> f64 {
    let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2]);
    let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
    let mut gap = f64::INFINITY;
    for plane in 0..x.n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
                for ky in 0..k {
                    for kx in 0..k {
                        let v = x.data[(plane * h + oy * s + ky) * w + ox * s + kx];
                        if v > first {
                            (first, second) = (v, first);
                        } else if v > second {
                            second = v;
                        }
                    }
                }
                if first > 0.0 {
                    gap = gap.min(first - second);
                }
            }
        }
    }
    gap
}

fn conv(x: &Batch, w: &[f64], b: &[f64], filters: usize, k: usize, s: usize, pad: usize) -> Batch {
    let (c, h, wd) = (x.shape[0], x.shape[1], x.shape[2]);
    let (oh, ow) = ((h + 2 * pad - k) / s + 1, (wd + 2 * pad - k) / s + 1);
    let mut y = vec![0.0; x.n * filters * oh * ow];
    for n in 0..x.n {
        for o in 0..filters {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = b[o];
                    for ci in 0..c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * s + ky) as isize - pad as isize;
                                let ix = (ox * s + kx) as isize - pad as isize;
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= wd {
                                    continue;
                                }
                                let xv = x.data[((n * c + ci) * h + iy as usize) * wd + ix as usize];
                                acc += w[((o * c + ci) * k + ky) * k + kx] * xv;
                            }
                        }
                    }
                    y[((n * filters + o) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    Batch { n: x.n, shape: vec![filters, oh, ow], data: y }
}

fn maxpool(x: &Batch, k: usize, s: usize) -> Batch {
    let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2]);
    let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
    let mut y = vec![f64::NEG_INFINITY; x.n * c * oh * ow];
    for plane in 0..x.n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                for ky in 0..k {
                    for kx in 0..k {
                        let v = x.data[(plane * h + oy * s + ky) * w + ox * s + kx];
                        let out = &mut y[(plane * oh + oy) * ow + ox];
                        *out = out.max(v);
                    }
                }
            }
        }
    }
    Batch { n: x.n, shape: vec![c, oh, ow], data: y }
}

fn batchnorm(x: &Batch, gamma: &[f64], beta: &[f64]) -> Batch {
    let c = x.shape[0];
    let plane: usize = x.shape[1..].iter().product();
    let count = (x.n * plane) as f64;
    let mut y = x.data.clone();
    for ch in 0..c {
        let values = |n: usize| (0..plane).map(move |i| (n * c + ch) * plane + i);
        let mean: f64 = (0..x.n).flat_map(values).map(|i| x.data[i]).sum::<f64>() / count;
        let var: f64 = (0..x.n).flat_map(values).map(|i| (x.data[i] - mean).powi(2)).sum::<f64>() / count;
        for i in (0..x.n).flat_map(values) {
            y[i] = gamma[ch] * (x.data[i] - mean) / (var + BN_EPS).sqrt() + beta[ch];
        }
    }
    Batch { data: y, ..x.clone() }
}

fn dense(x: &Batch, w: &[f64], b: &[f64], units: usize) -> Batch {
    let inputs = x.shape[0];
    let mut y = vec![0.0; x.n * units];
    for n in 0..x.n {
        for o in 0..units {
            y[n * units + o] = b[o] + (0..inputs).map(|i| w[o * inputs + i] * x.data[n * inputs + i]).sum::<f64>();
        }
    }
    Batch { n: x.n, shape: vec![units], data: y }
}

/// Mean softmax cross-entropy of (N, K) logits against integer labels.
pub fn mean_cross_entropy(logits: &Batch, labels: &[u8]) -> f64 {
    let k = logits.shape[0];
    let total: f64 = labels
        .iter()
        .enumerate()
        .map(|(n, &label)| {
            let row = &logits.data[n * k..(n + 1) * k];
            let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            lse - row[label as usize]
        })
        .sum();
    total / labels.len() as f64
}
