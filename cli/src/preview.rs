//! `augflow preview`: a contact sheet of each input image and K augmented versions.

use std::path::{Path, PathBuf};
use std::time::Instant;

use augflow::rng::sample_rng;
use augflow::{DataFormat, ImageDataGenerator, SaveFormat, TransformParams};
use clap::Args;
use ndarray::{Array3, ArrayView3, Axis};

use super::config::{GenArgs, build_generator, summary};
use super::display::{Shown, resize_f32, to_u8};
use super::input::{
    ArrayKeys, Images, image_paths, is_array_file, load_array, open_rgb, stem, with_images,
};
use super::sheet;
use super::targets::{FileTargets, Targets, array_masks};
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
    /// Masks drawn over every cell: a folder of mask files (class ids) matched to the images
    /// by file stem, or a .npy/.npz (N, H, W) for an array input
    #[arg(long, value_name = "PATH")]
    pub masks: Option<PathBuf>,
    /// The mask's id where a constant fill shows outside it (drawn white when not 0)
    #[arg(long, value_name = "ID", default_value_t = 0)]
    pub mask_cval: u16,
    /// A COCO detection file whose boxes are drawn over every cell; the input is then the
    /// folder its file names are relative to, and its images are the rows
    #[arg(long, value_name = "JSON")]
    pub coco: Option<PathBuf>,
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
    let (mut cfg, origin) = a.generator.resolve()?;
    cfg.dtype = augflow::DType::F32;
    let mut datagen = build_generator(&cfg)?;
    let cell = a.cell as usize;
    let mut shots = read_inputs(&a, cell)?;
    let seed = a.seed.unwrap_or_else(augflow::rng::os_seed);
    let shown = Shown::for_config(datagen.config(), shots.value_scale);
    let stretched = fit_shots(&mut datagen, &mut shots, cell)?;

    let k = a.versions as usize;
    let start = Instant::now();
    let versions = augment_versions(&datagen, &shots.images, k, seed)?;
    let secs = start.elapsed().as_secs_f64();

    let n = shots.images.len();
    let mut sheet = sheet::blank(n, k, cell);
    let unmoved = TransformParams::default();
    for (i, shot) in shots.images.iter().enumerate() {
        sheet::label(&mut sheet, i, cell, &shot.label);
        let orig = to_u8(shot.x.view(), Shown::Scaled(shots.value_scale));
        let orig = shown_with_targets(orig, shot, &unmoved, &datagen, a.mask_cval)?;
        sheet::put(&mut sheet, i, 0, cell, orig.view());
        for (v, version) in versions[i].iter().enumerate() {
            let img = to_u8(version.x.view(), shown);
            let img = shown_with_targets(img, shot, &version.params, &datagen, a.mask_cval)?;
            sheet::put(&mut sheet, i, v + 1, cell, img.view());
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
    let shown_from = if shots.total > n {
        format!("the first {n} of {total} images", total = shots.total)
    } else {
        format!("{n} images")
    };
    let fit_note = if stretched {
        format!("resized to {cell}x{cell}, since the featurewise statistics need one size")
    } else {
        format!("fitted into {cell}x{cell}, aspect ratio kept")
    };
    println!(
        "input: {} ({shown_from}, {fit_note}; display: {})",
        shots.description,
        shown.describe()
    );
    if let Some(note) = targets_note(&a) {
        println!("{note}");
    }
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
        let written = save_versions(dir, &shots.images, &versions, shown)?;
        println!("wrote {written} augmented images to {}", dir.display());
    }
    println!(
        "wrote {} ({}x{}: one row per image under its name, the original (framed) then {k} augmented versions)",
        a.out.display(),
        sheet.shape()[1],
        sheet.shape()[0]
    );
    Ok(())
}

/// What `--masks` and `--coco` draw, for the summary; `None` without them.
fn targets_note(a: &PreviewArgs) -> Option<String> {
    let mut drawn = Vec::new();
    if let Some(m) = &a.masks {
        drawn.push(format!(
            "masks from {} (a colour per class id, 0 not drawn, fill id {} in white)",
            m.display(),
            a.mask_cval
        ));
    }
    if let Some(c) = &a.coco {
        drawn.push(format!("boxes from {} (a colour per class)", c.display()));
    }
    (!drawn.is_empty()).then(|| format!("targets: {}, each moved with its image", drawn.join("; ")))
}

/// One input image, fitted into the cell (aspect ratio kept), in the data's units.
struct Shot {
    /// The file name, or `x[i]` for an array, shown above the row.
    label: String,
    /// A short name for `--save-images` files.
    name: String,
    x: Array3<f32>,
    /// Its masks and boxes (`--masks`, `--coco`), at the input's own size.
    targets: Targets,
}

/// One augmented version of a shot and the draw that made it.
struct Version {
    x: Array3<f32>,
    params: TransformParams,
}

/// The cell `img` of `shot` with the shot's targets drawn over it, moved by the draw `params`.
fn shown_with_targets(
    img: Array3<u8>,
    shot: &Shot,
    params: &TransformParams,
    datagen: &ImageDataGenerator,
    mask_cval: u16,
) -> CliResult<Array3<u8>> {
    if shot.targets.is_empty() {
        return Ok(img);
    }
    shot.targets
        .drawn_over(img.view(), datagen, params, mask_cval)
}

/// The images of the sheet.
struct Shots {
    images: Vec<Shot>,
    /// How many images the inputs hold (rows show at most `--max-images`).
    total: usize,
    /// The factor that maps the data's values to 0..=255.
    value_scale: f32,
    description: String,
}

/// Reads the inputs: image files and folders (an unreadable file is skipped with a warning
/// naming it), or one `.npy`/`.npz`.
fn read_inputs(a: &PreviewArgs, cell: usize) -> CliResult<Shots> {
    let inputs = if a.inputs.is_empty() {
        vec![default_assets()?]
    } else {
        a.inputs.clone()
    };
    let arrays = inputs.iter().filter(|p| is_array_file(p)).count();
    if a.x_key.is_some() && arrays == 0 {
        return fail("--x-key applies to a .npz input only");
    }
    let limit = a.max_images as usize;
    match (arrays, inputs.len()) {
        (0, _) => read_files(&inputs, a, cell, limit),
        (1, 1) => read_array(&inputs[0], a, cell, limit),
        _ => fail("preview takes image files and folders, or a single .npy/.npz array, not both"),
    }
}

fn read_files(inputs: &[PathBuf], a: &PreviewArgs, cell: usize, limit: usize) -> CliResult<Shots> {
    if a.masks.as_deref().is_some_and(is_array_file) {
        return fail(
            "--masks FILE.npy/.npz goes with a .npy/.npz input; for image files give the folder of their masks",
        );
    }
    let targets = FileTargets::open(a.masks.as_deref(), a.coco.as_deref())?;
    let paths = match targets.coco_images(inputs)? {
        Some(paths) => paths,
        None => image_paths(inputs)?,
    };
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        if images.len() == limit {
            break;
        }
        match open_rgb(p) {
            Ok(img) => {
                let (w, h) = img.dimensions();
                let targets = targets.of(i, p, (h as usize, w as usize))?;
                let x = ArrayView3::from_shape((h as usize, w as usize, 3), img.as_raw())
                    .map_err(|e| super::CliError(format!("internal: {e}")))?
                    .mapv(f32::from);
                let (fh, fw) = sheet::fitted(h as usize, w as usize, cell);
                images.push(Shot {
                    label: p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    name: stem(p),
                    x: resize_f32(x.view(), fh, fw),
                    targets,
                });
            }
            Err(e) => skipped.push(e.0),
        }
    }
    if images.is_empty() {
        return fail(skipped.join("; "));
    }
    for why in &skipped {
        log::warn!("{why}; skipped it");
    }
    let description = if inputs.len() == 1 {
        format!("{}", inputs[0].display())
    } else {
        format!("{} inputs", inputs.len())
    };
    Ok(Shots {
        images,
        total: paths.len() - skipped.len(),
        value_scale: 1.0,
        description,
    })
}

fn read_array(path: &Path, a: &PreviewArgs, cell: usize, limit: usize) -> CliResult<Shots> {
    if let Err(e) = std::fs::metadata(path) {
        return fail(format!("cannot read {}: {e}", path.display()));
    }
    if a.coco.is_some() {
        return fail("--coco goes with the folder of its images, not a .npy/.npz input");
    }
    let keys = ArrayKeys {
        x_key: a.x_key.clone(),
        ..Default::default()
    };
    let d = load_array(path, &keys)?;
    let [total, h, w, _] = d.images.shape();
    let value_scale = d.images.value_scale();
    let (fh, fw) = sheet::fitted(h, w, cell);
    let x = with_images!(d.images.take(limit), x => x.mapv(|v| augflow::transform::Pixel::to_f64(v) as f32));
    let n = x.shape()[0];
    let mut masks = array_masks(a.masks.as_deref(), total, (h, w))?;
    masks.truncate(n);
    let images = x
        .axis_iter(Axis(0))
        .zip(&d.names)
        .zip(masks)
        .map(|((img, name), mask)| Shot {
            label: name.clone(),
            name: name.clone(),
            x: resize_f32(img, fh, fw),
            targets: Targets { mask, boxes: None },
        })
        .collect();
    Ok(Shots {
        images,
        total,
        value_scale,
        description: d.description,
    })
}

/// Fits the featurewise statistics on the shots when the configuration needs them; returns
/// whether the shots were resized to `cell × cell` for it (the statistics need one size).
fn fit_shots(datagen: &mut ImageDataGenerator, shots: &mut Shots, cell: usize) -> CliResult<bool> {
    if !needs_fit(datagen) {
        return Ok(false);
    }
    let dim = shots.images[0].x.dim();
    let stretched = shots.images.iter().any(|s| s.x.dim() != dim);
    if stretched {
        for s in &mut shots.images {
            s.x = resize_f32(s.x.view(), cell, cell);
        }
    }
    let views: Vec<_> = shots.images.iter().map(|s| s.x.view()).collect();
    let x =
        ndarray::stack(Axis(0), &views).map_err(|e| super::CliError(format!("internal: {e}")))?;
    fit_if_needed(datagen, &Images::F32(x))?;
    Ok(stretched)
}

/// Whether the generator needs statistics fitted on the data (featurewise options, ZCA).
pub fn needs_fit(datagen: &ImageDataGenerator) -> bool {
    let c = datagen.config();
    c.featurewise_center || c.featurewise_std_normalization || c.zca_whitening
}

/// Fits the featurewise statistics on the inputs when the configuration needs them.
pub fn fit_if_needed(datagen: &mut ImageDataGenerator, images: &Images) -> CliResult {
    if needs_fit(datagen) {
        with_images!(images, x => datagen.fit(x.view()))?;
        println!(
            "fitted the featurewise statistics on the {} input images",
            images.shape()[0]
        );
    }
    Ok(())
}

/// Version `v` of image `i` is drawn from `sample_rng(seed, v, i)`, as sample `i` of epoch `v`
/// of an unshuffled `flow`: a pure function of `(seed, v, i)`, whatever the number of images.
fn augment_versions(
    datagen: &ImageDataGenerator,
    shots: &[Shot],
    k: usize,
    seed: u64,
) -> CliResult<Vec<Vec<Version>>> {
    let mut out = Vec::with_capacity(shots.len());
    for (i, shot) in shots.iter().enumerate() {
        let mut row = Vec::with_capacity(k);
        for v in 0..k {
            let mut x = Array3::<f32>::zeros(shot.x.raw_dim());
            let mut rng = sample_rng(seed, v as u64, i as u64);
            let params =
                datagen.transform_sample_into(shot.x.view(), x.view_mut(), &mut rng, true)?;
            row.push(Version { x, params });
        }
        out.push(row);
    }
    Ok(out)
}

/// Writes `{i:03}_{name}_v{v}.png` for every version; returns the number written.
fn save_versions(
    dir: &Path,
    shots: &[Shot],
    versions: &[Vec<Version>],
    shown: Shown,
) -> CliResult<usize> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("cannot create folder {}: {e}", dir.display()));
    }
    let mut written = 0;
    for (i, (shot, row)) in shots.iter().zip(versions).enumerate() {
        let name: String = shot
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        for (v, version) in row.iter().enumerate() {
            let path = dir.join(format!("{i:03}_{name}_v{}.png", v + 1));
            let img = to_u8(version.x.view(), shown);
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
