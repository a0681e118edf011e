//! The file workload's throughput, measured by `augflow bench --files DIR`: a folder of JPEG
//! class folders read by `flow_from_directory` the way the Python peers of
//! `peer-bench/files` read it (decode, resize to 224×224, rotation ±20°, shifts ±10 %, zoom
//! ±10 %, horizontal flip, nearest fill, ×1/255, batches of 32), plus decode-only rows, one
//! per JPEG decoder. Each row is written as the peers' JSON lines (`tool`, `row`, `threads`,
//! `n`, `times`, `img_per_s`, `others_cores`), so that their `summarize.py` reads both.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use augflow::iterators::{JpegDecoder, LoadOptions, ResizeFilter, load_img};
use augflow::{FillMode, ImageDataGenerator, Result, Sequence};

use crate::workload::invalid;

/// One measured row: its name in the peers' table, the thread count, the image count and
/// the seconds of each timed epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct FilesRow {
    /// The row's key in `summarize.py` (`aug_bilinear`, `decode_image`, …).
    pub row: String,
    /// Rayon threads used.
    pub threads: usize,
    /// Images per epoch.
    pub n: usize,
    /// Seconds of each timed epoch.
    pub times: Vec<f64>,
    /// CPU (in cores) other processes used while the row ran.
    pub others_cores: f64,
    /// CPU (in cores) this process used while the row ran: at one thread, below 1 when
    /// other processes took the core part of the time.
    pub own_cores: f64,
}

impl FilesRow {
    /// Images per second of the median epoch.
    ///
    /// ```
    /// use augflow_cli::files_workload::FilesRow;
    /// let r = FilesRow { row: "x".into(), threads: 1, n: 10, times: vec![2.0, 1.0, 5.0], others_cores: 0.0, own_cores: 1.0 };
    /// assert_eq!(r.img_per_s(), 5.0);
    /// ```
    pub fn img_per_s(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort_by(f64::total_cmp);
        self.n as f64 / t[t.len() / 2].max(1e-9)
    }

    /// Images per second of CPU time this process used (the mean epoch's rate divided by
    /// [`own_cores`](Self::own_cores)): less sensitive than [`img_per_s`](Self::img_per_s)
    /// to other processes on a shared machine.
    ///
    /// ```
    /// use augflow_cli::files_workload::FilesRow;
    /// let r = FilesRow { row: "x".into(), threads: 1, n: 10, times: vec![1.0, 1.0], others_cores: 1.0, own_cores: 0.5 };
    /// assert_eq!(r.img_per_cpu_s(), 20.0);
    /// ```
    pub fn img_per_cpu_s(&self) -> f64 {
        let mean = self.times.iter().sum::<f64>() / self.times.len().max(1) as f64;
        self.n as f64 / mean.max(1e-9) / self.own_cores.max(1e-9)
    }

    /// The row as one JSON line in the format of `peer-bench/files/summarize.py`.
    ///
    /// ```
    /// use augflow_cli::files_workload::FilesRow;
    /// let r = FilesRow { row: "decode_image".into(), threads: 2, n: 4, times: vec![0.5], others_cores: 0.1, own_cores: 1.9 };
    /// let v: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
    /// assert_eq!((v["tool"].as_str(), v["img_per_s"].as_f64()), (Some("augflow"), Some(8.0)));
    /// ```
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "tool": "augflow", "row": self.row, "threads": self.threads, "mode": format!("t{}", self.threads),
            "n": self.n, "times": self.times, "img_per_s": self.img_per_s(),
            "others_cores": self.others_cores, "own_cores": self.own_cores,
        })
        .to_string()
    }
}

/// The rows measured, in order: name, and what one epoch does.
const ROWS: [&str; 6] = [
    "decode_image",
    "decode_turbojpeg",
    "plain_bilinear",
    "plain_nearest",
    "aug_bilinear",
    "aug_nearest",
];

/// The peers' augmentation: rotation 20, shifts 0.1, zoom 0.1, horizontal flip, nearest
/// fill, rescale 1/255 (no shear, unlike the in-memory standard workload).
fn generator(augment: bool) -> Result<ImageDataGenerator> {
    let b = ImageDataGenerator::builder().rescale(1.0 / 255.0);
    if !augment {
        return b.build();
    }
    b.rotation_range(20.0)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .fill_mode(FillMode::Nearest)
        .build()
}

/// Measures every row at every thread count over the class folders of `dir`, `repeats`
/// timed epochs after one warm-up each, and calls `each` with every row as it is done.
/// Rows whose decoder this build lacks are skipped.
///
/// Errors: the directory's (no such folder, no image), a file that cannot be decoded, or
/// [`Error::InvalidParameter`] for a zero `repeats` or thread count.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("a"))?;
/// image::RgbImage::new(8, 8).save(dir.path().join("a/x.jpg"))?;
/// let mut rows = Vec::new();
/// augflow_cli::files_workload::run(dir.path(), 1, &[1], |r| rows.push(r))?;
/// assert!(rows.iter().any(|r| r.row == "aug_bilinear" && r.n == 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run(
    dir: &Path,
    repeats: usize,
    threads: &[usize],
    mut each: impl FnMut(FilesRow),
) -> Result<()> {
    if repeats == 0 {
        return Err(invalid("repeats", 0, "an integer >= 1"));
    }
    let files = generator(false)?
        .flow_from_directory(dir)
        .build()?
        .filepaths()
        .to_vec();
    for &t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| invalid("threads", t, format!("a usable thread count ({e})")))?;
        for row in ROWS {
            let Some(epoch) = epoch_of(row, dir, &files)? else {
                continue;
            };
            let (times, others_cores, own_cores) = pool.install(|| timed(repeats, &epoch))?;
            each(FilesRow {
                row: row.to_string(),
                threads: t,
                n: files.len(),
                times,
                others_cores,
                own_cores,
            });
        }
    }
    Ok(())
}

type Epoch = Box<dyn Fn() -> Result<()> + Sync>;

/// What one epoch of `row` does; `None` for a decoder this build lacks.
fn epoch_of(row: &str, dir: &Path, files: &[PathBuf]) -> Result<Option<Epoch>> {
    let decoder = match row {
        "decode_image" => Some(JpegDecoder::Pure),
        "decode_turbojpeg" => Some(JpegDecoder::LibjpegTurbo),
        _ => None,
    };
    if let Some(d) = decoder {
        if !d.is_available() {
            return Ok(None);
        }
        let opts = LoadOptions::new().jpeg_decoder(d);
        let files = files.to_vec();
        return Ok(Some(Box::new(move || {
            files.par_iter().try_for_each(|f| {
                std::hint::black_box(load_img(f, &opts)?);
                Ok(())
            })
        })));
    }
    let filter = if row.ends_with("nearest") {
        ResizeFilter::Nearest
    } else {
        ResizeFilter::Bilinear
    };
    let it = generator(row.starts_with("aug"))?
        .flow_from_directory(dir)
        .target_size(224, 224)
        .interpolation(filter)
        .batch_size(32)
        .seed(1)
        .build()?;
    Ok(Some(Box::new(move || {
        for i in 0..it.len() {
            std::hint::black_box(it.get(i)?);
        }
        Ok(())
    })))
}

/// Seconds of `repeats` epochs after one warm-up, and the CPU (in cores) other processes
/// and this one used meanwhile.
fn timed(repeats: usize, epoch: &Epoch) -> Result<(Vec<f64>, f64, f64)> {
    epoch()?;
    let (busy0, own0, wall) = (busy_ticks(), own_ticks(), Instant::now());
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        epoch()?;
        times.push(t.elapsed().as_secs_f64());
    }
    let cores = |ticks: u64| ticks as f64 / 100.0 / wall.elapsed().as_secs_f64().max(1e-9);
    let (others, own) = match (busy0, own0, busy_ticks(), own_ticks()) {
        (Some(b0), Some(o0), Some(b1), Some(o1)) => {
            let own = o1.saturating_sub(o0);
            (cores(b1.saturating_sub(b0).saturating_sub(own)), cores(own))
        }
        _ => (0.0, 0.0),
    };
    Ok((times, others, own))
}

/// The machine's busy CPU ticks (USER_HZ) from `/proc/stat`: all but idle and iowait.
fn busy_ticks() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = s
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    Some(v.iter().sum::<u64>() - v.get(3)? - v.get(4)?)
}

/// This process's user + system CPU ticks from `/proc/self/stat`.
fn own_ticks() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}
