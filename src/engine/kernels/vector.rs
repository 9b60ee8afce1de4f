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
    /// Loads lanes `first..end` (`first < end <= LANES`) from `src + lane`, zero in the others,
    /// whose addresses are never read: `src` itself may lie before the buffer.
    unsafe fn load_lanes(src: *const f32, first: usize, end: usize) -> Self;

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

    /// `LANES` 32-bit integer lanes, for element indices (max-pooling's argmax).
    type Index: Copy;
    /// Splits the `2·LANES` values `lo` then `hi` into the even- and the odd-numbered ones.
    unsafe fn deinterleave(lo: Self, hi: Self) -> (Self, Self);
    /// The inverse of `deinterleave`: `even[0], odd[0], even[1], odd[1], …` as `lo` then `hi`.
    unsafe fn interleave(even: Self, odd: Self) -> (Self, Self);
    /// Every index lane set to `value`.
    unsafe fn index_splat(value: u32) -> Self::Index;
    /// Index lanes `start + step·lane` (wrapping).
    unsafe fn index_ramp(start: u32, step: u32) -> Self::Index;
    /// Lane-wise wrapping `a + b`.
    unsafe fn index_add(a: Self::Index, b: Self::Index) -> Self::Index;
    /// Lane-wise wrapping `a - b`.
    unsafe fn index_sub(a: Self::Index, b: Self::Index) -> Self::Index;
    /// Lane-wise `if self > other { if_greater } else { otherwise }` on index lanes (false for NaN).
    unsafe fn select_index_gt(self, other: Self, if_greater: Self::Index, otherwise: Self::Index) -> Self::Index;
    /// Lane-wise `if a == b { if_equal } else { otherwise }`, comparing index lanes.
    unsafe fn select_index_eq(a: Self::Index, b: Self::Index, if_equal: Self, otherwise: Self) -> Self;
    /// Loads all index lanes.
    unsafe fn index_load(src: *const u32) -> Self::Index;
    /// Loads the first `n < LANES` index lanes; the others hold 0.
    unsafe fn index_load_partial(src: *const u32, n: usize) -> Self::Index;
    /// Stores all index lanes.
    unsafe fn store_index(index: Self::Index, dst: *mut u32);
    /// Stores the first `n < LANES` index lanes.
    unsafe fn store_index_partial(index: Self::Index, dst: *mut u32, n: usize);

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
            p = p.mul_add(r, Self::splat(0.5)); // Cephes' 5.0000001e-1, which is 0.5 in f32
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
        unsafe fn load_lanes(src: *const f32, first: usize, end: usize) -> Self {
            unsafe { Avx2(_mm256_maskload_ps(src, _mm256_andnot_si256(Self::lane_mask(first), Self::lane_mask(end)))) }
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

        type Index = __m256i;

        #[inline(always)]
        unsafe fn deinterleave(lo: Self, hi: Self) -> (Self, Self) {
            unsafe {
                // The shuffle works within 128-bit halves, giving [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6];
                // swapping the middle 64-bit quarters puts the lo values before the hi ones.
                let even = _mm256_castps_pd(_mm256_shuffle_ps::<0b10_00_10_00>(lo.0, hi.0));
                let odd = _mm256_castps_pd(_mm256_shuffle_ps::<0b11_01_11_01>(lo.0, hi.0));
                let even = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(even));
                let odd = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(odd));
                (Avx2(even), Avx2(odd))
            }
        }
        #[inline(always)]
        unsafe fn interleave(even: Self, odd: Self) -> (Self, Self) {
            unsafe {
                // The unpacks work within 128-bit halves: [e0 o0 e1 o1 | e4 o4 e5 o5] and
                // [e2 o2 e3 o3 | e6 o6 e7 o7]; joining their low, then their high halves restores the order.
                let low_pairs = _mm256_unpacklo_ps(even.0, odd.0);
                let high_pairs = _mm256_unpackhi_ps(even.0, odd.0);
                let lo = _mm256_permute2f128_ps::<0x20>(low_pairs, high_pairs);
                let hi = _mm256_permute2f128_ps::<0x31>(low_pairs, high_pairs);
                (Avx2(lo), Avx2(hi))
            }
        }
        #[inline(always)]
        unsafe fn index_splat(value: u32) -> __m256i {
            unsafe { _mm256_set1_epi32(value as i32) }
        }
        #[inline(always)]
        unsafe fn index_ramp(start: u32, step: u32) -> __m256i {
            unsafe {
                let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                _mm256_add_epi32(
                    _mm256_set1_epi32(start as i32),
                    _mm256_mullo_epi32(lane, _mm256_set1_epi32(step as i32)),
                )
            }
        }
        #[inline(always)]
        unsafe fn index_add(a: __m256i, b: __m256i) -> __m256i {
            unsafe { _mm256_add_epi32(a, b) }
        }
        #[inline(always)]
        unsafe fn index_sub(a: __m256i, b: __m256i) -> __m256i {
            unsafe { _mm256_sub_epi32(a, b) }
        }
        #[inline(always)]
        unsafe fn select_index_gt(self, other: Self, if_greater: __m256i, otherwise: __m256i) -> __m256i {
            unsafe {
                let mask = _mm256_cmp_ps::<_CMP_GT_OQ>(self.0, other.0);
                let chosen = _mm256_blendv_ps(_mm256_castsi256_ps(otherwise), _mm256_castsi256_ps(if_greater), mask);
                _mm256_castps_si256(chosen)
            }
        }
        #[inline(always)]
        unsafe fn select_index_eq(a: __m256i, b: __m256i, if_equal: Self, otherwise: Self) -> Self {
            unsafe {
                let mask = _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b));
                Avx2(_mm256_blendv_ps(otherwise.0, if_equal.0, mask))
            }
        }
        #[inline(always)]
        unsafe fn index_load(src: *const u32) -> __m256i {
            unsafe { _mm256_loadu_si256(src.cast()) }
        }
        #[inline(always)]
        unsafe fn index_load_partial(src: *const u32, n: usize) -> __m256i {
            unsafe { _mm256_maskload_epi32(src.cast(), Self::lane_mask(n)) }
        }
        #[inline(always)]
        unsafe fn store_index(index: __m256i, dst: *mut u32) {
            unsafe { _mm256_storeu_si256(dst.cast(), index) }
        }
        #[inline(always)]
        unsafe fn store_index_partial(index: __m256i, dst: *mut u32, n: usize) {
            unsafe { _mm256_maskstore_epi32(dst.cast(), Self::lane_mask(n), index) }
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
        unsafe fn load_lanes(src: *const f32, first: usize, end: usize) -> Self {
            unsafe {
                let mask: __mmask16 = (((1u32 << end) - 1) & !((1u32 << first) - 1)) as u16;
                Avx512(_mm512_maskz_loadu_ps(mask, src))
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
            unsafe { Avx512(_mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(self.0)) }
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

        type Index = __m512i;

        #[inline(always)]
        unsafe fn deinterleave(lo: Self, hi: Self) -> (Self, Self) {
            unsafe {
                // Indices 16..31 pick from `hi`.
                let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
                (Avx512(_mm512_permutex2var_ps(lo.0, even, hi.0)), Avx512(_mm512_permutex2var_ps(lo.0, odd, hi.0)))
            }
        }
        #[inline(always)]
        unsafe fn interleave(even: Self, odd: Self) -> (Self, Self) {
            unsafe {
                // Indices 16..31 pick from `odd`.
                let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
                let hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
                (Avx512(_mm512_permutex2var_ps(even.0, lo, odd.0)), Avx512(_mm512_permutex2var_ps(even.0, hi, odd.0)))
            }
        }
        #[inline(always)]
        unsafe fn index_splat(value: u32) -> __m512i {
            unsafe { _mm512_set1_epi32(value as i32) }
        }
        #[inline(always)]
        unsafe fn index_ramp(start: u32, step: u32) -> __m512i {
            unsafe {
                let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
                _mm512_add_epi32(
                    _mm512_set1_epi32(start as i32),
                    _mm512_mullo_epi32(lane, _mm512_set1_epi32(step as i32)),
                )
            }
        }
        #[inline(always)]
        unsafe fn index_add(a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_add_epi32(a, b) }
        }
        #[inline(always)]
        unsafe fn index_sub(a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_sub_epi32(a, b) }
        }
        #[inline(always)]
        unsafe fn select_index_gt(self, other: Self, if_greater: __m512i, otherwise: __m512i) -> __m512i {
            unsafe {
                let mask = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(self.0, other.0);
                _mm512_mask_blend_epi32(mask, otherwise, if_greater)
            }
        }
        #[inline(always)]
        unsafe fn select_index_eq(a: __m512i, b: __m512i, if_equal: Self, otherwise: Self) -> Self {
            unsafe {
                let mask = _mm512_cmpeq_epi32_mask(a, b);
                Avx512(_mm512_mask_blend_ps(mask, otherwise.0, if_equal.0))
            }
        }
        #[inline(always)]
        unsafe fn index_load(src: *const u32) -> __m512i {
            unsafe { _mm512_loadu_si512(src.cast()) }
        }
        #[inline(always)]
        unsafe fn index_load_partial(src: *const u32, n: usize) -> __m512i {
            unsafe {
                let mask: __mmask16 = ((1u32 << n) - 1) as u16;
                _mm512_maskz_loadu_epi32(mask, src.cast())
            }
        }
        #[inline(always)]
        unsafe fn store_index(index: __m512i, dst: *mut u32) {
            unsafe { _mm512_storeu_si512(dst.cast(), index) }
        }
        #[inline(always)]
        unsafe fn store_index_partial(index: __m512i, dst: *mut u32, n: usize) {
            unsafe {
                let mask: __mmask16 = ((1u32 << n) - 1) as u16;
                _mm512_mask_storeu_epi32(dst.cast(), mask, index)
            }
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
