//! Compute kernels: small free functions over slices.
//!
//! Every SIMD kernel has a scalar twin that is always compiled and tested against it. The path
//! (AVX-512F, AVX2+FMA, scalar) is chosen once, at first use, from the CPU's features, and can be
//! forced with `FASHION_CNN_SIMD=scalar|avx2|avx512`. Each dispatched kernel `k` also exists as
//! `k_on(path, …)` so that tests can run every path the CPU has.

#[macro_use]
mod dispatch;
pub mod batchnorm;
pub mod conv_direct;
pub mod conv_wide;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod pool;
pub mod softmax;
pub mod update;
pub mod vector;
pub mod winograd;

use std::sync::OnceLock;

/// Which instruction set the kernels use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdPath {
    Scalar,
    Avx2,
    Avx512,
}

impl SimdPath {
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Scalar => "scalar",
            SimdPath::Avx2 => "avx2",
            SimdPath::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            SimdPath::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every path this CPU can run, fastest last.
    pub fn supported() -> Vec<SimdPath> {
        [SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512].into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The fastest supported path.
    pub fn detect() -> SimdPath {
        *SimdPath::supported().last().expect("scalar is always supported")
    }

    /// The path named by `FASHION_CNN_SIMD` (or detected when unset), refusing one the CPU lacks.
    pub fn from_env_value(value: Option<&str>) -> Result<SimdPath, String> {
        let path = match value.map(str::trim) {
            None | Some("") | Some("auto") => return Ok(SimdPath::detect()),
            Some("scalar") => SimdPath::Scalar,
            Some("avx2") => SimdPath::Avx2,
            Some("avx512") => SimdPath::Avx512,
            Some(other) => {
                return Err(format!("FASHION_CNN_SIMD={other} is not a kernel path; use scalar, avx2, avx512 or auto"));
            }
        };
        if !path.is_supported() {
            return Err(format!(
                "FASHION_CNN_SIMD={} asks for a kernel path this CPU does not support (it supports: {})",
                path.name(),
                SimdPath::supported().iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(path)
    }
}

static PATH: OnceLock<SimdPath> = OnceLock::new();

/// Check `FASHION_CNN_SIMD` and fix the path for the rest of the process. Binaries call this at
/// start so that a bad value is reported as an error rather than a panic inside a kernel.
pub fn init_simd_path() -> Result<SimdPath, String> {
    let path = path_from_env()?;
    Ok(*PATH.get_or_init(|| path))
}

fn path_from_env() -> Result<SimdPath, String> {
    SimdPath::from_env_value(std::env::var("FASHION_CNN_SIMD").ok().as_deref())
}

/// The path the dispatched kernels use.
pub fn simd_path() -> SimdPath {
    *PATH.get_or_init(|| path_from_env().unwrap_or_else(|message| panic!("{message}")))
}
