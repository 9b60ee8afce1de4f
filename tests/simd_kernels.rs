//! Every dispatched kernel, on every kernel path this CPU supports, against its scalar twin.
//!
//! Inputs and outputs are sub-slices starting at offsets 0, 1 and 3 of larger buffers, so loads
//! are unaligned, and the cells around each output must be left alone (masked tails must not
//! write past the slice). Where the vector body does the scalar twin's roundings in its order the
//! results must be bit-identical (`assert_eq!`); reductions, whose order differs, are held to an
//! f64 reference with a bound proportional to the length. The worst difference per kernel and
//! path is printed (`cargo test --release --test simd_kernels -- --nocapture`).

use fashion_cnn::engine::kernels::{
    SimdPath, batchnorm, conv_direct, conv_wide, elementwise, pool, simd_path, softmax, update,
};
use fashion_cnn::engine::rng::Rng;

const LENGTHS: [usize; 11] = [0, 1, 7, 8, 15, 16, 17, 31, 33, 100, 1000];
const OFFSETS: [usize; 3] = [0, 1, 3];
/// Written around every output slice (32 cells after it: more than a whole vector); a kernel
/// that touches it fails the test.
const GUARD: f32 = -9.25e30;

/// `values` placed at `offset` in a larger buffer, with guard cells before and after.
struct Slot<T> {
    buf: Vec<T>,
    offset: usize,
    len: usize,
    guard: T,
}

impl<T: Copy + PartialEq + std::fmt::Debug> Slot<T> {
    fn new(values: &[T], offset: usize, guard: T) -> Slot<T> {
        let mut buf = vec![guard; offset + values.len() + 32];
        buf[offset..offset + values.len()].copy_from_slice(values);
        Slot { buf, offset, len: values.len(), guard }
    }
    fn get(&self) -> &[T] {
        &self.buf[self.offset..self.offset + self.len]
    }
    fn get_mut(&mut self) -> &mut [T] {
        &mut self.buf[self.offset..self.offset + self.len]
    }
    /// The slice's values, after checking that nothing around it was written.
    fn checked(&self, what: &str) -> Vec<T> {
        let outside = self.buf[..self.offset].iter().chain(&self.buf[self.offset + self.len..]);
        assert!(outside.into_iter().all(|&v| v == self.guard), "{what}: wrote outside its slice");
        self.get().to_vec()
    }
}

fn f32_slot(values: &[f32], offset: usize) -> Slot<f32> {
    Slot::new(values, offset, GUARD)
}

fn random(rng: &mut Rng, len: usize, low: f32, high: f32) -> Vec<f32> {
    (0..len).map(|_| rng.uniform(low, high)).collect()
}

/// The largest difference seen per path, printed when the test has passed.
struct Worst {
    kernel: &'static str,
    unit: &'static str,
    by_path: Vec<(SimdPath, f64)>,
}

impl Worst {
    fn new(kernel: &'static str, unit: &'static str) -> Worst {
        let by_path = SimdPath::supported().into_iter().map(|p| (p, 0.0)).collect();
        Worst { kernel, unit, by_path }
    }
    fn note(&mut self, path: SimdPath, diff: f64) {
        let entry = self.by_path.iter_mut().find(|(p, _)| *p == path).unwrap();
        entry.1 = entry.1.max(diff);
    }
    /// Notes the largest element difference, then demands equality.
    fn exact(&mut self, path: SimdPath, got: &[f32], want: &[f32], what: &str) {
        let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs() as f64).filter(|d| !d.is_nan()).fold(0.0, f64::max);
        self.note(path, diff);
        assert_eq!(got, want, "{what}");
    }
    fn report(&self) {
        for (path, diff) in &self.by_path {
            println!("{:<32} {:<7} worst {:.3e} {}", self.kernel, path.name(), diff, self.unit);
        }
    }
}

/// Checks a sum against its f64 reference; the bound is (n + 4)·ε·Σ|terms|, the classic bound for
/// recursive summation plus a few roundings inside each term. Notes the error relative to Σ|terms|.
fn check_sum(worst: &mut Worst, path: SimdPath, got: f32, terms: &[f64], what: &str) {
    let reference: f64 = terms.iter().sum();
    let magnitude: f64 = terms.iter().map(|t| t.abs()).sum();
    let bound = (terms.len() + 4) as f64 * f32::EPSILON as f64 * magnitude;
    let error = (got as f64 - reference).abs();
    worst.note(path, if magnitude > 0.0 { error / magnitude } else { error });
    assert!(error <= bound, "{what}: {got} vs f64 {reference}, error {error:e} > bound {bound:e}");
}

/// Runs `body(path, len, offset, what)` over every path, length and offset.
fn each_case(mut body: impl FnMut(SimdPath, usize, usize, &str)) {
    for path in SimdPath::supported() {
        for len in LENGTHS {
            for offset in OFFSETS {
                body(path, len, offset, &format!("{} len {len} offset {offset}", path.name()));
            }
        }
    }
}

/// Element-wise map `f(path, x, out)` against `f(Scalar, …)`, bit for bit.
fn check_map1(kernel: &'static str, f: impl Fn(SimdPath, &[f32], &mut [f32])) {
    let mut worst = Worst::new(kernel, "(exact)");
    let mut rng = Rng::new(1);
    each_case(|path, len, offset, what| {
        let x = random(&mut rng, len, -3.0, 3.0);
        let mut want = vec![0.0; len];
        f(SimdPath::Scalar, &x, &mut want);
        let (x_slot, mut out) = (f32_slot(&x, offset), f32_slot(&vec![0.0; len], offset));
        f(path, x_slot.get(), out.get_mut());
        worst.exact(path, &out.checked(what), &want, what);
    });
    worst.report();
}

#[test]
fn add_bias() {
    check_map1("add_bias", |p, x, out| elementwise::add_bias_on(p, x, 0.37, out));
}

#[test]
fn add_bias_relu() {
    check_map1("add_bias_relu", |p, x, out| elementwise::add_bias_relu_on(p, x, -0.21, out));
}

/// Wide rows cut to the output with a bias per plane, against the scalar twin bit for bit, and
/// the twin against its definition; row lengths below, at and past a vector, short and long
/// wide rows.
#[test]
fn add_bias_cropped() {
    let mut worst = Worst::new("add_bias_cropped", "(exact)");
    let mut rng = Rng::new(4);
    for path in SimdPath::supported() {
        for (planes, rows, cols, ld) in [(1, 1, 1, 1), (3, 11, 11, 13), (2, 5, 16, 18), (4, 3, 17, 32), (2, 2, 40, 41)]
        {
            for (offset, relu) in OFFSETS.into_iter().zip([true, false, true]) {
                let what = format!("{} {planes}×{rows}×{cols} of {ld} relu {relu} offset {offset}", path.name());
                let x = random(&mut rng, planes * rows * ld, -3.0, 3.0);
                let biases = random(&mut rng, planes, -1.0, 1.0);
                let len = planes * rows * cols;
                let mut want = vec![0.0; len];
                elementwise::add_bias_cropped_on(SimdPath::Scalar, &x, ld, rows, &biases, relu, &mut want);
                for (i, &w) in want.iter().enumerate() {
                    let (row, col) = (i / cols, i % cols);
                    let v = x[row * ld + col] + biases[row / rows];
                    assert_eq!(w, if relu { v.max(0.0) } else { v }, "scalar twin at {i}: {what}");
                }
                let (x_slot, mut out) = (f32_slot(&x, offset), f32_slot(&vec![0.0; len], offset));
                elementwise::add_bias_cropped_on(path, x_slot.get(), ld, rows, &biases, relu, out.get_mut());
                worst.exact(path, &out.checked(&what), &want, &what);
            }
        }
    }
    worst.report();
}

#[test]
fn relu_forward() {
    check_map1("relu_forward", elementwise::relu_forward_on);
}

#[test]
fn scale_shift() {
    // Both twins fuse the multiply-add (f32::mul_add, vfmadd), so this one is exact too.
    check_map1("scale_shift", |p, x, out| elementwise::scale_shift_on(p, x, 1.7, -0.4, out));
}

#[test]
fn scale_shift_relu() {
    check_map1("scale_shift_relu", |p, x, out| elementwise::scale_shift_relu_on(p, x, 1.7, -0.4, out));
}

#[test]
fn relu_backward() {
    check_map1("relu_backward", |p, y, dx| {
        let dy: Vec<f32> = (0..y.len()).map(|i| i as f32 * 0.5 - 3.0).collect();
        elementwise::relu_backward_on(p, y, &dy, dx)
    });
}

#[test]
fn multiply() {
    check_map1("multiply", |p, x, out| {
        let mask: Vec<f32> = (0..x.len()).map(|i| if i % 3 == 0 { 0.0 } else { 1.25 }).collect();
        elementwise::multiply_on(p, x, &mask, out)
    });
}

#[test]
fn add_assign() {
    check_map1("add_assign", |p, x, acc| {
        acc.iter_mut().enumerate().for_each(|(i, a)| *a = (i as f32).sin());
        elementwise::add_assign_on(p, acc, x)
    });
}

#[test]
fn sum() {
    let mut worst = Worst::new("sum", "relative to Σ|x|");
    let mut rng = Rng::new(2);
    each_case(|path, len, offset, what| {
        let x = random(&mut rng, len, -3.0, 3.0);
        let got = elementwise::sum_on(path, f32_slot(&x, offset).get());
        check_sum(&mut worst, path, got, &x.iter().map(|&v| v as f64).collect::<Vec<_>>(), what);
    });
    worst.report();
}

#[test]
fn sum_dy_dy_xhat() {
    let mut worst = Worst::new("sum_dy_dy_xhat", "relative to Σ|terms|");
    let mut rng = Rng::new(4);
    each_case(|path, len, offset, what| {
        let (dy, x) = (random(&mut rng, len, -1.0, 1.0), random(&mut rng, len, -2.0, 3.0));
        let (mean, inv_std) = (0.4f32, 1.3f32);
        let (dy_slot, x_slot) = (f32_slot(&dy, offset), f32_slot(&x, offset));
        let (got_dy, got_dy_xhat) = batchnorm::sum_dy_dy_xhat_on(path, dy_slot.get(), x_slot.get(), mean, inv_std);
        let dy64: Vec<f64> = dy.iter().map(|&g| g as f64).collect();
        let xhat = |v: f32| (v as f64 - mean as f64) * inv_std as f64;
        let dy_xhat: Vec<f64> = dy.iter().zip(&x).map(|(&g, &v)| g as f64 * xhat(v)).collect();
        check_sum(&mut worst, path, got_dy, &dy64, &format!("Σdy {what}"));
        check_sum(&mut worst, path, got_dy_xhat, &dy_xhat, &format!("Σdy·x̂ {what}"));
    });
    worst.report();
}

#[test]
fn affine2() {
    let mut worst = Worst::new("affine2", "(exact)");
    let mut rng = Rng::new(5);
    each_case(|path, len, offset, what| {
        let (dy, x) = (random(&mut rng, len, -1.0, 1.0), random(&mut rng, len, -2.0, 2.0));
        let mut want = vec![0.0; len];
        batchnorm::affine2_scalar(&dy, &x, 0.8, -0.3, 0.05, &mut want);
        let (dy_slot, x_slot, mut dx) = (f32_slot(&dy, offset), f32_slot(&x, offset), f32_slot(&want, offset));
        dx.get_mut().fill(0.0);
        batchnorm::affine2_on(path, dy_slot.get(), x_slot.get(), 0.8, -0.3, 0.05, dx.get_mut());
        worst.exact(path, &dx.checked(what), &want, what);
    });
    worst.report();
}

#[test]
fn sum_and_sum_sq_dev() {
    let mut worst = Worst::new("sum_and_sum_sq_dev", "relative to Σ|terms|");
    let mut rng = Rng::new(11);
    each_case(|path, len, offset, what| {
        // Far from zero, as a channel with a large mean: the shift keeps the squares small.
        let x = random(&mut rng, len, 99.0, 101.0);
        let shift = x.first().copied().unwrap_or(0.0);
        let (sum, squares) = batchnorm::sum_and_sum_sq_dev_on(path, f32_slot(&x, offset).get(), shift);
        let dev: Vec<f64> = x.iter().map(|&v| (v - shift) as f64).collect();
        check_sum(&mut worst, path, sum, &dev, &format!("Σ(x-s) {what}"));
        check_sum(
            &mut worst,
            path,
            squares,
            &dev.iter().map(|d| d * d).collect::<Vec<_>>(),
            &format!("Σ(x-s)² {what}"),
        );
    });
    worst.report();
}

/// A fused ReLU's gate: x·scale + shift, about half of it below zero, some of it exactly zero.
fn gated_case(rng: &mut Rng, len: usize) -> (Vec<f32>, Vec<f32>, (f32, f32)) {
    let (dy, mut x) = (random(rng, len, -1.0, 1.0), random(rng, len, -2.0, 2.0));
    let gate = (1.5f32, -0.75f32);
    for v in x.iter_mut().step_by(5) {
        *v = 0.5; // 0.5·1.5 − 0.75 = 0 exactly: the ReLU passes nothing there.
    }
    (dy, x, gate)
}

/// `dy` masked as the ReLU's backward masks it, from the fused forward's own output.
fn masked_by_relu(path: SimdPath, dy: &[f32], x: &[f32], (scale, shift): (f32, f32)) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    elementwise::scale_shift_relu_on(path, x, scale, shift, &mut y);
    let mut masked = vec![0.0; x.len()];
    elementwise::relu_backward_on(path, &y, dy, &mut masked);
    masked
}

#[test]
fn sum_dy_dy_xhat_relu_is_the_sums_of_the_masked_gradient() {
    let mut worst = Worst::new("sum_dy_dy_xhat_relu", "(exact against masking first)");
    let mut rng = Rng::new(12);
    each_case(|path, len, offset, what| {
        let (dy, x, gate) = gated_case(&mut rng, len);
        let (mean, inv_std) = (0.1f32, 1.7f32);
        let (dy_slot, x_slot) = (f32_slot(&dy, offset), f32_slot(&x, offset));
        let got = batchnorm::sum_dy_dy_xhat_relu_on(path, dy_slot.get(), x_slot.get(), mean, inv_std, gate);
        let want = batchnorm::sum_dy_dy_xhat_on(path, &masked_by_relu(path, &dy, &x, gate), &x, mean, inv_std);
        worst.exact(path, &[got.0, got.1], &[want.0, want.1], what);
    });
    worst.report();
}

#[test]
fn the_relu_gate_is_the_forwards_fused_multiply_add() {
    // scale = 1 + 2⁻²³, shift = −1, x = 1 − 2⁻²⁴: x·scale + shift is 2⁻²⁴ − 2⁻⁴⁷ > 0 with one
    // rounding (a fused multiply-add), but 0 when the product is rounded first (to 1). The
    // forward passes it, so the gate must too, on every path.
    let (x, gate) = (1.0 - 2f32.powi(-24), (1.0 + 2f32.powi(-23), -1.0f32));
    assert_eq!(x * gate.0 + gate.1, 0.0, "the unfused expression closes the gate");
    for path in SimdPath::supported() {
        let mut y = [0.0];
        elementwise::scale_shift_relu_on(path, &[x], gate.0, gate.1, &mut y);
        assert!(y[0] > 0.0, "{}: forward {}", path.name(), y[0]);
        let (sum_dy, _) = batchnorm::sum_dy_dy_xhat_relu_on(path, &[0.5], &[x], 0.0, 1.0, gate);
        assert_eq!(sum_dy, 0.5, "{}: sums", path.name());
        let mut dx = [0.0];
        batchnorm::affine2_relu_on(path, &[0.5], &[x], 1.0, 0.0, 0.0, gate, &mut dx);
        assert_eq!(dx[0], 0.5, "{}: dx", path.name());
    }
}

#[test]
fn affine2_relu_is_affine2_of_the_masked_gradient() {
    let mut worst = Worst::new("affine2_relu", "(exact)");
    let mut rng = Rng::new(13);
    each_case(|path, len, offset, what| {
        let (dy, x, gate) = gated_case(&mut rng, len);
        let mut want = vec![0.0; len];
        batchnorm::affine2_scalar(&masked_by_relu(SimdPath::Scalar, &dy, &x, gate), &x, 0.8, -0.3, 0.05, &mut want);
        let (dy_slot, x_slot, mut dx) = (f32_slot(&dy, offset), f32_slot(&x, offset), f32_slot(&want, offset));
        dx.get_mut().fill(0.0);
        batchnorm::affine2_relu_on(path, dy_slot.get(), x_slot.get(), 0.8, -0.3, 0.05, gate, dx.get_mut());
        worst.exact(path, &dx.checked(what), &want, what);
    });
    worst.report();
}

#[test]
fn softmax_backward() {
    let mut worst = Worst::new("softmax_cross_entropy_backward", "(exact)");
    let mut rng = Rng::new(6);
    each_case(|path, len, offset, what| {
        let (probs, target) = (random(&mut rng, len, 0.0, 1.0), random(&mut rng, len, 0.0, 1.0));
        let mut want = vec![0.0; len];
        softmax::softmax_cross_entropy_backward_scalar(&probs, &target, 1.0 / 64.0, &mut want);
        let (p_slot, t_slot, mut d) = (f32_slot(&probs, offset), f32_slot(&target, offset), f32_slot(&want, offset));
        d.get_mut().fill(0.0);
        softmax::softmax_cross_entropy_backward_on(path, p_slot.get(), t_slot.get(), 1.0 / 64.0, d.get_mut());
        worst.exact(path, &d.checked(what), &want, what);
    });
    worst.report();
}

/// Without `init_simd_path` first: the lazy initialisation once deadlocked, so this runs on a
/// thread and fails on a timeout rather than hanging the suite.
#[test]
fn dispatched_kernels_use_the_process_path() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let x: Vec<f32> = (0..37).map(|i| (i as f32 * 0.7).sin()).collect();
        let (mut a, mut b) = (vec![0.0; 37], vec![0.0; 37]);
        elementwise::relu_forward(&x, &mut a);
        elementwise::relu_forward_on(simd_path(), &x, &mut b);
        done.send(a == b).unwrap();
    });
    let same = finished.recv_timeout(std::time::Duration::from_secs(20)).expect("dispatched kernel hung or panicked");
    assert!(same, "relu_forward differs from relu_forward_on(simd_path())");
    println!("process path: {}", simd_path().name());
}

#[test]
fn env_value_is_checked() {
    let err = SimdPath::from_env_value(Some("bogus")).unwrap_err();
    assert!(err.contains("FASHION_CNN_SIMD=bogus is not a kernel path"), "{err}");
    assert_eq!(SimdPath::from_env_value(None), Ok(SimdPath::detect()));
    assert_eq!(SimdPath::from_env_value(Some("auto")), Ok(SimdPath::detect()));
    for path in [SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512] {
        let result = SimdPath::from_env_value(Some(path.name()));
        if path.is_supported() {
            assert_eq!(result, Ok(path));
        } else {
            let err = result.unwrap_err();
            assert!(err.contains("does not support"), "{err}");
            println!("{} refused: {err}", path.name());
        }
    }
    if SimdPath::supported().len() == 3 {
        println!("every path is supported here: the refusal of an unsupported one is not exercised");
    }
}

/// Probabilities: 1e-6 relative, or an absolute f32::MIN_POSITIVE where the scalar exp gives a
/// subnormal and the vector path flushes it to 0. Loss: 1e-5 relative to max(loss, 1).
#[test]
fn softmax_cross_entropy() {
    let mut worst_probs = Worst::new("softmax_cross_entropy probs", "relative (normal probs)");
    let mut worst_loss = Worst::new("softmax_cross_entropy loss", "relative to max(loss, 1)");
    let mut rng = Rng::new(7);
    for path in SimdPath::supported() {
        for classes in [10, 3, 37, 1, 16, 100] {
            for (case, spread) in [(0, 4.0), (1, 80.0), (2, 80.0), (3, 0.0)] {
                for offset in OFFSETS {
                    let what = format!("{} classes {classes} case {case} offset {offset}", path.name());
                    let logits = random(&mut rng, classes, -spread, spread);
                    let label = rng.below(classes);
                    // One-hot, label-smoothed, uniform.
                    let target: Vec<f32> = (0..classes)
                        .map(|j| match case % 3 {
                            0 => (j == label) as u8 as f32,
                            1 => 0.1 / classes as f32 + 0.9 * (j == label) as u8 as f32,
                            _ => 1.0 / classes as f32,
                        })
                        .collect();
                    let mut want = vec![0.0; classes];
                    let want_loss = softmax::softmax_cross_entropy_scalar(&logits, &target, &mut want);
                    let (z, t, mut probs) =
                        (f32_slot(&logits, offset), f32_slot(&target, offset), f32_slot(&want, offset));
                    probs.get_mut().fill(0.0);
                    let loss = softmax::softmax_cross_entropy_on(path, z.get(), t.get(), probs.get_mut());
                    for (&p, &q) in probs.checked(&what).iter().zip(&want) {
                        let error = (p - q).abs();
                        assert!(error <= 1e-6 * q.abs() || error <= f32::MIN_POSITIVE, "{what}: prob {p} vs {q}");
                        if q >= f32::MIN_POSITIVE {
                            worst_probs.note(path, error as f64 / q as f64);
                        }
                    }
                    let error = ((loss - want_loss) / want_loss.abs().max(1.0)).abs();
                    assert!(error <= 1e-5, "{what}: loss {loss} vs {want_loss}");
                    assert!(loss.is_finite(), "{what}: loss {loss}");
                    worst_loss.note(path, error as f64);
                }
            }
        }
        let mut empty: [f32; 0] = [];
        assert_eq!(softmax::softmax_cross_entropy_on(path, &[], &[], &mut empty), 0.0);
    }
    worst_probs.report();
    worst_loss.report();
}

/// Runs `steps` optimizer steps on each path and on the scalar twin; every step must agree bit for
/// bit, since the vector twins do the same roundings in the same order.
fn check_optimizer(
    kernel: &'static str,
    seed: u64,
    mut step: impl FnMut(SimdPath, usize, &mut [f32], &[f32], &mut [f32], &mut [f32]),
) {
    let mut worst = Worst::new(kernel, "(exact)");
    let mut rng = Rng::new(seed);
    each_case(|path, len, offset, what| {
        let w0 = random(&mut rng, len, -1.0, 1.0);
        let (mut want_w, mut want_m, mut want_v) = (w0.clone(), vec![0.0; len], vec![0.0; len]);
        let (mut w, mut m, mut v) = (f32_slot(&w0, offset), f32_slot(&want_m, offset), f32_slot(&want_v, offset));
        for t in 1..=4 {
            let g = random(&mut rng, len, -0.5, 0.5);
            let g_slot = f32_slot(&g, offset);
            step(SimdPath::Scalar, t, &mut want_w, &g, &mut want_m, &mut want_v);
            step(path, t, w.get_mut(), g_slot.get(), m.get_mut(), v.get_mut());
            let what = format!("{what} step {t}");
            worst.exact(path, &w.checked(&what), &want_w, &what);
            worst.exact(path, &m.checked(&what), &want_m, &what);
            worst.exact(path, &v.checked(&what), &want_v, &what);
        }
    });
    worst.report();
}

#[test]
fn sgd_update() {
    for nesterov in [false, true] {
        let kernel = if nesterov { "sgd_update nesterov" } else { "sgd_update" };
        let sgd = update::SgdStep { lr: 0.05, momentum: 0.9, weight_decay: 5e-4, nesterov };
        check_optimizer(kernel, 8, |path, _, w, g, velocity, _| update::sgd_update_on(path, w, g, velocity, sgd));
    }
}

/// Plain SGD on every path, and bit for bit the same weights as `sgd_update` with momentum 0.
#[test]
fn sgd_plain_update() {
    let sgd = update::SgdStep { lr: 0.05, momentum: 0.0, weight_decay: 5e-4, nesterov: false };
    check_optimizer("sgd_plain_update", 10, |path, _, w, g, _, _| update::sgd_plain_update_on(path, w, g, sgd));
    let mut rng = Rng::new(12);
    let w0 = random(&mut rng, 1000, -1.0, 1.0);
    let (mut plain, mut with_velocity, mut velocity) = (w0.clone(), w0, vec![0.0; 1000]);
    for _ in 0..3 {
        let g = random(&mut rng, 1000, -0.5, 0.5);
        update::sgd_plain_update_scalar(&mut plain, &g, sgd);
        update::sgd_update_scalar(&mut with_velocity, &g, &mut velocity, sgd);
    }
    assert_eq!(plain, with_velocity, "plain SGD against sgd_update with momentum 0");
}

#[test]
fn adam_update() {
    for decoupled in [false, true] {
        let kernel = if decoupled { "adam_update adamw" } else { "adam_update adam" };
        check_optimizer(kernel, 9, |path, t, w, g, m, v| {
            let (beta1, beta2) = (0.9f32, 0.999f32);
            let adam = update::AdamStep {
                lr: 1e-3,
                beta1,
                beta2,
                eps: 1e-8,
                weight_decay: if decoupled { 0.01 } else { 1e-4 },
                decoupled,
                bias_correction1: 1.0 - beta1.powi(t as i32),
                bias_correction2: 1.0 - beta2.powi(t as i32),
            };
            update::adam_update_on(path, w, g, m, v, adam)
        });
    }
}

/// Planes (h, w, k, stride): the presets' 2×2/2 on odd and even output widths (13, 5 with a
/// dropped last row and column, 12, 14, 33), degenerate ones, and the generic fallback.
const POOLS: [(usize, usize, usize, usize); 10] = [
    (26, 26, 2, 2),
    (11, 11, 2, 2),
    (24, 24, 2, 2),
    (28, 28, 2, 2),
    (6, 66, 2, 2),
    (2, 2, 2, 2),
    (3, 5, 2, 2),
    (11, 11, 3, 2),
    (26, 26, 3, 2),
    (12, 13, 3, 1),
];

/// Random values, a few levels only (many ties in random places), constants, and some -inf.
fn pool_plane(rng: &mut Rng, len: usize, kind: usize) -> Vec<f32> {
    (0..len)
        .map(|i| match kind {
            0 => rng.uniform(-2.0, 2.0),
            1 => rng.below(3) as f32,
            2 => 0.5,
            _ => {
                if i % 5 == 0 {
                    rng.uniform(-1.0, 1.0)
                } else {
                    f32::NEG_INFINITY
                }
            }
        })
        .collect()
}

#[test]
fn maxpool_forward() {
    let mut worst_forward = Worst::new("maxpool_forward (values, argmax)", "(exact)");
    let mut rng = Rng::new(10);
    for path in SimdPath::supported() {
        for (h, w, k, stride) in POOLS {
            let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
            for kind in 0..4 {
                for offset in OFFSETS {
                    let what = format!("{} {h}×{w} k {k} stride {stride} kind {kind} offset {offset}", path.name());
                    let x = pool_plane(&mut rng, h * w, kind);
                    let (mut want_y, mut want_arg) = (vec![0.0; oh * ow], vec![0u32; oh * ow]);
                    pool::maxpool_forward_scalar(&x, h, w, k, stride, &mut want_y, &mut want_arg);
                    let (x_slot, mut y, mut arg) =
                        (f32_slot(&x, offset), f32_slot(&want_y, offset), Slot::new(&want_arg, offset, u32::MAX));
                    y.get_mut().fill(0.0);
                    arg.get_mut().fill(0);
                    pool::maxpool_forward_on(path, x_slot.get(), h, w, k, stride, y.get_mut(), arg.get_mut());
                    worst_forward.exact(path, &y.checked(&what), &want_y, &what);
                    assert_eq!(arg.checked(&what), want_arg, "{what}");
                    if kind == 2 {
                        // Constant planes: every window ties, and the top-left corner wins.
                        let corners: Vec<u32> =
                            (0..oh * ow).map(|i| ((i / ow) * stride * w + (i % ow) * stride) as u32).collect();
                        assert_eq!(want_arg, corners, "{what}");
                    }
                }
            }
        }
    }
    worst_forward.report();
}

/// Planes (h, w, k, stride) for the backward pass: 2×2/2 (the vector path) on even and odd sides
/// (11, 7, 5, 17 and 35 leave the last row or column untouched; 13, 5, 3 and 15 output columns
/// end in a masked store, 12 and 8 in a whole vector on one path, 33 spans several vectors; more
/// than 16 output rows cross blocks of the rows whose partial vectors wait), then overlapping
/// windows (the scalar fallback, where one input can receive several gradients).
const POOL_BACKWARDS: [(usize, usize, usize, usize); 13] = [
    (26, 26, 2, 2),
    (11, 11, 2, 2),
    (24, 24, 2, 2),
    (7, 7, 2, 2),
    (6, 66, 2, 2),
    (3, 5, 2, 2),
    (2, 2, 2, 2),
    (40, 30, 2, 2),
    (35, 17, 2, 2),
    (66, 6, 2, 2),
    (11, 11, 3, 2),
    (26, 26, 3, 2),
    (12, 13, 3, 1),
];

/// The argmax comes from `maxpool_forward_scalar` on random, few-level, constant (every window
/// ties) and mostly -inf planes; dx starts zeroed (as the layer gives it) or holding values, which
/// must only be added to.
/// Max-pooling values alone, on every path: bit for bit the `y` of the forward with argmax.
#[test]
fn maxpool_values() {
    let mut worst = Worst::new("maxpool_values", "(exact)");
    let mut rng = Rng::new(14);
    for path in SimdPath::supported() {
        for (h, w, k, stride) in POOL_BACKWARDS {
            let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
            for kind in 0..4 {
                for offset in OFFSETS {
                    let what = format!("{} {h}×{w} k {k} stride {stride} kind {kind} offset {offset}", path.name());
                    let x = pool_plane(&mut rng, h * w, kind);
                    let (mut want, mut argmax) = (vec![0.0; oh * ow], vec![0u32; oh * ow]);
                    pool::maxpool_forward_scalar(&x, h, w, k, stride, &mut want, &mut argmax);
                    let (x_slot, mut y) = (f32_slot(&x, offset), f32_slot(&vec![0.0; oh * ow], offset));
                    pool::maxpool_values_on(path, x_slot.get(), h, w, k, stride, y.get_mut());
                    worst.exact(path, &y.checked(&what), &want, &what);
                }
            }
        }
    }
    worst.report();
}

#[test]
fn maxpool_backward() {
    let mut worst = Worst::new("maxpool_backward", "(exact)");
    let mut rng = Rng::new(13);
    for path in SimdPath::supported() {
        for (h, w, k, stride) in POOL_BACKWARDS {
            let (oh, ow) = ((h - k) / stride + 1, (w - k) / stride + 1);
            for kind in 0..4 {
                // dx is written in full, whatever it held before.
                for zeroed in [true, false] {
                    for offset in OFFSETS {
                        let what = format!(
                            "{} {h}×{w} k {k} stride {stride} kind {kind} zeroed {zeroed} offset {offset} relu {}",
                            path.name(),
                            (kind + offset) % 2 == 1
                        );
                        let x = pool_plane(&mut rng, h * w, kind);
                        let (mut y, mut argmax) = (vec![0.0; oh * ow], vec![0u32; oh * ow]);
                        pool::maxpool_forward_scalar(&x, h, w, k, stride, &mut y, &mut argmax);
                        let dy = random(&mut rng, oh * ow, -1.0, 1.0);
                        let dx0 = if zeroed { vec![0.0; h * w] } else { random(&mut rng, h * w, -1.0, 1.0) };
                        let mut want = dx0.clone();
                        // Every other case masks dy by a ReLU before the pool (its outputs shifted
                        // so that some are negative).
                        let relu = (kind + offset) % 2 == 1;
                        let relu_y: Vec<f32> = if relu { y.iter().map(|v| v - 0.5).collect() } else { Vec::new() };
                        pool::maxpool_backward_scalar(&dy, &relu_y, &argmax, h, w, k, stride, &mut want);
                        let masked: Vec<f32> = dy
                            .iter()
                            .enumerate()
                            .map(|(i, &g)| if relu && relu_y[i] <= 0.0 { 0.0 } else { g })
                            .collect();
                        let mut unmasked = dx0.clone();
                        pool::maxpool_backward_scalar(&masked, &[], &argmax, h, w, k, stride, &mut unmasked);
                        assert_eq!(want, unmasked, "the scalar twin's ReLU mask: {what}");
                        let (dy_slot, arg_slot, mut dx) =
                            (f32_slot(&dy, offset), Slot::new(&argmax, offset, u32::MAX), f32_slot(&dx0, offset));
                        let y_slot = f32_slot(&relu_y, offset);
                        let (dy, y, dx_out) = (dy_slot.get(), y_slot.get(), dx.get_mut());
                        pool::maxpool_backward_on(path, dy, y, arg_slot.get(), h, w, k, stride, dx_out);
                        let got = dx.checked(&what);
                        worst.exact(path, &got, &want, &what);
                        // An odd side's last column and row belong to no window: 0 there too.
                        let outside =
                            (0..h * w).filter(|i| i % w >= (ow - 1) * stride + k || i / w >= (oh - 1) * stride + k);
                        assert!(outside.into_iter().all(|i| got[i] == 0.0), "{what}: left a value outside the windows");
                    }
                }
            }
        }
    }
    worst.report();
}

/// Planes (h, w, k): 28×28 with k = 3 (ow = 26: a whole vector and a masked one), and others.
const CONVS: [(usize, usize, usize); 6] = [(28, 28, 3), (30, 30, 3), (9, 9, 3), (3, 40, 3), (12, 12, 5), (5, 17, 1)];

#[test]
fn conv1_forward() {
    let mut worst = Worst::new("conv1_forward", "(exact)");
    let mut rng = Rng::new(11);
    for path in SimdPath::supported() {
        for (h, w, k) in CONVS {
            for offset in OFFSETS {
                let what = format!("{} {h}×{w} k {k} offset {offset}", path.name());
                let channels = 5;
                let out_len = channels * (h - k + 1) * (w - k + 1);
                let plane = random(&mut rng, h * w, -1.0, 1.0);
                let (weights, bias) =
                    (random(&mut rng, channels * k * k, -0.5, 0.5), random(&mut rng, channels, -0.1, 0.1));
                for relu in [false, true] {
                    let what = format!("{what} relu {relu}");
                    let mut want = vec![0.0; out_len];
                    conv_direct::conv1_forward_scalar(&plane, h, w, &weights, &bias, k, relu, &mut want);
                    if relu {
                        // The fused ReLU is the plain convolution clamped at 0, bit for bit.
                        let mut plain = vec![0.0; out_len];
                        conv_direct::conv1_forward_scalar(&plane, h, w, &weights, &bias, k, false, &mut plain);
                        assert!(want.iter().zip(&plain).all(|(r, p)| r.to_bits() == p.max(0.0).to_bits()), "{what}");
                        assert!(want.contains(&0.0) && want.iter().any(|&v| v > 0.0), "{what}");
                    }
                    let (p_slot, w_slot, b_slot) =
                        (f32_slot(&plane, offset), f32_slot(&weights, offset), f32_slot(&bias, offset));
                    let mut out = f32_slot(&vec![0.0; out_len], offset);
                    let (weights, bias) = (w_slot.get(), b_slot.get());
                    conv_direct::conv1_forward_on(path, p_slot.get(), h, w, weights, bias, k, relu, out.get_mut());
                    worst.exact(path, &out.checked(&what), &want, &what);
                }
            }
        }
    }
    worst.report();
}

#[test]
fn conv1_backward_weights() {
    let mut worst = Worst::new("conv1_backward_weights", "relative to Σ|terms|");
    let mut rng = Rng::new(12);
    for path in SimdPath::supported() {
        for (h, w, k) in CONVS {
            for offset in OFFSETS {
                let what = format!("{} {h}×{w} k {k} offset {offset}", path.name());
                // 5 channels: pairs summed together and a last one alone (AVX-512).
                let (channels, oh, ow) = (5, h - k + 1, w - k + 1);
                let plane = random(&mut rng, h * w, -1.0, 1.0);
                let dy = random(&mut rng, channels * oh * ow, -1.0, 1.0);
                let (dw0, db0) = (random(&mut rng, channels * k * k, -0.1, 0.1), random(&mut rng, channels, -0.1, 0.1));
                let (p_slot, dy_slot) = (f32_slot(&plane, offset), f32_slot(&dy, offset));
                let (mut dw, mut db) = (f32_slot(&dw0, offset), f32_slot(&db0, offset));
                conv_direct::conv1_backward_weights_on(
                    path,
                    p_slot.get(),
                    h,
                    w,
                    dy_slot.get(),
                    k,
                    dw.get_mut(),
                    db.get_mut(),
                );
                let (dw, db) = (dw.checked(&what), db.checked(&what));
                for o in 0..channels {
                    let g = &dy[o * oh * ow..(o + 1) * oh * ow];
                    let mut terms: Vec<f64> = g.iter().map(|&v| v as f64).collect();
                    terms.push(db0[o] as f64);
                    check_sum(&mut worst, path, db[o], &terms, &format!("dbias[{o}] {what}"));
                    for (ky, kx) in (0..k).flat_map(|ky| (0..k).map(move |kx| (ky, kx))) {
                        let mut terms: Vec<f64> =
                            (0..oh * ow).map(|i| g[i] as f64 * plane[(i / ow + ky) * w + i % ow + kx] as f64).collect();
                        terms.push(dw0[(o * k + ky) * k + kx] as f64);
                        check_sum(
                            &mut worst,
                            path,
                            dw[(o * k + ky) * k + kx],
                            &terms,
                            &format!("dw[{o}][{ky}][{kx}] {what}"),
                        );
                    }
                }
            }
        }
    }
    worst.report();
}

/// Shapes (channels, hp, wp, k, out_channels) for the wide-row convolution: `seed002`'s second
/// convolution and `seed000`'s padded 16×16 one, a width that ends in a one-vector tile, rows that
/// are not a whole panel, a 5×5 kernel with 40 outputs (two gradient tiles) and a 1×1 kernel.
const WIDE_CONVS: [(usize, usize, usize, usize, usize); 6] =
    [(32, 13, 13, 3, 16), (8, 16, 16, 3, 8), (3, 7, 9, 3, 5), (2, 5, 40, 3, 11), (4, 12, 12, 5, 40), (3, 6, 5, 1, 2)];

#[test]
fn conv_wide() {
    let mut worst = Worst::new("conv_wide", "relative to Σ|terms|");
    let mut rng = Rng::new(13);
    for (channels, hp, wp, k, out_channels) in WIDE_CONVS {
        let patch = channels * k * k;
        let weights = random(&mut rng, out_channels * patch, -0.5, 0.5);
        let panels = conv_wide::pack_panels(&weights, out_channels, patch);
        let mut input = random(&mut rng, conv_wide::input_len(channels, hp, wp, k), -1.0, 1.0);
        // The slack's values may only reach the columns past the end; NaN there would show.
        input[channels * hp * wp..].fill(f32::NAN);
        let (oh, columns) = (hp - k + 1, (hp - k + 1) * wp);
        let rows = conv_wide::padded_rows(out_channels);
        // The scalar path runs the scalar twin.
        for path in SimdPath::supported() {
            for offset in OFFSETS {
                let what = format!("{} {channels}×{hp}×{wp} k {k} → {out_channels} offset {offset}", path.name());
                let in_slot = f32_slot(&input, offset);
                let mut out = f32_slot(&vec![0.0; rows * columns], offset);
                conv_wide::conv_wide_on(path, in_slot.get(), channels, hp, wp, k, &panels, out.get_mut());
                let out = out.checked(&what);
                for row in 0..rows {
                    for (oy, ox) in (0..oh).flat_map(|oy| (0..wp - k + 1).map(move |ox| (oy, ox))) {
                        let got = out[row * columns + oy * wp + ox];
                        if row >= out_channels {
                            assert_eq!(got, 0.0, "{what}: padding row {row}");
                            continue;
                        }
                        let terms: Vec<f64> = (0..patch)
                            .map(|t| {
                                let (c, ky, kx) = (t / (k * k), t / k % k, t % k);
                                let x = input[(c * hp + oy + ky) * wp + ox + kx];
                                weights[row * patch + t] as f64 * x as f64
                            })
                            .collect();
                        let at = format!("out[{row}][{oy}][{ox}] {what}");
                        check_sum(&mut worst, path, got, &terms, &at);
                    }
                }
            }
        }
    }
    worst.report();
}

#[test]
fn conv_wide_transposed_flipped_weights_swap_channels_and_turn_the_kernel() {
    let (out_channels, channels, k) = (3, 2, 3);
    let weights: Vec<f32> = (0..out_channels * channels * k * k).map(|i| i as f32).collect();
    let flipped = conv_wide::transposed_flipped(&weights, out_channels, channels, k);
    for (o, c, ky, kx) in (0..out_channels)
        .flat_map(|o| (0..channels).flat_map(move |c| (0..k).flat_map(move |ky| (0..k).map(move |kx| (o, c, ky, kx)))))
    {
        let original = weights[((o * channels + c) * k + ky) * k + kx];
        assert_eq!(flipped[((c * out_channels + o) * k + (k - 1 - ky)) * k + (k - 1 - kx)], original);
    }
    // Panels: row r of panel p, tap t at (p · patch + t) · 8 + r; padding rows are zero.
    let patch = channels * k * k;
    let panels = conv_wide::pack_panels(&weights, out_channels, patch);
    assert_eq!(panels.len(), conv_wide::PANEL_ROWS * patch);
    for t in 0..patch {
        for r in 0..conv_wide::PANEL_ROWS {
            let want = if r < out_channels { weights[r * patch + t] } else { 0.0 };
            assert_eq!(panels[t * conv_wide::PANEL_ROWS + r], want);
        }
    }
}

#[test]
fn conv_wide_weight_gradient() {
    let mut worst = Worst::new("conv_wide_weight_gradient", "relative to Σ|terms|");
    let mut rng = Rng::new(14);
    for ((channels, hp, wp, k, out_channels), samples) in WIDE_CONVS.into_iter().zip([1, 3, 2, 1, 2, 3]) {
        let patch = channels * k * k;
        let (oh, ow, columns) = (hp - k + 1, wp - k + 1, (hp - k + 1) * wp);
        // Two tiles of output channels where there are more than 32; padding channels otherwise.
        let channels_out = out_channels.next_multiple_of(conv_wide::GRADIENT_CHANNELS);
        let stride = conv_wide::input_len(channels, hp, wp, k);
        let mut input = random(&mut rng, samples * stride, -1.0, 1.0);
        for sample in input.chunks_exact_mut(stride) {
            sample[channels * hp * wp..].fill(0.0);
        }
        let mut dy_t = random(&mut rng, samples * columns * channels_out, -1.0, 1.0);
        for (i, g) in dy_t.iter_mut().enumerate() {
            if (i / channels_out) % columns % wp >= ow || i % channels_out >= out_channels {
                *g = 0.0; // the dropped columns and the padding channels
            }
        }
        let dw0 = random(&mut rng, patch * channels_out, -0.1, 0.1);
        // The scalar path runs the scalar twin.
        for path in SimdPath::supported() {
            for offset in OFFSETS {
                let what =
                    format!("{} {samples} × {channels}×{hp}×{wp} k {k} → {out_channels} offset {offset}", path.name());
                let (in_slot, dy_slot) = (f32_slot(&input, offset), f32_slot(&dy_t, offset));
                let mut dw = f32_slot(&dw0, offset);
                let (x, g) = (in_slot.get(), dy_slot.get());
                conv_wide::conv_wide_weight_gradient_on(
                    path,
                    x,
                    samples,
                    channels,
                    hp,
                    wp,
                    k,
                    g,
                    channels_out,
                    dw.get_mut(),
                );
                let dw = dw.checked(&what);
                for o in 0..channels_out {
                    for t in 0..patch {
                        let (c, ky, kx) = (t / (k * k), t / k % k, t % k);
                        let mut terms: Vec<f64> = (0..samples * oh * ow)
                            .map(|i| {
                                let (s, oy, ox) = (i / (oh * ow), i / ow % oh, i % ow);
                                let g = dy_t[(s * columns + oy * wp + ox) * channels_out + o] as f64;
                                g * input[s * stride + (c * hp + oy + ky) * wp + ox + kx] as f64
                            })
                            .collect();
                        terms.push(dw0[t * channels_out + o] as f64);
                        let at = format!("dw_t[{t}][{o}] {what}");
                        check_sum(&mut worst, path, dw[t * channels_out + o], &terms, &at);
                    }
                }
            }
        }
    }
    worst.report();
}

/// col2im by rows of dx, on every path: bit for bit what `col2im` adds into a zeroed dx, for
/// unpadded and padded geometries, rows narrower and wider than a vector, planes shorter than a
/// vector, at several column offsets of a wider patch-gradient matrix, never writing outside dx.
#[test]
fn col2im_rows() {
    use fashion_cnn::engine::kernels::im2col::{ConvGeometry, col2im, col2im_rows_on};
    let mut worst = Worst::new("col2im_rows", "(exact)");
    let mut rng = Rng::new(21);
    let geometries =
        [(3, 13, 13, 3, 0), (4, 5, 5, 3, 0), (2, 3, 3, 3, 1), (2, 7, 20, 3, 1), (1, 9, 33, 5, 2), (2, 4, 17, 1, 0)];
    for (channels, height, width, kernel, pad) in geometries {
        let g = ConvGeometry { channels, height, width, kernel, stride: 1, pad };
        let pixels = g.out_pixels();
        for (col0, ld) in [(0, pixels), (pixels, 3 * pixels + 5)] {
            let cols = random(&mut rng, g.patch_len() * ld, -1.0, 1.0);
            let mut want = vec![0.0; g.in_len()];
            col2im(&cols, ld, col0, &g, &mut want);
            for path in SimdPath::supported() {
                for offset in OFFSETS {
                    let mut dx = f32_slot(&random(&mut rng, g.in_len(), 5.0, 6.0), offset);
                    col2im_rows_on(path, &cols, ld, col0, g, dx.get_mut());
                    let what = format!("{g:?} col0 {col0} ld {ld} offset {offset} on {}", path.name());
                    worst.exact(path, &dx.checked(&what), &want, &what);
                }
            }
        }
    }
    worst.report();
}

/// dY to wide columns on every path: bit for bit the scalar twin's moves, for channel counts
/// and pixel counts below, at and past whole vector blocks, leaving every other cell alone.
#[test]
fn wide_columns() {
    let mut worst = Worst::new("wide_columns", "(exact)");
    let mut rng = Rng::new(16);
    // (channels, output height, output width, wide width)
    let shapes: [(usize, usize, usize, usize); 5] =
        [(64, 11, 11, 13), (32, 28, 28, 30), (64, 3, 3, 5), (20, 14, 14, 16), (5, 2, 9, 11)];
    for (channels, oh, ow, wp) in shapes {
        let pixels = oh * ow;
        let (src_ld, dst_ld) = (pixels + 7, channels.next_multiple_of(32));
        let src = random(&mut rng, channels * src_ld, -1.0, 1.0);
        let dst0 = random(&mut rng, oh * wp * dst_ld, 5.0, 6.0);
        let mut want = dst0.clone();
        conv_wide::wide_columns_scalar(&src, src_ld, channels, pixels, ow, wp, &mut want, dst_ld);
        for path in SimdPath::supported() {
            for offset in OFFSETS {
                let what = format!("{} {channels} channels {oh}×{ow} in {wp} offset {offset}", path.name());
                let (src_slot, mut dst) = (f32_slot(&src, offset), f32_slot(&dst0, offset));
                conv_wide::wide_columns_on(
                    path,
                    src_slot.get(),
                    src_ld,
                    channels,
                    pixels,
                    ow,
                    wp,
                    dst.get_mut(),
                    dst_ld,
                );
                worst.exact(path, &dst.checked(&what), &want, &what);
            }
        }
        // The scalar twin against the definition.
        for p in 0..pixels {
            for o in 0..channels {
                assert_eq!(want[(p / ow * wp + p % ow) * dst_ld + o], src[o * src_ld + p]);
            }
        }
    }
    worst.report();
}
