//! Image files as a source, what the directory and dataframe iterators share (Keras'
//! `BatchFromFilesMixin`, spec §14.2): the label modes, the loading options, and decoding
//! sample `i` for the engine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fast_image_resize::Resizer;
use ndarray::{Array1, Array2, ArrayView2, ArrayView3};

use super::coco::FileBoxes;
use super::decode::{ColorMode, LoadOptions, ResizeFilter, decode_resized};
use super::jpeg::JpegDecoder;
use super::mask_files::load_mask;
use super::state::fnv_bytes;
use super::{BatchIterator, BatchSource, IteratorBuilder, Labels};
use crate::targets::SampleMask;
use crate::{DType, DataFormat, DynArray, Error, Result};

/// What `y` holds in each batch of a file iterator: Keras' `class_mode`.
///
/// | mode | `Batch::y` | `Batch::extras` |
/// |---|---|---|
/// | `Categorical` | `f32 (n, num_classes)`, one-hot (multi-hot for multi-label rows) | — |
/// | `Binary` | `f32 (n,)`, the class index, 0 or 1 | — |
/// | `Sparse` | `f32 (n,)`, the class index | — |
/// | `Input` | a copy of `x` (same dtype and shape) | — |
/// | `Raw` (dataframe) | `f64 (n,)` for one `y_col`, `(n, k)` for `k` columns | — |
/// | `MultiOutput` (dataframe) | `None` | one `f64 (n,)` array per `y_col`, in order |
/// | `None` | `None` | — |
///
/// ```
/// use augflow::iterators::ClassMode;
/// assert_eq!("multi_output".parse::<ClassMode>().unwrap(), ClassMode::MultiOutput);
/// assert_eq!("other".parse::<ClassMode>().unwrap(), ClassMode::Raw); // Keras' deprecated alias
/// assert!("onehot".parse::<ClassMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClassMode {
    /// One-hot rows (Keras' default).
    #[default]
    Categorical,
    /// The class index (0 or 1) of a two-class problem.
    Binary,
    /// The class index.
    Sparse,
    /// The image itself (autoencoders).
    Input,
    /// The numbers in the `y_col` column(s), untouched (dataframe only).
    Raw,
    /// One array per `y_col` column (dataframe only).
    MultiOutput,
    /// No labels: `y` is `None`.
    None,
}

impl ClassMode {
    /// Keras' spelling (`"categorical"`, …, `"None"`).
    pub fn name(self) -> &'static str {
        match self {
            ClassMode::Categorical => "categorical",
            ClassMode::Binary => "binary",
            ClassMode::Sparse => "sparse",
            ClassMode::Input => "input",
            ClassMode::Raw => "raw",
            ClassMode::MultiOutput => "multi_output",
            ClassMode::None => "None",
        }
    }

    /// Whether the mode maps labels to class indices (categorical, binary, sparse).
    pub fn uses_classes(self) -> bool {
        matches!(
            self,
            ClassMode::Categorical | ClassMode::Binary | ClassMode::Sparse
        )
    }
}

impl std::fmt::Display for ClassMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ClassMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "categorical" => ClassMode::Categorical,
            "binary" => ClassMode::Binary,
            "sparse" => ClassMode::Sparse,
            "input" => ClassMode::Input,
            "raw" => ClassMode::Raw,
            "other" => {
                log::warn!("class_mode \"other\" is deprecated, please use \"raw\".");
                ClassMode::Raw
            }
            "multi_output" => ClassMode::MultiOutput,
            "none" | "None" => ClassMode::None,
            _ => {
                return Err(Error::invalid(
                    "class_mode",
                    format!("{s:?}"),
                    "one of \"categorical\", \"binary\", \"sparse\", \"input\", \"raw\", \"multi_output\", \"none\"",
                ));
            }
        })
    }
}

/// The labels of every file, resolved at construction.
#[derive(Debug, Clone)]
pub(crate) enum Targets {
    None,
    Input,
    /// Binary or sparse: one class index per file.
    Index(Vec<usize>),
    /// Categorical: the class indices of each file (one, or several for multi-label rows).
    MultiHot {
        labels: Vec<Vec<usize>>,
        num_classes: usize,
    },
    Raw(DynArray),
    MultiOutput(Vec<DynArray>),
}

/// The element types class labels can be delivered in ([`IteratorBuilder::label_dtype`]).
const LABEL_DTYPES: [DType; 5] = [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32];

/// Checks a requested label dtype.
pub(crate) fn check_label_dtype(dtype: DType) -> Result<()> {
    if LABEL_DTYPES.contains(&dtype) {
        return Ok(());
    }
    Err(Error::invalid(
        "label_dtype",
        dtype,
        "one of float32, float64, int32, int64, uint32",
    ))
}

/// Class labels (ids or one-hot rows, all small non-negative integers) as `dtype`.
fn class_labels(labels: ndarray::ArrayD<u32>, dtype: DType) -> DynArray {
    match dtype {
        DType::F64 => DynArray::from(labels.mapv(f64::from)),
        DType::I32 => DynArray::from(labels.mapv(|v| v as i32)),
        DType::I64 => DynArray::from(labels.mapv(i64::from)),
        DType::U32 => DynArray::from(labels),
        _ => DynArray::from(labels.mapv(|v| v as f32)),
    }
}

impl Targets {
    /// `y` and the extra arrays of files `index`, class labels as `label_dtype`.
    fn select(
        &self,
        index: &[usize],
        label_dtype: DType,
    ) -> Result<(Option<DynArray>, Vec<DynArray>)> {
        Ok(match self {
            Targets::None | Targets::Input => (None, Vec::new()),
            Targets::Index(c) => {
                let ids = Array1::from_iter(index.iter().map(|&i| c[i] as u32));
                (Some(class_labels(ids.into_dyn(), label_dtype)), Vec::new())
            }
            Targets::MultiHot {
                labels,
                num_classes,
            } => {
                let mut m = Array2::<u32>::zeros((index.len(), *num_classes));
                for (row, &i) in index.iter().enumerate() {
                    for &k in &labels[i] {
                        m[[row, k]] = 1;
                    }
                }
                (Some(class_labels(m.into_dyn(), label_dtype)), Vec::new())
            }
            Targets::Raw(a) => (Some(a.select(index)?), Vec::new()),
            Targets::MultiOutput(cols) => {
                let extras = cols
                    .iter()
                    .map(|c| c.select(index))
                    .collect::<Result<_>>()?;
                (None, extras)
            }
        })
    }
}

/// Image files as samples: each is decoded, converted to the colour mode and resized to
/// `target_size` when the engine asks for it, with the labels resolved at construction.
/// `M` is what the kind of source knows besides (a folder's class list, a CSV's rows).
#[derive(Debug, Clone)]
pub struct FileSource<M> {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) load: LoadOptions,
    pub(crate) targets: Targets,
    pub(crate) sample_weight: Option<DynArray>,
    /// The class folder name of each file, for `save_to_dir` with class sub-folders.
    pub(crate) save_classes: Vec<String>,
    pub(crate) class_list: ClassList,
    /// The element type of class labels in `Batch::y`.
    pub(crate) label_dtype: DType,
    /// The mask file of each image (`flow_from_dataframe(..).mask_col(..)`).
    pub(crate) mask_paths: Option<Vec<PathBuf>>,
    /// Each image's boxes (`flow_from_coco`).
    pub(crate) boxes: Option<FileBoxes>,
    pub(crate) meta: M,
}

impl<M> FileSource<M> {
    /// Full paths of the images; `Batch::index` indexes this list.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
    /// How each file is loaded.
    pub fn load_options(&self) -> &LoadOptions {
        &self.load
    }
}

impl<M: Clone + Send + Sync> BatchSource for FileSource<M> {
    type Pixel = u8;
    type Scratch = Resizer;

    fn num_samples(&self) -> usize {
        self.paths.len()
    }

    fn image_shape(&self, format: DataFormat) -> [usize; 3] {
        let (h, w) = self.load.target_size.unwrap_or((256, 256));
        format.image_shape(h, w, self.load.color_mode.channels())
    }

    fn new_scratch(&self) -> Resizer {
        Resizer::new()
    }

    fn with_image<R>(
        &self,
        i: usize,
        format: DataFormat,
        resizer: &mut Resizer,
        f: impl FnOnce(ArrayView3<'_, u8>) -> Result<R>,
    ) -> Result<R> {
        let d = decode_resized(&self.paths[i], &self.load, resizer)?;
        let hwc = ArrayView3::from_shape((d.h, d.w, d.c), &d.data)
            .expect("a decoded image holds h·w·c bytes");
        f(match format {
            DataFormat::ChannelsLast => hwc,
            DataFormat::ChannelsFirst => hwc.permuted_axes([2, 0, 1]),
        })
    }

    /// The decoded file, converted to the colour mode but not resized to `target_size`.
    fn with_stored_image<R>(
        &self,
        i: usize,
        resizer: &mut Resizer,
        f: impl FnOnce(ArrayView3<'_, u8>) -> Result<R>,
    ) -> Result<R> {
        let load = LoadOptions {
            target_size: None,
            ..self.load
        };
        let d = decode_resized(&self.paths[i], &load, resizer)?;
        f(ArrayView3::from_shape((d.h, d.w, d.c), &d.data)
            .expect("a decoded image holds h·w·c bytes"))
    }

    /// The mask file of image `i`, decoded as class ids and resized with the image (see
    /// [`mask_col`](super::DataFrameBuilder::mask_col)).
    fn mask(&self, i: usize) -> Result<Option<SampleMask<'_>>> {
        let Some(masks) = &self.mask_paths else {
            return Ok(None);
        };
        load_mask(&masks[i], &self.paths[i], &self.load).map(Some)
    }

    fn boxes(&self, i: usize) -> Result<Option<(ArrayView2<'_, f32>, &[i64])>> {
        self.boxes
            .as_ref()
            .map(|b| b.get(i, &self.paths[i]))
            .transpose()
    }

    fn labels(&self, index: &[usize]) -> Result<Labels> {
        let (y, extras) = self.targets.select(index, self.label_dtype)?;
        Ok(Labels {
            y,
            y_is_x: matches!(self.targets, Targets::Input),
            sample_weight: self
                .sample_weight
                .as_ref()
                .map(|w| w.select(index))
                .transpose()?,
            extras,
        })
    }

    fn fingerprint(&self) -> String {
        let masks = self.mask_paths.as_deref().map(hash_paths);
        let boxes = self.boxes.as_ref().map(FileBoxes::describe);
        format!(
            "{} files {:016x}, {:?}, classes {:?}, masks {masks:016x?}, boxes {boxes:?}",
            self.paths.len(),
            hash_paths(&self.paths),
            self.load,
            self.class_list
        )
    }

    fn save_classes(&self, index: &[usize], _: Option<&DynArray>) -> Result<Vec<String>> {
        Ok(index
            .iter()
            .map(|&i| self.save_classes.get(i).cloned().unwrap_or_default())
            .collect())
    }
}

/// A hash of file names, for a fingerprint.
fn hash_paths(paths: &[PathBuf]) -> u64 {
    fnv_bytes(paths.iter().flat_map(|p| {
        let bytes = p.as_os_str().as_encoded_bytes().to_vec();
        bytes.into_iter().chain([0])
    }))
}

/// A description of a file source whose images are loaded with [`LoadOptions`]: the
/// directory and dataframe specs. Gives their builders the loading setters.
pub trait FileSpec {
    /// The loading options to set.
    fn load_options_mut(&mut self) -> &mut LoadOptions;
    /// The element type of class labels to set.
    fn label_dtype_mut(&mut self) -> &mut DType;
}

impl<S: FileSpec, O> IteratorBuilder<S, O> {
    /// `(height, width)` every image is resized to (default 256×256).
    pub fn target_size(mut self, height: usize, width: usize) -> Self {
        self.spec.load_options_mut().target_size = Some((height, width));
        self
    }
    /// Colour mode (default RGB).
    pub fn color_mode(mut self, mode: ColorMode) -> Self {
        self.spec.load_options_mut().color_mode = mode;
        self
    }
    /// Resampling filter of the resize to `target_size` (default nearest, as Keras).
    pub fn interpolation(mut self, filter: ResizeFilter) -> Self {
        self.spec.load_options_mut().interpolation = filter;
        self
    }
    /// Centre-crop each image to the target's aspect ratio before resizing (spec §15).
    pub fn keep_aspect_ratio(mut self, on: bool) -> Self {
        self.spec.load_options_mut().keep_aspect_ratio = on;
        self
    }
    /// The most pixels a file may declare (width × height, read from its header before it
    /// is decoded): a larger file is an error naming it, its size and the limit, as Pillow's
    /// decompression-bomb check. Default [`LoadOptions::DEFAULT_MAX_PIXELS`], twice Pillow's
    /// `MAX_IMAGE_PIXELS`; `u64::MAX` turns the check off. `target_size` must fit in it too.
    pub fn max_pixels(mut self, pixels: u64) -> Self {
        self.spec.load_options_mut().max_pixels = pixels;
        self
    }
    /// The decoder of JPEG files (default: libjpeg-turbo where built in); see
    /// [`LoadOptions::jpeg_decoder`].
    pub fn jpeg_decoder(mut self, decoder: JpegDecoder) -> Self {
        self.spec.load_options_mut().jpeg_decoder = decoder;
        self
    }
    /// The element type of class labels in `Batch::y` (class modes categorical, binary,
    /// sparse): `float32` by default, as Keras; `int64` or `uint32` class ids, for example,
    /// go straight into a framework's cross-entropy without a conversion. Also
    /// `float64` and `int32`; other types fail `build`.
    pub fn label_dtype(mut self, dtype: DType) -> Self {
        *self.spec.label_dtype_mut() = dtype;
        self
    }
}

impl<M, O> BatchIterator<FileSource<M>, O> {
    /// Full paths of the images, in the order of `filenames()`; `Batch::index` indexes this
    /// list.
    pub fn filepaths(&self) -> &[PathBuf] {
        &self.source.paths
    }
}

/// The classes of a file source: their names in index order, name → index, and the label
/// mode.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassList {
    names: Vec<String>,
    indices: BTreeMap<String, usize>,
    mode: ClassMode,
}

impl ClassList {
    pub(crate) fn new(names: Vec<String>, mode: ClassMode) -> Self {
        let indices = names
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        ClassList {
            names,
            indices,
            mode,
        }
    }
}

impl<M, O> BatchIterator<FileSource<M>, O> {
    /// Class name → index (empty for the modes without classes).
    pub fn class_indices(&self) -> &BTreeMap<String, usize> {
        &self.source.class_list.indices
    }
    /// The class names in index order.
    pub fn class_names(&self) -> &[String] {
        &self.source.class_list.names
    }
    /// Number of classes (also those without images).
    pub fn num_classes(&self) -> usize {
        self.source.class_list.names.len()
    }
    /// The label mode.
    pub fn class_mode(&self) -> ClassMode {
        self.source.class_list.mode
    }
}
