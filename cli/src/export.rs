//! `augflow export`: a dataset augmented for E epochs into per-class folders, resumable.
//!
//! Progress lives in `<out>/.augflow-export.json`, rewritten atomically after every batch.
//! A re-run with the same settings skips every batch that the manifest marks done and whose
//! files all exist; images are written atomically, so a killed run leaves no partial file
//! under a final name, and the hidden temporary files it may leave are removed on resume.

use std::io::IsTerminal;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use augflow::{Batch, DataFormat, GeneratorConfig, SaveFormat, SaveOptions, Saver};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::Axis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{GenArgs, build_generator, summary};
use super::display::{Shown, to_u8};
use super::source::{Epochs, Source};
use super::{CliResult, fail, parse_size};

/// Name of the progress manifest inside the output folder.
const MANIFEST: &str = ".augflow-export.json";

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
/// writes every batch not already on disk.
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
        generator: datagen.config().clone(),
    };
    let manifest_path = a.out.join(MANIFEST);
    let previous = Manifest::read(&manifest_path)?;
    let (seed, cursor) = resume_point(&a, previous.as_ref(), &settings)?;
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
    let stats = source.export(&job, &datagen, cursor)?;
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

/// The seed and the first batch to write: a new export's, or the one recorded in `previous`
/// when its settings match this run's.
fn resume_point(
    a: &ExportArgs,
    previous: Option<&Manifest>,
    settings: &Settings,
) -> CliResult<(u64, (u64, usize))> {
    let Some(m) = previous else {
        return Ok((a.seed.unwrap_or_else(augflow::rng::os_seed), (0, 0)));
    };
    if let Some(s) = a.seed
        && s != m.seed
    {
        return fail(format!(
            "{} holds an export made with seed {}; pass --seed {} to resume it, or choose another --out",
            a.out.display(),
            m.seed,
            m.seed
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
    Ok((m.seed, (m.done.epoch, m.done.samples)))
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
    /// The manifest's format version (1).
    augflow_export: u32,
    seed: u64,
    epochs: u64,
    settings: Settings,
    /// The last batch written: samples `..samples` of `epoch` (and every earlier epoch).
    done: Done,
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
    generator: GeneratorConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Done {
    epoch: u64,
    samples: usize,
}

impl Manifest {
    fn read(path: &Path) -> CliResult<Option<Manifest>> {
        match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str::<Manifest>(&text) {
                Ok(m) => Ok(Some(m)),
                Err(e) => fail(format!(
                    "{} is not an augflow export manifest ({e}); delete it or choose another --out",
                    path.display()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => fail(format!("cannot read {}: {e}", path.display())),
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
    fn batch_complete(
        &self,
        epoch: u64,
        idx: Range<usize>,
        classes: Option<&[String]>,
    ) -> CliResult<bool> {
        for i in idx {
            if !self
                .saver
                .path_for(epoch, i, classes.map(|c| c[i].as_str()))?
                .is_file()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn write_manifest(&self, done: (u64, usize), complete: bool) -> CliResult {
        let m = Manifest {
            augflow_export: 1,
            seed: self.seed,
            epochs: self.epochs,
            settings: self.settings.clone(),
            done: Done {
                epoch: done.0,
                samples: done.1,
            },
            complete,
        };
        let text = serde_json::to_string_pretty(&m)
            .map_err(|e| super::CliError(format!("internal: manifest: {e}")))?;
        Ok(augflow::save::write_atomic(
            self.manifest_path,
            format!("{text}\n").as_bytes(),
        )?)
    }

    /// Writes every batch of every epoch that is not recorded in `cursor` with all its files.
    pub(crate) fn run(
        &self,
        it: &mut impl Epochs,
        classes: Option<&[String]>,
        cursor: (u64, usize),
    ) -> CliResult<Stats> {
        let n = self.samples;
        let bar = progress_bar(self.epochs * n as u64);
        // A hook for the tests of resumption: a pause after each batch makes an interruption
        // land between batches of a run that would otherwise finish in milliseconds.
        let pause = std::env::var("AUGFLOW_TEST_BATCH_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(std::time::Duration::from_millis);
        let start = Instant::now();
        let (mut written, mut skipped) = (0, 0);
        let mut done = cursor;
        for epoch in 0..self.epochs {
            it.set_epoch(epoch);
            for b in 0..n.div_ceil(self.batch_size) {
                let idx = b * self.batch_size..((b + 1) * self.batch_size).min(n);
                let end = idx.end;
                if (epoch, end) <= cursor && self.batch_complete(epoch, idx.clone(), classes)? {
                    skipped += idx.len();
                    bar.inc(idx.len() as u64);
                    continue;
                }
                self.save_batch(&it.batch(b)?, epoch, classes)?;
                written += idx.len();
                bar.inc(idx.len() as u64);
                done = done.max((epoch, end));
                let complete = epoch + 1 == self.epochs && end == n;
                self.write_manifest(done, complete && done == (epoch, n))?;
                if let Some(p) = pause {
                    std::thread::sleep(p);
                }
            }
        }
        if written == 0 && !self.manifest_path.is_file() {
            self.write_manifest((self.epochs - 1, n), true)?;
        }
        bar.finish_and_clear();
        Ok(Stats {
            written,
            skipped,
            secs: start.elapsed().as_secs_f64(),
        })
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
