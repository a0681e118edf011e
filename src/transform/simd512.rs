//! AVX-512 lanes for the fast bilinear kernel on `u8` images: sixteen output pixels per step.
//!
//! The arithmetic is the AVX2 fast path's (`simd::bilinear_span_f32`) and
//! `warp::fast_pixel`'s, operation for operation — coordinates `base + cc·a` in `f64`
//! (multiply, then add), the fraction rounded to `f32`, the four weights as products of
//! `1 - f` and `f`, then a multiply, three fused multiply–adds and the scale — so every
//! pixel gets the same bits on every path. Only the data movement differs:
//!
//! - one 32-bit gather per tap brings the four bytes at each of the sixteen pixels' tap
//!   (the pixel's channels, and for fewer than four channels the next bytes, unused);
//! - the output is produced directly in its interleaved channels-last order, `C` registers
//!   of sixteen `f32` for sixteen pixels: a byte permutation (`vpermb`) moves each element's
//!   channel byte into its lane, and a lane permutation gives each element its pixel's
//!   weight; so each output value is written once, with full-width stores.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::pixel::Layout;

/// Pixels per step.
const STEP: usize = 16;

/// For output register `j` of a step with `c` channels: in lane `l` (element `e = 16j + l`,
/// pixel `e / c`, channel `e % c`) the byte index `4·(e / c) + e % c` of the gathered taps
/// (other bytes of the lane zeroed by the mask), and the lane `e / c` of the per-pixel
/// weights. Built at compile time.
const fn lane_tables(c: usize) -> Tables {
    let mut bytes = [[0u8; 64]; 4];
    let mut pixel = [[0u32; 16]; 4];
    let mut j = 0;
    while j < c {
        let mut l = 0;
        while l < 16 {
            let e = 16 * j + l;
            bytes[j][4 * l] = (4 * (e / c) + e % c) as u8;
            pixel[j][l] = (e / c) as u32;
            l += 1;
        }
        j += 1;
    }
    (bytes, pixel)
}

/// Byte indices and weight lanes of up to four output registers (see [`lane_tables`]).
type Tables = ([[u8; 64]; 4], [[u32; 16]; 4]);

/// The tables for 1, 3 and 4 channels, indexed by the channel count.
static TABLES: [Tables; 5] = [
    lane_tables(0),
    lane_tables(1),
    lane_tables(0),
    lane_tables(3),
    lane_tables(4),
];

/// The fast bilinear interior of one output row of a `u8` channels-last image with `C`
/// channels (1, 3 or 4), `f32` output: sixteen pixels per step. Same contract as the AVX2
/// `simd::bilinear_span_f32` (which see for `CLAMP`), whose arithmetic it repeats exactly.
///
/// Processes output columns `col_lo..` in steps of sixteen while a whole step fits before
/// `col_hi`, and returns the first column it did not process. A step whose furthest tap
/// read would pass the end of `src` (the image's last pixels) is done by
/// `warp::fast_pixel`, which gives the same values.
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VBMI and FMA; without `CLAMP`,
/// `col_lo..col_hi` must lie in the row's interior span, with it both image sides must be at
/// least 2; `lay` must be channels-last with `C` channels and describe `src` and `dst`,
/// which hold fewer than `i32::MAX` elements.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn bilinear_span_u8<const C: usize, const CLAMP: bool>(
    src: &[u8],
    dst: &mut [MaybeUninit<f32>],
    lay: Layout,
    base: [f64; 2],
    a: [f64; 2],
    row_out: usize,
    (col_lo, col_hi): (usize, usize),
    flip_h: bool,
    scale: f64,
) -> usize {
    debug_assert!(C == 1 || C == 3 || C == 4);
    debug_assert!(lay.c == C && lay.cs == C && lay.len() == src.len());
    unsafe {
        let (rs, cs, w) = (lay.rs, lay.cs, lay.w);
        let (b0, b1) = (_mm512_set1_pd(base[0]), _mm512_set1_pd(base[1]));
        let (a0, a1) = (_mm512_set1_pd(a[0]), _mm512_set1_pd(a[1]));
        let one = _mm512_set1_ps(1.0);
        let (rsv, csv) = (_mm512_set1_epi32(rs as i32), _mm512_set1_epi32(cs as i32));
        let step = if flip_h { -1.0 } else { 1.0 };
        let lanes: [f64; 16] = std::array::from_fn(|k| k as f64 * step);
        let lane_lo = _mm512_loadu_pd(lanes.as_ptr());
        let lane_hi = _mm512_loadu_pd(lanes.as_ptr().add(8));
        let zero = _mm512_setzero_pd();
        let scale_ps = _mm512_set1_ps(scale as f32);
        let (last0, last1) = (
            _mm512_set1_pd((lay.h - 1) as f64),
            _mm512_set1_pd((w - 1) as f64),
        );
        let (top0, top1) = (
            _mm256_set1_epi32(lay.h as i32 - 2),
            _mm256_set1_epi32(w as i32 - 2),
        );
        // A step is in bounds when every tap offset i00 satisfies i00 + rs + cs + 4 <= len
        // (the 4-byte read of the furthest tap).
        let limit = (src.len() as i64 - (rs + cs + 4) as i64).clamp(-1, i32::MAX as i64);
        let limit = _mm512_set1_epi32(limit as i32);
        let (byte_table, pixel_table) = &TABLES[C];
        let bytes: [__m512i; 4] =
            std::array::from_fn(|j| _mm512_loadu_si512(byte_table[j].as_ptr() as *const _));
        let pixel: [__m512i; 4] =
            std::array::from_fn(|j| _mm512_loadu_si512(pixel_table[j].as_ptr() as *const _));
        // Keep the low byte of each 32-bit lane, zero the other three.
        const LOW_BYTES: u64 = 0x1111_1111_1111_1111;
        let p = src.as_ptr();
        let out = dst.as_mut_ptr() as *mut f32;
        let mut col = col_lo;
        while col + STEP <= col_hi {
            let cc0 = if flip_h { w - 1 - col } else { col } as i64 as f64;
            let cc0 = _mm512_set1_pd(cc0);
            let (ccl, cch) = (_mm512_add_pd(cc0, lane_lo), _mm512_add_pd(cc0, lane_hi));
            let mut t0l = _mm512_add_pd(b0, _mm512_mul_pd(ccl, a0));
            let mut t0h = _mm512_add_pd(b0, _mm512_mul_pd(cch, a0));
            let mut t1l = _mm512_add_pd(b1, _mm512_mul_pd(ccl, a1));
            let mut t1h = _mm512_add_pd(b1, _mm512_mul_pd(cch, a1));
            let (mut s0l, mut s0h, mut s1l, mut s1h);
            if CLAMP {
                t0l = _mm512_min_pd(_mm512_max_pd(t0l, zero), last0);
                t0h = _mm512_min_pd(_mm512_max_pd(t0h, zero), last0);
                t1l = _mm512_min_pd(_mm512_max_pd(t1l, zero), last1);
                t1h = _mm512_min_pd(_mm512_max_pd(t1h, zero), last1);
            }
            s0l = _mm512_cvttpd_epi32(t0l);
            s0h = _mm512_cvttpd_epi32(t0h);
            s1l = _mm512_cvttpd_epi32(t1l);
            s1h = _mm512_cvttpd_epi32(t1h);
            if CLAMP {
                // The second tap must stay inside: at t = n-1 use taps n-2, n-1 with weight 1.
                s0l = _mm256_min_epi32(s0l, top0);
                s0h = _mm256_min_epi32(s0h, top0);
                s1l = _mm256_min_epi32(s1l, top1);
                s1h = _mm256_min_epi32(s1h, top1);
            }
            let frac =
                |t: __m512d, s: __m256i| _mm512_cvtpd_ps(_mm512_sub_pd(t, _mm512_cvtepi32_pd(s)));
            let join_ps = |lo: __m256, hi: __m256| {
                _mm512_castpd_ps(_mm512_insertf64x4::<1>(
                    _mm512_castpd256_pd512(_mm256_castps_pd(lo)),
                    _mm256_castps_pd(hi),
                ))
            };
            let fr = join_ps(frac(t0l, s0l), frac(t0h, s0h));
            let fc = join_ps(frac(t1l, s1l), frac(t1h, s1h));
            let s0 = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(s0l), s0h);
            let s1 = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(s1l), s1h);
            let idx = _mm512_add_epi32(_mm512_mullo_epi32(s0, rsv), _mm512_mullo_epi32(s1, csv));
            if _mm512_cmpgt_epi32_mask(idx, limit) != 0 {
                // The image's last pixels: a 4-byte read would pass the end.
                for k in 0..STEP {
                    let cc = if flip_h { w - 1 - col - k } else { col + k } as i64 as f64;
                    let t = (base[0] + cc * a[0], base[1] + cc * a[1]);
                    let o = row_out * rs + (col + k) * cs;
                    super::warp::fast_pixel(src, dst, lay, C, o, t, CLAMP, scale as f32);
                }
                col += STEP;
                continue;
            }
            let (gr, gc) = (_mm512_sub_ps(one, fr), _mm512_sub_ps(one, fc));
            let wts = [
                _mm512_mul_ps(gr, gc),
                _mm512_mul_ps(gr, fc),
                _mm512_mul_ps(fr, gc),
                _mm512_mul_ps(fr, fc),
            ];
            let taps = [
                _mm512_i32gather_epi32::<1>(idx, p as *const i32),
                _mm512_i32gather_epi32::<1>(idx, p.add(cs) as *const i32),
                _mm512_i32gather_epi32::<1>(idx, p.add(rs) as *const i32),
                _mm512_i32gather_epi32::<1>(idx, p.add(rs + cs) as *const i32),
            ];
            let o = out.add(row_out * rs + col * cs);
            for j in 0..C {
                let v = |g: __m512i| {
                    _mm512_cvtepi32_ps(_mm512_maskz_permutexvar_epi8(LOW_BYTES, bytes[j], g))
                };
                let wt = |k: usize| _mm512_permutexvar_ps(pixel[j], wts[k]);
                let mut t = _mm512_mul_ps(v(taps[0]), wt(0));
                t = _mm512_fmadd_ps(v(taps[1]), wt(1), t);
                t = _mm512_fmadd_ps(v(taps[2]), wt(2), t);
                t = _mm512_fmadd_ps(v(taps[3]), wt(3), t);
                _mm512_storeu_ps(o.add(STEP * j), _mm512_mul_ps(t, scale_ps));
            }
            col += STEP;
        }
        col
    }
}
