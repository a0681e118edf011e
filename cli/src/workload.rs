//! The standard workload's throughput, measured by `augflow bench` and `benches/iterator.rs`.
//!
//! The standard workload: `count` random `u8` images `size × size × 3` → `f32` batches of
//! `batch` through [`NumpyArrayIterator`](augflow::NumpyArrayIterator) with rotation ±20°,
//! width/height shift ±10 %, shear ±10°, zoom ±10 %, horizontal flip, nearest fill and
//! rescale 1/255; measured beside the floor — a plain `u8 → f32 ×1/255` copy of the same
//! batches — in the same process, at each thread count asked for. The `uint8` row is the
//! same augmentation into `u8` batches, normalization left to the model (no rescale).
//! Every row takes its batches with `get`, a fresh buffer per batch, as a training loop
//! that hands each batch on does.

use std::time::Instant;

use ndarray::{Array3, Array4, Axis};
use rayon::prelude::*;

use augflow::{Error, FillMode, ImageDataGenerator, Result, Sequence};

/// What to measure: image side, image count, batch size, repeats and thread counts.
///
/// ```
/// use augflow_cli::workload::BenchOptions;
/// let o = BenchOptions::default();
/// assert_eq!((o.size, o.count, o.batch, o.repeats), (224, 512, 32, 5));
/// assert_eq!(o.threads, [1, 2]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// Height and width of the images (default 224).
    pub size: usize,
    /// Number of images per epoch (default 512).
    pub count: usize,
    /// Images per batch (default 32).
    pub batch: usize,
    /// Timed runs per measurement; the median is reported (default 5).
    pub repeats: usize,
    /// Thread counts to measure at (default `[1, 2]`).
    pub threads: Vec<usize>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            size: 224,
            count: 512,
            batch: 32,
            repeats: 5,
            threads: vec![1, 2],
        }
    }
}

impl BenchOptions {
    /// Checks that every number is at least 1 and that some thread count is given, naming
    /// the first that is not.
    ///
    /// ```
    /// use augflow_cli::workload::BenchOptions;
    /// assert!(BenchOptions::default().validate().is_ok());
    /// let err = BenchOptions { count: 0, ..Default::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("count"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("size", self.size),
            ("count", self.count),
            ("batch", self.batch),
            ("repeats", self.repeats),
        ] {
            if v == 0 {
                return Err(invalid(name, 0, "an integer >= 1"));
            }
        }
        if self.threads.is_empty() || self.threads.contains(&0) {
            return Err(invalid(
                "threads",
                format!("{:?}", self.threads),
                "a non-empty list of thread counts >= 1",
            ));
        }
        Ok(())
    }
}

/// One measured thread count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchRow {
    /// Rayon threads used.
    pub threads: usize,
    /// Images per second of the floor (`u8 → f32 ×1/255` copy), median of the repeats.
    pub floor: f64,
    /// Images per second of augflow on the standard workload, median of the repeats.
    pub augflow: f64,
    /// Images per second of the same workload with one `u8` `(H, W)` mask per image moved
    /// with it (see [`threshold_masks`]), median of the repeats.
    pub with_mask: f64,
    /// Images per second of the same augmentation into `u8` batches, without the rescale
    /// (see [`standard_generator_u8`]), median of the repeats.
    pub uint8: f64,
    /// How many times longer an epoch with masks takes than one without: the median of
    /// the ratio within each round (the runs are interleaved, see [`run`]).
    pub mask_cost: f64,
    /// How many times faster the `uint8` epoch is than the `f32` one, the same way.
    pub uint8_speedup: f64,
}

/// The result of [`run`]: the options measured and one row per thread count.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// What was measured.
    pub options: BenchOptions,
    /// One row per thread count, in the order asked for.
    pub rows: Vec<BenchRow>,
}

impl BenchReport {
    /// The report as one line of JSON:
    /// `{"size": S, "count": N, "batch": B, "repeats": R, "kernel": K, "rows": [{"threads": T, "floor": F, "augflow": A, "with_mask": M, "uint8": U}, …]}`
    /// (images per second; `K` is [`kernel_build`](augflow::transform::kernel_build)).
    ///
    /// ```
    /// use augflow_cli::workload::{BenchOptions, BenchReport, BenchRow};
    /// let r = BenchReport {
    ///     options: BenchOptions { threads: vec![1], ..Default::default() },
    ///     rows: vec![BenchRow { threads: 1, floor: 1000.0, augflow: 250.0, with_mask: 200.0, uint8: 600.0,
    ///                        mask_cost: 1.25, uint8_speedup: 2.4 }],
    /// };
    /// let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    /// assert_eq!(v["rows"][0]["augflow"], 250.0);
    /// ```
    pub fn to_json(&self) -> String {
        let o = &self.options;
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "threads": r.threads, "floor": round1(r.floor), "augflow": round1(r.augflow),
                    "with_mask": round1(r.with_mask), "uint8": round1(r.uint8),
                    "mask_cost": (r.mask_cost * 1000.0).round() / 1000.0,
                    "uint8_speedup": (r.uint8_speedup * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        serde_json::json!({
            "size": o.size, "count": o.count, "batch": o.batch, "repeats": o.repeats,
            "kernel": augflow::transform::kernel_build(), "rows": rows,
        })
        .to_string()
    }

    /// The report as a text table, one line per thread count (with the `uint8` row's speed
    /// over the `f32` row's), with the 1 → 2 thread scaling when both were measured.
    ///
    /// ```
    /// use augflow_cli::workload::{BenchOptions, BenchReport, BenchRow};
    /// let r = BenchReport {
    ///     options: BenchOptions { threads: vec![1], ..Default::default() },
    ///     rows: vec![BenchRow { threads: 1, floor: 1000.0, augflow: 250.0, with_mask: 200.0, uint8: 600.0,
    ///                        mask_cost: 1.25, uint8_speedup: 2.4 }],
    /// };
    /// let t = r.to_table();
    /// assert!(t.contains("threads") && t.contains("4.00") && t.contains("1.25") && t.contains("2.40"));
    /// ```
    pub fn to_table(&self) -> String {
        let o = &self.options;
        let mut s = format!(
            "standard workload: {} u8 images {}x{}x3 -> f32 batches of {}, median of {} interleaved rounds (costs: median of the per-round ratios); kernel build {}\n",
            o.count,
            o.size,
            o.size,
            o.batch,
            o.repeats,
            augflow::transform::kernel_build()
        );
        s += &format!(
            "{:>7} | {:>12} | {:>13} | {:>13} | {:>15} | {:>14} | {:>11} | {:>8}\n",
            "threads",
            "floor img/s",
            "augflow img/s",
            "floor/augflow",
            "with mask img/s",
            "mask time cost",
            "uint8 img/s",
            "u8/f32"
        );
        for r in &self.rows {
            s += &format!(
                "{:>7} | {:>12.0} | {:>13.0} | {:>13.2} | {:>15.0} | {:>13.2}x | {:>11.0} | {:>7.2}x\n",
                r.threads,
                r.floor,
                r.augflow,
                r.floor / r.augflow,
                r.with_mask,
                r.mask_cost,
                r.uint8,
                r.uint8_speedup
            );
        }
        let one = self.rows.iter().find(|r| r.threads == 1);
        let two = self.rows.iter().find(|r| r.threads == 2);
        if let (Some(one), Some(two)) = (one, two) {
            s += &format!(
                "scaling 1 -> 2 threads: {:.2}x\n",
                two.augflow / one.augflow
            );
        }
        s
    }
}

/// An [`Error::InvalidParameter`] naming the option, its value and what is accepted.
pub(crate) fn invalid(
    name: &'static str,
    value: impl std::fmt::Display,
    expected: impl Into<String>,
) -> Error {
    Error::InvalidParameter {
        name,
        value: value.to_string(),
        expected: expected.into(),
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The standard workload's generator: rotation 20, shifts 0.1, shear 10, zoom 0.1,
/// horizontal flip, nearest fill, rescale 1/255.
///
/// ```
/// let g = augflow_cli::workload::standard_generator()?;
/// assert_eq!(g.config().rotation_range, 20.0);
/// assert_eq!(g.config().rescale, Some(1.0 / 255.0));
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn standard_generator() -> Result<ImageDataGenerator> {
    ImageDataGenerator::builder()
        .rotation_range(20.0)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .shear_range(10.0)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .fill_mode(FillMode::Nearest)
        .rescale(1.0 / 255.0)
        .build()
}

/// The `uint8` row's generator: [`standard_generator`]'s augmentation in `uint8`, without
/// the rescale (a `uint8` batch holds pixel values; the model normalizes).
///
/// ```
/// let g = augflow_cli::workload::standard_generator_u8()?;
/// assert_eq!((g.config().rotation_range, g.config().rescale), (20.0, None));
/// assert_eq!(g.config().dtype, augflow::DType::U8);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn standard_generator_u8() -> Result<ImageDataGenerator> {
    let config = augflow::GeneratorConfig {
        rescale: None,
        dtype: augflow::DType::U8,
        ..standard_generator()?.config().clone()
    };
    ImageDataGenerator::new(config)
}

/// `count` random `u8` images `size × size × 3` from a fixed-seed xorshift: the same pixels
/// in every run and on every machine.
///
/// ```
/// let x = augflow_cli::workload::random_images(2, 4);
/// assert_eq!(x.shape(), &[2, 4, 4, 3]);
/// assert_eq!(x, augflow_cli::workload::random_images(2, 4));
/// ```
pub fn random_images(count: usize, size: usize) -> Array4<u8> {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    Array4::from_shape_simple_fn((count, size, size, 3), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 56) as u8
    })
}

/// One `u8` `(H, W)` mask per image of `x`: 1 where its first channel is above 127, else 0.
/// The masks of the bench's "with mask" row and of the peers' `mask=` row.
///
/// ```
/// let x = augflow_cli::workload::random_images(2, 4);
/// let m = augflow_cli::workload::threshold_masks(&x);
/// assert_eq!(m.shape(), &[2, 4, 4]);
/// assert_eq!(m[[1, 2, 3]], u8::from(x[[1, 2, 3, 0]] > 127));
/// ```
pub fn threshold_masks(x: &Array4<u8>) -> Array3<u8> {
    x.index_axis(Axis(3), 0).mapv(|v| u8::from(v > 127))
}

/// The floor: one `u8 → f32 ×1/255` copy of `x` in batches of `batch`, in parallel over the
/// samples of each batch (on the current rayon pool). Returns the last batch.
///
/// ```
/// let x = ndarray::Array4::<u8>::from_elem((3, 2, 2, 3), 255);
/// let last = augflow_cli::workload::floor_copy(&x, 2);
/// assert_eq!(last.shape(), &[1, 2, 2, 3]);
/// assert!(last.iter().all(|&v| v == 1.0));
/// ```
pub fn floor_copy(x: &Array4<u8>, batch: usize) -> Array4<f32> {
    let mut last = Array4::<f32>::zeros((0, x.shape()[1], x.shape()[2], x.shape()[3]));
    for chunk in x.axis_chunks_iter(Axis(0), batch.max(1)) {
        let mut out = Array4::<f32>::zeros(chunk.raw_dim());
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(chunk.axis_iter(Axis(0)).into_par_iter())
            .for_each(|(mut d, s)| d.zip_mut_with(&s, |d, &s| *d = s as f32 * (1.0 / 255.0)));
        last = std::hint::black_box(out);
    }
    last
}

/// Median images/s of `repeats` timed runs of `f` over `count` images, after one warm-up.
pub(crate) fn rate(count: usize, repeats: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut v = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        f()?;
        v.push(count as f64 / t.elapsed().as_secs_f64().max(1e-9));
    }
    Ok(median(v))
}

/// The seconds of each of `runs` in each of `repeats` rounds, after one warm-up of each:
/// every round runs them all, one after another, starting one later each round. The rows
/// of one round see the same load, so ratios between them (see [`paired_ratio`]) hold on
/// a shared machine where load drifts between rounds.
pub(crate) fn interleaved(
    repeats: usize,
    runs: &mut [&mut dyn FnMut() -> Result<()>],
) -> Result<Vec<Vec<f64>>> {
    runs.iter_mut().try_for_each(|f| f())?;
    let n = runs.len();
    let mut secs = vec![vec![0.0; n]; repeats];
    for (round, times) in secs.iter_mut().enumerate() {
        for k in 0..n {
            let i = (round + k) % n;
            let t = Instant::now();
            runs[i]()?;
            times[i] = t.elapsed().as_secs_f64().max(1e-9);
        }
    }
    Ok(secs)
}

/// The median over rounds of `secs[r][a] / secs[r][b]`: how many times longer run `a` takes
/// than run `b` in the same round.
pub(crate) fn paired_ratio(secs: &[Vec<f64>], a: usize, b: usize) -> f64 {
    median(secs.iter().map(|t| t[a] / t[b]).collect())
}

/// The median images/s of run `i` of [`interleaved`]'s rounds over `count` images.
pub(crate) fn median_rate(secs: &[Vec<f64>], i: usize, count: usize) -> f64 {
    median(secs.iter().map(|t| count as f64 / t[i]).collect())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Takes every batch of one epoch of `it`.
fn epoch(it: &impl Sequence) -> Result<()> {
    for i in 0..it.len() {
        std::hint::black_box(it.get(i)?);
    }
    Ok(())
}

/// Measures the standard workload (alone, with a mask per image, and into `uint8`) and the
/// floor at every thread count of `opts`, the four interleaved round by round (see
/// [`interleaved`]).
///
/// Errors: [`Error::InvalidParameter`] from [`BenchOptions::validate`], or when a thread
/// pool cannot be built (`threads`).
///
/// ```
/// use augflow_cli::workload::{BenchOptions, run};
/// let r = run(&BenchOptions { size: 8, count: 4, batch: 2, repeats: 1, threads: vec![1] })?;
/// assert_eq!(r.rows.len(), 1);
/// assert!(r.rows[0].floor > 0.0 && r.rows[0].augflow > 0.0 && r.rows[0].with_mask > 0.0);
/// assert!(r.rows[0].uint8 > 0.0);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    opts.validate()?;
    let x = random_images(opts.count, opts.size);
    let datagen = standard_generator()?;
    let it = datagen
        .flow(x.clone())
        .batch_size(opts.batch)
        .seed(1)
        .build()?;
    let with_mask = datagen
        .flow(x.clone())
        .masks(threshold_masks(&x))
        .batch_size(opts.batch)
        .seed(1)
        .build()?;
    let uint8 = standard_generator_u8()?
        .flow(x.clone())
        .batch_size(opts.batch)
        .seed(1)
        .output::<u8>()
        .build()?;
    let mut rows = Vec::with_capacity(opts.threads.len());
    for &t in &opts.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| invalid("threads", t, format!("a usable thread count ({e})")))?;
        let secs = pool.install(|| {
            interleaved(
                opts.repeats,
                &mut [
                    &mut || {
                        floor_copy(&x, opts.batch);
                        Ok(())
                    },
                    &mut || epoch(&it),
                    &mut || epoch(&with_mask),
                    &mut || epoch(&uint8),
                ],
            )
        })?;
        let rate = |i| median_rate(&secs, i, opts.count);
        rows.push(BenchRow {
            threads: t,
            floor: rate(0),
            augflow: rate(1),
            with_mask: rate(2),
            uint8: rate(3),
            mask_cost: paired_ratio(&secs, 2, 1),
            uint8_speedup: paired_ratio(&secs, 1, 3),
        });
    }
    Ok(BenchReport {
        options: opts.clone(),
        rows,
    })
}
