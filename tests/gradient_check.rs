//! Finite-difference gradient checks for every layer, the loss, and whole `seed002` and `seed000`
//! networks.
//!
//! The engine computes in f32, so the checks are in f32 with central differences. For a layer the
//! objective is f = Σ y·r with fixed random r (so dL/dy = r), accumulated in f64 from the f32
//! outputs. Conv and dense layers are linear in x and in θ, so the central difference is exact up
//! to rounding: the f32 rounding of f (≈1e-7 relative) divided by 2h leaves about 1e-4 relative
//! error for h = 1e-2. Batch-norm and softmax are smooth: the O(h²) truncation term adds about
//! 1e-4. ReLU and max-pool inputs are kept away from their kinks. The tolerance for layers is
//! 1e-2 on the worst element; the figures printed are typically 10–100× below it.
//!
//! For whole networks a single f32 parameter moves the loss by less than the f32 rounding noise
//! and across thousands of ReLU and max-pool kinks, so no step size works in f32 (measured: 3–30%
//! worst error for any h from 1e-1 to 3e-4). Instead the engine's f32 gradient is compared with
//! central differences (h = 1e-6) of an independent f64 reference forward pass written from the
//! definitions (`common/reference.rs`), after checking that both compute the same logits.
//! Tolerance 1e-3: the analytic side is f32.

mod common;

use common::reference;

use common::{Worst, random_labels, random_tensor, sample_indices};
use fashion_cnn::engine::init::Init;
use fashion_cnn::engine::layers::{
    BatchNorm, Conv2d, Dense, Dropout, Flatten, Layer, MaxPool2d, Mode, Padding, PooledGradient, Relu,
};
use fashion_cnn::engine::loss::SoftmaxCrossEntropy;
use fashion_cnn::engine::model::{LayerSpec, Sequential, parse_spec, preset};
use fashion_cnn::engine::rng::Rng;
use fashion_cnn::engine::tensor::Tensor;

const LAYER_TOLERANCE: f64 = 1e-2;
const FLOOR: f64 = 1e-3;
/// Whole networks: gradients below 1e-2 are compared absolutely (error < tolerance × 1e-2). A
/// conv bias in front of batch-norm has a true gradient of exactly 0, which f32 gives as ~1e-6.
const NETWORK_FLOOR: f64 = 1e-2;

/// f = Σ y·r in f64.
fn objective(layer: &mut dyn Layer, x: &Tensor, r: &Tensor, mode: Mode) -> f64 {
    let y = layer.forward(x, mode);
    y.data.iter().zip(&r.data).map(|(&a, &b)| a as f64 * b as f64).sum()
}

/// Checks dx and every parameter gradient of `layer` at `x` against central differences.
fn check_layer(what: &str, layer: &mut dyn Layer, x: Tensor, mode: Mode, h: f32) {
    let mut rng = Rng::new(99);
    let y = layer.forward(&x, mode);
    layer.freeze_randomness(true);
    let r = random_tensor(&y.shape, -1.0, 1.0, &mut rng);
    for p in layer.params_mut() {
        p.grad.fill(0.0);
    }
    let dx = layer.backward(&x, &y, &r, true).expect("dx was asked for");
    let analytic_params: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();

    let mut worst = Worst::default();
    let mut xp = x.clone();
    for i in sample_indices(x.len(), 400, &mut rng) {
        let original = xp.data[i];
        xp.data[i] = original + h;
        let plus = objective(layer, &xp, &r, mode);
        xp.data[i] = original - h;
        let minus = objective(layer, &xp, &r, mode);
        xp.data[i] = original;
        worst.add(dx.data[i] as f64, (plus - minus) / (2.0 * h as f64), FLOOR, || format!("dx[{i}]"));
    }
    for (p, analytic) in analytic_params.iter().enumerate() {
        for i in sample_indices(analytic.len(), 400, &mut rng) {
            let original = layer.params_mut()[p].value[i];
            layer.params_mut()[p].value[i] = original + h;
            let plus = objective(layer, &x, &r, mode);
            layer.params_mut()[p].value[i] = original - h;
            let minus = objective(layer, &x, &r, mode);
            layer.params_mut()[p].value[i] = original;
            let name = layer.params()[p].name;
            worst.add(analytic[i] as f64, (plus - minus) / (2.0 * h as f64), FLOOR, || format!("d{name}[{i}]"));
        }
    }
    worst.assert_below(what, LAYER_TOLERANCE);
}

/// Values in ±[gap, 1] so a ±h nudge never crosses ReLU's kink at 0.
fn away_from_zero(shape: &[usize], gap: f32, rng: &mut Rng) -> Tensor {
    let mut t = random_tensor(shape, gap, 1.0, rng);
    for v in &mut t.data {
        if rng.next_f32() < 0.5 {
            *v = -*v;
        }
    }
    t
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    let mut rng = Rng::new(1);
    for &(c, hw, filters, k, stride, padding) in &[
        (3, 7, 4, 3, 1, Padding::Valid),  // 5×5 outputs: im2col, samples interleaved
        (2, 8, 3, 3, 1, Padding::Same),   // Winograd forward, wide-row backward
        (2, 16, 9, 3, 1, Padding::Valid), // the same, two weight panels
        (2, 10, 2, 5, 1, Padding::Same),  // 5×5: the wide-row kernel forward
        (2, 9, 3, 5, 2, Padding::Explicit(2)),
        (2, 16, 3, 3, 2, Padding::Explicit(1)), // stride 2, 8×8 outputs: im2col sample by sample
        (1, 10, 4, 3, 1, Padding::Valid),       // one input channel: the direct kernel
        (1, 9, 2, 3, 1, Padding::Same),
    ] {
        let mut layer = Conv2d::new(&[c, hw, hw], filters, k, stride, padding, Init::HeNormal, &mut rng);
        for b in &mut layer.params_mut()[1].value {
            *b = rng.uniform(-0.5, 0.5);
        }
        // 11 samples: two rayon chunks, so the per-chunk partial sums are combined too.
        let x = random_tensor(&[11, c, hw, hw], -1.0, 1.0, &mut rng);
        check_layer(
            &format!("conv {c}×{hw}×{hw} → {filters} k{k} s{stride} {padding:?}"),
            &mut layer,
            x,
            Mode::Train,
            1e-2,
        );
    }
}

/// Stride-1 3×3 convolutions with several input channels compute their forward by Winograd's
/// F(2×2, 3×3): it matches the f64 definition within 1e-5 of the output's scale, with odd output
/// sizes (the last tiles half outside), `same` and 2-pixel padding, a fused ReLU, and batches
/// that fill tasks, leave a short one, or are one sample.
#[test]
fn winograd_forward_matches_the_definition() {
    let mut rng = Rng::new(21);
    let cases = [
        (32, 13, 64, Padding::Valid, 13, false), // `seed002`'s second convolution
        (3, 14, 5, Padding::Same, 1, true),
        (4, 9, 8, Padding::Explicit(2), 8, false),
        (2, 10, 3, Padding::Valid, 5, true),
    ];
    for (c, hw, filters, padding, batch, relu) in cases {
        let what = format!("conv {c}×{hw}×{hw} → {filters} {padding:?}, batch {batch}, relu {relu}");
        let mut layer = Conv2d::new(&[c, hw, hw], filters, 3, 1, padding, Init::HeNormal, &mut rng);
        for b in &mut layer.params_mut()[1].value {
            *b = rng.uniform(-0.5, 0.5);
        }
        if relu {
            assert!(layer.fuse_relu());
        }
        let x = random_tensor(&[batch, c, hw, hw], -1.0, 1.0, &mut rng);
        let got = layer.forward(&x, Mode::Train);
        let params: Vec<Vec<f64>> =
            layer.params().iter().map(|p| p.value.iter().map(|&v| v as f64).collect()).collect();
        let input =
            reference::Batch { n: batch, shape: vec![c, hw, hw], data: x.data.iter().map(|&v| v as f64).collect() };
        let mut layers = vec![LayerSpec::Conv { filters, kernel: 3, stride: 1, padding }];
        if relu {
            layers.push(LayerSpec::Relu);
        }
        let want = reference::forward(&layers, &params, &[], input);
        assert_eq!(got.data.len(), want.data.len(), "{what}");
        let scale = want.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = got.data.iter().zip(&want.data).map(|(&g, w)| (g as f64 - w).abs()).fold(0.0, f64::max);
        println!("{what}: worst difference {:.2e} of {scale:.2}", worst);
        assert!(worst < 1e-5 * scale, "{what}: {worst:e} against outputs up to {scale}");
    }
}

#[test]
fn conv2d_direct_weight_gradient_equals_the_im2col_one() {
    // The first layer skips dx and takes the direct kernel's weight gradient: same numbers.
    let mut rng = Rng::new(2);
    let mut layer = Conv2d::new(&[1, 28, 28], 8, 3, 1, Padding::Valid, Init::HeNormal, &mut rng);
    let x = random_tensor(&[17, 1, 28, 28], 0.0, 1.0, &mut rng);
    let y = layer.forward(&x, Mode::Train);
    let dy = random_tensor(&y.shape, -1.0, 1.0, &mut rng);
    layer.backward(&x, &y, &dy, false);
    let direct: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
    for p in layer.params_mut() {
        p.grad.fill(0.0);
    }
    layer.backward(&x, &y, &dy, true);
    let mut worst = Worst::default();
    for (d, p) in direct.iter().zip(layer.params()) {
        for (i, (&a, &b)) in d.iter().zip(&p.grad).enumerate() {
            worst.add(a as f64, b as f64, FLOOR, || format!("{}[{i}]", p.name));
        }
    }
    // Both are f32 sums of 17·676 terms of mixed sign, added in different orders (SIMD lanes vs
    // GEMM blocks): they agree to about 1e-4 of the result, not to the last bit.
    worst.assert_below("direct vs im2col weight gradient", 1e-3);
}

#[test]
fn dense_gradients_match_finite_differences() {
    let mut rng = Rng::new(3);
    // 70 rows cross the 32-row task boundary; 37 outputs cross the 16-row weight blocks.
    let mut layer = Dense::new(23, 37, Init::GlorotUniform, &mut rng);
    for b in &mut layer.params_mut()[1].value {
        *b = rng.uniform(-0.5, 0.5);
    }
    let x = random_tensor(&[70, 23], -1.0, 1.0, &mut rng);
    check_layer("dense 23 → 37", &mut layer, x, Mode::Train, 1e-2);
}

#[test]
fn relu_gradient_matches_finite_differences() {
    let mut rng = Rng::new(4);
    let x = away_from_zero(&[3, 2, 5, 5], 0.05, &mut rng);
    check_layer("relu", &mut Relu::new(&[2, 5, 5]), x, Mode::Train, 1e-2);
}

#[test]
fn maxpool_gradient_matches_finite_differences() {
    let mut rng = Rng::new(5);
    for &(hw, k, stride) in &[(6, 2, 2), (7, 2, 2), (7, 3, 2), (5, 3, 1)] {
        // A shuffled ramp: every value distinct, neighbours at least 0.05 apart.
        let shape = [2, 3, hw, hw];
        let len: usize = shape.iter().product();
        let mut values: Vec<f32> = (0..len).map(|i| i as f32 * 0.05).collect();
        rng.shuffle(&mut values);
        let x = Tensor::from_vec(&shape, values);
        check_layer(
            &format!("maxpool {hw}×{hw} k{k} s{stride}"),
            &mut MaxPool2d::new(&[3, hw, hw], k, stride),
            x,
            Mode::Train,
            1e-2,
        );
    }
}

#[test]
fn batchnorm_gradients_match_finite_differences() {
    let mut rng = Rng::new(6);
    for mode in [Mode::Train, Mode::Eval] {
        let mut bn2 = BatchNorm::new(&[3, 4, 4]);
        let mut bn1 = BatchNorm::new(&[7]);
        for layer in [&mut bn2 as &mut dyn Layer, &mut bn1] {
            for p in layer.params_mut() {
                for v in &mut p.value {
                    *v += rng.uniform(-0.5, 0.5);
                }
            }
            for b in layer.buffers_mut() {
                for v in b.value.iter_mut() {
                    *v += rng.uniform(0.1, 0.5);
                }
            }
        }
        let x2 = random_tensor(&[5, 3, 4, 4], -2.0, 3.0, &mut rng);
        check_layer(&format!("batch-norm 2-D {mode:?}"), &mut bn2, x2, mode, 1e-2);
        let x1 = random_tensor(&[6, 7], -2.0, 3.0, &mut rng);
        check_layer(&format!("batch-norm 1-D {mode:?}"), &mut bn1, x1, mode, 1e-2);
    }
}

/// Runs `layer` then a separate ReLU, and `fused` (the same layer with the ReLU fused in) on
/// the same input and output gradient: outputs, input gradients and parameter gradients must be
/// the same bits, since the model fuses silently.
fn check_fused_relu(what: &str, layer: &mut dyn Layer, fused: &mut dyn Layer, x: &Tensor, mode: Mode) {
    assert!(fused.fuse_relu(), "{what} fuses a ReLU");
    let mut rng = Rng::new(31);
    let mut relu = Relu::new(&x.shape[1..]);
    let z = layer.forward(x, mode);
    let y = relu.forward(&z, mode);
    let y_fused = fused.forward(x, mode);
    assert!(y.data.contains(&0.0) && y.data.iter().any(|&v| v > 0.0), "{what}: both sides of the kink");
    assert_eq!(y.data, y_fused.data, "{what}: forward");
    let dy = random_tensor(&y.shape, -1.0, 1.0, &mut rng);
    let dz = relu.backward(&z, &y, &dy, true).unwrap();
    let dx = layer.backward(x, &z, &dz, true).unwrap();
    let dx_fused = fused.backward(x, &y_fused, &dy, true).unwrap();
    assert_eq!(dx.data, dx_fused.data, "{what}: dx");
    for (p, q) in layer.params().iter().zip(fused.params()) {
        assert_eq!(p.grad, q.grad, "{what}: d{}", p.name);
    }
}

#[test]
fn a_fused_relu_gives_the_same_bits_as_a_relu_layer() {
    for mode in [Mode::Train, Mode::Eval] {
        let mut rng = Rng::new(8);
        let x = random_tensor(&[5, 3, 4, 4], -2.0, 3.0, &mut rng);
        check_fused_relu(
            &format!("batch-norm 2-D {mode:?}"),
            &mut BatchNorm::new(&[3, 4, 4]),
            &mut BatchNorm::new(&[3, 4, 4]),
            &x,
            mode,
        );
        let x = random_tensor(&[6, 7], -2.0, 3.0, &mut rng);
        check_fused_relu(
            &format!("batch-norm 1-D {mode:?}"),
            &mut BatchNorm::new(&[7]),
            &mut BatchNorm::new(&[7]),
            &x,
            mode,
        );
    }
    for &(c, padding) in &[(2, Padding::Valid), (1, Padding::Same)] {
        let conv = |seed| Conv2d::new(&[c, 8, 8], 3, 3, 1, padding, Init::HeNormal, &mut Rng::new(seed));
        let x = random_tensor(&[11, c, 8, 8], -1.0, 1.0, &mut Rng::new(9));
        check_fused_relu(&format!("conv {c} channel(s) {padding:?}"), &mut conv(4), &mut conv(4), &x, Mode::Train);
    }
}

/// In evaluation a convolution applies the max-pool after it itself (the model skips the pool
/// layer): the same bits as the two layers, on every kernel the convolution picks (direct for
/// one input channel, wide rows, im2col for stride 2 with and without interleaved samples), with
/// and without its fused ReLU, for pools that do and do not tile the output; and training
/// forwards are left unpooled.
#[test]
fn a_fused_max_pool_gives_the_same_bits_as_a_pool_layer() {
    // The direct kernel, Winograd's, the wide-row kernel (5×5), im2col (stride 2).
    let shapes = [
        ([1, 12, 12], 3, 1, Padding::Valid),
        ([4, 13, 13], 3, 1, Padding::Valid),
        ([3, 9, 9], 3, 1, Padding::Same),
        ([2, 12, 12], 5, 1, Padding::Same),
        ([3, 14, 14], 3, 2, Padding::Same),
        ([2, 18, 18], 3, 2, Padding::Same),
    ];
    for (in_shape, k, stride, padding) in shapes {
        for window in [(2, 2), (3, 2), (2, 1)] {
            for relu in [false, true] {
                let what = format!("conv {in_shape:?} k {k} stride {stride} {padding:?}, pool {window:?}, relu {relu}");
                let conv = |seed| Conv2d::new(&in_shape, 5, k, stride, padding, Init::HeNormal, &mut Rng::new(seed));
                let (mut plain, mut fused) = (conv(3), conv(3));
                if relu {
                    assert!(plain.fuse_relu() && fused.fuse_relu(), "{what}");
                }
                assert!(fused.fuse_pool(window), "{what}");
                let x = random_tensor(&[7, in_shape[0], in_shape[1], in_shape[2]], -1.0, 1.0, &mut Rng::new(12));
                let z = plain.forward(&x, Mode::Eval);
                let mut pool = MaxPool2d::new(&z.shape[1..], window.0, window.1);
                assert_eq!(pool.pool_window(), Some(window));
                let want = pool.forward(&z, Mode::Eval);
                let got = fused.forward(&x, Mode::Eval);
                assert_eq!(got.shape, want.shape, "{what}");
                let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{what}");
                if relu && window.0 == 2 {
                    // (3×3 windows rarely lose all nine values to the ReLU.)
                    assert!(want.data.contains(&0.0) && want.data.iter().any(|&v| v > 0.0), "{what}: both sides");
                }
                assert_eq!(
                    fused.forward(&x, Mode::Train).data,
                    plain.forward(&x, Mode::Train).data,
                    "{what}: training"
                );
            }
        }
    }
}

/// A convolution that applies the max-pool after it in training (keeping only the pooled output)
/// and unpools the pool's gradient chunk by chunk in its backward, as the model runs them, gives
/// the same bits as the two layers: the pooled output, dx, dW and db, for the direct, wide and
/// im2col kernels, with and without a fused ReLU masked by the pool, with a batch whose last
/// chunk is short, with dx and without (the first layer). With a fused ReLU that the pool does not
/// mask, the backward needs the unpooled output, and the convolution declines to pool.
#[test]
fn a_convolution_unpooling_its_own_chunks_gives_the_same_bits_as_the_pool_backward() {
    let shapes = [
        ([1, 12, 12], 3, 1, Padding::Valid),
        ([1, 11, 11], 5, 1, Padding::Same),
        ([4, 13, 13], 3, 1, Padding::Valid),
        ([2, 12, 12], 5, 1, Padding::Same),
        ([3, 14, 14], 3, 2, Padding::Same),
    ];
    for (in_shape, k, stride, padding) in shapes {
        for window in [(2, 2), (3, 2)] {
            for relu in [false, true] {
                let what = format!("conv {in_shape:?} k {k} stride {stride} {padding:?}, pool {window:?}, relu {relu}");
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                let conv = |seed| Conv2d::new(&in_shape, 5, k, stride, padding, Init::HeNormal, &mut Rng::new(seed));
                let (mut plain, mut unpooling) = (conv(3), conv(3));
                let x = random_tensor(&[19, in_shape[0], in_shape[1], in_shape[2]], -1.0, 1.0, &mut Rng::new(12));
                let y = plain.forward(&x, Mode::Train);
                let mut pool = MaxPool2d::new(&y.shape[1..], window.0, window.1);
                if relu {
                    // As the model sets them up: the pool masks by the ReLU, the convolution not.
                    assert!(plain.fuse_relu() && unpooling.fuse_relu() && pool.mask_input_gradient_by_relu());
                    plain.skip_relu_mask();
                    unpooling.skip_relu_mask();
                }
                let y = plain.forward(&x, Mode::Train);
                let p = pool.forward(&y, Mode::Train);
                // The other convolution pools its own output: the same bits, no unpooled output.
                let mut own_pool = MaxPool2d::new(&y.shape[1..], window.0, window.1);
                if relu {
                    assert!(own_pool.mask_input_gradient_by_relu());
                }
                let own_p = unpooling.forward_through_pool(&x, &mut own_pool).expect("a convolution pools");
                assert_eq!(bits(&own_p.data), bits(&p.data), "{what}: pooled forward");
                let no_y = Tensor::from_vec(&[0], Vec::new());
                let dp = random_tensor(&p.shape, -1.0, 1.0, &mut Rng::new(13));
                let dy = pool.backward(&y, &p, &dp, true).unwrap();
                let want = plain.backward(&x, &y, &dy, true).unwrap();
                let pooled = PooledGradient { pool: &own_pool, y: &own_p, dy: &dp };
                let got = unpooling.backward_through_pool(&x, &no_y, &pooled, true).unwrap();
                assert_eq!(bits(&got.data), bits(&want.data), "{what}: dx");
                for (got, want) in unpooling.params().iter().zip(plain.params()) {
                    assert!(want.grad.iter().any(|&g| g != 0.0), "{what}: {}", want.name);
                    assert_eq!(bits(&got.grad), bits(&want.grad), "{what}: {}", want.name);
                }
                if relu {
                    let mut masking_itself = conv(3);
                    assert!(masking_itself.fuse_relu());
                    let mut other_pool = MaxPool2d::new(&y.shape[1..], window.0, window.1);
                    assert!(masking_itself.forward_through_pool(&x, &mut other_pool).is_none(), "{what}");
                }
                // The first layer: no dx.
                for param in plain.params_mut().into_iter().chain(unpooling.params_mut()) {
                    param.grad.fill(0.0);
                }
                assert!(plain.backward(&x, &y, &dy, false).is_none());
                assert!(unpooling.backward_through_pool(&x, &no_y, &pooled, false).is_none());
                for (got, want) in unpooling.params().iter().zip(plain.params()) {
                    assert_eq!(bits(&got.grad), bits(&want.grad), "{what}, no dx: {}", want.name);
                }
            }
        }
    }
}

#[test]
fn dropout_and_flatten_gradients_match_finite_differences() {
    let mut rng = Rng::new(7);
    let x = random_tensor(&[4, 3, 5, 5], -1.0, 1.0, &mut rng);
    let mut dropout = Dropout::new(&[3, 5, 5], 0.4, Rng::new(8));
    check_layer("dropout (fixed mask)", &mut dropout, x.clone(), Mode::Train, 1e-2);
    check_layer("dropout (eval)", &mut dropout, x.clone(), Mode::Eval, 1e-2);
    check_layer("flatten", &mut Flatten::new(&[3, 5, 5]), x, Mode::Train, 1e-2);
}

#[test]
fn dropout_keeps_the_expected_fraction_and_scales_by_inverse_keep() {
    let mut dropout = Dropout::new(&[10_000], 0.25, Rng::new(9));
    let x = Tensor::from_vec(&[1, 10_000], vec![1.0; 10_000]);
    let y = dropout.forward(&x, Mode::Train);
    let kept = y.data.iter().filter(|&&v| v != 0.0).count();
    assert!((7_300..7_700).contains(&kept), "kept {kept} of 10000 at rate 0.25");
    assert!(y.data.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    assert_eq!(dropout.forward(&x, Mode::Eval).data, x.data);
}

#[test]
fn softmax_cross_entropy_gradient_matches_finite_differences() {
    let mut rng = Rng::new(10);
    for smoothing in [0.0, 0.1] {
        let loss = SoftmaxCrossEntropy::new(smoothing);
        let logits = random_tensor(&[6, 10], -4.0, 4.0, &mut rng);
        let labels = random_labels(6, 10, &mut rng);
        let out = loss.forward(&logits, &labels);
        let grad = loss.backward(&out, &labels);
        let total = |l: &Tensor| loss.forward(l, &labels).losses.iter().map(|&v| v as f64).sum::<f64>() / 6.0;
        let mut worst = Worst::default();
        let h = 1e-2;
        let mut probe = logits.clone();
        for i in 0..logits.len() {
            probe.data[i] = logits.data[i] + h;
            let plus = total(&probe);
            probe.data[i] = logits.data[i] - h;
            let minus = total(&probe);
            probe.data[i] = logits.data[i];
            worst.add(grad.data[i] as f64, (plus - minus) / (2.0 * h as f64), FLOOR, || format!("dlogits[{i}]"));
        }
        worst.assert_below(&format!("softmax cross-entropy, smoothing {smoothing}"), LAYER_TOLERANCE);
        // The loss itself against the definition, in f64.
        for (n, &label) in labels.iter().enumerate() {
            let row: Vec<f64> = logits.sample(n).iter().map(|&v| v as f64).collect();
            let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
            let expected: f64 = (0..10)
                .map(|j| {
                    let target =
                        smoothing as f64 / 10.0 + if j == label as usize { 1.0 - smoothing as f64 } else { 0.0 };
                    target * (lse - row[j])
                })
                .sum();
            assert!(
                (out.losses[n] as f64 - expected).abs() < 1e-5 * expected.max(1.0),
                "loss {} vs {expected}",
                out.losses[n]
            );
        }
    }
}

/// The smallest gap between a max-pool window's two largest values that the whole-network checks
/// accept in their input (see `check_network`).
const MIN_POOL_GAP: f64 = 1e-5;

/// Checks the engine's f32 gradient of a whole network against central differences of the f64
/// reference forward pass (`common::reference`), with the engine's dropout masks.
fn check_network(name: &str, batch: usize, elements_per_tensor: usize, tolerance: f64) {
    let mut rng = Rng::new(12);
    let spec = preset(name).unwrap().spec;
    let mut model = Sequential::from_spec(name, spec, &[1, 28, 28], 10, Init::HeNormal, 5).unwrap();
    // Nonzero biases and batch-norm shifts, so no gradient is trivially zero.
    for p in model.params_mut() {
        if !p.decay {
            p.value.iter_mut().for_each(|v| *v += rng.uniform(-0.1, 0.1));
        }
    }
    let loss = SoftmaxCrossEntropy::new(0.0);
    let layers: Vec<LayerSpec> = parse_spec(spec).unwrap().into_iter().map(|(_, l)| l).collect();
    let params: Vec<Vec<f64>> = model.params().iter().map(|p| p.value.iter().map(|&v| v as f64).collect()).collect();
    // An input none of whose max-pool windows holds a near tie: there the f32 engine may pick
    // the other winner than the f64 reference (seed000's first draw had two values 1e-6 apart,
    // which Winograd's rounding swapped), and the finite difference crosses the kink.
    let (labels, logits, grads, masks, input) = loop {
        let x = random_tensor(&[batch, 1, 28, 28], 0.0, 1.0, &mut rng);
        let labels = random_labels(batch, 10, &mut rng);
        model.freeze_randomness(false);
        let logits = model.forward(x.clone(), Mode::Train).clone();
        let out = loss.forward(&logits, &labels);
        model.zero_grad();
        model.backward(loss.backward(&out, &labels));
        let grads: Vec<Vec<f32>> = model.params().iter().map(|p| p.grad.clone()).collect();

        // The engine's dropout masks: a frozen dropout layer maps ones to its mask.
        model.freeze_randomness(true);
        let mut masks = Vec::new();
        for layer in model.layers_mut().iter_mut().filter(|l| l.kind() == "Dropout") {
            let ones_shape: Vec<usize> = std::iter::once(batch).chain(layer.out_shape()).collect();
            let ones = Tensor::from_vec(&ones_shape, vec![1.0; ones_shape.iter().product()]);
            let mask = layer.forward(&ones, Mode::Train);
            masks.push(mask.data.iter().map(|&v| v as f64).collect::<Vec<f64>>());
        }
        let input =
            reference::Batch { n: batch, shape: vec![1, 28, 28], data: x.data.iter().map(|&v| v as f64).collect() };
        let (_, gap) = reference::forward_with_pool_gap(&layers, &params, &masks, input.clone());
        if gap > MIN_POOL_GAP {
            break (labels, logits, grads, masks, input);
        }
        println!("{name}: another input, a max-pool window's two largest values being {gap:.1e} apart");
    };
    let reference_loss = |params: &[Vec<f64>]| {
        reference::mean_cross_entropy(&reference::forward(&layers, params, &masks, input.clone()), &labels)
    };

    // The reference computes the same function as the engine.
    let reference_logits = reference::forward(&layers, &params, &masks, input.clone());
    let worst_logit =
        reference_logits.data.iter().zip(&logits.data).map(|(a, &b)| (a - b as f64).abs()).fold(0.0, f64::max);
    println!("{name}: engine vs f64 reference logits differ by at most {worst_logit:.2e}");
    assert!(worst_logit < 1e-4, "{name}: the engine's logits differ from the f64 reference by {worst_logit:e}");

    let h = 1e-6;
    let mut worst = Worst::default();
    for (p, grad) in grads.iter().enumerate() {
        let shape = &model.params()[p].shape;
        let mut order: Vec<usize> = (0..grad.len()).collect();
        order.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()));
        // The largest gradients, and some at random.
        let mut indices: Vec<usize> = order.iter().take(elements_per_tensor).copied().collect();
        indices.extend(sample_indices(grad.len(), elements_per_tensor, &mut rng));
        let mut perturbed = params.clone();
        for i in indices {
            perturbed[p][i] = params[p][i] + h;
            let plus = reference_loss(&perturbed);
            perturbed[p][i] = params[p][i] - h;
            let minus = reference_loss(&perturbed);
            perturbed[p][i] = params[p][i];
            worst
                .add(grad[i] as f64, (plus - minus) / (2.0 * h), NETWORK_FLOOR, || format!("param {p} {shape:?}[{i}]"));
        }
    }
    worst.assert_below(&format!("whole {name} network vs f64 reference"), tolerance);
}

#[test]
fn seed002_network_gradients_match_finite_differences() {
    check_network("seed002", 8, 4, 1e-3);
}

#[test]
fn seed000_network_gradients_match_finite_differences_with_batchnorm_and_fixed_dropout() {
    check_network("seed000", 4, 3, 1e-3);
}
