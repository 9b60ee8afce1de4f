//! Weight initialisation.

use crate::engine::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// U(±√(6/(fan_in+fan_out))): Keras' default, used by the source notebooks.
    GlorotUniform,
    /// N(0, 2/fan_in): He et al., suited to ReLU networks.
    HeNormal,
    /// U(±√(6/fan_in)).
    HeUniform,
}

impl Init {
    pub fn parse(name: &str) -> Option<Init> {
        match name {
            "glorot" | "glorot-uniform" | "xavier" => Some(Init::GlorotUniform),
            "he" | "he-normal" | "kaiming" => Some(Init::HeNormal),
            "he-uniform" => Some(Init::HeUniform),
            _ => None,
        }
    }

    /// `len` values for a weight with the given fans.
    pub fn sample(self, len: usize, fan_in: usize, fan_out: usize, rng: &mut Rng) -> Vec<f32> {
        match self {
            Init::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
                (0..len).map(|_| rng.uniform(-limit, limit)).collect()
            }
            Init::HeNormal => {
                let std = (2.0 / fan_in as f32).sqrt();
                (0..len).map(|_| std * rng.normal()).collect()
            }
            Init::HeUniform => {
                let limit = (6.0 / fan_in as f32).sqrt();
                (0..len).map(|_| rng.uniform(-limit, limit)).collect()
            }
        }
    }
}
