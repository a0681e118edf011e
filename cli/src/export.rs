//! `augflow export`: a dataset augmented for E epochs into per-class folders, resumable.
//!
//! Progress lives in `<out>/.augflow-export.json`: the iterator's own checkpoint
//! ([`IteratorState`]: seed, epoch, batches done) and the settings, rewritten atomically after
//! every batch. A re-run with the same settings restores the iterator from that state and
//! goes on with the next batch, without looking at the files already written (a file deleted
//! from a batch the state records as done is not written again). Images are written
//! atomically, so a killed run leaves no partial file under a final name: the batch in flight
//! is simply written again, with the same bytes, and the hidden temporary files a kill may
//! leave are removed on resume.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use augflow::iterators::{IteratorState, Resumable};
use augflow::{Batch, DataFormat, GeneratorConfig, SaveFormat, SaveOptions, Saver};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::Axis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{GenArgs, build_generator, summary};
use super::display::{Shown, to_u8};
use super::source::Source;
use super::{CliResult, fail, parse_size};

/// Name of the progress manifest inside the output folder.
const MANIFEST: &str = ".augflow-export.json";

/// The version of the manifest this build writes and reads. Version 1, from before the
/// iterator's state was kept, recorded a count of samples and re-checked the files.
const MANIFEST_VERSION: u64 = 2;

/// Arguments of `augflow export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// A folder with one sub-folder per class (or loose images), or a .npy/.npz of images (N, H, W, C)
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Output folder (one sub-folder per class when the input has classes)
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of augmented epochs (one file per image per epoch)
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub epochs: u64,
    /// File format: png, jpg, jpeg, bmp, ppm, tif or tiff
    #[arg(long, default_value = "png", value_parser = parse_format)]
    pub format: SaveFormat,
    /// Resize every image to H,W (or N for N,N) before augmenting
    #[arg(long, value_name = "H,W", value_parser = parse_size)]
    pub size: Option<(usize, usize)>,
    /// Seed [default: the one of the export being resumed, else drawn and printed]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Images augmented per batch (progress is recorded per batch)
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batch_size: u32,
    /// Start of every file name: {prefix}_e{epoch:03}_i{index:06}.{ext}
    #[arg(long, default_value = "aug")]
    pub prefix: String,
    /// Array holding the images in a .npz [default: x, or the only array]
    #[arg(long, value_name = "NAME")]
    pub x_key: Option<String>,
    /// Array holding the labels in a .npz [default: y when present]
    #[arg(long, value_name = "NAME")]
    pub y_key: Option<String>,
    /// A .npy of labels, one per image, for a .npy input
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    #[command(flatten)]
    pub generator: GenArgs,
}

fn parse_format(s: &str) -> Result<SaveFormat, String> {
    s.parse::<SaveFormat>().map_err(|e| e.to_string())
}

/// Runs `export`: opens the input, settles the seed (new, or the resumed export's), then
/// writes every batch after the last one the manifest's state records.
pub fn run(a: ExportArgs) -> CliResult {
    check_paths(&a)?;
    let (mut cfg, origin) = a.generator.resolve()?;
    cfg.dtype = augflow::DType::F32;
    let mut datagen = build_generator(&cfg)?;
    let source = Source::open(&a, &datagen)?;
    let shown = Shown::for_config(datagen.config(), source.value_scale());
    let settings = Settings {
        input: format!("{:016x}", source.fingerprint()),
        samples: source.len(),
        image_shape: source.image_shape(),
        format: a.format.extension().to_string(),
        prefix: a.prefix.clone(),
        display: format!("{shown:?}"),
        batch_size: a.batch_size as usize,
        generator: datagen.config().clone(),
    };
    let manifest_path = a.out.join(MANIFEST);
    let previous = Manifest::read(&manifest_path)?;
    let (seed, resume) = resume_point(&a, previous.as_ref(), &settings)?;
    source.fit_if_needed(&mut datagen)?;
    let saver = SaveOptions::new(&a.out)
        .prefix(a.prefix.clone())
        .format(a.format)
        .per_class_subfolders(source.has_classes())
        .scale(false)
        .build()?;
    let removed = remove_stale_temp_files(&a.out)?;
    println!("{}", summary(datagen.config(), &origin));
    println!("input: {}", source.description());
    print_seed(seed, previous.is_some(), a.seed.is_some(), &a.out);
    if removed > 0 {
        println!("removed {removed} temporary files left by an interrupted run");
    }
    let job = Job {
        saver: &saver,
        shown,
        manifest_path: &manifest_path,
        settings: &settings,
        seed,
        epochs: a.epochs,
        samples: source.len(),
        batch_size: a.batch_size as usize,
    };
    let (n, classes) = (source.len(), source.has_classes());
    let stats = source.export(&job, &datagen, resume)?;
    print_totals(&a, &stats, n, classes);
    Ok(())
}

/// Refuses an unreadable input and an `--out` that is a file, before any work.
fn check_paths(a: &ExportArgs) -> CliResult {
    if let Err(e) = std::fs::metadata(&a.input) {
        return fail(format!("cannot read {}: {e}", a.input.display()));
    }
    if a.out.is_file() {
        return fail(format!(
            "--out {} is a file; expected a folder",
            a.out.display()
        ));
    }
    Ok(())
}

/// The seed, and the iterator state to resume from: a new export's seed and none, or the
/// seed and state recorded in `previous` when its settings match this run's.
fn resume_point(
    a: &ExportArgs,
    previous: Option<&Manifest>,
    settings: &Settings,
) -> CliResult<(u64, Option<IteratorState>)> {
    let Some(m) = previous else {
        return Ok((a.seed.unwrap_or_else(augflow::rng::os_seed), None));
    };
    let seed = m.state.seed;
    if let Some(s) = a.seed
        && s != seed
    {
        return fail(format!(
            "{} holds an export made with seed {seed}; pass --seed {seed} to resume it, or choose another --out",
            a.out.display(),
        ));
    }
    let differences = settings_differences(&m.settings, settings)?;
    if !differences.is_empty() {
        return fail(format!(
            "{} holds an export made with other settings ({}); use the same input and options to resume it, or choose another --out",
            a.out.display(),
            differences.join("; ")
        ));
    }
    Ok((seed, Some(m.state.clone())))
}

/// `key: <old> there, <new> now` for every setting that differs.
fn settings_differences(old: &Settings, new: &Settings) -> CliResult<Vec<String>> {
    let as_value = |s: &Settings| {
        serde_json::to_value(s).map_err(|e| super::CliError(format!("internal: settings: {e}")))
    };
    let mut out = Vec::new();
    differences(&as_value(old)?, &as_value(new)?, "", &mut out);
    Ok(out
        .into_iter()
        .map(|(key, was, now)| format!("{key}: {was} there, {now} now"))
        .collect())
}

fn print_seed(seed: u64, resumed: bool, given: bool, out: &Path) {
    if resumed {
        println!("seed: {seed} (resuming the export in {})", out.display());
    } else if given {
        println!("seed: {seed}");
    } else {
        println!("seed: {seed} (drawn; pass --seed {seed} to resume or replay this export)");
    }
}

fn print_totals(a: &ExportArgs, stats: &Stats, n: usize, classes: bool) {
    let total = a.epochs as usize * n;
    if stats.written == 0 {
        println!(
            "nothing to do: all {total} images ({} epochs x {n}) are already in {}",
            a.epochs,
            a.out.display()
        );
    } else {
        println!(
            "wrote {} images to {} in {:.1} s ({} were already there); {total} in all ({} epochs x {n}){}",
            stats.written,
            a.out.display(),
            stats.secs,
            stats.skipped,
            a.epochs,
            if classes {
                ", one sub-folder per class"
            } else {
                ""
            },
        );
    }
}

/// The progress manifest, `<out>/.augflow-export.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    /// The manifest's format version ([`MANIFEST_VERSION`]).
    augflow_export: u64,
    /// The number of epochs the last run was asked for.
    epochs: u64,
    settings: Settings,
    /// The iterator's state after the last batch written: its seed, its epoch and the batches
    /// of that epoch done (every earlier epoch is done).
    state: IteratorState,
    /// Whether every batch of `epochs` epochs is written.
    complete: bool,
}

/// What must match for an export to be resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    /// A fingerprint of the input (paths and sizes of its files).
    input: String,
    samples: usize,
    image_shape: [usize; 3],
    format: String,
    prefix: String,
    /// How values become pixels.
    display: String,
    /// Images per batch: the state counts batches.
    batch_size: usize,
    generator: GeneratorConfig,
}

impl Manifest {
    /// The manifest at `path`, none if there is no file; an error for anything but a manifest
    /// of [`MANIFEST_VERSION`], naming the version found.
    fn read(path: &Path) -> CliResult<Option<Manifest>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return fail(format!("cannot read {}: {e}", path.display())),
        };
        let not_ours = |e: &dyn std::fmt::Display| {
            fail(format!(
                "{} is not an augflow export manifest ({e}); delete it or choose another --out",
                path.display()
            ))
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return not_ours(&e),
        };
        match value.get("augflow_export").and_then(Value::as_u64) {
            Some(MANIFEST_VERSION) => {}
            Some(v) => {
                return fail(format!(
                    "{} is an export manifest of version {v}, which this augflow cannot resume (it reads version {MANIFEST_VERSION}); delete it to export again (the same --seed writes the same bytes), or choose another --out",
                    path.display()
                ));
            }
            None => return not_ours(&"no augflow_export version"),
        }
        match serde_json::from_value::<Manifest>(value) {
            Ok(m) => Ok(Some(m)),
            Err(e) => not_ours(&e),
        }
    }
}

pub(crate) struct Stats {
    written: usize,
    skipped: usize,
    secs: f64,
}

pub(crate) struct Job<'a> {
    saver: &'a Saver,
    shown: Shown,
    manifest_path: &'a Path,
    settings: &'a Settings,
    pub(crate) seed: u64,
    epochs: u64,
    samples: usize,
    pub(crate) batch_size: usize,
}

impl Job<'_> {
    fn write_manifest(&self, state: IteratorState, complete: bool) -> CliResult {
        let m = Manifest {
            augflow_export: MANIFEST_VERSION,
            epochs: self.epochs,
            settings: self.settings.clone(),
            state,
            complete,
        };
        let text = serde_json::to_string_pretty(&m)
            .map_err(|e| super::CliError(format!("internal: manifest: {e}")))?;
        Ok(augflow::save::write_atomic(
            self.manifest_path,
            format!("{text}\n").as_bytes(),
        )?)
    }

    /// Writes every batch of every epoch after the one `resume` records (from the start
    /// without it), and the iterator's state after each.
    pub(crate) fn run<I>(
        &self,
        it: &mut I,
        classes: Option<&[String]>,
        resume: Option<&IteratorState>,
    ) -> CliResult<Stats>
    where
        I: Resumable<Item = Batch<f32>>,
    {
        let (n, batches) = (self.samples, it.len());
        // A hook for the tests of resumption: a pause after each batch makes an interruption
        // land between batches of a run that would otherwise finish in milliseconds.
        let pause = std::env::var("AUGFLOW_TEST_BATCH_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(std::time::Duration::from_millis);
        let start = Instant::now();
        let (mut epoch, mut next) = match resume {
            Some(state) => (state.epoch, self.restore(it, state)?),
            None => (0, 0),
        };
        let total = self.epochs * n as u64;
        let skipped = total.min(epoch * n as u64 + (next * self.batch_size).min(n) as u64);
        let bar = progress_bar(total);
        bar.inc(skipped);
        let mut written = 0;
        while epoch < self.epochs {
            if next == batches {
                it.on_epoch_end();
                (epoch, next) = (epoch + 1, 0);
                continue;
            }
            let batch = it.get(next)?;
            let size = batch.len();
            self.save_batch(&batch, epoch, classes)?;
            next += 1;
            let complete = epoch + 1 == self.epochs && next == batches;
            self.write_manifest(it.state(next), complete)?;
            written += size;
            bar.inc(size as u64);
            if let Some(p) = pause {
                std::thread::sleep(p);
            }
        }
        bar.finish_and_clear();
        Ok(Stats {
            written,
            skipped: skipped as usize,
            secs: start.elapsed().as_secs_f64(),
        })
    }

    /// Restores `it` to `state`; returns the next batch. The library compares the whole
    /// configuration, but its fingerprint of a folder holds the paths as spelled on the
    /// command line, so that entry is taken from `it`: `Settings::input` has already compared
    /// the input by paths relative to it and sizes, which lets a moved folder resume.
    fn restore<I: Resumable>(&self, it: &mut I, state: &IteratorState) -> CliResult<usize> {
        let mut state = state.clone();
        if let Some(source) = it.state(0).config.remove("source") {
            state.config.insert("source".into(), source);
        }
        Ok(it.restore(&state)?)
    }

    fn save_batch(&self, batch: &Batch<f32>, epoch: u64, classes: Option<&[String]>) -> CliResult {
        for (img, &i) in batch.x.axis_iter(Axis(0)).zip(&batch.index) {
            let img = to_u8(img, self.shown);
            let class = classes.map(|c| c[i].as_str());
            self.saver
                .save(img.view(), DataFormat::ChannelsLast, epoch, i, class)?;
        }
        Ok(())
    }
}

/// A progress bar on stderr when stdout is a terminal, else hidden.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if std::io::stdout().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) =
        ProgressStyle::with_template("{bar:32} {pos}/{len} images  {rate}  {eta} left")
    {
        bar.set_style(style.with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} images/s", s.per_sec());
            },
        ));
    }
    bar
}

/// Every key (as a path like `generator.rotation_range`) where `a` and `b` differ, with the
/// two values, in key order.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<(String, String, String)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                differences(va, vb, &path, out);
            }
        }
        _ if a == b => {}
        _ => out.push((at.to_string(), a.to_string(), b.to_string())),
    }
}

/// Removes the hidden temporary files (`.<name>.<pid>[.<n>].tmp`) an interrupted run may
/// have left in `dir` and its class sub-folders; returns how many.
fn remove_stale_temp_files(dir: &Path) -> CliResult<usize> {
    let mut removed = 0;
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if d == dir {
                    stack.push(p);
                }
            } else if name.starts_with('.') && name.ends_with(".tmp") {
                match std::fs::remove_file(&p) {
                    Ok(()) => removed += 1,
                    Err(err) => {
                        return fail(format!(
                            "cannot remove temporary file {}: {err}",
                            p.display()
                        ));
                    }
                }
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_difference_is_listed_with_both_values() {
        let a = serde_json::json!({"seed": 1, "generator": {"rotation_range": 20.0, "cval": 0.0, "zoom_range": 0.1}});
        let b = serde_json::json!({"seed": 1, "generator": {"rotation_range": 10.0, "cval": 0.0, "zoom_range": 0.2}});
        let mut out = Vec::new();
        differences(&a, &b, "", &mut out);
        assert_eq!(
            out,
            [
                (
                    "generator.rotation_range".into(),
                    "20.0".into(),
                    "10.0".into()
                ),
                ("generator.zoom_range".into(), "0.1".into(), "0.2".into()),
            ]
        );
        out.clear();
        differences(&a, &a, "", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn only_hidden_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("cat")).unwrap();
        std::fs::write(dir.path().join("cat/.aug_e000_i000001.png.12.0.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join(".m.json.3.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join("cat/aug_e000_i000000.png"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.tmp"), b"x").unwrap();
        assert_eq!(remove_stale_temp_files(dir.path()).unwrap(), 2);
        assert!(dir.path().join("cat/aug_e000_i000000.png").is_file());
        assert!(dir.path().join("notes.tmp").is_file());
    }
}
