//! Weights in safetensors (readable from Python: `safetensors.numpy.load_file`), named
//! `layers.<i>.<param>` (`weight`, `bias`, `gamma`, `beta`, `running_mean`, `running_var`), plus
//! optimizer state `optimizer.<k>` in training checkpoints. Writes are atomic.

use crate::data::write_atomic;
use crate::engine::model::Sequential;
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;
use std::path::Path;

/// A named f32 tensor.
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Every parameter and buffer of the model, in layer order.
pub fn model_tensors(model: &mut Sequential) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    for (i, layer) in model.layers_mut().iter_mut().enumerate() {
        for p in layer.params() {
            out.push(NamedTensor {
                name: format!("layers.{i}.{}", p.name),
                shape: p.shape.clone(),
                data: p.value.clone(),
            });
        }
        for b in layer.buffers_mut() {
            out.push(NamedTensor {
                name: format!("layers.{i}.{}", b.name),
                shape: vec![b.value.len()],
                data: b.value.clone(),
            });
        }
    }
    out
}

/// Copies tensors into the model's parameters and buffers, checking every name and shape.
pub fn load_model_tensors(
    model: &mut Sequential,
    tensors: &HashMap<String, NamedTensor>,
    file: &Path,
) -> Result<(), String> {
    for (i, layer) in model.layers_mut().iter_mut().enumerate() {
        let fill = |name: String, shape: &[usize], target: &mut Vec<f32>| -> Result<(), String> {
            let t = tensors.get(&name).ok_or_else(|| {
                format!("{}: tensor '{name}' is missing; the file does not fit this architecture", file.display())
            })?;
            if t.data.len() != target.len() {
                return Err(format!(
                    "{}: tensor '{name}' has {} values but the model needs {}",
                    file.display(),
                    t.data.len(),
                    target.len()
                ));
            }
            // Same size, other shape (a transposed weight, say) would load silently wrong.
            if t.shape != shape {
                return Err(format!(
                    "{}: tensor '{name}' has shape {:?} but the model needs {shape:?}",
                    file.display(),
                    t.shape
                ));
            }
            target.copy_from_slice(&t.data);
            Ok(())
        };
        for p in layer.params_mut() {
            let shape = p.shape.clone();
            fill(format!("layers.{i}.{}", p.name), &shape, &mut p.value)?;
        }
        for b in layer.buffers_mut() {
            let shape = [b.value.len()];
            fill(format!("layers.{i}.{}", b.name), &shape, b.value)?;
        }
    }
    Ok(())
}

pub fn save_safetensors(path: &Path, tensors: &[NamedTensor], metadata: HashMap<String, String>) -> Result<(), String> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| t.data.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| TensorView::new(Dtype::F32, t.shape.clone(), b).map(|v| (t.name.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: cannot encode tensors: {e}", path.display()))?;
    let encoded = safetensors::serialize(views, Some(metadata))
        .map_err(|e| format!("{}: cannot encode tensors: {e}", path.display()))?;
    write_atomic(path, &encoded).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Tensors by name, and the file's string metadata.
pub type Loaded = (HashMap<String, NamedTensor>, HashMap<String, String>);

pub fn load_safetensors(path: &Path) -> Result<Loaded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| format!("{}: not a safetensors file: {e}", path.display()))?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| format!("{}: not a safetensors file: {e}", path.display()))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(format!("{}: tensor '{name}' is {:?}, expected F32", path.display(), view.dtype()));
        }
        let data = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.insert(name.clone(), NamedTensor { name, shape: view.shape().to_vec(), data });
    }
    Ok((out, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::init::Init;

    fn model(seed: u64) -> Sequential {
        Sequential::from_spec("tiny", "flatten,dense6,relu,dense10", &[1, 2, 4], 10, Init::GlorotUniform, seed).unwrap()
    }

    fn values(model: &mut Sequential) -> Vec<Vec<f32>> {
        model_tensors(model).into_iter().map(|t| t.data).collect()
    }

    /// A weight of the right size but the transposed shape is refused by name and shape; the
    /// tensors as saved load back exactly.
    #[test]
    fn tensors_load_back_and_a_transposed_weight_is_refused() {
        let (mut saved, mut loaded) = (model(1), model(2));
        let tensors: HashMap<String, NamedTensor> =
            model_tensors(&mut saved).into_iter().map(|t| (t.name.clone(), t)).collect();
        load_model_tensors(&mut loaded, &tensors, Path::new("m.safetensors")).unwrap();
        assert_eq!(values(&mut loaded), values(&mut saved));
        let mut transposed = tensors;
        transposed.get_mut("layers.1.weight").unwrap().shape.reverse();
        let err = load_model_tensors(&mut loaded, &transposed, Path::new("m.safetensors")).unwrap_err();
        assert_eq!(err, "m.safetensors: tensor 'layers.1.weight' has shape [8, 6] but the model needs [6, 8]");
    }
}
