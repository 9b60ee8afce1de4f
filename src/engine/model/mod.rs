//! A sequential network: built from a spec string or a preset, run forward and backward over a
//! batch, summarised Keras-style.

mod presets;
mod sequential;
mod spec;
mod summary;

pub use presets::{PRESETS, Preset, preset};
pub use sequential::Sequential;
pub use spec::{LayerSpec, SpecError, parse_spec};
