//! The reference architectures of DESIGN.md, as spec strings.

pub struct Preset {
    pub name: &'static str,
    pub spec: &'static str,
    pub about: &'static str,
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "seed002",
        spec: "conv32k3,relu,pool2,conv64k3,relu,pool2,conv64k3,relu,flatten,dense64,relu,dense10",
        about: "3 conv + 2 dense, 93,322 parameters (Keras, Adam, 10 epochs: 90.41% test)",
    },
    Preset {
        name: "seed000",
        spec: "conv32k3same,bn,relu,conv32k3same,bn,relu,pool2,drop0.25,\
               conv64k3same,bn,relu,conv64k3same,bn,relu,pool2,drop0.25,\
               flatten,dense128,bn,relu,drop0.5,dense10",
        about: "4 conv with batch-norm and dropout, about 469,000 parameters",
    },
    Preset {
        name: "mlp003",
        spec: "flatten,dense256,relu,dense128,relu,dense32,relu,dense10",
        about: "multi-layer perceptron, 238,314 parameters (SGD lr 0.02, 30 epochs: 88.71% test)",
    },
];

pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}
