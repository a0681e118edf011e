//! The targets `augflow preview` draws with each image (`--masks`, `--coco`): read with the
//! library's readers, then moved through each version's own draw by the library's
//! `warp_mask` and `transform_boxes`, so a sheet shows exactly what training would get.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use augflow::iterators::{
    CocoAnnotations, LoadOptions, is_whitelisted, load_mask, read_coco, resize_mask,
};
use augflow::targets::{BoxFormat, BoxOptions, PointMap, SampleMask, transform_boxes, warp_mask};
use augflow::{DType, DynArray, ImageDataGenerator, TransformParams};
use ndarray::{Array2, Array3, ArrayView3, Axis};

use super::input::is_array_file;
use super::overlay::{draw_boxes, draw_mask, rgb};
use super::{CliResult, fail};

/// What one image carries besides its pixels, at its own size (before it is fitted into a
/// cell): class ids `(H, W, 1)`, and boxes as fractions of the image (albumentations'
/// format, so they fit any size the image is shown at) with their class indices.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Class ids `(H, W, 1)`.
    pub mask: Option<Array3<u16>>,
    /// Boxes `(n, 4)` as fractions `x0, y0, x1, y1`, and their class indices.
    pub boxes: Option<(Array2<f32>, Vec<i64>)>,
}

impl Targets {
    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.mask.is_none() && self.boxes.is_none()
    }

    /// `cell` (the image as shown, `(h, w, C)`) as RGB with these targets drawn over it,
    /// moved through `params` as the image was by `datagen`; `mask_cval` fills the mask
    /// where the warp shows outside it.
    pub fn drawn_over(
        &self,
        cell: ArrayView3<'_, u8>,
        datagen: &ImageDataGenerator,
        params: &TransformParams,
        mask_cval: u16,
    ) -> CliResult<Array3<u8>> {
        let mut img = rgb(cell);
        let (h, w, _) = cell.dim();
        if let Some(mask) = &self.mask {
            let fitted = resize_mask(mask.view(), h, w)?;
            let moved = warp_mask(datagen, fitted.view(), params, f64::from(mask_cval))?;
            draw_mask(&mut img, moved.index_axis(Axis(2), 0), mask_cval);
        }
        if let Some((boxes, labels)) = &self.boxes {
            let map = PointMap::new(params, h, w, datagen.geometry());
            let opts = BoxOptions::new(BoxFormat::Albumentations);
            let (moved, kept) = transform_boxes(boxes.view(), map.as_ref(), &opts);
            let (wf, hf) = (w as f32, h as f32);
            let pixels = &moved * &ndarray::arr1(&[wf, hf, wf, hf]);
            let labels: Vec<i64> = kept.iter().map(|&k| labels[k]).collect();
            draw_boxes(&mut img, pixels.view(), &labels);
        }
        Ok(img)
    }
}

/// The targets of image files: a folder of masks matched by file stem, and/or a COCO file.
#[derive(Debug, Default)]
pub struct FileTargets {
    /// `--masks DIR`: the folder and its mask files by stem.
    masks: Option<(PathBuf, BTreeMap<String, PathBuf>)>,
    /// `--coco FILE`: the file and what it holds.
    coco: Option<(PathBuf, CocoAnnotations)>,
}

impl FileTargets {
    /// Reads `--masks DIR` (its file list) and `--coco FILE`.
    pub fn open(masks: Option<&Path>, coco: Option<&Path>) -> CliResult<FileTargets> {
        let masks = match masks {
            Some(dir) => Some((dir.to_path_buf(), masks_by_stem(dir)?)),
            None => None,
        };
        let coco = match coco {
            Some(p) => Some((p.to_path_buf(), read_coco(p, false)?)),
            None => None,
        };
        Ok(FileTargets { masks, coco })
    }

    /// The images to show: the COCO file's images, in its order, from the one folder of
    /// `inputs`; `None` without `--coco`.
    pub fn coco_images(&self, inputs: &[PathBuf]) -> CliResult<Option<Vec<PathBuf>>> {
        let Some((json, coco)) = &self.coco else {
            return Ok(None);
        };
        let [dir] = inputs else {
            return fail(format!(
                "--coco {}: give the one folder its file names are relative to as the input, not {} inputs",
                json.display(),
                inputs.len()
            ));
        };
        if coco.images.is_empty() {
            return fail(format!("--coco {}: lists no images", json.display()));
        }
        if !dir.is_dir() {
            return fail(format!(
                "--coco {}: the input {} is not a folder; give the folder of its images",
                json.display(),
                dir.display()
            ));
        }
        Ok(Some(
            coco.images
                .iter()
                .map(|im| dir.join(&im.file_name))
                .collect(),
        ))
    }

    /// The targets of image `i` of the list shown, the file `path` of `(height, width)`.
    pub fn of(&self, i: usize, path: &Path, (h, w): (usize, usize)) -> CliResult<Targets> {
        let mut t = Targets::default();
        if let Some((dir, by_stem)) = &self.masks {
            let stem = super::input::stem(path);
            let Some(mask) = by_stem.get(&stem) else {
                return fail(format!(
                    "--masks {}: no mask file named {stem}.* for the image {}",
                    dir.display(),
                    path.display()
                ));
            };
            t.mask = Some(class_ids(
                load_mask(mask, path, &LoadOptions::new())?,
                mask,
            )?);
        }
        if let Some((json, coco)) = &self.coco {
            let entry = &coco.images[i];
            if entry.size != (h, w) {
                let (dh, dw) = entry.size;
                return fail(format!(
                    "{}: the image is {w}x{h} pixels (width x height) but {} declares {dw}x{dh}; its boxes would land in the wrong place",
                    path.display(),
                    json.display()
                ));
            }
            let (hf, wf) = (h as f64, w as f64);
            let fractions: Vec<f32> = (coco.boxes[i].iter())
                .flat_map(|c| [c[0] / wf, c[1] / hf, c[2] / wf, c[3] / hf])
                .map(|v| v as f32)
                .collect();
            let boxes = Array2::from_shape_vec((coco.boxes[i].len(), 4), fractions)
                .map_err(|e| super::CliError(format!("internal: {e}")))?;
            t.boxes = Some((boxes, coco.labels[i].clone()));
        }
        Ok(t)
    }
}

/// The image files of `dir` by file stem; two files of one stem are an error naming both.
fn masks_by_stem(dir: &Path) -> CliResult<BTreeMap<String, PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| super::CliError(format!("--masks {}: {e}", dir.display())))?;
    let mut by_stem = BTreeMap::new();
    for entry in entries {
        let p = entry
            .map_err(|e| super::CliError(format!("--masks {}: {e}", dir.display())))?
            .path();
        if !p.is_file() || !is_whitelisted(&p) {
            continue;
        }
        if let Some(other) = by_stem.insert(super::input::stem(&p), p.clone()) {
            return fail(format!(
                "--masks {}: {} and {} share a stem; which is the mask?",
                dir.display(),
                other.display(),
                p.display()
            ));
        }
    }
    Ok(by_stem)
}

/// A decoded mask file's ids as `u16`.
fn class_ids(mask: SampleMask<'_>, path: &Path) -> CliResult<Array3<u16>> {
    match mask {
        SampleMask::U8(m) => Ok(m.mapv(u16::from)),
        SampleMask::U16(m) => Ok(m.into_owned()),
        SampleMask::F32(_) => fail(format!(
            "{}: a float mask; expected class ids",
            path.display()
        )),
    }
}

/// The mask of each of the `n` images `(h, w)` of an array input: `--masks FILE.npy|.npz`
/// (see [`read_array_masks`]), or none without `--masks`.
pub fn array_masks(
    masks: Option<&Path>,
    n: usize,
    size: (usize, usize),
) -> CliResult<Vec<Option<Array3<u16>>>> {
    match masks {
        None => Ok(vec![None; n]),
        Some(m) if is_array_file(m) => Ok(read_array_masks(m, n, size)?
            .into_iter()
            .map(Some)
            .collect()),
        Some(m) => fail(format!(
            "--masks {}: a .npy/.npz input takes its masks as a .npy/.npz (N, H, W)",
            m.display()
        )),
    }
}

/// `--masks FILE.npy|.npz` for an array input of `n` images of `(h, w)`, one mask each: class ids
/// `(N, H, W)` or `(N, H, W, 1)` of an unsigned or signed integer type within 0..=65535.
/// A `.npz` holds them under `masks`, `mask`, or as its only array.
fn read_array_masks(path: &Path, n: usize, (h, w): (usize, usize)) -> CliResult<Vec<Array3<u16>>> {
    let is_npz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let m = if is_npz {
        let mut dict = augflow::array::read_npz(path)?;
        let names: Vec<String> = dict.keys().cloned().collect();
        let key = ["masks", "mask"]
            .into_iter()
            .find(|k| dict.contains_key(*k))
            .map(String::from)
            .or_else(|| (names.len() == 1).then(|| names[0].clone()));
        let Some(m) = key.and_then(|k| dict.remove(&k)) else {
            return fail(format!(
                "--masks {}: holds arrays {names:?}; expected one named \"masks\" or \"mask\"",
                path.display()
            ));
        };
        m
    } else {
        augflow::array::read_npy(path)?
    };
    let shape = m.shape().to_vec();
    let fits = match shape.as_slice() {
        [mn, mh, mw] | [mn, mh, mw, 1] => (*mn, *mh, *mw) == (n, h, w),
        _ => false,
    };
    if !fits {
        return fail(format!(
            "--masks {}: shape {shape:?}; expected ({n}, {h}, {w}) or ({n}, {h}, {w}, 1), one mask per image of the input",
            path.display()
        ));
    }
    let ids = u16_ids(m, path)?
        .into_shape_with_order((shape[0], h, w))
        .map_err(|e| super::CliError(format!("--masks {}: {e}", path.display())))?;
    Ok(ids
        .axis_iter(Axis(0))
        .map(|m| m.insert_axis(Axis(2)).to_owned())
        .collect())
}

/// Integer class ids as `u16`; other dtypes and ids outside 0..=65535 are errors naming
/// `path`.
fn u16_ids(m: DynArray, path: &Path) -> CliResult<ndarray::ArrayD<u16>> {
    let bad = |what: String| {
        fail(format!(
            "--masks {}: {what}; masks are class ids 0..=65535 of an integer type",
            path.display()
        ))
    };
    let wide: ndarray::ArrayD<i64> = match m.dtype() {
        DType::U8 => m.into_array::<u8>()?.mapv(i64::from),
        DType::U16 => return Ok(m.into_array::<u16>()?),
        DType::I32 => m.into_array::<i32>()?.mapv(i64::from),
        DType::I64 => m.into_array::<i64>()?,
        other => return bad(format!("dtype {other}")),
    };
    if let Some(v) = wide.iter().find(|v| !(0..=65535).contains(*v)) {
        return bad(format!("holds the id {v}"));
    }
    Ok(wide.mapv(|v| v as u16))
}
