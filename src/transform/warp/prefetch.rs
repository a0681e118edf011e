//! Row prefetch: asks the cache for the source rows a rotation's slanted path is about to
//! read, which the hardware prefetchers (following memory in order) do not foresee.

use crate::transform::pixel::Layout;

/// How many output rows ahead the kernel asks the cache for the source rows they read.
pub(crate) const PREFETCH_ROWS: usize = 4;

/// Source rows asked of the cache so far, for one image: the hardware prefetchers follow
/// memory in order, not the slanted path a rotation takes through the rows, and a dataset's
/// images are usually not in cache. Each source cache line is asked for at most once per
/// image, and only on x86-64 (elsewhere this does nothing). A hint: it changes no value.
pub(crate) struct RowPrefetch<'a, T> {
    src: &'a [T],
    lay: Layout,
    /// The rows asked for so far, `lo..hi` (empty at first).
    done: (usize, usize),
}

impl<'a, T> RowPrefetch<'a, T> {
    pub(crate) fn new(src: &'a [T], lay: Layout) -> Self {
        RowPrefetch {
            src,
            lay,
            done: (0, 0),
        }
    }

    /// Asks for the rows a sampling coordinate range `lo..=hi` reads (both taps, clamped to
    /// the image), beyond those asked for already.
    #[inline(always)]
    pub(crate) fn rows(&mut self, range: (f64, f64)) {
        for (y0, y1) in self.grow(range) {
            self.fetch(y0, y1);
        }
    }

    /// Widens `done` to the rows `range` reads and returns the rows that are new (at most
    /// two runs, either may be empty). `done` stays one run: successive output rows read
    /// overlapping (or adjacent) source rows, and a gap between two requests is filled in.
    #[inline(always)]
    fn grow(&mut self, (lo, hi): (f64, f64)) -> [(usize, usize); 2] {
        let h = self.lay.h as f64;
        // Coordinates clamped to the image (where nearest fill reads), and the second tap
        // one row below the first; NaN ends up at 0, harmless for a hint.
        let lo = lo.floor().clamp(0.0, h - 1.0) as usize;
        let hi = (hi.floor().clamp(0.0, h - 1.0) as usize + 2).min(self.lay.h);
        let hi = hi.max(lo);
        let (dlo, dhi) = self.done;
        if dlo == dhi {
            self.done = (lo, hi);
            return [(lo, hi), (0, 0)];
        }
        self.done = (dlo.min(lo), dhi.max(hi));
        [(lo.min(dlo), dlo), (dhi, hi.max(dhi))]
    }

    /// Asks for every cache line of source rows `y0..y1` (in every channel plane).
    #[inline(always)]
    fn fetch(&self, y0: usize, y1: usize) {
        if y0 >= y1 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let size = size_of::<T>();
            let lay = self.lay;
            // Channels-last: the rows are one run; channels-first: one run per plane.
            let (runs, run_stride) = if lay.chs == 1 {
                (1, 0)
            } else {
                (lay.c, lay.chs)
            };
            let (from, to) = (y0 * lay.rs * size, y1 * lay.rs * size);
            let base = self.src.as_ptr() as *const i8;
            for k in 0..runs {
                let start = k * run_stride * size;
                for off in (from..to).step_by(64) {
                    super::x86::prefetch(base.wrapping_add(start + off));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::DataFormat;
    use proptest::prelude::*;

    proptest! {
        /// The prefetcher asks for each source row at most once, and for every row a
        /// request reads (clamped to the image) by the time the request returns.
        #[test]
        fn row_prefetch_asks_each_needed_row_once(
            h in 1usize..40,
            requests in proptest::collection::vec((-10.0f64..50.0, 0.0f64..20.0), 1..30),
        ) {
            let lay = Layout::new(DataFormat::ChannelsLast, h, 3, 1);
            let src = vec![0u8; lay.len()];
            let mut f = RowPrefetch::new(&src, lay);
            let mut asked = vec![0u32; h];
            for (lo, len) in requests {
                for (y0, y1) in f.grow((lo, lo + len)) {
                    for n in &mut asked[y0..y1] {
                        *n += 1;
                    }
                }
                let clamp = |t: f64| (t.floor().max(0.0) as usize).min(h - 1);
                let (first, end) = (clamp(lo), (clamp(lo + len) + 2).min(h));
                for (y, &n) in asked.iter().enumerate().take(end).skip(first) {
                    prop_assert!(n == 1, "row {} asked {} times", y, n);
                }
            }
            prop_assert!(asked.iter().all(|&n| n <= 1));
        }
    }
}
