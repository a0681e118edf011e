//! AVX-512 lanes for the fast bilinear kernel on `u8` images: sixteen output pixels per step.
//!
//! The arithmetic is the AVX2 fast path's (`avx2::bilinear_span_f32`) and
//! `fast::fast_pixel`'s, operation for operation — coordinates `base + cc·a` in `f64`
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

use super::store::store_ps16;
use crate::transform::WarpOut;
use crate::transform::warp::fast::fast_pixels;
use crate::transform::warp::kernel::OutRow;

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
            // Indices 64..128 pick from the second (zero) register.
            bytes[j][4 * l + 1] = 64;
            bytes[j][4 * l + 2] = 64;
            bytes[j][4 * l + 3] = 64;
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

/// The constants of one output row, in registers.
struct Row {
    b0: __m512d,
    b1: __m512d,
    a0: __m512d,
    a1: __m512d,
    lane_lo: __m512d,
    lane_hi: __m512d,
    last0: __m512d,
    last1: __m512d,
    top0: __m256i,
    top1: __m256i,
    rsv: __m512i,
    csv: __m512i,
    limit: __m512i,
    flip_h: bool,
    w: usize,
}

/// One step's tap offsets (of the top-left taps), weights, and the lanes whose taps may be
/// read.
#[derive(Clone, Copy)]
struct Step {
    idx: __m512i,
    wts: [__m512; 4],
    ok: u16,
}

impl Row {
    /// The coordinates of output columns `col..col + 16`, as the reference computes them.
    ///
    /// # Safety
    /// AVX-512 F as for [`bilinear_span_u8`].
    #[inline(always)]
    unsafe fn step<const CLAMP: bool>(&self, col: usize) -> Step {
        unsafe {
            let cc0 = if self.flip_h { self.w - 1 - col } else { col } as i64 as f64;
            let cc0 = _mm512_set1_pd(cc0);
            let ccl = _mm512_add_pd(cc0, self.lane_lo);
            let cch = _mm512_add_pd(cc0, self.lane_hi);
            let mut t0l = _mm512_add_pd(self.b0, _mm512_mul_pd(ccl, self.a0));
            let mut t0h = _mm512_add_pd(self.b0, _mm512_mul_pd(cch, self.a0));
            let mut t1l = _mm512_add_pd(self.b1, _mm512_mul_pd(ccl, self.a1));
            let mut t1h = _mm512_add_pd(self.b1, _mm512_mul_pd(cch, self.a1));
            if CLAMP {
                let zero = _mm512_setzero_pd();
                t0l = _mm512_min_pd(_mm512_max_pd(t0l, zero), self.last0);
                t0h = _mm512_min_pd(_mm512_max_pd(t0h, zero), self.last0);
                t1l = _mm512_min_pd(_mm512_max_pd(t1l, zero), self.last1);
                t1h = _mm512_min_pd(_mm512_max_pd(t1h, zero), self.last1);
            }
            let mut s0l = _mm512_cvttpd_epi32(t0l);
            let mut s0h = _mm512_cvttpd_epi32(t0h);
            let mut s1l = _mm512_cvttpd_epi32(t1l);
            let mut s1h = _mm512_cvttpd_epi32(t1h);
            if CLAMP {
                // The second tap must stay inside: at t = n-1 use taps n-2, n-1 with weight 1.
                s0l = _mm256_min_epi32(s0l, self.top0);
                s0h = _mm256_min_epi32(s0h, self.top0);
                s1l = _mm256_min_epi32(s1l, self.top1);
                s1h = _mm256_min_epi32(s1h, self.top1);
            }
            let fr = join_ps(frac(t0l, s0l), frac(t0h, s0h));
            let fc = join_ps(frac(t1l, s1l), frac(t1h, s1h));
            let s0 = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(s0l), s0h);
            let s1 = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(s1l), s1h);
            let idx = _mm512_add_epi32(
                _mm512_mullo_epi32(s0, self.rsv),
                _mm512_mullo_epi32(s1, self.csv),
            );
            // Unsigned, so a negative offset fails too.
            let ok = _mm512_cmple_epu32_mask(idx, self.limit);
            let one = _mm512_set1_ps(1.0);
            let (gr, gc) = (_mm512_sub_ps(one, fr), _mm512_sub_ps(one, fc));
            let wts = [
                _mm512_mul_ps(gr, gc),
                _mm512_mul_ps(gr, fc),
                _mm512_mul_ps(fr, gc),
                _mm512_mul_ps(fr, fc),
            ];
            Step { idx, wts, ok }
        }
    }
}

/// `t - s` rounded to `f32`, lane by lane.
#[inline(always)]
unsafe fn frac(t: __m512d, s: __m256i) -> __m256 {
    unsafe { _mm512_cvtpd_ps(_mm512_sub_pd(t, _mm512_cvtepi32_pd(s))) }
}

/// Two `f32x8` as one `f32x16`.
#[inline(always)]
unsafe fn join_ps(lo: __m256, hi: __m256) -> __m512 {
    unsafe {
        _mm512_castpd_ps(_mm512_insertf64x4::<1>(
            _mm512_castpd256_pd512(_mm256_castps_pd(lo)),
            _mm256_castps_pd(hi),
        ))
    }
}

/// The four taps of each lane of `s` that may be read (the others are zero): the four bytes
/// at `p + idx`, `p + cs + idx`, `p + rs + idx`, `p + rs + cs + idx`.
///
/// # Safety
/// AVX-512 F; the lanes in `s.ok` must be readable at every tap.
#[inline(always)]
unsafe fn gather(p: *const u8, rs: usize, cs: usize, s: &Step) -> [__m512i; 4] {
    unsafe {
        let z = _mm512_setzero_si512();
        [
            _mm512_mask_i32gather_epi32::<1>(z, s.ok, s.idx, p as *const i32),
            _mm512_mask_i32gather_epi32::<1>(z, s.ok, s.idx, p.add(cs) as *const i32),
            _mm512_mask_i32gather_epi32::<1>(z, s.ok, s.idx, p.add(rs) as *const i32),
            _mm512_mask_i32gather_epi32::<1>(z, s.ok, s.idx, p.add(rs + cs) as *const i32),
        ]
    }
}

/// Where a step's values go: the output row, and what the per-pixel fallback needs.
struct Sink<'a, O, const C: usize, const CLAMP: bool> {
    bytes: [__m512i; 4],
    pixel: [__m512i; 4],
    scale_ps: __m512,
    src: &'a [u8],
    /// Every write goes through `out` (the fallback's too), so no reborrow of the output
    /// slice invalidates it.
    out: *mut MaybeUninit<O>,
    len: usize,
    row: OutRow,
}

impl<O: WarpOut, const C: usize, const CLAMP: bool> Sink<'_, O, C, CLAMP> {
    /// Writes output columns `col..col + 16` from their weights and gathered taps; when a
    /// lane could not be read (`ok` not full: the image's last pixels), pixel by pixel with
    /// `fast::fast_pixel`, which gives the same values.
    ///
    /// # Safety
    /// AVX-512 F, BW and VBMI and FMA; `col..col + 16` in the row, `lay` describing the
    /// `len` slots at `out`.
    #[inline(always)]
    unsafe fn emit(&self, col: usize, wts: &[__m512; 4], taps: &[__m512i; 4], ok: u16) {
        let lay = self.row.lay;
        unsafe {
            if ok == u16::MAX {
                let o = (self.out as *mut O).add(self.row.row_out * lay.rs + col * lay.cs);
                let zero = _mm512_setzero_si512();
                for j in 0..C {
                    // Each lane's channel byte, zero-extended (indices >= 64 pick a zero).
                    let v = |g: __m512i| {
                        _mm512_cvtepi32_ps(_mm512_permutex2var_epi8(g, self.bytes[j], zero))
                    };
                    let wt = |k: usize| _mm512_permutexvar_ps(self.pixel[j], wts[k]);
                    let mut t = _mm512_mul_ps(v(taps[0]), wt(0));
                    t = _mm512_fmadd_ps(v(taps[1]), wt(1), t);
                    t = _mm512_fmadd_ps(v(taps[2]), wt(2), t);
                    t = _mm512_fmadd_ps(v(taps[3]), wt(3), t);
                    store_ps16(o.add(STEP * j), _mm512_mul_ps(t, self.scale_ps));
                }
            } else {
                let dst = std::slice::from_raw_parts_mut(self.out, self.len);
                fast_pixels(self.src, dst, &self.row, C, (col, col + STEP), CLAMP);
            }
        }
    }
}

/// The fast bilinear interior of one output row of a `u8` channels-last image with `C`
/// channels (1, 3 or 4), `f32` or `u8` output: sixteen pixels per step. Same contract as the AVX2
/// `avx2::bilinear_span_f32` (which see for `CLAMP`), whose arithmetic it repeats exactly.
///
/// Processes output columns `col_lo..` in steps of sixteen while a whole step fits before
/// `col_hi`, and returns the first column it did not process. A step whose furthest tap
/// read would pass the end of `src` (the image's last pixels) is done by
/// `fast::fast_pixel`, which gives the same values.
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VBMI and FMA; without `CLAMP`,
/// `col_lo..col_hi` must lie in the row's interior span, with it both image sides must be at
/// least 2; `lay` must be channels-last with `C` channels and describe `src` and `dst`,
/// which hold fewer than `i32::MAX` elements.
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
    let Ok(limit) = i32::try_from(src.len() as i64 - (rs + cs + 4) as i64) else {
        return col_lo;
    };
    if limit < 0 || col_lo + STEP > col_hi {
        return col_lo;
    }
    unsafe {
        let sign = if flip_h { -1.0 } else { 1.0 };
        let lanes: [f64; 16] = std::array::from_fn(|k| k as f64 * sign);
        let regs = Row {
            b0: _mm512_set1_pd(base[0]),
            b1: _mm512_set1_pd(base[1]),
            a0: _mm512_set1_pd(a[0]),
            a1: _mm512_set1_pd(a[1]),
            lane_lo: _mm512_loadu_pd(lanes.as_ptr()),
            lane_hi: _mm512_loadu_pd(lanes.as_ptr().add(8)),
            last0: _mm512_set1_pd((lay.h - 1) as f64),
            last1: _mm512_set1_pd((w - 1) as f64),
            top0: _mm256_set1_epi32(lay.h as i32 - 2),
            top1: _mm256_set1_epi32(w as i32 - 2),
            rsv: _mm512_set1_epi32(rs as i32),
            csv: _mm512_set1_epi32(cs as i32),
            limit: _mm512_set1_epi32(limit),
            flip_h,
            w,
        };
        let (byte_table, pixel_table) = &TABLES[C];
        let sink = Sink::<O, C, CLAMP> {
            bytes: std::array::from_fn(|j| _mm512_loadu_si512(byte_table[j].as_ptr() as *const _)),
            pixel: std::array::from_fn(|j| _mm512_loadu_si512(pixel_table[j].as_ptr() as *const _)),
            scale_ps: _mm512_set1_ps(scale as f32),
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
        col += STEP;
        col
    }
}
