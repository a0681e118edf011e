//! Reading inputs: image files, folders (optionally one sub-folder per class), `.npy`/`.npz`.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

use augflow::iterators::{WHITE_LIST_FORMATS, is_whitelisted};
use augflow::{DType, DynArray};
use image::imageops::FilterType;
use ndarray::{Array4, Axis, Ix4};

use super::display::resize_f32;
use super::{CliResult, fail};

/// Whether `p` names a `.npy` or `.npz` file.
pub fn is_array_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "npy" | "npz"))
}

/// Images of one dtype, `(N, H, W, C)`.
#[derive(Debug, Clone)]
pub enum Images {
    /// 8-bit.
    U8(Array4<u8>),
    /// 16-bit.
    U16(Array4<u16>),
    /// float32.
    F32(Array4<f32>),
    /// float64.
    F64(Array4<f64>),
}

/// Runs `$body` with `$x` bound to the typed `Array4` inside an [`Images`].
macro_rules! with_images {
    ($images:expr, $x:ident => $body:expr) => {
        match $images {
            $crate::input::Images::U8($x) => $body,
            $crate::input::Images::U16($x) => $body,
            $crate::input::Images::F32($x) => $body,
            $crate::input::Images::F64($x) => $body,
        }
    };
}
pub(crate) use with_images;

impl Images {
    /// `(N, H, W, C)`.
    pub fn shape(&self) -> [usize; 4] {
        let s = with_images!(self, x => x.shape().to_vec());
        [s[0], s[1], s[2], s[3]]
    }

    /// The factor that maps the data's values to 0..=255: 1 for 8-bit, 255/65535 for
    /// 16-bit, 255 for floats within 0..=1, else 1.
    pub fn value_scale(&self) -> f32 {
        let max_le_1 = |it: &mut dyn Iterator<Item = f64>| {
            it.filter(|v| v.is_finite())
                .all(|v| (0.0..=1.0).contains(&v))
        };
        match self {
            Images::U8(_) => 1.0,
            Images::U16(_) => 255.0 / 65535.0,
            Images::F32(x) => {
                if max_le_1(&mut x.iter().map(|&v| v as f64)) {
                    255.0
                } else {
                    1.0
                }
            }
            Images::F64(x) => {
                if max_le_1(&mut x.iter().copied()) {
                    255.0
                } else {
                    1.0
                }
            }
        }
    }

    /// The first `n` images.
    pub fn take(self, n: usize) -> Images {
        fn t<T: Clone>(x: Array4<T>, n: usize) -> Array4<T> {
            if x.shape()[0] <= n {
                x
            } else {
                x.slice_axis(Axis(0), (0..n).into()).to_owned()
            }
        }
        match self {
            Images::U8(x) => Images::U8(t(x, n)),
            Images::U16(x) => Images::U16(t(x, n)),
            Images::F32(x) => Images::F32(t(x, n)),
            Images::F64(x) => Images::F64(t(x, n)),
        }
    }

    /// Resized to `h × w` (bilinear, through float32) when the size differs.
    pub fn resized(self, h: usize, w: usize) -> Images {
        let [_, sh, sw, _] = self.shape();
        if (sh, sw) == (h, w) {
            return self;
        }
        let x = with_images!(self, x => x.mapv(|v| augflow::transform::Pixel::to_f64(v) as f32));
        let n = x.shape()[0];
        let c = x.shape()[3];
        let mut out = Array4::<f32>::zeros((n, h, w, c));
        for (mut o, i) in out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0))) {
            o.assign(&resize_f32(i, h, w));
        }
        Images::F32(out)
    }
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The images.
    pub images: Images,
    /// A short name per sample (file stem, or `x[i]` for arrays).
    pub names: Vec<String>,
    /// The class of each sample, when the input has classes.
    pub classes: Option<Vec<String>>,
    /// What was read, for messages.
    pub description: String,
    /// A fingerprint of what was read (paths and file sizes), to match a resumed export.
    pub fingerprint: u64,
}

/// Every image file below `dir` (recursively), sorted by path.
pub fn image_files_below(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => return fail(format!("cannot read folder {}: {e}", d.display())),
        };
        for e in entries {
            let e = match e {
                Ok(e) => e,
                Err(err) => return fail(format!("cannot read folder {}: {err}", d.display())),
            };
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_whitelisted(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Decodes one image file as RGB.
pub fn open_rgb(p: &Path) -> CliResult<image::RgbImage> {
    if let Err(e) = std::fs::metadata(p) {
        return fail(format!("cannot read {}: {e}", p.display()));
    }
    match image::open(p) {
        Ok(img) => Ok(img.to_rgb8()),
        Err(e) => fail(format!("cannot read image {}: {e}", p.display())),
    }
}

/// Reads image files as RGB `u8`, resized to `size` when given; without `size` they must all
/// have the same dimensions.
pub fn load_image_files(paths: &[PathBuf], size: Option<(usize, usize)>) -> CliResult<Array4<u8>> {
    let mut x: Option<Array4<u8>> = None;
    let mut first: Option<(PathBuf, u32, u32)> = None;
    for (i, p) in paths.iter().enumerate() {
        let mut img = open_rgb(p)?;
        let (w, h) = img.dimensions();
        if let Some((fh, fw)) = size {
            if (h as usize, w as usize) != (fh, fw) {
                img = image::imageops::resize(&img, fw as u32, fh as u32, FilterType::Triangle);
            }
        } else if let Some((fp, fw0, fh0)) = &first {
            if (w, h) != (*fw0, *fh0) {
                return fail(format!(
                    "images have different sizes ({} is {fw0}x{fh0}, {} is {w}x{h}); pass --size H,W to resize them",
                    fp.display(),
                    p.display()
                ));
            }
        } else {
            first = Some((p.clone(), w, h));
        }
        let (w, h) = img.dimensions();
        let x = x.get_or_insert_with(|| Array4::zeros((paths.len(), h as usize, w as usize, 3)));
        let view = ndarray::ArrayView3::from_shape((h as usize, w as usize, 3), img.as_raw())
            .map_err(|e| super::CliError(format!("internal: {e}")))?;
        x.index_axis_mut(Axis(0), i).assign(&view);
    }
    match x {
        Some(x) => Ok(x),
        None => fail("no images to read"),
    }
}

/// Hashes paths (relative to `root`) and file sizes.
pub fn fingerprint(paths: &[PathBuf], root: &Path) -> u64 {
    let mut h = Fnv::default();
    for p in paths {
        let rel = p.strip_prefix(root).unwrap_or(p);
        h.write(rel.to_string_lossy().as_bytes());
        h.write_u8(0);
        h.write_u64(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    }
    h.finish()
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between Rust releases).
#[derive(Debug)]
struct Fnv(u64);
impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}
impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// The file name without its extension.
pub fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into())
}

/// The image files to read: each file given, and every image below each folder given.
pub fn image_paths(inputs: &[PathBuf]) -> CliResult<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let found = image_files_below(p)?;
            if found.is_empty() {
                return fail(format!(
                    "no image files ({}) in folder {}",
                    WHITE_LIST_FORMATS.join(", "),
                    p.display()
                ));
            }
            paths.extend(found);
        } else {
            paths.push(p.clone());
        }
    }
    Ok(paths)
}

/// Which arrays of a `.npz` hold the images and the labels.
#[derive(Debug, Clone, Default)]
pub struct ArrayKeys {
    /// Key of the images in a `.npz` (default: `x`, or the only array).
    pub x_key: Option<String>,
    /// Key of the labels in a `.npz` (default: `y` when present).
    pub y_key: Option<String>,
    /// A `.npy` of labels (one per image).
    pub labels: Option<PathBuf>,
}

/// Reads images `(N, H, W, C)` or `(N, H, W)` (u8, u16, float32, float64) and optional labels
/// from a `.npy` or `.npz`.
pub fn load_array(path: &Path, keys: &ArrayKeys) -> CliResult<Dataset> {
    let is_npz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let (x, mut y, xname) = if is_npz {
        let mut dict: BTreeMap<String, DynArray> = augflow::array::read_npz(path)?;
        let names: Vec<String> = dict.keys().cloned().collect();
        let xk = match &keys.x_key {
            Some(k) => k.clone(),
            None if dict.contains_key("x") => "x".into(),
            None if dict.len() == 1 => names[0].clone(),
            None => {
                return fail(format!(
                    "{} holds arrays {names:?} and none is named \"x\"; pass --x-key NAME",
                    path.display()
                ));
            }
        };
        let Some(x) = dict.remove(&xk) else {
            return fail(format!(
                "{} has no array {xk:?} (it holds {names:?})",
                path.display()
            ));
        };
        let y = match &keys.y_key {
            Some(k) => match dict.remove(k) {
                Some(y) => Some(y),
                None => {
                    return fail(format!(
                        "{} has no array {k:?} (it holds {names:?})",
                        path.display()
                    ));
                }
            },
            None => dict.remove("y"),
        };
        (x, y, xk)
    } else {
        if keys.x_key.is_some() || keys.y_key.is_some() {
            return fail(
                "--x-key and --y-key apply to .npz files only; use --labels FILE.npy with a .npy",
            );
        }
        (augflow::array::read_npy(path)?, None, "x".to_string())
    };
    if let Some(l) = &keys.labels {
        if y.is_some() {
            return fail(format!(
                "{} already holds labels \"y\"; --labels conflicts with them",
                path.display()
            ));
        }
        y = Some(augflow::array::read_npy(l)?);
    }
    let images = dyn_to_images(x, path)?;
    let n = images.shape()[0];
    let classes = y.map(|y| class_names(&y, n, path)).transpose()?;
    let mut h = Fnv::default();
    h.write(path.to_string_lossy().as_bytes());
    h.write_u64(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
    if let Some(l) = &keys.labels {
        h.write(l.to_string_lossy().as_bytes());
    }
    let [_, ih, iw, ic] = images.shape();
    Ok(Dataset {
        names: (0..n).map(|i| format!("{xname}{i}")).collect(),
        description: format!("{} ({n} images {ih}x{iw}x{ic})", path.display()),
        images,
        classes,
        fingerprint: h.finish(),
    })
}

fn dyn_to_images(x: DynArray, path: &Path) -> CliResult<Images> {
    let shape = x.shape().to_vec();
    let bad = |what: String| -> CliResult<Images> {
        fail(format!(
            "{}: images have {what}; expected (N, H, W, C) or (N, H, W) of uint8, uint16, float32 or float64 with C in 1, 3, 4",
            path.display()
        ))
    };
    let shape4 = match shape.as_slice() {
        [n, h, w] => [*n, *h, *w, 1],
        [n, h, w, c] if matches!(c, 1 | 3 | 4) => [*n, *h, *w, *c],
        _ => return bad(format!("shape {shape:?}")),
    };
    if shape4.contains(&0) {
        return bad(format!("shape {shape:?}"));
    }
    macro_rules! conv {
        ($v:ident) => {{
            let a = x
                .into_array()?
                .into_shape_with_order(shape4.to_vec())
                .map_err(|e| super::CliError(format!("{}: {e}", path.display())))?
                .into_dimensionality::<Ix4>()
                .map_err(|e| super::CliError(format!("{}: {e}", path.display())))?;
            Images::$v(a)
        }};
    }
    Ok(match x.dtype() {
        DType::U8 => conv!(U8),
        DType::U16 => conv!(U16),
        DType::F32 => conv!(F32),
        DType::F64 => conv!(F64),
        other => return bad(format!("dtype {other}")),
    })
}

/// One class name per sample: the value of 1-D integer labels, or the index of the largest
/// entry of one-hot rows.
fn class_names(y: &DynArray, n: usize, path: &Path) -> CliResult<Vec<String>> {
    if y.ndim() == 0 || y.len() != n {
        return fail(format!(
            "{}: labels have shape {:?} but there are {n} images; expected one label per image",
            path.display(),
            y.shape()
        ));
    }
    Ok(y.class_names()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_scale_follows_dtype_and_range() {
        assert_eq!(Images::U8(Array4::zeros((1, 1, 1, 1))).value_scale(), 1.0);
        assert_eq!(
            Images::F32(Array4::from_elem((1, 1, 1, 1), 0.5)).value_scale(),
            255.0
        );
        assert_eq!(
            Images::F64(Array4::from_elem((1, 1, 1, 1), 200.0)).value_scale(),
            1.0
        );
    }

    #[test]
    fn labels_become_class_names() {
        let p = Path::new("t.npz");
        let y = DynArray::from(vec![3_i64, 0, 3]);
        assert_eq!(class_names(&y, 3, p).unwrap(), ["3", "0", "3"]);
        let onehot = DynArray::from(ndarray::array![[0.0_f32, 1.0], [1.0, 0.0]]);
        assert_eq!(class_names(&onehot, 2, p).unwrap(), ["1", "0"]);
        assert!(class_names(&y, 2, p).is_err());
    }

    #[test]
    fn grey_arrays_get_a_channel_axis_and_others_are_refused() {
        let p = Path::new("t.npy");
        let x = DynArray::from(ndarray::Array3::<u8>::zeros((2, 4, 5)));
        assert_eq!(dyn_to_images(x, p).unwrap().shape(), [2, 4, 5, 1]);
        let x = DynArray::from(ndarray::Array4::<u8>::zeros((2, 4, 5, 2)));
        assert!(dyn_to_images(x, p).is_err());
        let x = DynArray::from(ndarray::Array4::<i64>::zeros((2, 4, 5, 3)));
        assert!(dyn_to_images(x, p).unwrap_err().0.contains("int64"));
    }
}
