//! The Keras-style model summary: each layer, its output shape and parameter count, then the
//! totals.

use super::Sequential;

/// Keras' layer name for a class name: `Conv2D` → `conv2d`, `MaxPooling2D` → `max_pooling2d`.
fn snake_name(kind: &str) -> String {
    match kind {
        "Conv2D" => "conv2d".into(),
        "MaxPooling2D" => "max_pooling2d".into(),
        "BatchNormalization" => "batch_normalization".into(),
        "ReLU" => "re_lu".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl Sequential {
    pub fn summary(&self) -> String {
        let rule = "─".repeat(80);
        let double = "═".repeat(80);
        let mut out = format!("Model: \"{}\"\n{rule}\n", self.name);
        out += &format!(" {:<44}{:<24}{:>12}\n{double}\n", "Layer (type)", "Output Shape", "Param #");
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for layer in self.layers() {
            let base = snake_name(layer.kind());
            let count = seen.entry(base.clone()).or_insert(0);
            let name = if *count == 0 { base.clone() } else { format!("{base}_{count}") };
            *count += 1;
            let shape = layer.out_shape().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
            let params: usize =
                layer.params().iter().map(|p| p.value.len()).sum::<usize>() + layer.non_trainable_count();
            out += &format!(
                " {:<44}{:<24}{:>12}\n",
                format!("{name} ({})", layer.kind()),
                format!("(None, {shape})"),
                thousands(params)
            );
        }
        let (trainable, frozen) = (self.trainable_count(), self.non_trainable_count());
        out += &format!("{double}\n");
        out += &format!(" Total params: {}\n", thousands(trainable + frozen));
        out += &format!(" Trainable params: {}\n", thousands(trainable));
        out += &format!(" Non-trainable params: {}\n{rule}\n", thousands(frozen));
        out
    }
}
