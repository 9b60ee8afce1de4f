//! The architecture spec: comma-separated layer tokens, e.g.
//! `conv32k3same,bn,relu,pool2,drop0.25,flatten,dense128,relu,dense10`.
//!
//! | token | layer |
//! |---|---|
//! | `conv<F>k<K>[s<S>][same\|valid\|p<P>]` | 2-D convolution, F filters of K×K, stride S (1), padding (valid) |
//! | `pool<K>[s<S>]` | max-pooling K×K, stride S (K) |
//! | `bn` | batch normalisation (over channels, or features after a dense layer) |
//! | `relu` | ReLU |
//! | `drop<R>` | inverted dropout with rate R in [0, 1) |
//! | `flatten` | flatten to a vector |
//! | `dense<N>` | fully connected, N outputs |

use crate::engine::layers::Padding;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    Conv { filters: usize, kernel: usize, stride: usize, padding: Padding },
    Pool { kernel: usize, stride: usize },
    BatchNorm,
    Relu,
    Dropout(f32),
    Flatten,
    Dense(usize),
}

/// A spec that cannot be built: which token (1-based) and why.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecError {
    pub position: usize,
    pub token: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.token.is_empty() && self.position == 0 {
            write!(f, "invalid architecture spec: {}", self.message)
        } else {
            write!(f, "invalid architecture spec at token {} '{}': {}", self.position, self.token, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

/// Splits a token like `conv32k3s2same` into its leading number after a prefix.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn number(&mut self) -> Option<usize> {
        let digits = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        let value = self.rest[..digits].parse().ok()?;
        self.rest = &self.rest[digits..];
        Some(value)
    }
}

const CONV_FORM: &str = "expected conv<filters>k<kernel>[s<stride>][same|valid|p<pad>], e.g. conv32k3 or conv64k3same";
const POOL_FORM: &str = "expected pool<size>[s<stride>], e.g. pool2";

fn parse_conv(body: &str) -> Result<LayerSpec, String> {
    let mut c = Cursor { rest: body };
    let filters = c.number().ok_or(CONV_FORM)?;
    if !c.eat("k") {
        return Err(CONV_FORM.into());
    }
    let kernel = c.number().ok_or(CONV_FORM)?;
    // `s` starts both a stride and `same`: try the word first.
    let stride = if !c.rest.starts_with("same") && c.eat("s") { c.number().ok_or(CONV_FORM)? } else { 1 };
    let padding = if c.eat("same") {
        Padding::Same
    } else if c.eat("valid") {
        Padding::Valid
    } else if c.eat("p") {
        Padding::Explicit(c.number().ok_or(CONV_FORM)?)
    } else {
        Padding::Valid
    };
    if !c.rest.is_empty() {
        return Err(format!("unexpected '{}'; {CONV_FORM}", c.rest));
    }
    if filters == 0 || kernel == 0 || stride == 0 {
        return Err("filters, kernel and stride must each be at least 1".into());
    }
    if padding == Padding::Same && kernel % 2 == 0 {
        return Err(format!("'same' padding needs an odd kernel, not {kernel}"));
    }
    Ok(LayerSpec::Conv { filters, kernel, stride, padding })
}

fn parse_pool(body: &str) -> Result<LayerSpec, String> {
    let mut c = Cursor { rest: body };
    let kernel = c.number().ok_or(POOL_FORM)?;
    let stride = if c.eat("s") { c.number().ok_or(POOL_FORM)? } else { kernel };
    if !c.rest.is_empty() {
        return Err(format!("unexpected '{}'; {POOL_FORM}", c.rest));
    }
    if kernel == 0 || stride == 0 {
        return Err("pool size and stride must be at least 1".into());
    }
    Ok(LayerSpec::Pool { kernel, stride })
}

fn parse_token(token: &str) -> Result<LayerSpec, String> {
    let lower = token.to_ascii_lowercase();
    let t = lower.as_str();
    match t {
        "bn" | "batchnorm" => return Ok(LayerSpec::BatchNorm),
        "relu" => return Ok(LayerSpec::Relu),
        "flatten" => return Ok(LayerSpec::Flatten),
        _ => {}
    }
    if let Some(body) = t.strip_prefix("conv") {
        return parse_conv(body);
    }
    if let Some(body) = t.strip_prefix("maxpool").or_else(|| t.strip_prefix("pool")) {
        return parse_pool(body);
    }
    if let Some(body) = t.strip_prefix("dropout").or_else(|| t.strip_prefix("drop")) {
        let rate: f32 = body.parse().map_err(|_| "expected drop<rate>, e.g. drop0.25".to_string())?;
        if !(0.0..1.0).contains(&rate) {
            return Err(format!("dropout rate must be in [0, 1), not {body}"));
        }
        return Ok(LayerSpec::Dropout(rate));
    }
    if let Some(body) = t.strip_prefix("dense") {
        let units: usize = body.parse().map_err(|_| "expected dense<units>, e.g. dense128".to_string())?;
        if units == 0 {
            return Err("a dense layer needs at least 1 unit".into());
        }
        return Ok(LayerSpec::Dense(units));
    }
    Err("unknown layer; expected one of conv…, pool…, bn, relu, drop…, flatten, dense…".into())
}

/// Parses a spec into layer descriptions (shapes are checked when the model is built).
pub fn parse_spec(spec: &str) -> Result<Vec<(String, LayerSpec)>, SpecError> {
    let tokens: Vec<&str> = spec.split(',').map(str::trim).collect();
    if tokens.iter().all(|t| t.is_empty()) {
        return Err(SpecError { position: 0, token: String::new(), message: "the spec is empty".into() });
    }
    tokens
        .iter()
        .enumerate()
        .map(|(i, &token)| {
            if token.is_empty() {
                return Err(SpecError {
                    position: i + 1,
                    token: String::new(),
                    message: "empty token (two commas in a row?)".into(),
                });
            }
            parse_token(token).map(|layer| (token.to_string(), layer)).map_err(|message| SpecError {
                position: i + 1,
                token: token.to_string(),
                message,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_token_form() {
        let layers: Vec<LayerSpec> =
            parse_spec("conv32k3, conv8k5s2p2,conv4k3same,pool2,pool3s2,bn,relu,drop0.5,flatten,dense10")
                .unwrap()
                .into_iter()
                .map(|(_, l)| l)
                .collect();
        assert_eq!(
            layers,
            vec![
                LayerSpec::Conv { filters: 32, kernel: 3, stride: 1, padding: Padding::Valid },
                LayerSpec::Conv { filters: 8, kernel: 5, stride: 2, padding: Padding::Explicit(2) },
                LayerSpec::Conv { filters: 4, kernel: 3, stride: 1, padding: Padding::Same },
                LayerSpec::Pool { kernel: 2, stride: 2 },
                LayerSpec::Pool { kernel: 3, stride: 2 },
                LayerSpec::BatchNorm,
                LayerSpec::Relu,
                LayerSpec::Dropout(0.5),
                LayerSpec::Flatten,
                LayerSpec::Dense(10),
            ]
        );
    }
}
