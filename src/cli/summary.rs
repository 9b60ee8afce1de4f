//! `fashion-cnn summary`: the Keras-style summary of a preset or a spec.

use crate::engine::init::Init;
use crate::engine::model::{PRESETS, Sequential, preset};
use clap::Args;

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// A preset network: seed002, seed000, mlp003.
    #[arg(long, conflicts_with = "arch")]
    pub preset: Option<String>,

    /// A network spec, e.g. conv32k3,relu,pool2,flatten,dense10 (or @FILE to read it from a file).
    #[arg(long)]
    pub arch: Option<String>,

    /// Input shape CxHxW.
    #[arg(long, default_value = "1x28x28")]
    pub input: String,

    /// Number of classes.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
}

/// `1x28x28` → `[1, 28, 28]`.
pub fn parse_input_shape(text: &str) -> Result<Vec<usize>, String> {
    let dims: Option<Vec<usize>> =
        text.split(['x', 'X', '×']).map(|d| d.trim().parse().ok().filter(|&v| v > 0)).collect();
    match dims {
        Some(dims) if dims.len() == 3 => Ok(dims),
        _ => Err(format!("bad input shape '{text}'; expected CxHxW, e.g. 1x28x28")),
    }
}

/// The (name, spec) chosen by `--preset` or `--arch` (`@FILE` reads the spec from a file).
pub fn resolve_architecture(preset_name: Option<&str>, arch: Option<&str>) -> Result<(String, String), String> {
    match (preset_name, arch) {
        (Some(name), _) => {
            let known = PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ");
            let p = preset(name).ok_or_else(|| format!("unknown preset '{name}'; known presets: {known}"))?;
            Ok((p.name.to_string(), p.spec.to_string()))
        }
        (None, Some(arch)) => match arch.strip_prefix('@') {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| format!("cannot read architecture file {path}: {e}"))?;
                let spec = text
                    .lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim())
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(",");
                Ok(("custom".into(), spec))
            }
            None => Ok(("custom".into(), arch.to_string())),
        },
        (None, None) => Err("give --preset NAME or --arch SPEC".into()),
    }
}

pub fn run(args: SummaryArgs) -> Result<(), String> {
    let (name, spec) = resolve_architecture(args.preset.as_deref(), args.arch.as_deref())?;
    let input = parse_input_shape(&args.input)?;
    let model =
        Sequential::from_spec(&name, &spec, &input, args.classes, Init::GlorotUniform, 0).map_err(|e| e.to_string())?;
    print!("{}", model.summary());
    Ok(())
}
