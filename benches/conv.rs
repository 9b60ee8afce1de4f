//! Conv2d forward and backward at the `seed002` layer shapes (batch 64 and 512), and one whole
//! `seed002` training step at batch 64. Throughput is in FLOPs (2 × multiply-adds), so
//! criterion's "elem/s" reads as FLOP/s. Threads: `RAYON_NUM_THREADS` (default all cores).
//!
//! cargo bench --bench conv

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fashion_cnn::engine::init::Init;
use fashion_cnn::engine::layers::{Conv2d, Layer, Mode, Padding};
use fashion_cnn::engine::loss::SoftmaxCrossEntropy;
use fashion_cnn::engine::model::{Sequential, preset};
use fashion_cnn::engine::optim::{Optimizer, OptimizerKind};
use fashion_cnn::engine::rng::Rng;
use fashion_cnn::engine::step::train_step;
use fashion_cnn::engine::tensor::Tensor;
use std::hint::black_box;

/// (name, input C×H×W, filters) of the three `seed002` convolutions.
const SEED002_CONVS: [(&str, [usize; 3], usize); 3] = [
    ("conv1_1x28x28_32", [1, 28, 28], 32),
    ("conv2_32x13x13_64", [32, 13, 13], 64),
    ("conv3_64x5x5_64", [64, 5, 5], 64),
];

fn random(shape: &[usize], rng: &mut Rng) -> Tensor {
    let len = shape.iter().product();
    Tensor::from_vec(shape, (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect())
}

fn conv_layers(c: &mut Criterion) {
    fashion_cnn::engine::parallel::keep_freed_memory();
    let mut rng = Rng::new(1);
    for (name, shape, filters) in SEED002_CONVS {
        let first = shape[0] == 1;
        for batch in [64, 512] {
            let mut layer = Conv2d::new(&shape, filters, 3, 1, Padding::Valid, Init::HeNormal, &mut rng);
            let x = random(&[batch, shape[0], shape[1], shape[2]], &mut rng);
            let y = layer.forward(&x, Mode::Train);
            let dy = random(&y.shape, &mut rng);
            let macs = (layer.forward_macs() * batch) as u64;

            let mut group = c.benchmark_group("conv_forward");
            group.throughput(Throughput::Elements(2 * macs));
            group.bench_function(BenchmarkId::new(name, batch), |b| {
                b.iter(|| black_box(layer.forward(&x, Mode::Train)))
            });
            group.finish();

            // The first layer needs no input gradient (its input is the data), as in training.
            let mut group = c.benchmark_group("conv_backward");
            group.throughput(Throughput::Elements(if first { 2 * macs } else { 4 * macs }));
            group.bench_function(BenchmarkId::new(name, batch), |b| {
                b.iter(|| black_box(layer.backward(&x, &y, &dy, !first)))
            });
            group.finish();

            let mut group = c.benchmark_group("conv_forward_backward");
            group.throughput(Throughput::Elements(if first { 4 * macs } else { 6 * macs }));
            group.bench_function(BenchmarkId::new(name, batch), |b| {
                b.iter(|| {
                    let y = layer.forward(&x, Mode::Train);
                    black_box(layer.backward(&x, &y, &dy, !first))
                })
            });
            group.finish();
        }
    }
}

fn seed002_train_step(c: &mut Criterion) {
    fashion_cnn::engine::parallel::keep_freed_memory();
    let mut rng = Rng::new(2);
    let batch = 64;
    let mut model =
        Sequential::from_spec("seed002", preset("seed002").unwrap().spec, &[1, 28, 28], 10, Init::GlorotUniform, 1)
            .unwrap();
    let x = random(&[batch, 1, 28, 28], &mut rng);
    let labels: Vec<u8> = (0..batch).map(|_| rng.below(10) as u8).collect();
    let loss = SoftmaxCrossEntropy::new(0.0);
    let mut optimizer = Optimizer::new(OptimizerKind::parse("adam", None).unwrap(), 0.0);
    let mut group = c.benchmark_group("train_step");
    // The usual convention: a training step costs about 3 forward passes.
    group.throughput(Throughput::Elements((3 * 2 * model.forward_macs() * batch) as u64));
    group.bench_function(BenchmarkId::new("seed002", batch), |b| {
        b.iter(|| black_box(train_step(&mut model, x.clone(), &labels, &loss, &mut optimizer, 1e-3).loss))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No HTML plots: criterion draws them with system fonts, which these machines lack.
    config = Criterion::default().without_plots().sample_size(20).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = conv_layers, seed002_train_step
}
criterion_main!(benches);
