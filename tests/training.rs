//! The engine learns, and learns the same way on any number of threads.

mod common;

use common::{random_labels, random_tensor};
use fashion_cnn::engine::init::Init;
use fashion_cnn::engine::layers::Mode;
use fashion_cnn::engine::loss::SoftmaxCrossEntropy;
use fashion_cnn::engine::model::{Sequential, preset};
use fashion_cnn::engine::optim::{Optimizer, OptimizerKind};
use fashion_cnn::engine::rng::Rng;
use fashion_cnn::engine::step::{argmax_rows, train_step};

/// A few Adam steps of a preset on fixed random data inside a pool of `threads` threads;
/// returns every parameter and batch-norm statistic, and the losses, as raw bits.
fn train_bits(preset_name: &str, threads: usize, seed: u64, batch: usize, steps: usize) -> (Vec<u32>, Vec<u32>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut rng = Rng::new(77);
        let x = random_tensor(&[batch, 1, 28, 28], 0.0, 1.0, &mut rng);
        let labels = random_labels(batch, 10, &mut rng);
        let mut model = Sequential::from_spec(
            preset_name,
            preset(preset_name).unwrap().spec,
            &[1, 28, 28],
            10,
            Init::GlorotUniform,
            seed,
        )
        .unwrap();
        let loss = SoftmaxCrossEntropy::new(0.1);
        let mut optimizer = Optimizer::new(OptimizerKind::parse("adamw", None).unwrap(), 1e-2);
        let losses: Vec<u32> = (0..steps)
            .map(|_| train_step(&mut model, x.clone(), &labels, &loss, &mut optimizer, 1e-3).loss.to_bits())
            .collect();
        let mut state: Vec<u32> = model.params().iter().flat_map(|p| p.value.iter().map(|v| v.to_bits())).collect();
        for b in model.buffers_mut() {
            state.extend(b.value.iter().map(|v| v.to_bits()));
        }
        (state, losses)
    })
}

/// 2 threads as well as 4: with exactly two, a training step keeps the other worker polling for
/// work (`parallel::with_workers_awake`), which changes who runs a task but not what it computes.
#[test]
fn same_seed_gives_bit_identical_weights_on_1_2_and_4_threads() {
    // 40 samples: five chunks of eight, so the chunk partial sums really are combined.
    for name in ["seed002", "seed000", "mlp003"] {
        let (one, losses_one) = train_bits(name, 1, 3, 40, 3);
        for threads in [2, 4] {
            let (many, losses_many) = train_bits(name, threads, 3, 40, 3);
            assert_eq!(losses_one, losses_many, "{name}: losses differ between 1 and {threads} threads");
            let differing = one.iter().zip(&many).filter(|(a, b)| a != b).count();
            assert_eq!(
                differing,
                0,
                "{name}: {differing} of {} values differ between 1 and {threads} threads",
                one.len()
            );
        }
        // And the comparison can fail: another seed gives other weights.
        let (other, _) = train_bits(name, 4, 4, 40, 3);
        assert!(one.iter().zip(&other).filter(|(a, b)| a != b).count() > one.len() / 2);
    }
}

#[test]
fn small_network_drives_64_samples_to_full_training_accuracy() {
    let mut rng = Rng::new(5);
    let x = random_tensor(&[64, 1, 12, 12], 0.0, 1.0, &mut rng);
    let labels = random_labels(64, 10, &mut rng);
    let mut model = Sequential::from_spec(
        "tiny",
        "conv8k3,relu,pool2,flatten,dense32,relu,dense10",
        &[1, 12, 12],
        10,
        Init::HeNormal,
        1,
    )
    .unwrap();
    let loss = SoftmaxCrossEntropy::new(0.0);
    let mut optimizer = Optimizer::new(OptimizerKind::parse("adam", None).unwrap(), 0.0);
    let first = train_step(&mut model, x.clone(), &labels, &loss, &mut optimizer, 1e-2).loss;
    for _ in 0..200 {
        train_step(&mut model, x.clone(), &labels, &loss, &mut optimizer, 1e-2);
    }
    let logits = model.predict(x.clone());
    let correct = argmax_rows(&logits).iter().zip(&labels).filter(|(p, l)| **p == **l as usize).count();
    let last = loss.forward(&logits, &labels).loss;
    println!("64 random samples: loss {first:.3} → {last:.4}, {correct}/64 correct");
    assert_eq!(correct, 64, "memorised {correct} of 64 samples");
    assert!(last < 0.05, "final loss {last}");
}

#[test]
fn sgd_with_nesterov_also_learns_and_batchnorm_eval_uses_running_statistics() {
    let mut rng = Rng::new(6);
    let x = random_tensor(&[64, 1, 12, 12], 0.0, 1.0, &mut rng);
    let labels = random_labels(64, 10, &mut rng);
    let mut model = Sequential::from_spec(
        "bn",
        "conv8k3,bn,relu,pool2,flatten,dense32,bn,relu,dense10",
        &[1, 12, 12],
        10,
        Init::HeNormal,
        2,
    )
    .unwrap();
    let loss = SoftmaxCrossEntropy::new(0.0);
    let mut optimizer = Optimizer::new(OptimizerKind::parse("nesterov", Some(0.9)).unwrap(), 0.0);
    for _ in 0..300 {
        train_step(&mut model, x.clone(), &labels, &loss, &mut optimizer, 0.05);
    }
    // After many steps on one batch the running statistics approach the batch's, so eval and
    // train mode agree on the predictions.
    let eval = argmax_rows(&model.predict(x.clone()));
    let train = argmax_rows(model.forward(x.clone(), Mode::Train));
    let agree = eval.iter().zip(&train).filter(|(a, b)| a == b).count();
    let correct = eval.iter().zip(&labels).filter(|(p, l)| **p == **l as usize).count();
    println!("nesterov + batch-norm: {correct}/64 correct in eval mode, {agree}/64 agree with train mode");
    assert_eq!(correct, 64);
    assert!(agree >= 62, "eval and train mode agree on {agree}/64");
}

#[test]
fn chunked_prediction_gives_the_same_bits_as_one_pass() {
    let mut rng = Rng::new(8);
    let x = random_tensor(&[300, 1, 28, 28], 0.0, 1.0, &mut rng);
    for name in ["seed002", "seed000"] {
        let mut model =
            Sequential::from_spec(name, preset(name).unwrap().spec, &[1, 28, 28], 10, Init::HeNormal, 1).unwrap();
        let whole = model.forward(x.clone(), Mode::Eval).clone();
        let chunked = model.predict(x.clone());
        assert_eq!(chunked.shape, vec![300, 10]);
        assert!(
            whole.data.iter().zip(&chunked.data).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: chunked logits differ"
        );
    }
}
