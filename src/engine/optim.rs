//! Optimizers (SGD with momentum or Nesterov, Adam, AdamW) and learning-rate schedules.
//! The per-element work is in `kernels::update`; this file holds the state and the bookkeeping.

use crate::engine::kernels::update::{AdamStep, SgdStep, adam_update, sgd_plain_update, sgd_update};
use crate::engine::layers::Param;
use crate::engine::parallel::for_each_task;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    Sgd {
        momentum: f32,
        nesterov: bool,
    },
    /// L2 weight decay added to the gradient.
    Adam {
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
    /// Weight decay applied to the weights directly (Loshchilov & Hutter).
    AdamW {
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
}

impl OptimizerKind {
    /// `sgd` (momentum 0.9 when `momentum` is None), `nesterov`, `adam`, `adamw`.
    pub fn parse(name: &str, momentum: Option<f32>) -> Result<OptimizerKind, String> {
        // Keras' defaults: ε = 1e-7 (PyTorch uses 1e-8; the difference is below f32 noise here).
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-7);
        match name {
            "sgd" => Ok(OptimizerKind::Sgd { momentum: momentum.unwrap_or(0.0), nesterov: false }),
            "momentum" => Ok(OptimizerKind::Sgd { momentum: momentum.unwrap_or(0.9), nesterov: false }),
            "nesterov" => Ok(OptimizerKind::Sgd { momentum: momentum.unwrap_or(0.9), nesterov: true }),
            "adam" => Ok(OptimizerKind::Adam { beta1, beta2, eps }),
            "adamw" => Ok(OptimizerKind::AdamW { beta1, beta2, eps }),
            other => Err(format!("unknown optimizer '{other}'; use sgd, momentum, nesterov, adam or adamw")),
        }
    }
}

/// An optimizer with its per-parameter state (velocity, or first and second moments).
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub weight_decay: f32,
    /// Steps taken so far.
    pub steps: u64,
    /// One or two state buffers per parameter, in `params_mut()` order.
    pub state: Vec<Vec<f32>>,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, weight_decay: f32) -> Optimizer {
        Optimizer { kind, weight_decay, steps: 0, state: Vec::new() }
    }

    /// Applies one update with learning rate `lr` to every parameter, using its gradient.
    pub fn step(&mut self, params: &mut [&mut Param], lr: f32) {
        let per_param = match self.kind {
            OptimizerKind::Sgd { .. } => 1,
            _ => 2,
        };
        if self.state.is_empty() {
            self.state = params.iter().flat_map(|p| (0..per_param).map(|_| vec![0.0; p.value.len()])).collect();
        }
        assert_eq!(self.state.len(), per_param * params.len(), "optimizer state does not match the model");
        self.steps += 1;
        let t = self.steps as i32;
        // Every update is element-wise: the parameters are cut into runs of `UPDATE_CHUNK` that
        // the threads share (the split changes no bits).
        let mut runs = Vec::new();
        for (param, state) in params.iter_mut().zip(self.state.chunks_mut(per_param)) {
            let weight_decay = if param.decay { self.weight_decay } else { 0.0 };
            let (values, grads) = (param.value.chunks_mut(UPDATE_CHUNK), param.grad.chunks(UPDATE_CHUNK));
            match (self.kind, state) {
                (OptimizerKind::Sgd { momentum, nesterov }, [velocity]) => {
                    let step = SgdStep { lr, momentum, weight_decay, nesterov };
                    let velocities = velocity.chunks_mut(UPDATE_CHUNK);
                    for ((value, grad), velocity) in values.zip(grads).zip(velocities) {
                        runs.push(UpdateRun::Sgd { value, grad, velocity, step });
                    }
                }
                (OptimizerKind::Adam { beta1, beta2, eps } | OptimizerKind::AdamW { beta1, beta2, eps }, [m, v]) => {
                    let step = AdamStep {
                        lr,
                        beta1,
                        beta2,
                        eps,
                        weight_decay,
                        decoupled: matches!(self.kind, OptimizerKind::AdamW { .. }),
                        bias_correction1: 1.0 - beta1.powi(t),
                        bias_correction2: 1.0 - beta2.powi(t),
                    };
                    let moments = m.chunks_mut(UPDATE_CHUNK).zip(v.chunks_mut(UPDATE_CHUNK));
                    for ((value, grad), (m, v)) in values.zip(grads).zip(moments) {
                        runs.push(UpdateRun::Adam { value, grad, m, v, step });
                    }
                }
                _ => unreachable!("state length matches the optimizer kind"),
            }
        }
        for_each_task(runs, UpdateRun::apply);
    }
}

/// Parameters per update task: `seed002`'s 93,322 split into six.
const UPDATE_CHUNK: usize = 1 << 14;

/// One run of a parameter with its gradient and optimizer state.
enum UpdateRun<'a> {
    Sgd { value: &'a mut [f32], grad: &'a [f32], velocity: &'a mut [f32], step: SgdStep },
    Adam { value: &'a mut [f32], grad: &'a [f32], m: &'a mut [f32], v: &'a mut [f32], step: AdamStep },
}

impl UpdateRun<'_> {
    fn apply(self) {
        match self {
            UpdateRun::Sgd { value, grad, step, .. } if step.momentum == 0.0 => sgd_plain_update(value, grad, step),
            UpdateRun::Sgd { value, grad, velocity, step } => sgd_update(value, grad, velocity, step),
            UpdateRun::Adam { value, grad, m, v, step } => adam_update(value, grad, m, v, step),
        }
    }
}

/// How the learning rate moves over training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    /// Multiply by `gamma` every `every_epochs` epochs.
    Step {
        every_epochs: usize,
        gamma: f32,
    },
    /// Cosine from the base rate to 0 over the whole run.
    Cosine,
    /// Linear warm-up from base/25 to base over the first 30% of steps, then cosine down to
    /// base/25e4 (PyTorch's OneCycleLR defaults, with linear warm-up).
    OneCycle,
}

impl Schedule {
    /// `constant`, `step[:EPOCHS[:GAMMA]]` (default 10 and 0.1), `cosine`, `onecycle`.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or("");
        let bad = || format!("bad schedule '{text}'; use constant, step[:EPOCHS[:GAMMA]], cosine or onecycle");
        let schedule = match name {
            "constant" => Schedule::Constant,
            "cosine" => Schedule::Cosine,
            "onecycle" | "one-cycle" => Schedule::OneCycle,
            "step" => {
                let every_epochs = parts.next().map(|p| p.parse().map_err(|_| bad())).transpose()?.unwrap_or(10);
                let gamma = parts.next().map(|p| p.parse().map_err(|_| bad())).transpose()?.unwrap_or(0.1);
                if every_epochs == 0 {
                    return Err(bad());
                }
                Schedule::Step { every_epochs, gamma }
            }
            _ => return Err(bad()),
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(schedule)
    }

    /// The learning rate for optimizer step `step` (from 0) of `total_steps`.
    pub fn lr(self, base: f32, step: usize, total_steps: usize, steps_per_epoch: usize) -> f32 {
        let progress = step as f64 / total_steps.max(1) as f64;
        let cosine = |from: f64, to: f64, t: f64| to + (from - to) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
        let base_f = base as f64;
        let lr = match self {
            Schedule::Constant => base_f,
            Schedule::Step { every_epochs, gamma } => {
                let epoch = step / steps_per_epoch.max(1);
                base_f * (gamma as f64).powi((epoch / every_epochs) as i32)
            }
            Schedule::Cosine => cosine(base_f, 0.0, progress),
            Schedule::OneCycle => {
                let warm = 0.3;
                let start = base_f / 25.0;
                if progress < warm {
                    start + (base_f - start) * progress / warm
                } else {
                    cosine(base_f, start / 1e4, (progress - warm) / (1.0 - warm))
                }
            }
        };
        lr as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_hit_their_landmarks() {
        assert_eq!(Schedule::parse("step:2:0.5").unwrap().lr(1.0, 250, 1000, 100), 0.5);
        assert_eq!(Schedule::parse("step").unwrap(), Schedule::Step { every_epochs: 10, gamma: 0.1 });
        assert!((Schedule::Cosine.lr(1.0, 500, 1000, 100) - 0.5).abs() < 1e-6);
        assert!(Schedule::Cosine.lr(1.0, 1000, 1000, 100).abs() < 1e-6);
        assert!((Schedule::OneCycle.lr(1.0, 0, 1000, 100) - 0.04).abs() < 1e-6);
        assert!((Schedule::OneCycle.lr(1.0, 300, 1000, 100) - 1.0).abs() < 1e-6);
        assert!(Schedule::OneCycle.lr(1.0, 1000, 1000, 100) < 1e-5);
        assert!(Schedule::parse("linear").unwrap_err().contains("bad schedule 'linear'"));
    }

    #[test]
    fn adam_moves_against_the_gradient_by_lr_on_the_first_step() {
        let mut p = Param::new("weight", &[3], vec![1.0, -2.0, 0.5], true);
        p.grad = vec![0.3, -4.0, 0.0];
        let mut opt = Optimizer::new(OptimizerKind::parse("adam", None).unwrap(), 0.0);
        opt.step(&mut [&mut p], 0.01);
        // The first bias-corrected Adam step is lr·sign(g) (ε aside).
        assert!((p.value[0] - 0.99).abs() < 1e-5, "{:?}", p.value);
        assert!((p.value[1] + 1.99).abs() < 1e-5, "{:?}", p.value);
        assert_eq!(p.value[2], 0.5);
    }

    /// A parameter longer than one update run (three runs and a tail) and a short one, two steps
    /// of every optimizer: the same bits as each update kernel over whole slices.
    #[test]
    fn updates_split_into_runs_give_the_same_bits_as_whole_slices() {
        use crate::engine::kernels::update::{adam_update, sgd_plain_update, sgd_update};
        let long = 3 * UPDATE_CHUNK + 1234;
        let wave = |n: usize, k: f32| (0..n).map(|i| (i as f32 * k).sin() * 0.5).collect::<Vec<f32>>();
        for name in ["sgd", "momentum", "nesterov", "adam", "adamw"] {
            let kind = OptimizerKind::parse(name, None).unwrap();
            let mut params =
                [Param::new("weight", &[long], wave(long, 0.37), true), Param::new("bias", &[5], wave(5, 1.1), false)];
            let (mut values, mut states): (Vec<Vec<f32>>, Vec<[Vec<f32>; 2]>) = (
                params.iter().map(|p| p.value.clone()).collect(),
                params.iter().map(|p| [vec![0.0; p.value.len()], vec![0.0; p.value.len()]]).collect(),
            );
            let mut opt = Optimizer::new(kind, 0.01);
            for t in 1..=2 {
                for (i, p) in params.iter_mut().enumerate() {
                    p.grad = wave(p.value.len(), 0.11 * (t + i) as f32);
                }
                opt.step(&mut params.iter_mut().collect::<Vec<_>>(), 0.05);
                for ((p, value), [first, second]) in params.iter().zip(&mut values).zip(&mut states) {
                    let weight_decay = if p.decay { 0.01 } else { 0.0 };
                    match kind {
                        OptimizerKind::Sgd { momentum, nesterov } => {
                            let step = SgdStep { lr: 0.05, momentum, weight_decay, nesterov };
                            if momentum == 0.0 {
                                sgd_plain_update(value, &p.grad, step);
                            } else {
                                sgd_update(value, &p.grad, first, step);
                            }
                        }
                        OptimizerKind::Adam { beta1, beta2, eps } | OptimizerKind::AdamW { beta1, beta2, eps } => {
                            let step = AdamStep {
                                lr: 0.05,
                                beta1,
                                beta2,
                                eps,
                                weight_decay,
                                decoupled: matches!(kind, OptimizerKind::AdamW { .. }),
                                bias_correction1: 1.0 - beta1.powi(t as i32),
                                bias_correction2: 1.0 - beta2.powi(t as i32),
                            };
                            adam_update(value, &p.grad, first, second, step);
                        }
                    }
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&p.value), bits(value), "{name}, step {t}, {}", p.name);
                }
            }
        }
    }
}
