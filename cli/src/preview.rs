//! `augflow preview`: a contact sheet of each input image and K augmented versions.

use std::path::{Path, PathBuf};
use std::time::Instant;

use augflow::transform::Pixel;
use augflow::{DataFormat, DynArray, ImageDataGenerator, SaveFormat, Sequence};
use clap::Args;
use ndarray::{Array3, Array4, ArrayView3, Axis, s};

use super::config::{GenArgs, build_generator, summary};
use super::display::{Shown, to_u8};
use super::input::{
    ArrayKeys, Dataset, Images, is_array_file, load_array, load_files, with_images,
};
use super::{CliResult, fail};

/// Arguments of `augflow preview` (also the arguments of `augflow` without a subcommand).
#[derive(Args, Debug, Clone)]
pub struct PreviewArgs {
    /// Images, folders of images, or one .npy/.npz array (N, H, W, C) [default: assets/]
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Augmented versions per image (columns after the original)
    #[arg(short = 'k', long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub versions: u32,
    /// Side of one square cell of the sheet, in pixels; inputs are resized to it
    #[arg(long, default_value_t = 160, value_parser = clap::value_parser!(u32).range(8..=2048))]
    pub cell: u32,
    /// Most input images shown (one row each)
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_images: u32,
    /// Seed of the augmentation [default: drawn, and printed]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write the sheet (.png, .jpg, .bmp, .tif, …)
    #[arg(long, value_name = "PATH", default_value = "out/preview.png")]
    pub out: PathBuf,
    /// Also write every augmented version as a PNG into this folder
    #[arg(long, value_name = "DIR")]
    pub save_images: Option<PathBuf>,
    /// Array holding the images in a .npz [default: x, or the only array]
    #[arg(long, value_name = "NAME")]
    pub x_key: Option<String>,
    #[command(flatten)]
    pub generator: GenArgs,
}

/// The built-in photos: `./assets` when it exists, else the repository's `assets/`.
fn default_assets() -> CliResult<PathBuf> {
    let here = Path::new("assets");
    if here.is_dir() {
        return Ok(here.to_path_buf());
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    if built_in.is_dir() {
        return Ok(built_in);
    }
    fail(format!(
        "no input given and no assets/ folder found (looked in ./assets and {}); pass images, a folder or a .npy/.npz",
        built_in.display()
    ))
}

fn sheet_format(out: &Path) -> CliResult<SaveFormat> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    ext.parse::<SaveFormat>().or_else(|_| {
        fail(format!(
            "--out {}: the extension must name an image format: png, jpg, jpeg, bmp, ppm, tif or tiff",
            out.display()
        ))
    })
}

/// Runs `preview`.
pub fn run(a: PreviewArgs) -> CliResult {
    let format = sheet_format(&a.out)?;
    let inputs = if a.inputs.is_empty() {
        vec![default_assets()?]
    } else {
        a.inputs.clone()
    };
    let arrays = inputs.iter().filter(|p| is_array_file(p)).count();
    let cell = a.cell as usize;
    let limit = a.max_images as usize;
    let (data, total) = match (arrays, inputs.len()) {
        (0, _) => load_files(&inputs, Some((cell, cell)), limit)?,
        (1, 1) => {
            if let Err(e) = std::fs::metadata(&inputs[0]) {
                return fail(format!("cannot read {}: {e}", inputs[0].display()));
            }
            let keys = ArrayKeys {
                x_key: a.x_key.clone(),
                ..Default::default()
            };
            let d = load_array(&inputs[0], &keys)?;
            let total = d.images.shape()[0];
            let d = Dataset {
                images: d.images.take(limit).resized(cell, cell),
                ..d
            };
            (d, total)
        }
        _ => {
            return fail(
                "preview takes image files and folders, or a single .npy/.npz array, not both",
            );
        }
    };
    if a.x_key.is_some() && arrays == 0 {
        return fail("--x-key applies to a .npz input only");
    }

    let (mut cfg, origin) = a.generator.resolve()?;
    cfg.dtype = augflow::DType::F32;
    let mut datagen = build_generator(&cfg)?;
    let seed = a.seed.unwrap_or_else(augflow::rng::os_seed);
    let value_scale = data.images.value_scale();
    let shown = Shown::for_config(datagen.config(), value_scale);
    fit_if_needed(&mut datagen, &data.images)?;

    let k = a.versions as usize;
    let start = Instant::now();
    let versions = with_images!(data.images.clone(), x => augment_versions(&datagen, x, k, seed))?;
    let secs = start.elapsed().as_secs_f64();

    let originals: Vec<Array3<u8>> = with_images!(&data.images, x => x
        .axis_iter(Axis(0))
        .map(|img| to_u8(img.mapv(|v| v.to_f64() as f32).view(), Shown::Scaled(value_scale)))
        .collect());
    let n = originals.len();
    let mut sheet = Array3::<u8>::zeros((n * cell, (k + 1) * cell, 3));
    for (i, orig) in originals.iter().enumerate() {
        put(&mut sheet, i, 0, cell, orig.view());
        for (v, batch) in versions.iter().enumerate() {
            let img = to_u8(batch.index_axis(Axis(0), i), shown);
            put(&mut sheet, i, v + 1, cell, img.view());
        }
    }
    if let Some(parent) = a.out.parent()
        && !parent.as_os_str().is_empty()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return fail(format!("cannot create folder {}: {e}", parent.display()));
    }
    augflow::save_image(
        sheet.view(),
        DataFormat::ChannelsLast,
        &a.out,
        format,
        false,
    )?;

    println!("{}", summary(datagen.config(), &origin));
    let shown_from = if total > n {
        format!("the first {n} of {total} images")
    } else {
        format!("{n} images")
    };
    println!(
        "input: {} ({shown_from}, resized to {cell}x{cell}; display: {})",
        data.description,
        shown.describe()
    );
    let seed_note = if a.seed.is_some() {
        String::new()
    } else {
        format!(" (drawn; pass --seed {seed} to replay)")
    };
    println!(
        "seed: {seed}{seed_note}; augmented {n} images x {k} versions in {:.1} ms",
        secs * 1e3
    );
    if let Some(dir) = &a.save_images {
        let written = save_versions(dir, &data.names, &versions, shown)?;
        println!("wrote {written} augmented images to {}", dir.display());
    }
    println!(
        "wrote {} ({}x{}: one row per image, the original then {k} augmented versions)",
        a.out.display(),
        (k + 1) * cell,
        n * cell
    );
    Ok(())
}

/// Fits the featurewise statistics on the inputs when the configuration needs them.
pub fn fit_if_needed(datagen: &mut ImageDataGenerator, images: &Images) -> CliResult {
    let c = datagen.config();
    if c.featurewise_center || c.featurewise_std_normalization || c.zca_whitening {
        with_images!(images, x => datagen.fit(x.view()))?;
        println!(
            "fitted the featurewise statistics on the {} input images",
            images.shape()[0]
        );
    }
    Ok(())
}

/// Version `v` of image `i` is epoch `v` of an unshuffled `flow`: a pure function of
/// `(seed, v, i)`, the same whatever the number of images shown.
fn augment_versions<T: Pixel>(
    datagen: &ImageDataGenerator,
    x: Array4<T>,
    k: usize,
    seed: u64,
) -> CliResult<Vec<Array4<f32>>> {
    let n = x.shape()[0];
    let mut it = datagen
        .flow(x, None::<DynArray>)
        .batch_size(n)
        .shuffle(false)
        .seed(seed)
        .build()?;
    let mut out = Vec::with_capacity(k);
    for v in 0..k {
        it.set_epoch(v as u64);
        out.push(it.get(0)?.x);
    }
    Ok(out)
}

/// Copies an `(cell, cell, C)` image into the sheet's cell `(row, col)`, as RGB.
fn put(sheet: &mut Array3<u8>, row: usize, col: usize, cell: usize, img: ArrayView3<'_, u8>) {
    let mut dst = sheet.slice_mut(s![
        row * cell..(row + 1) * cell,
        col * cell..(col + 1) * cell,
        ..
    ]);
    let c = img.shape()[2];
    for k in 0..3 {
        // Grey is repeated on the three channels; alpha is dropped.
        let src = if c < 3 { 0 } else { k };
        dst.index_axis_mut(Axis(2), k)
            .assign(&img.index_axis(Axis(2), src));
    }
}

/// Writes `{i:03}_{name}_v{v}.png` for every version; returns the number written.
fn save_versions(
    dir: &Path,
    names: &[String],
    versions: &[Array4<f32>],
    shown: Shown,
) -> CliResult<usize> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("cannot create folder {}: {e}", dir.display()));
    }
    let mut written = 0;
    for (v, batch) in versions.iter().enumerate() {
        for (i, img) in batch.axis_iter(Axis(0)).enumerate() {
            let name: String = names[i]
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let path = dir.join(format!("{i:03}_{name}_v{}.png", v + 1));
            let img = to_u8(img, shown);
            augflow::save_image(
                img.view(),
                DataFormat::ChannelsLast,
                &path,
                SaveFormat::Png,
                false,
            )?;
            written += 1;
        }
    }
    Ok(written)
}
