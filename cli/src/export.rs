//! `augflow export`: a dataset augmented for E epochs into per-class folders, resumable.
//!
//! Progress lives in `<out>/.augflow-export.json`, rewritten atomically after every batch.
//! A re-run with the same settings skips every batch that the manifest marks done and whose
//! files all exist; images are written atomically, so a killed run leaves no partial file
//! under a final name, and the hidden temporary files it may leave are removed on resume.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use augflow::transform::Pixel;
use augflow::{DataFormat, DynArray, ImageDataGenerator, SaveFormat, SaveOptions, Saver, Sequence};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{Array4, Axis};
use serde_json::{Value, json};

use super::config::{GenArgs, build_generator, summary};
use super::display::{Shown, to_u8};
use super::input::{ArrayKeys, Dataset, is_array_file, load_array, load_class_tree, with_images};
use super::preview::fit_if_needed;
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

/// Runs `export`.
pub fn run(a: ExportArgs) -> CliResult {
    if let Err(e) = std::fs::metadata(&a.input) {
        return fail(format!("cannot read {}: {e}", a.input.display()));
    }
    let data = if a.input.is_dir() {
        if a.x_key.is_some() || a.y_key.is_some() || a.labels.is_some() {
            return fail(
                "--x-key, --y-key and --labels apply to .npy/.npz inputs, not to a folder",
            );
        }
        load_class_tree(&a.input, a.size)?
    } else if is_array_file(&a.input) {
        let keys = ArrayKeys {
            x_key: a.x_key.clone(),
            y_key: a.y_key.clone(),
            labels: a.labels.clone(),
        };
        let d = load_array(&a.input, &keys)?;
        match a.size {
            Some((h, w)) => Dataset {
                images: d.images.resized(h, w),
                ..d
            },
            None => d,
        }
    } else {
        return fail(format!(
            "{}: expected a folder or a .npy/.npz file",
            a.input.display()
        ));
    };
    if a.out.is_file() {
        return fail(format!(
            "--out {} is a file; expected a folder",
            a.out.display()
        ));
    }

    let (mut cfg, origin) = a.generator.resolve()?;
    cfg.dtype = augflow::DType::F32;
    let mut datagen = build_generator(&cfg)?;
    let shown = Shown::for_config(datagen.config(), data.images.value_scale());
    let [n, h, w, c] = data.images.shape();
    let settings = json!({
        "input": format!("{:016x}", data.fingerprint),
        "samples": n,
        "image_shape": [h, w, c],
        "format": a.format.extension(),
        "prefix": a.prefix,
        "display": format!("{shown:?}"),
        "generator": serde_json::to_value(datagen.config()).unwrap_or(Value::Null),
    });

    let manifest_path = a.out.join(MANIFEST);
    let previous = read_manifest(&manifest_path)?;
    let (seed, cursor) = match &previous {
        Some(m) => {
            let old_seed = m.get("seed").and_then(Value::as_u64);
            let Some(old_seed) = old_seed else {
                return fail(format!(
                    "{} has no seed; delete it to start over",
                    manifest_path.display()
                ));
            };
            if let Some(s) = a.seed
                && s != old_seed
            {
                return fail(format!(
                    "{} holds an export made with seed {old_seed}; pass --seed {old_seed} to resume it, or choose another --out",
                    a.out.display()
                ));
            }
            let old = m.get("settings").unwrap_or(&Value::Null);
            if let Some(key) = first_difference(old, &settings) {
                let pointer = format!("/{}", key.replace('.', "/"));
                let show = |v: &Value| {
                    v.pointer(&pointer)
                        .map(Value::to_string)
                        .unwrap_or_else(|| "nothing".into())
                };
                return fail(format!(
                    "{} holds an export made with {key} = {}, this run has {}; use the same input and options to resume it, or choose another --out",
                    a.out.display(),
                    show(old),
                    show(&settings)
                ));
            }
            let cursor = (
                m.pointer("/done/epoch")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                m.pointer("/done/samples")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as usize,
            );
            (old_seed, cursor)
        }
        None => (a.seed.unwrap_or_else(augflow::rng::os_seed), (0, 0)),
    };
    fit_if_needed(&mut datagen, &data.images)?;
    let saver = SaveOptions::new(&a.out)
        .prefix(a.prefix.clone())
        .format(a.format)
        .per_class_subfolders(data.classes.is_some())
        .scale(false)
        .build()?;
    let removed = remove_stale_temp_files(&a.out)?;

    println!("{}", summary(datagen.config(), &origin));
    println!("input: {}", data.description);
    match (&previous, a.seed) {
        (Some(_), _) => println!("seed: {seed} (resuming the export in {})", a.out.display()),
        (None, Some(_)) => println!("seed: {seed}"),
        (None, None) => {
            println!("seed: {seed} (drawn; pass --seed {seed} to resume or replay this export)")
        }
    }
    if removed > 0 {
        println!("removed {removed} temporary files left by an interrupted run");
    }

    let job = Job {
        saver: &saver,
        classes: data.classes.as_deref(),
        shown,
        manifest_path: &manifest_path,
        settings: &settings,
        seed,
        epochs: a.epochs,
    };
    let stats =
        with_images!(data.images, x => job.run(&datagen, x, a.batch_size as usize, cursor))?;
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
            if data.classes.is_some() {
                ", one sub-folder per class"
            } else {
                ""
            },
        );
    }
    Ok(())
}

struct Stats {
    written: usize,
    skipped: usize,
    secs: f64,
}

struct Job<'a> {
    saver: &'a Saver,
    classes: Option<&'a [String]>,
    shown: Shown,
    manifest_path: &'a Path,
    settings: &'a Value,
    seed: u64,
    epochs: u64,
}

impl Job<'_> {
    fn class(&self, i: usize) -> Option<&str> {
        self.classes.map(|c| c[i].as_str())
    }

    fn batch_complete(&self, epoch: u64, idx: &[usize]) -> CliResult<bool> {
        for &i in idx {
            if !self.saver.path_for(epoch, i, self.class(i))?.is_file() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn write_manifest(&self, epoch: u64, samples: usize, complete: bool) -> CliResult {
        let m = json!({
            "augflow_export": 1,
            "seed": self.seed,
            "epochs": self.epochs,
            "settings": self.settings,
            "done": {"epoch": epoch, "samples": samples},
            "complete": complete,
        });
        Ok(augflow::save::write_atomic(
            self.manifest_path,
            format!("{m:#}\n").as_bytes(),
        )?)
    }

    fn run<T: Pixel>(
        &self,
        datagen: &ImageDataGenerator,
        x: Array4<T>,
        batch_size: usize,
        cursor: (u64, usize),
    ) -> CliResult<Stats> {
        let n = x.shape()[0];
        let mut it = datagen
            .flow(x, None::<DynArray>)
            .batch_size(batch_size)
            .shuffle(false)
            .seed(self.seed)
            .build()?;
        let total = self.epochs * n as u64;
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
            for b in 0..it.len() {
                let idx = it.batch_indices(b)?.to_vec();
                let end = (b * batch_size + idx.len()) as u64;
                let recorded = (epoch, end as usize) <= cursor;
                if recorded && self.batch_complete(epoch, &idx)? {
                    skipped += idx.len();
                    bar.inc(idx.len() as u64);
                    continue;
                }
                let batch = it.get(b)?;
                for (img, &i) in batch.x.axis_iter(Axis(0)).zip(&batch.index) {
                    let img = to_u8(img, self.shown);
                    self.saver.save(
                        img.view(),
                        DataFormat::ChannelsLast,
                        epoch,
                        i,
                        self.class(i),
                    )?;
                }
                written += idx.len();
                bar.inc(idx.len() as u64);
                done = done.max((epoch, end as usize));
                let complete = epoch + 1 == self.epochs && end as usize == n;
                self.write_manifest(done.0, done.1, complete && done == (epoch, n))?;
                if let Some(p) = pause {
                    std::thread::sleep(p);
                }
            }
        }
        if written == 0 && !self.manifest_path.is_file() {
            self.write_manifest(self.epochs - 1, n, true)?;
        }
        bar.finish_and_clear();
        Ok(Stats {
            written,
            skipped,
            secs: start.elapsed().as_secs_f64(),
        })
    }
}

fn read_manifest(path: &Path) -> CliResult<Option<Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.get("augflow_export").is_some() => Ok(Some(v)),
            _ => fail(format!(
                "{} is not an augflow export manifest; delete it or choose another --out",
                path.display()
            )),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => fail(format!("cannot read {}: {e}", path.display())),
    }
}

/// The first key (as a path like `generator.rotation_range`) where `a` and `b` differ.
fn first_difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if va == vb {
                    None
                } else {
                    Some(match first_difference(va, vb) {
                        Some(sub) if !sub.is_empty() => format!("{k}.{sub}"),
                        _ => k.clone(),
                    })
                }
            })
        }
        _ if a == b => None,
        _ => Some(String::new()),
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
    fn differences_are_named_by_path() {
        let a = json!({"seed": 1, "generator": {"rotation_range": 20.0, "cval": 0.0}});
        let b = json!({"seed": 1, "generator": {"rotation_range": 10.0, "cval": 0.0}});
        assert_eq!(
            first_difference(&a, &b).as_deref(),
            Some("generator.rotation_range")
        );
        assert_eq!(first_difference(&a, &a), None);
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
