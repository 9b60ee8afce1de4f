//! A training recipe: the network and the settings that train it from scratch. `cv`, `suspects
//! --method cross-val` and `noise-bench` all train several models the same way, and a run
//! folder's `model.json` records the recipe of the run so its folds can repeat it.

use super::run::ModelInfo;
use super::trainer::{Observer, TrainConfig, TrainState, train};
use crate::data::Dataset;
use crate::engine::init::Init;
use crate::engine::model::Sequential;
use crate::engine::optim::{Optimizer, OptimizerKind};

#[derive(Clone, Debug)]
pub struct Recipe {
    /// Preset name or "custom": only a label for summaries.
    pub name: String,
    pub spec: String,
    pub config: TrainConfig,
    pub init: Init,
}

impl Recipe {
    /// The recipe a run was trained with. `model.json` does not record `--init`, so it is read
    /// back from the recorded command line (glorot when absent, as `train` defaults).
    pub fn of_run(info: &ModelInfo) -> Result<Recipe, String> {
        let mut init_name = "glorot".to_string();
        let args = &info.command_line;
        for (k, arg) in args.iter().enumerate() {
            if arg == "--init" {
                init_name = args.get(k + 1).cloned().unwrap_or_default();
            } else if let Some(value) = arg.strip_prefix("--init=") {
                init_name = value.to_string();
            }
        }
        let init = Init::parse(&init_name)
            .ok_or_else(|| format!("the run's command line asks for an unknown --init '{init_name}'"))?;
        Ok(Recipe { name: info.name.clone(), spec: info.spec.clone(), config: info.training.clone(), init })
    }

    /// A fresh model (initialised from the recipe's seed) trained on `indices` of `data` for
    /// the recipe's epochs, with no validation split.
    pub fn train(&self, data: &Dataset, indices: &[usize], observer: &mut dyn Observer) -> Result<TrainState, String> {
        self.train_then(data, indices, observer, &mut |_| Ok(()))
    }

    /// [`Recipe::train`], calling `after_epoch` with the state after each epoch.
    pub fn train_then(
        &self,
        data: &Dataset,
        indices: &[usize],
        observer: &mut dyn Observer,
        after_epoch: &mut dyn FnMut(&mut TrainState) -> Result<(), String>,
    ) -> Result<TrainState, String> {
        let cfg = &self.config;
        let kind = OptimizerKind::parse(&cfg.optimizer, cfg.momentum)?;
        let model =
            Sequential::from_spec(&self.name, &self.spec, &data.shape, data.class_names.len(), self.init, cfg.seed)
                .map_err(|e| e.to_string())?;
        let mut state = TrainState {
            model,
            optimizer: Optimizer::new(kind, cfg.weight_decay),
            epochs_done: 0,
            history: Vec::new(),
            misclassified: Vec::new(),
        };
        train(&mut state, cfg, data, indices, &[], observer, after_epoch)?;
        Ok(state)
    }
}

/// An observer that says nothing, for models trained inside a bigger job.
pub struct Quiet;

impl Observer for Quiet {}
