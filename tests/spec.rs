//! The architecture spec: presets have the documented sizes, bad specs get the documented errors.

use fashion_cnn::engine::init::Init;
use fashion_cnn::engine::model::{Sequential, preset};

fn build(spec: &str) -> Result<Sequential, String> {
    Sequential::from_spec("t", spec, &[1, 28, 28], 10, Init::GlorotUniform, 0).map_err(|e| e.to_string())
}

#[test]
fn presets_have_the_documented_parameter_counts() {
    let count = |name: &str| {
        let m = build(preset(name).unwrap().spec).unwrap();
        (m.trainable_count(), m.non_trainable_count())
    };
    assert_eq!(count("seed002"), (93_322, 0));
    assert_eq!(count("mlp003"), (238_314, 0));
    assert_eq!(count("seed000"), (468_458, 640));
}

#[test]
fn the_spec_string_round_trips() {
    for name in ["seed002", "seed000", "mlp003"] {
        let spec: String = preset(name).unwrap().spec.split(',').map(str::trim).collect::<Vec<_>>().join(",");
        assert_eq!(build(&spec).unwrap().spec(), spec);
    }
}

#[test]
fn bad_specs_are_rejected_with_the_documented_message() {
    let cases = [
        ("", "invalid architecture spec: the spec is empty"),
        ("conv32k3,,dense10", "invalid architecture spec at token 2 '': empty token (two commas in a row?)"),
        (
            "conv32k3,relu,pool2,flatten,dense10,softmax",
            "invalid architecture spec at token 6 'softmax': unknown layer; expected one of conv…, pool…, bn, relu, drop…, flatten, dense…",
        ),
        (
            "conv32,flatten,dense10",
            "invalid architecture spec at token 1 'conv32': expected conv<filters>k<kernel>[s<stride>][same|valid|p<pad>], e.g. conv32k3 or conv64k3same",
        ),
        (
            "conv32k3x,flatten,dense10",
            "invalid architecture spec at token 1 'conv32k3x': unexpected 'x'; expected conv<filters>k<kernel>[s<stride>][same|valid|p<pad>], e.g. conv32k3 or conv64k3same",
        ),
        (
            "conv8k4same,flatten,dense10",
            "invalid architecture spec at token 1 'conv8k4same': 'same' padding needs an odd kernel, not 4",
        ),
        (
            "conv8k3,drop1.5,flatten,dense10",
            "invalid architecture spec at token 2 'drop1.5': dropout rate must be in [0, 1), not 1.5",
        ),
        (
            "conv8k3,dense10",
            "invalid architecture spec at token 2 'dense10': a dense layer needs a flat input but gets 8×26×26; add 'flatten' before it",
        ),
        (
            "flatten,conv8k3,dense10",
            "invalid architecture spec at token 2 'conv8k3': a convolution needs an image input (channels×height×width) but gets 784; put it before 'flatten'",
        ),
        (
            "conv8k29,flatten,dense10",
            "invalid architecture spec at token 1 'conv8k29': a 29×29 kernel does not fit the 1×28×28 input",
        ),
        (
            "conv8k3,pool2,pool2,pool2,pool2,pool2,flatten,dense10",
            "invalid architecture spec at token 6 'pool2': a 2×2 pool does not fit the 8×1×1 input",
        ),
        (
            "flatten,dense64",
            "invalid architecture spec at token 2 'dense64': the network must end with dense10 (one score per class) but its output is 64",
        ),
        ("dense0", "invalid architecture spec at token 1 'dense0': a dense layer needs at least 1 unit"),
    ];
    for (spec, message) in cases {
        assert_eq!(build(spec).err().as_deref(), Some(message), "spec {spec:?}");
    }
}
