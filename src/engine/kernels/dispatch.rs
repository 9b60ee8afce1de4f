//! The `simd_kernel!` macro: one public kernel from a scalar twin and a generic vector body.
//!
//! ```ignore
//! simd_kernel! {
//!     /// y = max(x, 0)
//!     pub fn relu_forward / relu_forward_on(x: &[f32], y: &mut [f32]) -> ()
//!         = relu_forward_scalar, relu_forward_vector;
//! }
//! ```
//! gives `relu_forward(x, y)` on the process-wide path and `relu_forward_on(path, x, y)`.
//! The vector body is an `#[inline(always)] unsafe fn name<V: F32Vector>(…)`; it is instantiated
//! inside a `#[target_feature]` function per path so the intrinsics inline into it.

macro_rules! simd_kernel {
    ($(
        $(#[$doc:meta])*
        pub fn $name:ident / $name_on:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty
            = $scalar:ident, $vector:ident;
    )*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name($($arg: $ty),*) -> $ret {
            $name_on($crate::engine::kernels::simd_path(), $($arg),*)
        }

        #[doc = concat!("[`", stringify!($name), "`] on an explicit kernel path.")]
        pub fn $name_on(path: $crate::engine::kernels::SimdPath, $($arg: $ty),*) -> $ret {
            use $crate::engine::kernels::SimdPath;
            assert!(path.is_supported(), "kernel path {} is not supported by this CPU", path.name());
            match path {
                SimdPath::Scalar => $scalar($($arg),*),
                #[cfg(target_arch = "x86_64")]
                SimdPath::Avx2 => {
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn on_avx2($($arg: $ty),*) -> $ret {
                        unsafe { $vector::<$crate::engine::kernels::vector::Avx2>($($arg),*) }
                    }
                    // SAFETY: the CPU supports AVX2 and FMA (asserted above).
                    unsafe { on_avx2($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                SimdPath::Avx512 => {
                    #[target_feature(enable = "avx512f")]
                    unsafe fn on_avx512($($arg: $ty),*) -> $ret {
                        unsafe { $vector::<$crate::engine::kernels::vector::Avx512>($($arg),*) }
                    }
                    // SAFETY: the CPU supports AVX-512F (asserted above).
                    unsafe { on_avx512($($arg),*) }
                }
                #[cfg(not(target_arch = "x86_64"))]
                _ => $scalar($($arg),*),
            }
        }
    )*};
}
