//! The label kernel's interior span for one-channel byte masks: sixteen (AVX-512) or eight
//! (AVX2) output pixels per step, their nearest source pixels computed in `f64` lanes and
//! fetched by one 32-bit gather, the low byte of each kept; nothing is staged in memory. A
//! gather reads the three bytes after its pixel too, so a step whose pixels lie within 3
//! bytes of the end of the source is left to the caller's scalar loop.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::super::nearest::RowPoints;

/// [`gather_16`] with the indices computed in the same registers: sixteen output bytes per
/// step from two `f64x8` halves, nothing staged in memory. Returns how many were written (a
/// multiple of 16); it stops where a gather would read within 3 bytes of the source's end.
///
/// # Safety
/// AVX-512 F must be enabled; the points clamp into the `h × w` source `src`, whose length
/// fits an `i32`.
#[inline(always)]
pub(crate) unsafe fn nearest_16(src: &[u8], dst: &mut [MaybeUninit<u8>], p: &RowPoints) -> usize {
    // SAFETY (whole body): the caller enables AVX-512 F; loads and stores are bounded below.
    unsafe {
        let limit = _mm512_set1_epi32(src.len().saturating_sub(3) as i32);
        let lanes = |from: i32| {
            let j = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let cc = _mm256_add_epi32(
                _mm256_set1_epi32(p.first + from * p.step),
                _mm256_mullo_epi32(j, _mm256_set1_epi32(p.step)),
            );
            _mm512_cvtepi32_pd(cc)
        };
        let (mut lo, mut hi) = (lanes(0), lanes(8));
        let stride = _mm512_set1_pd(f64::from(16 * p.step));
        let index = |cc: __m512d| {
            let axis = |k: usize| {
                let t = _mm512_add_pd(
                    _mm512_set1_pd(p.base[k]),
                    _mm512_mul_pd(cc, _mm512_set1_pd(p.a[k])),
                );
                let t = _mm512_add_pd(t, _mm512_set1_pd(0.5));
                let t = _mm512_min_pd(
                    _mm512_max_pd(t, _mm512_setzero_pd()),
                    _mm512_set1_pd(p.last[k]),
                );
                _mm512_cvttpd_epi32(t)
            };
            _mm256_add_epi32(_mm256_mullo_epi32(axis(0), _mm256_set1_epi32(p.w)), axis(1))
        };
        let n = dst.len();
        let mut j = 0;
        while j + 16 <= n {
            let idx = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(index(lo)), index(hi));
            if _mm512_cmplt_epi32_mask(idx, limit) != 0xFFFF {
                break;
            }
            let words = _mm512_i32gather_epi32::<1>(idx, src.as_ptr().cast());
            _mm_storeu_si128(dst.as_mut_ptr().add(j).cast(), _mm512_cvtepi32_epi8(words));
            lo = _mm512_add_pd(lo, stride);
            hi = _mm512_add_pd(hi, stride);
            j += 16;
        }
        j
    }
}

/// [`nearest_16`] eight at a time, with AVX2: two `f64x4` quarters per step.
///
/// # Safety
/// AVX2 must be enabled; as [`nearest_16`] otherwise.
#[inline(always)]
pub(crate) unsafe fn nearest_8(src: &[u8], dst: &mut [MaybeUninit<u8>], p: &RowPoints) -> usize {
    // SAFETY (whole body): the caller enables AVX2; loads and stores are bounded below.
    unsafe {
        let limit = _mm256_set1_epi32(src.len().saturating_sub(3) as i32);
        let lanes = |from: i32| {
            let j = _mm_setr_epi32(0, 1, 2, 3);
            let cc = _mm_add_epi32(
                _mm_set1_epi32(p.first + from * p.step),
                _mm_mullo_epi32(j, _mm_set1_epi32(p.step)),
            );
            _mm256_cvtepi32_pd(cc)
        };
        let (mut lo, mut hi) = (lanes(0), lanes(4));
        let stride = _mm256_set1_pd(f64::from(8 * p.step));
        let axis = |cc: __m256d, k: usize| {
            let t = _mm256_add_pd(
                _mm256_set1_pd(p.base[k]),
                _mm256_mul_pd(cc, _mm256_set1_pd(p.a[k])),
            );
            let t = _mm256_add_pd(t, _mm256_set1_pd(0.5));
            let t = _mm256_min_pd(
                _mm256_max_pd(t, _mm256_setzero_pd()),
                _mm256_set1_pd(p.last[k]),
            );
            _mm256_cvttpd_epi32(t)
        };
        let both =
            |a: __m128i, b: __m128i| _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(a), b);
        let w = _mm256_set1_epi32(p.w);
        let low_bytes = _mm256_setr_epi8(
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, //
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        );
        let n = dst.len();
        let mut j = 0;
        while j + 8 <= n {
            let rows = both(axis(lo, 0), axis(hi, 0));
            let cols = both(axis(lo, 1), axis(hi, 1));
            let idx = _mm256_add_epi32(_mm256_mullo_epi32(rows, w), cols);
            if _mm256_movemask_epi8(_mm256_cmpgt_epi32(limit, idx)) != -1 {
                break;
            }
            let words = _mm256_i32gather_epi32::<1>(src.as_ptr().cast(), idx);
            let packed = _mm256_shuffle_epi8(words, low_bytes);
            let eight = _mm_unpacklo_epi32(
                _mm256_castsi256_si128(packed),
                _mm256_extracti128_si256::<1>(packed),
            );
            _mm_storel_epi64(dst.as_mut_ptr().add(j).cast(), eight);
            lo = _mm256_add_pd(lo, stride);
            hi = _mm256_add_pd(hi, stride);
            j += 8;
        }
        j
    }
}
