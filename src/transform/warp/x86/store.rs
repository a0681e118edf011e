//! The fast lanes' stores: `f32` lanes written as the output type, `f32` as they are, `u8`
//! rounded as [`WarpOut::from_f32`] rounds one value (half up, saturated to `0..=255`, NaN
//! to 0), so a lane and the scalar `fast::fast_pixel` write the same byte.
//!
//! Round half up of an `f32` `t` is `floor(t) + (t - floor(t) >= 0.5)`: `t - floor(t)` is
//! exact, where `t + 0.5` could round up across an integer (for `t` just below `0.5`).

use std::arch::x86_64::*;

use crate::transform::WarpOut;
use crate::transform::pixel::PixelKind;

/// Writes the 16 lanes of `v` at `p` as `O` (`f32` or `u8`; the check is a compile-time
/// constant).
///
/// # Safety
/// `p..p+16` must be writable; the CPU must support AVX-512 F.
#[inline(always)]
pub(crate) unsafe fn store_ps16<O: WarpOut>(p: *mut O, v: __m512) {
    unsafe {
        match O::KIND {
            PixelKind::F32 => _mm512_storeu_ps(p as *mut f32, v),
            PixelKind::U8 => {
                let fl = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(v);
                let up =
                    _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_sub_ps(v, fl), _mm512_set1_ps(0.5));
                let r = _mm512_mask_add_ps(fl, up, fl, _mm512_set1_ps(1.0));
                // max returns its second operand for a NaN lane: 0.
                let r = _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(255.0));
                let bytes = _mm512_cvtusepi32_epi8(_mm512_cvttps_epi32(r));
                _mm_storeu_si128(p as *mut __m128i, bytes);
            }
            _ => unreachable!("fast lanes with {} output", O::NAME),
        }
    }
}

/// Writes the 8 lanes of `v` at `p` as `O`, as [`store_ps16`].
///
/// # Safety
/// `p..p+8` must be writable; the CPU must support AVX2.
#[inline(always)]
pub(crate) unsafe fn store_ps8<O: WarpOut>(p: *mut O, v: __m256) {
    unsafe {
        match O::KIND {
            PixelKind::F32 => _mm256_storeu_ps(p as *mut f32, v),
            PixelKind::U8 => {
                let i = _mm256_cvttps_epi32(round_half_up8(v));
                let words =
                    _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
                _mm_storel_epi64(p as *mut __m128i, _mm_packus_epi16(words, words));
            }
            _ => unreachable!("fast lanes with {} output", O::NAME),
        }
    }
}

/// Writes the 4 lanes of `v` at `p` as `O`, as [`store_ps16`].
///
/// # Safety
/// `p..p+4` must be writable; the CPU must support AVX2.
#[inline(always)]
pub(crate) unsafe fn store_ps4<O: WarpOut>(p: *mut O, v: __m128) {
    unsafe {
        match O::KIND {
            PixelKind::F32 => _mm_storeu_ps(p as *mut f32, v),
            PixelKind::U8 => {
                let r = round_half_up8(_mm256_castps128_ps256(v));
                let i = _mm_cvttps_epi32(_mm256_castps256_ps128(r));
                let words = _mm_packus_epi32(i, i);
                let bytes = _mm_cvtsi128_si32(_mm_packus_epi16(words, words));
                (p as *mut i32).write_unaligned(bytes);
            }
            _ => unreachable!("fast lanes with {} output", O::NAME),
        }
    }
}

/// `v` rounded half up and clamped to `[0, 255]` (NaN to 0), still as `f32`.
#[inline(always)]
unsafe fn round_half_up8(v: __m256) -> __m256 {
    unsafe {
        // The upper lanes of a widened `__m128` are unspecified, and dropped afterwards.
        let fl = _mm256_floor_ps(v);
        let up = _mm256_cmp_ps::<_CMP_GE_OQ>(_mm256_sub_ps(v, fl), _mm256_set1_ps(0.5));
        let r = _mm256_add_ps(fl, _mm256_and_ps(up, _mm256_set1_ps(1.0)));
        // max returns its second operand for a NaN lane: 0.
        _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(255.0))
    }
}
