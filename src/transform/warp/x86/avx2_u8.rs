//! AVX2 gather lanes for the fast bilinear kernel on `u8` images: eight output pixels per
//! step — `avx512_u8`'s design on 256-bit registers, for CPUs without AVX-512.
//!
//! Same arithmetic as `avx512_u8`, `avx2::bilinear_span_f32` and `fast::fast_pixel`, operation
//! for operation, so every pixel gets the same bits on every path. Data movement: one
//! 32-bit gather per tap brings each pixel's bytes; for each output register, a lane
//! permutation (`vpermd`) puts each element's pixel in its lane and a byte shuffle
//! (`vpshufb`) keeps its channel's byte; the weights follow by the same lane permutation.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::store::store_ps8;
use crate::transform::WarpOut;
use crate::transform::warp::fast::fast_pixels;
use crate::transform::warp::kernel::OutRow;

/// Pixels per step.
const STEP: usize = 8;

/// For output register `j` of a step with `c` channels: in lane `l` (element `e = 8j + l`,
/// pixel `e / c`, channel `e % c`) the pixel `e / c` (for `vpermd`), and the byte shuffle
/// that keeps byte `e % c` of the lane's dword, zero-extended (`vpshufb` works within each
/// 128-bit half: lane `l` is dword `l % 4` of its half).
const fn lane_tables(c: usize) -> Tables {
    let mut pixel = [[0u32; 8]; 4];
    let mut bytes = [[0x80u8; 32]; 4];
    let mut j = 0;
    while j < c {
        let mut l = 0;
        while l < 8 {
            let e = 8 * j + l;
            pixel[j][l] = (e / c) as u32;
            bytes[j][4 * l] = (4 * (l % 4) + e % c) as u8;
            l += 1;
        }
        j += 1;
    }
    (pixel, bytes)
}

/// Pixel lanes and byte shuffles of up to four output registers (see [`lane_tables`]).
type Tables = ([[u32; 8]; 4], [[u8; 32]; 4]);

/// The tables for 1, 3 and 4 channels, indexed by the channel count.
static TABLES: [Tables; 5] = [
    lane_tables(0),
    lane_tables(1),
    lane_tables(0),
    lane_tables(3),
    lane_tables(4),
];

/// The constants of one output row, in registers.
struct Row {
    b0: __m256d,
    b1: __m256d,
    a0: __m256d,
    a1: __m256d,
    lane_lo: __m256d,
    lane_hi: __m256d,
    last0: __m256d,
    last1: __m256d,
    top0: __m128i,
    top1: __m128i,
    rsv: __m256i,
    csv: __m256i,
    /// `limit + 1`: a lane may be read when its offset is below this.
    end: __m256i,
    flip_h: bool,
    w: usize,
}

/// One step's tap offsets, weights, and the lanes whose taps may be read (all ones).
struct Step {
    idx: __m256i,
    wts: [__m256; 4],
    ok: __m256i,
}

impl Row {
    /// The coordinates of output columns `col..col + 8`, as the reference computes them.
    ///
    /// # Safety
    /// AVX2 as for [`bilinear_span_u8`].
    #[inline(always)]
    unsafe fn step<const CLAMP: bool>(&self, col: usize) -> Step {
        unsafe {
            let cc0 = if self.flip_h { self.w - 1 - col } else { col } as i64 as f64;
            let cc0 = _mm256_set1_pd(cc0);
            let ccl = _mm256_add_pd(cc0, self.lane_lo);
            let cch = _mm256_add_pd(cc0, self.lane_hi);
            let mut t0l = _mm256_add_pd(self.b0, _mm256_mul_pd(ccl, self.a0));
            let mut t0h = _mm256_add_pd(self.b0, _mm256_mul_pd(cch, self.a0));
            let mut t1l = _mm256_add_pd(self.b1, _mm256_mul_pd(ccl, self.a1));
            let mut t1h = _mm256_add_pd(self.b1, _mm256_mul_pd(cch, self.a1));
            if CLAMP {
                let zero = _mm256_setzero_pd();
                t0l = _mm256_min_pd(_mm256_max_pd(t0l, zero), self.last0);
                t0h = _mm256_min_pd(_mm256_max_pd(t0h, zero), self.last0);
                t1l = _mm256_min_pd(_mm256_max_pd(t1l, zero), self.last1);
                t1h = _mm256_min_pd(_mm256_max_pd(t1h, zero), self.last1);
            }
            let mut s0l = _mm256_cvttpd_epi32(t0l);
            let mut s0h = _mm256_cvttpd_epi32(t0h);
            let mut s1l = _mm256_cvttpd_epi32(t1l);
            let mut s1h = _mm256_cvttpd_epi32(t1h);
            if CLAMP {
                // The second tap must stay inside: at t = n-1 use taps n-2, n-1 with weight 1.
                s0l = _mm_min_epi32(s0l, self.top0);
                s0h = _mm_min_epi32(s0h, self.top0);
                s1l = _mm_min_epi32(s1l, self.top1);
                s1h = _mm_min_epi32(s1h, self.top1);
            }
            let fr = _mm256_set_m128(frac(t0h, s0h), frac(t0l, s0l));
            let fc = _mm256_set_m128(frac(t1h, s1h), frac(t1l, s1l));
            let s0 = _mm256_set_m128i(s0h, s0l);
            let s1 = _mm256_set_m128i(s1h, s1l);
            let idx = _mm256_add_epi32(
                _mm256_mullo_epi32(s0, self.rsv),
                _mm256_mullo_epi32(s1, self.csv),
            );
            // Offsets are never negative here (taps are clamped or interior).
            let ok = _mm256_cmpgt_epi32(self.end, idx);
            let one = _mm256_set1_ps(1.0);
            let (gr, gc) = (_mm256_sub_ps(one, fr), _mm256_sub_ps(one, fc));
            let wts = [
                _mm256_mul_ps(gr, gc),
                _mm256_mul_ps(gr, fc),
                _mm256_mul_ps(fr, gc),
                _mm256_mul_ps(fr, fc),
            ];
            Step { idx, wts, ok }
        }
    }
}

/// `t - s` rounded to `f32`, lane by lane.
#[inline(always)]
unsafe fn frac(t: __m256d, s: __m128i) -> __m128 {
    unsafe { _mm256_cvtpd_ps(_mm256_sub_pd(t, _mm256_cvtepi32_pd(s))) }
}

/// The four taps of each lane of `s` that may be read (the others are zero).
///
/// # Safety
/// AVX2; the lanes set in `s.ok` must be readable at every tap.
#[inline(always)]
unsafe fn gather(p: *const u8, rs: usize, cs: usize, s: &Step) -> [__m256i; 4] {
    unsafe {
        let z = _mm256_setzero_si256();
        let g = |q: *const u8| _mm256_mask_i32gather_epi32::<1>(z, q as *const i32, s.idx, s.ok);
        [g(p), g(p.add(cs)), g(p.add(rs)), g(p.add(rs + cs))]
    }
}

/// Where a step's values go: the output row, and what the per-pixel fallback needs.
struct Sink<'a, O, const C: usize, const CLAMP: bool> {
    pixel: [__m256i; 4],
    bytes: [__m256i; 4],
    scale_ps: __m256,
    src: &'a [u8],
    /// Every write goes through `out` (the fallback's too), so no reborrow of the output
    /// slice invalidates it.
    out: *mut MaybeUninit<O>,
    len: usize,
    row: OutRow,
}

impl<O: WarpOut, const C: usize, const CLAMP: bool> Sink<'_, O, C, CLAMP> {
    /// Writes output columns `col..col + 8` from their weights and gathered taps; when a
    /// lane could not be read (the image's last pixels), pixel by pixel with
    /// `fast::fast_pixel`, which gives the same values.
    ///
    /// # Safety
    /// AVX2 and FMA; `col..col + 8` in the row, `lay` describing the `len` slots at `out`.
    #[inline(always)]
    unsafe fn emit(&self, col: usize, wts: &[__m256; 4], taps: &[__m256i; 4], ok: __m256i) {
        let lay = self.row.lay;
        unsafe {
            if _mm256_movemask_ps(_mm256_castsi256_ps(ok)) == 0xff {
                let o = (self.out as *mut O).add(self.row.row_out * lay.rs + col * lay.cs);
                for j in 0..C {
                    let v = |g: __m256i| {
                        let g = _mm256_permutevar8x32_epi32(g, self.pixel[j]);
                        _mm256_cvtepi32_ps(_mm256_shuffle_epi8(g, self.bytes[j]))
                    };
                    let wt = |k: usize| _mm256_permutevar8x32_ps(wts[k], self.pixel[j]);
                    let mut t = _mm256_mul_ps(v(taps[0]), wt(0));
                    t = _mm256_fmadd_ps(v(taps[1]), wt(1), t);
                    t = _mm256_fmadd_ps(v(taps[2]), wt(2), t);
                    t = _mm256_fmadd_ps(v(taps[3]), wt(3), t);
                    store_ps8(o.add(STEP * j), _mm256_mul_ps(t, self.scale_ps));
                }
            } else {
                let dst = std::slice::from_raw_parts_mut(self.out, self.len);
                fast_pixels(self.src, dst, &self.row, C, (col, col + STEP), CLAMP);
            }
        }
    }
}

/// The fast bilinear interior of one output row of a `u8` channels-last image with `C`
/// channels (1, 3 or 4), `f32` or `u8` output: eight pixels per step. Same contract as
/// `avx512_u8::bilinear_span_u8` (sixteen there), whose arithmetic it repeats exactly.
///
/// Processes output columns `col_lo..` in steps of eight while a whole step fits before
/// `col_hi`, and returns the first column it did not process.
///
/// # Safety
/// The CPU must support AVX2 and FMA; without `CLAMP`, `col_lo..col_hi` must lie in the
/// row's interior span, with it both image sides must be at least 2; `lay` must be
/// channels-last with `C` channels and describe `src` (and `dst`, which holds the output
/// rows from the one `row_out` is counted from), which hold fewer than `i32::MAX` elements.
#[inline(always)]
pub(crate) unsafe fn bilinear_span_u8<O: WarpOut, const C: usize, const CLAMP: bool>(
    src: &[u8],
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    (col_lo, col_hi): (usize, usize),
) -> usize {
    let OutRow {
        lay,
        base,
        a,
        flip_h,
        scale,
        ..
    } = *row;
    debug_assert!(C == 1 || C == 3 || C == 4);
    debug_assert!(lay.c == C && lay.cs == C && lay.len() == src.len());
    // A lane may be read when its top-left tap offset i00 satisfies i00 + rs + cs + 4 <= len
    // (the 4-byte read of the furthest tap); for an image too small for any, no step here.
    let (rs, cs, w) = (lay.rs, lay.cs, lay.w);
    let Ok(end) = i32::try_from(src.len() as i64 - (rs + cs + 4) as i64 + 1) else {
        return col_lo;
    };
    if end <= 0 || col_lo + STEP > col_hi {
        return col_lo;
    }
    unsafe {
        let sign = if flip_h { -1.0 } else { 1.0 };
        let lanes: [f64; 8] = std::array::from_fn(|k| k as f64 * sign);
        let regs = Row {
            b0: _mm256_set1_pd(base[0]),
            b1: _mm256_set1_pd(base[1]),
            a0: _mm256_set1_pd(a[0]),
            a1: _mm256_set1_pd(a[1]),
            lane_lo: _mm256_loadu_pd(lanes.as_ptr()),
            lane_hi: _mm256_loadu_pd(lanes.as_ptr().add(4)),
            last0: _mm256_set1_pd((lay.h - 1) as f64),
            last1: _mm256_set1_pd((w - 1) as f64),
            top0: _mm_set1_epi32(lay.h as i32 - 2),
            top1: _mm_set1_epi32(w as i32 - 2),
            rsv: _mm256_set1_epi32(rs as i32),
            csv: _mm256_set1_epi32(cs as i32),
            end: _mm256_set1_epi32(end),
            flip_h,
            w,
        };
        let (pixel_table, byte_table) = &TABLES[C];
        let sink = Sink::<O, C, CLAMP> {
            pixel: std::array::from_fn(|j| _mm256_loadu_si256(pixel_table[j].as_ptr() as *const _)),
            bytes: std::array::from_fn(|j| _mm256_loadu_si256(byte_table[j].as_ptr() as *const _)),
            scale_ps: _mm256_set1_ps(scale as f32),
            src,
            out: dst.as_mut_ptr(),
            len: dst.len(),
            row: *row,
        };
        let p = src.as_ptr();

        let mut col = col_lo;
        let mut cur = regs.step::<CLAMP>(col);
        let mut taps = gather(p, rs, cs, &cur);
        while col + 2 * STEP <= col_hi {
            // The next step's coordinates and gathers first, so that they overlap this
            // step's arithmetic.
            let next = regs.step::<CLAMP>(col + STEP);
            let next_taps = gather(p, rs, cs, &next);
            sink.emit(col, &cur.wts, &taps, cur.ok);
            (cur.wts, cur.ok, taps) = (next.wts, next.ok, next_taps);
            col += STEP;
        }
        sink.emit(col, &cur.wts, &taps, cur.ok);
        col + STEP
    }
}
