//! A stable-Rust mutation fuzzer for augflow's file readers: `.npy`, `.npz`, the dataframe
//! CSV reader and image loading. Shared by `tests/fuzz_smoke.rs` (a short fixed-count run in
//! `cargo test`) and `fuzz/main.rs` (`cargo run --release --example fuzz`, a long run).
//!
//! Each input is a seed from `fuzz/corpus/<target>/` with 1–4 random mutations, written to a
//! file and read through the public API. It counts as a failure when the read panics, when an
//! `Ok` result holds more than the file could (more array bytes than the file has, an image
//! over the pixel limit), when a truncated or empty seed reads as `Ok`, or (reported by the
//! watchdog in [`run`]) when one input takes longer than [`HANG_BOUND`]. A single
//! allocation over [`ALLOC_CAP`] fails too: the binaries that include this file install
//! [`CappedAlloc`], under which such an allocation aborts the process (or is an `Err` for
//! `try_reserve`), so a file that asks for gigabytes cannot pass unnoticed.

#![allow(dead_code)] // Each including binary uses a part.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use augflow::array::{read_npy, read_npz};
use augflow::iterators::{LoadOptions, ResizeFilter, load_img};
use augflow::{ImageDataGenerator, Sequence};

/// One allocation larger than this fails (abort for infallible allocations). No input here is
/// larger than a few kilobytes, and images are capped at [`FUZZ_MAX_PIXELS`].
pub const ALLOC_CAP: usize = 1 << 30;

/// The pixel limit images are loaded under: small, so a mutated header that declares a big
/// image is refused at once instead of decoding megapixels of garbage.
pub const FUZZ_MAX_PIXELS: u64 = 1 << 20;

/// An input still running after this long is reported as a hang. Inputs are a few kilobytes
/// and take milliseconds; the bound is generous for a debug build on a loaded machine.
pub const HANG_BOUND: Duration = Duration::from_secs(120);

/// Fails every allocation over [`ALLOC_CAP`].
pub struct CappedAlloc;

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_CAP {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_CAP {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOC_CAP {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `read_npy`.
    Npy,
    /// `read_npz`.
    Npz,
    /// `flow_from_dataframe(..).build()` and its first batch.
    Csv,
    /// `load_img`, with and without a resize.
    Image,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Npy, Target::Npz, Target::Csv, Target::Image];

    pub fn name(self) -> &'static str {
        match self {
            Target::Npy => "npy",
            Target::Npz => "npz",
            Target::Csv => "csv",
            Target::Image => "image",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Byte strings worth inserting: the format's own syntax.
    fn tokens(self) -> &'static [&'static [u8]] {
        match self {
            Target::Npy => &[
                b"{",
                b"}",
                b"[",
                b"]",
                b"(",
                b")",
                b",",
                b":",
                b"'",
                b"\"",
                b"True",
                b"False",
                b"None",
                b"'descr'",
                b"'shape'",
                b"'fortran_order'",
                b"<f4",
                b">i8",
                b"=f8",
                b"|b1",
                b"<c8",
                b"-1",
                b"99999999999999999999",
                b"\x93NUMPY\x02\x00",
                b"L",
            ],
            Target::Npz => &[
                b"PK\x03\x04",
                b"PK\x01\x02",
                b"PK\x05\x06",
                b"PK\x06\x06",
                b"PK\x06\x07",
                b"\xff\xff\xff\xff",
                b"\x00\x00\x00\x00",
                b".npy",
                b"\x93NUMPY",
                b"\x08\x00",
            ],
            Target::Csv => &[
                b",",
                b"\"",
                b"\n",
                b"\r\n",
                b"|",
                b"['a', 'b']",
                b"[",
                b"]",
                b"filename",
                b"class",
                b"w",
                b"a.png",
                b"../",
                b"/",
                b"nan",
                b"inf",
                b"-1e309",
                b"\xff\xfe",
            ],
            Target::Image => &[
                b"\xff\xd8",
                b"\xff\xd9",
                b"\xff\xda",
                b"\xff\xc0",
                b"\xff\xc2",
                b"\xff\xc4",
                b"IHDR",
                b"IDAT",
                b"IEND",
                b"PLTE",
                b"tRNS",
                b"BM",
                b"P6\n",
                b"II*\x00",
                b"\xff\xff\xff\x7f",
                b"\x00\x00\x00\x00",
            ],
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// splitmix64: small, fast, the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Applies one random mutation to `data`; `other` is another seed to splice from.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], target: Target) {
    let pos = |rng: &mut Rng, d: &Vec<u8>| rng.below(d.len() + 1);
    match rng.below(11) {
        0 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] ^= 1 << rng.below(8);
        }
        1 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] = rng.next() as u8;
        }
        2 if !data.is_empty() => {
            const INTERESTING: [u8; 12] = [
                0, 1, 0x7F, 0x80, 0xFF, b'(', b'{', b'[', b',', b'\'', b'"', b'\n',
            ];
            let i = rng.below(data.len());
            data[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        3 => {
            let at = pos(rng, data);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        4 if !data.is_empty() => {
            let at = rng.below(data.len());
            let n = 1 + rng.below((data.len() - at).min(64));
            data.drain(at..at + n);
        }
        5 if !data.is_empty() => {
            let at = rng.below(data.len());
            let n = 1 + rng.below((data.len() - at).min(64));
            let chunk = data[at..at + n].to_vec();
            let to = pos(rng, data);
            data.splice(to..to, chunk);
        }
        6 if data.len() >= 4 => {
            const WORDS: [u32; 8] = [
                0,
                1,
                0xFFFF,
                0xFFFF_FFFF,
                0x7FFF_FFFF,
                0x8000_0000,
                0xFFF0,
                0xFFFF_FFF0,
            ];
            let w = WORDS[rng.below(WORDS.len())];
            let at = rng.below(data.len() - 3);
            let bytes = if rng.below(2) == 0 {
                w.to_le_bytes()
            } else {
                w.to_be_bytes()
            };
            let n = if rng.below(2) == 0 { 2 } else { 4 };
            data[at..at + n].copy_from_slice(&bytes[..n]);
        }
        7 => {
            let at = pos(rng, data);
            data.truncate(at);
        }
        8 => {
            let tokens = target.tokens();
            let t = tokens[rng.below(tokens.len())];
            let at = pos(rng, data);
            if rng.below(2) == 0 || at + t.len() > data.len() {
                data.splice(at..at, t.iter().copied());
            } else {
                data[at..at + t.len()].copy_from_slice(t);
            }
        }
        9 if !other.is_empty() => {
            let from = rng.below(other.len());
            let n = 1 + rng.below((other.len() - from).min(256));
            let at = pos(rng, data);
            data.splice(at..at, other[from..from + n].iter().copied());
        }
        _ => {
            // A token repeated: deep nesting, long runs.
            let tokens = target.tokens();
            let t = tokens[rng.below(tokens.len())];
            let n = 1 + rng.below(200);
            let at = pos(rng, data);
            data.splice(at..at, t.repeat(n));
        }
    }
}

/// A seed with 1–4 mutations.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], target: Target) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    let other = &seeds[rng.below(seeds.len())];
    for _ in 0..1 + rng.below(4) {
        mutate_once(rng, &mut data, other, target);
    }
    data
}

/// The seed files of `target`, sorted by name.
pub fn load_corpus(root: &Path, target: Target) -> Vec<Vec<u8>> {
    let dir = root.join(target.name());
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list the corpus {}: {e}", dir.display()))
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// How one input ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Err,
    /// A panic, or an `Ok` that cannot be right; with the reason.
    Bug(String),
}

/// Reads inputs of one target through the public API, in a scratch folder.
pub struct Runner {
    target: Target,
    dir: PathBuf,
    input: PathBuf,
    datagen: ImageDataGenerator,
}

impl Runner {
    /// A runner whose scratch files live in `dir` (created; the CSV target's images are
    /// written there).
    pub fn new(target: Target, dir: &Path) -> Runner {
        std::fs::create_dir_all(dir).expect("the scratch folder");
        let ext = match target {
            Target::Npy => "npy",
            Target::Npz => "npz",
            Target::Csv => "csv",
            Target::Image => "img",
        };
        if target == Target::Csv {
            for (name, v) in [("a.png", 10_u8), ("b.png", 200)] {
                image::GrayImage::from_pixel(3, 2, image::Luma([v]))
                    .save(dir.join(name))
                    .expect("a CSV target image");
            }
        }
        let datagen = ImageDataGenerator::builder()
            .build()
            .expect("a default generator");
        Runner {
            target,
            dir: dir.to_path_buf(),
            input: dir.join(format!("current.{ext}")),
            datagen,
        }
    }

    /// The file the input being read is written to; it stays there if the process aborts.
    pub fn input_path(&self) -> &Path {
        &self.input
    }

    /// Writes `data` to the input file and reads it; `variant` picks among load options.
    pub fn run(&self, data: &[u8], variant: u64) -> Outcome {
        if let Err(e) = std::fs::write(&self.input, data) {
            panic!("cannot write {}: {e}", self.input.display());
        }
        match catch_unwind(AssertUnwindSafe(|| self.read(data.len(), variant))) {
            Ok(outcome) => outcome,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into());
                Outcome::Bug(format!("panicked: {msg}"))
            }
        }
    }

    fn read(&self, file_len: usize, variant: u64) -> Outcome {
        let p = &self.input;
        match self.target {
            Target::Npy => match read_npy(p) {
                Ok(a) => check_fits("the array", a.size() * a.dtype().size_of(), file_len),
                Err(_) => Outcome::Err,
            },
            Target::Npz => match read_npz(p) {
                Ok(d) => {
                    let bytes = d.values().map(|a| a.size() * a.dtype().size_of()).sum();
                    check_fits("the arrays", bytes, file_len)
                }
                Err(_) => Outcome::Err,
            },
            Target::Csv => {
                let built = self
                    .datagen
                    .flow_from_dataframe(p)
                    .directory(&self.dir)
                    .target_size(2, 3)
                    .batch_size(2)
                    .shuffle(false)
                    .build();
                match built {
                    Ok(it) if !it.is_empty() => match it.get(0) {
                        Ok(_) => Outcome::Ok,
                        Err(_) => Outcome::Err,
                    },
                    Ok(_) => Outcome::Ok,
                    Err(_) => Outcome::Err,
                }
            }
            Target::Image => {
                const FILTERS: [ResizeFilter; 3] = [
                    ResizeFilter::Nearest,
                    ResizeFilter::Bilinear,
                    ResizeFilter::Lanczos,
                ];
                let mut opts = LoadOptions::new().max_pixels(FUZZ_MAX_PIXELS);
                if variant % 2 == 1 {
                    opts = opts
                        .target_size(5, 7)
                        .keep_aspect_ratio(variant % 4 == 1)
                        .interpolation(FILTERS[(variant / 4 % 3) as usize]);
                }
                match load_img(p, &opts) {
                    Ok(a) if (a.len() / a.shape()[2]) as u64 > FUZZ_MAX_PIXELS => Outcome::Bug(
                        format!("an image of shape {:?} passed the pixel limit", a.shape()),
                    ),
                    Ok(_) => Outcome::Ok,
                    Err(_) => Outcome::Err,
                }
            }
        }
    }

    /// Every strict prefix of `seed` (all of them for small seeds, 64 spread out for large
    /// ones) must be refused: a truncated file is never silently read. The CSV target is
    /// checked only for the empty file, since a CSV cut after a full line is a valid CSV,
    /// and a PNG only up to its last 12 bytes: the `IEND` chunk carries no pixel, and PIL
    /// too reads a PNG whose `IEND` is cut.
    pub fn truncations_are_refused(&self, seed: &[u8]) -> Vec<String> {
        let end = match self.target {
            Target::Image if seed.starts_with(b"\x89PNG") => seed.len().saturating_sub(12),
            _ => seed.len(),
        };
        let lens: Vec<usize> = match self.target {
            Target::Csv => vec![0],
            _ if end <= 512 => (0..end).collect(),
            _ => (0..64).map(|i| i * end / 64).collect(),
        };
        lens.into_iter()
            .filter_map(|len| match self.run(&seed[..len], 0) {
                Outcome::Err => None,
                other => Some(format!("{len} of {} bytes: {other:?}", seed.len())),
            })
            .collect()
    }
}

fn check_fits(what: &str, bytes: usize, file_len: usize) -> Outcome {
    if bytes <= file_len {
        Outcome::Ok
    } else {
        Outcome::Bug(format!(
            "{what} hold {bytes} bytes, more than the {file_len}-byte file"
        ))
    }
}

/// Totals of a run.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub target: &'static str,
    pub inputs: u64,
    pub oks: u64,
    pub errors: u64,
    /// Each bug: the reason and the input, hex-encoded.
    pub bugs: Vec<String>,
    pub seconds: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>5}: {} inputs in {:.1} s: {} ok, {} errors, {} bugs (panics or wrong results), 0 hangs, 0 aborts",
            self.target,
            self.inputs,
            self.seconds,
            self.oks,
            self.errors,
            self.bugs.len()
        )
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `iterations` mutated inputs of `target` (seeded by `seed`) in a worker thread, after
/// the truncation check of every seed when `truncations` is set. The calling thread watches: an input still running
/// after [`HANG_BOUND`] ends the run with an `Err` naming the file holding it.
pub fn run(
    target: Target,
    corpus: &Path,
    scratch: &Path,
    iterations: u64,
    seed: u64,
    truncations: bool,
) -> Result<Report, String> {
    let seeds = load_corpus(corpus, target);
    let runner = Runner::new(target, scratch);
    let input_path = runner.input_path().to_path_buf();
    let progress = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let worker = {
        let (progress, done) = (Arc::clone(&progress), Arc::clone(&done));
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut report = Report {
                target: target.name(),
                ..Report::default()
            };
            for s in seeds.iter().filter(|_| truncations) {
                for bug in runner.truncations_are_refused(s) {
                    report
                        .bugs
                        .push(format!("truncated seed read as Ok: {bug}"));
                }
                progress.fetch_add(1, Ordering::Relaxed);
            }
            let mut rng = Rng::new(seed);
            for i in 0..iterations {
                let data = mutate(&mut rng, &seeds, target);
                match runner.run(&data, i) {
                    Outcome::Ok => report.oks += 1,
                    Outcome::Err => report.errors += 1,
                    Outcome::Bug(why) => report.bugs.push(format!("{why}; input {}", hex(&data))),
                }
                report.inputs += 1;
                progress.fetch_add(1, Ordering::Relaxed);
            }
            report.seconds = start.elapsed().as_secs_f64();
            done.store(true, Ordering::Release);
            let _ = tx.send(report);
        })
    };
    let mut seen = 0;
    let mut since = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(report) => {
                let _ = worker.join();
                return Ok(report);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(format!("the {target} worker died without a report"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let now = progress.load(Ordering::Relaxed);
        if now != seen {
            (seen, since) = (now, Instant::now());
        } else if since.elapsed() > HANG_BOUND && !done.load(Ordering::Acquire) {
            let saved = scratch.join(format!("hang-{target}.bin"));
            let _ = std::fs::copy(&input_path, &saved);
            return Err(format!(
                "{target}: input #{now} ran over {} s (a hang); it is saved as {}",
                HANG_BOUND.as_secs(),
                saved.display()
            ));
        }
    }
}
