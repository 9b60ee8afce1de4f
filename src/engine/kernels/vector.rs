//! A small vector-of-f32 abstraction over AVX2 (`__m256`, 8 lanes) and AVX-512F (`__m512`,
//! 16 lanes), so each SIMD kernel is written once, generically, and instantiated per path inside
//! a `#[target_feature]` function (see `dispatch.rs`).
//!
//! Every method is `#[inline(always)]` and `unsafe`: callers guarantee the CPU has the features
//! and that pointers are valid for the number of lanes (or `n` lanes for the partial forms).
//! The partial loads and stores use the hardware's masked moves, so tails stay vectorised and
//! never touch memory past the slice.

#![allow(clippy::missing_safety_doc)]

pub trait F32Vector: Copy {
    const LANES: usize;

    unsafe fn splat(value: f32) -> Self;
    unsafe fn load(src: *const f32) -> Self;
    unsafe fn store(self, dst: *mut f32);
    /// Loads the first `n < LANES` values; the other lanes hold `fill`.
    unsafe fn load_partial(src: *const f32, n: usize, fill: f32) -> Self;
    /// Stores the first `n < LANES` lanes.
    unsafe fn store_partial(self, dst: *mut f32, n: usize);

    unsafe fn add(self, other: Self) -> Self;
    unsafe fn sub(self, other: Self) -> Self;
    unsafe fn mul(self, other: Self) -> Self;
    unsafe fn div(self, other: Self) -> Self;
    unsafe fn max(self, other: Self) -> Self;
    unsafe fn min(self, other: Self) -> Self;
    /// `self * b + c` with one rounding.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    unsafe fn sqrt(self) -> Self;
    unsafe fn floor(self) -> Self;
    /// Lane-wise `if self > other { if_greater } else { otherwise }` (false for NaN).
    unsafe fn select_gt(self, other: Self, if_greater: Self, otherwise: Self) -> Self;
    /// 2^n for lanes holding integral values in [-126, 127].
    unsafe fn pow2i(self) -> Self;

    unsafe fn reduce_sum(self) -> f32;
    unsafe fn reduce_max(self) -> f32;

    #[inline(always)]
    unsafe fn zero() -> Self {
        unsafe { Self::splat(0.0) }
    }

    /// e^x by the Cephes range reduction and degree-5 polynomial (about 1 ulp on [-87, 88]);
    /// inputs are clamped to that range, so e^-100 gives about 1e-38 rather than 0.
    #[inline(always)]
    unsafe fn exp(self) -> Self {
        unsafe {
            let x = self.min(Self::splat(88.3)).max(Self::splat(-87.3));
            let n = x.mul_add(Self::splat(std::f32::consts::LOG2_E), Self::splat(0.5)).floor();
            let r = n.mul_add(Self::splat(-0.693_359_4), x);
            let r = n.mul_add(Self::splat(2.121_944_4e-4), r);
            let mut p = Self::splat(1.987_569_1e-4);
            p = p.mul_add(r, Self::splat(1.398_199_9e-3));
            p = p.mul_add(r, Self::splat(8.333_452e-3));
            p = p.mul_add(r, Self::splat(4.166_579_6e-2));
            p = p.mul_add(r, Self::splat(1.666_666_5e-1));
            p = p.mul_add(r, Self::splat(5.000_000_1e-1));
            let y = p.mul(r.mul(r)).add(r).add(Self::splat(1.0));
            y.mul(n.pow2i())
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F32Vector;
    use std::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub struct Avx2(__m256);

    #[derive(Clone, Copy)]
    pub struct Avx512(__m512);

    impl Avx2 {
        /// All-ones in the lanes below `n`.
        #[inline(always)]
        unsafe fn lane_mask(n: usize) -> __m256i {
            unsafe {
                let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), index)
            }
        }
    }

    impl F32Vector for Avx2 {
        const LANES: usize = 8;

        #[inline(always)]
        unsafe fn splat(value: f32) -> Self {
            unsafe { Avx2(_mm256_set1_ps(value)) }
        }
        #[inline(always)]
        unsafe fn load(src: *const f32) -> Self {
            unsafe { Avx2(_mm256_loadu_ps(src)) }
        }
        #[inline(always)]
        unsafe fn store(self, dst: *mut f32) {
            unsafe { _mm256_storeu_ps(dst, self.0) }
        }
        #[inline(always)]
        unsafe fn load_partial(src: *const f32, n: usize, fill: f32) -> Self {
            unsafe {
                let mask = Self::lane_mask(n);
                let loaded = _mm256_maskload_ps(src, mask);
                Avx2(_mm256_blendv_ps(_mm256_set1_ps(fill), loaded, _mm256_castsi256_ps(mask)))
            }
        }
        #[inline(always)]
        unsafe fn store_partial(self, dst: *mut f32, n: usize) {
            unsafe { _mm256_maskstore_ps(dst, Self::lane_mask(n), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_add_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn sub(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_sub_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn mul(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_mul_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn div(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_div_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn max(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_max_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn min(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_min_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Avx2(_mm256_fmadd_ps(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn sqrt(self) -> Self {
            unsafe { Avx2(_mm256_sqrt_ps(self.0)) }
        }
        #[inline(always)]
        unsafe fn floor(self) -> Self {
            unsafe { Avx2(_mm256_floor_ps(self.0)) }
        }
        #[inline(always)]
        unsafe fn select_gt(self, other: Self, if_greater: Self, otherwise: Self) -> Self {
            unsafe {
                let mask = _mm256_cmp_ps::<_CMP_GT_OQ>(self.0, other.0);
                Avx2(_mm256_blendv_ps(otherwise.0, if_greater.0, mask))
            }
        }
        #[inline(always)]
        unsafe fn pow2i(self) -> Self {
            unsafe {
                let n = _mm256_cvtps_epi32(self.0);
                let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(n, _mm256_set1_epi32(127)));
                Avx2(_mm256_castsi256_ps(bits))
            }
        }
        #[inline(always)]
        unsafe fn reduce_sum(self) -> f32 {
            unsafe {
                let quad = _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
                let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
                let one = _mm_add_ss(pair, _mm_shuffle_ps::<0b01>(pair, pair));
                _mm_cvtss_f32(one)
            }
        }
        #[inline(always)]
        unsafe fn reduce_max(self) -> f32 {
            unsafe {
                let quad = _mm_max_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
                let pair = _mm_max_ps(quad, _mm_movehl_ps(quad, quad));
                let one = _mm_max_ss(pair, _mm_shuffle_ps::<0b01>(pair, pair));
                _mm_cvtss_f32(one)
            }
        }
    }

    impl F32Vector for Avx512 {
        const LANES: usize = 16;

        #[inline(always)]
        unsafe fn splat(value: f32) -> Self {
            unsafe { Avx512(_mm512_set1_ps(value)) }
        }
        #[inline(always)]
        unsafe fn load(src: *const f32) -> Self {
            unsafe { Avx512(_mm512_loadu_ps(src)) }
        }
        #[inline(always)]
        unsafe fn store(self, dst: *mut f32) {
            unsafe { _mm512_storeu_ps(dst, self.0) }
        }
        #[inline(always)]
        unsafe fn load_partial(src: *const f32, n: usize, fill: f32) -> Self {
            unsafe {
                let mask: __mmask16 = ((1u32 << n) - 1) as u16;
                Avx512(_mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask, src))
            }
        }
        #[inline(always)]
        unsafe fn store_partial(self, dst: *mut f32, n: usize) {
            unsafe {
                let mask: __mmask16 = ((1u32 << n) - 1) as u16;
                _mm512_mask_storeu_ps(dst, mask, self.0)
            }
        }
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_add_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn sub(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_sub_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn mul(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_mul_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn div(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_div_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn max(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_max_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn min(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_min_ps(self.0, other.0)) }
        }
        #[inline(always)]
        unsafe fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Avx512(_mm512_fmadd_ps(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn sqrt(self) -> Self {
            unsafe { Avx512(_mm512_sqrt_ps(self.0)) }
        }
        #[inline(always)]
        unsafe fn floor(self) -> Self {
            unsafe {
                Avx512(_mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(self.0))
            }
        }
        #[inline(always)]
        unsafe fn select_gt(self, other: Self, if_greater: Self, otherwise: Self) -> Self {
            unsafe {
                let mask = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(self.0, other.0);
                Avx512(_mm512_mask_blend_ps(mask, otherwise.0, if_greater.0))
            }
        }
        #[inline(always)]
        unsafe fn pow2i(self) -> Self {
            unsafe {
                let n = _mm512_cvtps_epi32(self.0);
                let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(n, _mm512_set1_epi32(127)));
                Avx512(_mm512_castsi512_ps(bits))
            }
        }
        #[inline(always)]
        unsafe fn reduce_sum(self) -> f32 {
            unsafe { _mm512_reduce_add_ps(self.0) }
        }
        #[inline(always)]
        unsafe fn reduce_max(self) -> f32 {
            unsafe { _mm512_reduce_max_ps(self.0) }
        }
    }
}

/// `out[i] = f(x[i])`, whole vectors then one masked partial vector.
#[inline(always)]
pub unsafe fn map1<V: F32Vector>(x: &[f32], out: &mut [f32], f: impl Fn(V) -> V) {
    assert_eq!(x.len(), out.len());
    let n = x.len();
    let (src, dst) = (x.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    unsafe {
        while i + V::LANES <= n {
            f(V::load(src.add(i))).store(dst.add(i));
            i += V::LANES;
        }
        if i < n {
            f(V::load_partial(src.add(i), n - i, 0.0)).store_partial(dst.add(i), n - i);
        }
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
pub unsafe fn map2<V: F32Vector>(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(V, V) -> V) {
    assert_eq!(a.len(), out.len());
    assert_eq!(b.len(), out.len());
    let n = a.len();
    let (pa, pb, dst) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    unsafe {
        while i + V::LANES <= n {
            f(V::load(pa.add(i)), V::load(pb.add(i))).store(dst.add(i));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            let (va, vb) = (V::load_partial(pa.add(i), rest, 0.0), V::load_partial(pb.add(i), rest, 0.0));
            f(va, vb).store_partial(dst.add(i), rest);
        }
    }
}

/// `Σ f(x[i])`; the padding lanes of the last vector hold `fill`, which `f` must map to 0.
#[inline(always)]
pub unsafe fn sum_map1<V: F32Vector>(x: &[f32], fill: f32, f: impl Fn(V) -> V) -> f32 {
    let n = x.len();
    let src = x.as_ptr();
    let mut i = 0;
    unsafe {
        let (mut acc0, mut acc1) = (V::zero(), V::zero());
        while i + 2 * V::LANES <= n {
            acc0 = acc0.add(f(V::load(src.add(i))));
            acc1 = acc1.add(f(V::load(src.add(i + V::LANES))));
            i += 2 * V::LANES;
        }
        while i + V::LANES <= n {
            acc0 = acc0.add(f(V::load(src.add(i))));
            i += V::LANES;
        }
        if i < n {
            acc1 = acc1.add(f(V::load_partial(src.add(i), n - i, fill)));
        }
        acc0.add(acc1).reduce_sum()
    }
}

/// `Σ f(a[i], b[i])`; padding lanes hold 0 in both, which `f` must map to 0.
#[inline(always)]
pub unsafe fn sum_map2<V: F32Vector>(a: &[f32], b: &[f32], f: impl Fn(V, V) -> V) -> f32 {
    assert_eq!(a.len(), b.len());
    let n = a.len();
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = 0;
    unsafe {
        let mut acc = V::zero();
        while i + V::LANES <= n {
            acc = acc.add(f(V::load(pa.add(i)), V::load(pb.add(i))));
            i += V::LANES;
        }
        if i < n {
            let rest = n - i;
            acc = acc.add(f(V::load_partial(pa.add(i), rest, 0.0), V::load_partial(pb.add(i), rest, 0.0)));
        }
        acc.reduce_sum()
    }
}
