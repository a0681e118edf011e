//! AVX2 lanes for the warp kernel: the channels of one pixel in one `f64x4` register.
//! Every lane does the scalar kernel's IEEE operations in the same order, so results are
//! bit-identical; only the number of instructions changes.

use std::arch::x86_64::*;

use super::pixel::{OutPixel, Pixel, PixelKind};

/// Loads 4 consecutive elements from `p` as `f64` lanes.
///
/// # Safety
/// `p..p+4` must be readable, and the CPU must support AVX2 (callers run inside a
/// `#[target_feature(enable = "avx2")]` function).
#[inline(always)]
pub(crate) unsafe fn load4<T: Pixel>(p: *const T) -> __m256d {
    unsafe {
        match T::KIND {
            PixelKind::U8 => {
                let v = _mm_cvtsi32_si128((p as *const i32).read_unaligned());
                _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(v))
            }
            PixelKind::U16 => {
                let v = _mm_loadl_epi64(p as *const __m128i);
                _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(v))
            }
            PixelKind::F32 => _mm256_cvtps_pd(_mm_loadu_ps(p as *const f32)),
            PixelKind::F64 => _mm256_loadu_pd(p as *const f64),
        }
    }
}

/// Stores 4 lanes at `p`, rounded to the output type (round to nearest, as `as f32`).
///
/// # Safety
/// `p..p+4` must be writable; AVX2 as for [`load4`].
#[inline(always)]
pub(crate) unsafe fn store4<O: OutPixel>(p: *mut O, v: __m256d) {
    unsafe {
        match O::KIND {
            PixelKind::F32 => _mm_storeu_ps(p as *mut f32, _mm256_cvtpd_ps(v)),
            PixelKind::F64 => _mm256_storeu_pd(p as *mut f64, v),
            // OutPixel is only implemented for f32 and f64.
            PixelKind::U8 | PixelKind::U16 => unreachable!("no integer output type"),
        }
    }
}

/// `t = (v00·w0r)·w0c; t += (v01·w0r)·w1c; t += (v10·w1r)·w0c; t += (v11·w1r)·w1c` on lanes
/// (spec §5.5 step 5).
///
/// # Safety
/// AVX2 as for [`load4`].
#[inline(always)]
pub(crate) unsafe fn bilinear4(v: [__m256d; 4], w: [f64; 4]) -> __m256d {
    unsafe {
        let (w0r, w0c) = (_mm256_set1_pd(w[0]), _mm256_set1_pd(w[1]));
        let (w1r, w1c) = (_mm256_set1_pd(w[2]), _mm256_set1_pd(w[3]));
        let mut t = _mm256_mul_pd(_mm256_mul_pd(v[0], w0r), w0c);
        t = _mm256_add_pd(t, _mm256_mul_pd(_mm256_mul_pd(v[1], w0r), w1c));
        t = _mm256_add_pd(t, _mm256_mul_pd(_mm256_mul_pd(v[2], w1r), w0c));
        _mm256_add_pd(t, _mm256_mul_pd(_mm256_mul_pd(v[3], w1r), w1c))
    }
}
