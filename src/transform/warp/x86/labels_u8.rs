//! The label kernel's copy step for one-channel byte masks: sixteen (AVX-512) or eight
//! (AVX2) source pixels per 32-bit gather, the low byte of each kept. A gather reads the
//! three bytes after its pixel too, so a step whose pixels lie within 3 bytes of the end of
//! the source is left to the caller's scalar loop.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

/// Copies `src[pixels[j]]` into `dst[j]` sixteen at a time while every pixel of a step
/// has three bytes after it in `src`; returns how many were copied (a multiple of 16).
///
/// # Safety
/// AVX-512 F must be enabled; every pixel is an index into `src`, and `src.len()` fits
/// an `i32`.
#[inline(always)]
pub(crate) unsafe fn gather_16(src: &[u8], pixels: &[i32], dst: &mut [MaybeUninit<u8>]) -> usize {
    let n = pixels.len().min(dst.len());
    // SAFETY: the caller enables AVX-512 F.
    let limit = unsafe { _mm512_set1_epi32(src.len().saturating_sub(3) as i32) };
    let mut j = 0;
    while j + 16 <= n {
        // SAFETY: j + 16 <= n bounds the loads and the store; each gathered dword starts
        // at a pixel below len - 3, so it lies inside `src`.
        unsafe {
            let idx = _mm512_loadu_si512(pixels.as_ptr().add(j).cast());
            if _mm512_cmplt_epi32_mask(idx, limit) != 0xFFFF {
                break;
            }
            let words = _mm512_i32gather_epi32::<1>(idx, src.as_ptr().cast());
            _mm_storeu_si128(dst.as_mut_ptr().add(j).cast(), _mm512_cvtepi32_epi8(words));
        }
        j += 16;
    }
    j
}

/// [`gather_16`] eight at a time, with AVX2.
///
/// # Safety
/// AVX2 must be enabled; every pixel is an index into `src`, and `src.len()` fits an `i32`.
#[inline(always)]
pub(crate) unsafe fn gather_8(src: &[u8], pixels: &[i32], dst: &mut [MaybeUninit<u8>]) -> usize {
    let n = pixels.len().min(dst.len());
    // SAFETY: the caller enables AVX2.
    let limit = unsafe { _mm256_set1_epi32(src.len().saturating_sub(3) as i32) };
    // The low byte of each dword, packed into the first eight bytes.
    // SAFETY: the caller enables AVX2.
    let low_bytes = unsafe {
        _mm256_setr_epi8(
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, //
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        )
    };
    let mut j = 0;
    while j + 8 <= n {
        // SAFETY: as in gather_16.
        unsafe {
            let idx = _mm256_loadu_si256(pixels.as_ptr().add(j).cast());
            if _mm256_movemask_epi8(_mm256_cmpgt_epi32(limit, idx)) != -1 {
                break;
            }
            let words = _mm256_i32gather_epi32::<1>(src.as_ptr().cast(), idx);
            let packed = _mm256_shuffle_epi8(words, low_bytes);
            let lo = _mm256_castsi256_si128(packed);
            let hi = _mm256_extracti128_si256::<1>(packed);
            let eight = _mm_unpacklo_epi32(lo, hi);
            _mm_storel_epi64(dst.as_mut_ptr().add(j).cast(), eight);
        }
        j += 8;
    }
    j
}
