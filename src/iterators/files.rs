//! What the directory and dataframe iterators share (Keras' `BatchFromFilesMixin`, spec
//! §14.2): the label modes, the loading options and building one batch of files in parallel.

use std::marker::PhantomData;
use std::ops::Range;
use std::path::PathBuf;

use fast_image_resize::Resizer;
use ndarray::{Array1, Array2, Array4, ArrayView3, Axis};
use rayon::prelude::*;

use super::decode::{LoadOptions, decode_resized};
use super::{Batch, BatchElement, Subset, check_index};
use crate::generator::ImageDataGenerator;
use crate::rng::{Stream, os_seed, permutation, sample_rng};
use crate::save::{SaveOptions, Saver};
use crate::{DataFormat, DynArray, Error, Result};

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

/// The options both file builders share, with Keras' defaults.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub load: LoadOptions,
    pub batch_size: usize,
    pub shuffle: bool,
    pub seed: Option<u64>,
    pub subset: Option<Subset>,
    pub augment: bool,
    pub augment_validation: bool,
    pub explicit_output: bool,
    pub save: Option<SaveOptions>,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            load: LoadOptions::new().target_size(256, 256),
            batch_size: 32,
            shuffle: true,
            seed: None,
            subset: None,
            augment: true,
            augment_validation: false,
            explicit_output: false,
            save: None,
        }
    }
}

impl Common {
    /// Checks what does not depend on the files.
    pub fn validate<O: BatchElement>(&self, datagen: &ImageDataGenerator) -> Result<()> {
        let cfg = datagen.config();
        if cfg.dtype != O::DTYPE && !self.explicit_output {
            return Err(Error::invalid(
                "dtype",
                format!("{:?} in the generator", cfg.dtype),
                format!(
                    "the iterator's output type {} (use `.output::<f64>()` for float64)",
                    O::NAME
                ),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        self.load.validate()?;
        let (h, w) = self.load.target_size.unwrap_or((256, 256));
        let bytes = [
            w,
            self.load.color_mode.channels(),
            self.batch_size,
            size_of::<O>(),
        ]
        .into_iter()
        .try_fold(h, usize::checked_mul)
        .filter(|&b| b <= isize::MAX as usize);
        if bytes.is_none() {
            return Err(Error::invalid(
                "target_size",
                format!("({h}, {w}) with batch_size {}", self.batch_size),
                "a batch whose size in bytes fits in memory addresses",
            ));
        }
        if self.subset.is_some() && cfg.validation_split == 0.0 {
            return Err(Error::invalid(
                "subset",
                format!("{:?}", self.subset.unwrap_or(Subset::Training)),
                "a generator with validation_split > 0 (it is 0)",
            ));
        }
        Ok(())
    }

    /// Whether samples are saved into one sub-folder per class (so the iterator must say
    /// which class each file belongs to).
    pub fn saves_per_class(&self) -> bool {
        self.save.as_ref().is_some_and(|s| s.per_class_subfolders)
    }

    /// The rows of a list of `n` that `subset` keeps: validation is the first
    /// `int(n · validation_split)`, training the rest (spec §14.3, §14.4).
    pub fn split_range(&self, n: usize, validation_split: f64) -> Range<usize> {
        let cut = ((n as f64 * validation_split) as usize).min(n);
        match self.subset {
            None => 0..n,
            Some(Subset::Validation) => 0..cut,
            Some(Subset::Training) => cut..n,
        }
    }
}

/// Emits the builder setters shared by the file iterators (the builder has a `common` field).
macro_rules! common_setters {
    () => {
        /// `(height, width)` every image is resized to (default 256×256).
        pub fn target_size(mut self, height: usize, width: usize) -> Self {
            self.common.load.target_size = Some((height, width));
            self
        }
        /// Colour mode (default RGB).
        pub fn color_mode(mut self, mode: $crate::iterators::ColorMode) -> Self {
            self.common.load.color_mode = mode;
            self
        }
        /// Resampling filter of the resize to `target_size` (default nearest, as Keras).
        pub fn interpolation(mut self, filter: $crate::iterators::ResizeFilter) -> Self {
            self.common.load.interpolation = filter;
            self
        }
        /// Centre-crop each image to the target's aspect ratio before resizing (spec §15).
        pub fn keep_aspect_ratio(mut self, on: bool) -> Self {
            self.common.load.keep_aspect_ratio = on;
            self
        }
        /// Samples per batch (default 32).
        pub fn batch_size(mut self, n: usize) -> Self {
            self.common.batch_size = n;
            self
        }
        /// Shuffle the files every epoch (default true).
        pub fn shuffle(mut self, on: bool) -> Self {
            self.common.shuffle = on;
            self
        }
        /// Seed of the permutations and the augmentation; without it one is drawn from the
        /// OS and reported by the iterator's `seed()`.
        pub fn seed(mut self, seed: u64) -> Self {
            self.common.seed = Some(seed);
            self
        }
        /// Serve only one part of the generator's `validation_split`.
        pub fn subset(mut self, s: $crate::iterators::Subset) -> Self {
            self.common.subset = Some(s);
            self
        }
        /// Beyond Keras: randomly augment the validation subset too. By default validation
        /// batches are standardized but not augmented.
        pub fn augment_validation(mut self, on: bool) -> Self {
            self.common.augment_validation = on;
            self
        }
        /// Turn random augmentation off altogether (standardization only).
        pub fn augment(mut self, on: bool) -> Self {
            self.common.augment = on;
            self
        }
        /// Keras' `save_to_dir`, `save_prefix`, `save_format`: every augmented sample is
        /// also written to `dir` (created if missing; an unwritable folder fails `build`), as
        /// `{prefix}_e{epoch:03}_i{index:06}.{ext}`, `index` being the file's position in
        /// the iterator's `filenames()`. Images are min–max scaled as Keras' `array_to_img`;
        /// files are written atomically and the batch is not modified.
        pub fn save_to_dir(
            mut self,
            dir: impl Into<std::path::PathBuf>,
            prefix: impl Into<String>,
            format: $crate::SaveFormat,
        ) -> Self {
            self.common.save = Some($crate::SaveOptions::new(dir).prefix(prefix).format(format));
            self
        }
        /// Like [`save_to_dir`](Self::save_to_dir) with every option, e.g. one sub-folder
        /// per class, named after the class of the file.
        pub fn save_options(mut self, options: $crate::SaveOptions) -> Self {
            self.common.save = Some(options);
            self
        }
    };
}
pub(crate) use common_setters;

/// The batching engine behind both file iterators.
#[derive(Debug, Clone)]
pub(crate) struct FileBatches<O> {
    pub datagen: ImageDataGenerator,
    pub paths: Vec<PathBuf>,
    pub load: LoadOptions,
    pub targets: Targets,
    pub sample_weight: Option<DynArray>,
    pub batch_size: usize,
    pub shuffle: bool,
    pub seed: u64,
    pub epoch: u64,
    pub order: Vec<usize>,
    pub augment: bool,
    pub saver: Option<Saver>,
    /// The class folder name of each file, when samples are saved per class.
    pub save_classes: Option<Vec<String>>,
    _out: PhantomData<O>,
}

impl<O: BatchElement> FileBatches<O> {
    /// `class_of` names the class folder of every file; it is called only when samples
    /// are saved per class. Creates the save folder, if any, last.
    pub fn new(
        datagen: ImageDataGenerator,
        paths: Vec<PathBuf>,
        targets: Targets,
        sample_weight: Option<DynArray>,
        common: &Common,
        class_of: impl FnOnce() -> Vec<String>,
    ) -> Result<Self> {
        let augment = common.augment
            && (common.subset != Some(Subset::Validation) || common.augment_validation);
        let save_classes = common.saves_per_class().then(class_of);
        let saver = common.save.clone().map(SaveOptions::build).transpose()?;
        let mut fb = FileBatches {
            datagen,
            paths,
            load: common.load,
            targets,
            sample_weight,
            batch_size: common.batch_size,
            shuffle: common.shuffle,
            seed: common.seed.unwrap_or_else(os_seed),
            epoch: 0,
            order: Vec::new(),
            augment,
            saver,
            save_classes,
            _out: PhantomData,
        };
        fb.set_epoch(0);
        Ok(fb)
    }

    pub fn set_epoch(&mut self, e: u64) {
        self.epoch = e;
        let n = self.paths.len();
        self.order = if self.shuffle {
            permutation(self.seed, Stream::Permutation, e, n)
        } else {
            (0..n).collect()
        };
    }

    pub fn len(&self) -> usize {
        self.paths.len().div_ceil(self.batch_size)
    }

    pub fn batch_indices(&self, idx: usize) -> Result<&[usize]> {
        check_index(idx, self.len())?;
        let start = idx * self.batch_size;
        let end = (start + self.batch_size).min(self.order.len());
        Ok(&self.order[start..end])
    }

    /// The shape of one image of a batch, in the generator's data format.
    pub fn image_shape(&self) -> [usize; 3] {
        let (th, tw) = self.load.target_size.unwrap_or((256, 256));
        self.datagen
            .data_format()
            .image_shape(th, tw, self.load.color_mode.channels())
    }

    pub fn get(&self, idx: usize) -> Result<Batch<O>> {
        let index = self.batch_indices(idx)?.to_vec();
        let [a, b, c] = self.image_shape();
        // Every element is written by the per-sample path, so no zero-fill is needed.
        let mut x = Array4::<O>::uninit((index.len(), a, b, c));
        let (epoch, seed, augment) = (self.epoch, self.seed, self.augment);
        let format = self.datagen.data_format();
        // Collect every sample's result so the error reported is the first by position,
        // whatever the thread count.
        let results: Vec<Result<()>> = x
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(index.par_iter())
            .map_init(Resizer::new, |resizer, (mut slot, &i)| {
                let path = &self.paths[i];
                let d = decode_resized(path, &self.load, resizer)?;
                let hwc = ArrayView3::from_shape((d.h, d.w, d.c), &d.data).map_err(|e| {
                    Error::Format {
                        path: path.clone(),
                        message: format!("internal shape error: {e}"),
                    }
                })?;
                let view = match format {
                    DataFormat::ChannelsLast => hwc,
                    DataFormat::ChannelsFirst => hwc.permuted_axes([2, 0, 1]),
                };
                let mut rng = sample_rng(seed, epoch, i as u64);
                let out = slot.as_slice_mut().expect("a batch slot is contiguous");
                O::sample_into_uninit(&self.datagen, view, out, &mut rng, augment)
            })
            .collect();
        results.into_iter().collect::<Result<()>>()?;
        // SAFETY: every slot was fully written (all results are Ok).
        let x = unsafe { x.assume_init() };
        if let Some(saver) = &self.saver {
            x.axis_iter(Axis(0))
                .into_par_iter()
                .zip(index.par_iter())
                .try_for_each(|(img, &i)| -> Result<()> {
                    // A file without a class (dataframe modes without classes, a row with
                    // an empty label list) goes straight into the folder.
                    let class = self
                        .save_classes
                        .as_ref()
                        .and_then(|c| c.get(i))
                        .filter(|c| !c.is_empty())
                        .map(String::as_str);
                    O::save_sample(saver, img, format, epoch, i, class).map(|_| ())
                })?;
        }
        let y = match &self.targets {
            Targets::None | Targets::MultiOutput(_) => None,
            Targets::Input => Some(O::into_dyn(x.clone())),
            Targets::Index(c) => Some(DynArray::from(
                index.iter().map(|&i| c[i] as f32).collect::<Array1<f32>>(),
            )),
            Targets::MultiHot {
                labels,
                num_classes,
            } => {
                let mut m = Array2::<f32>::zeros((index.len(), *num_classes));
                for (row, &i) in index.iter().enumerate() {
                    for &k in &labels[i] {
                        m[[row, k]] = 1.0;
                    }
                }
                Some(DynArray::from(m))
            }
            Targets::Raw(a) => Some(a.select(&index)?),
        };
        let extras = match &self.targets {
            Targets::MultiOutput(cols) => cols
                .iter()
                .map(|c| c.select(&index))
                .collect::<Result<_>>()?,
            _ => Vec::new(),
        };
        Ok(Batch {
            x,
            y,
            sample_weight: self
                .sample_weight
                .as_ref()
                .map(|w| w.select(&index))
                .transpose()?,
            extras,
            index,
            epoch,
        })
    }
}

/// Emits the accessors and the `Sequence` impl shared by the file iterators (the iterator
/// has a `core: FileBatches<O>` field).
macro_rules! file_iterator_common {
    ($ty:ident) => {
        impl<O: $crate::iterators::BatchElement> $ty<O> {
            /// The seed in use (drawn from the OS when none was given), to replay this run.
            pub fn seed(&self) -> u64 {
                self.core.seed
            }
            /// The current epoch (0 at first, +1 at each `on_epoch_end`).
            pub fn current_epoch(&self) -> u64 {
                self.core.epoch
            }
            /// Number of images served per epoch (the subset's size under a split).
            pub fn num_samples(&self) -> usize {
                self.core.paths.len()
            }
            /// Samples per batch.
            pub fn batch_size(&self) -> usize {
                self.core.batch_size
            }
            /// Full paths of the images, in the order of [`filenames`](Self::filenames);
            /// `Batch::index` indexes this list.
            pub fn filepaths(&self) -> &[std::path::PathBuf] {
                &self.core.paths
            }
            /// The shape of one image of a batch: `(H, W, C)`, or `(C, H, W)` channels-first.
            pub fn image_shape(&self) -> [usize; 3] {
                self.core.image_shape()
            }
            /// The generator used.
            pub fn generator(&self) -> &$crate::ImageDataGenerator {
                &self.core.datagen
            }
            /// Jumps to epoch `e` (its permutation and transforms), e.g. to resume a run.
            pub fn set_epoch(&mut self, e: u64) {
                self.core.set_epoch(e);
            }
            /// Back to epoch 0: the run replays from its start.
            pub fn reset(&mut self) {
                self.core.set_epoch(0);
            }
            /// The image indices of batch `idx` of the current epoch.
            pub fn batch_indices(&self, idx: usize) -> $crate::Result<&[usize]> {
                self.core.batch_indices(idx)
            }
            /// One pass over the current epoch, in order (call `on_epoch_end` after it).
            pub fn epoch(
                &self,
            ) -> impl Iterator<Item = $crate::Result<$crate::iterators::Batch<O>>> + '_ {
                (0..self.core.len()).map(move |i| self.core.get(i))
            }
        }

        impl<O: $crate::iterators::BatchElement> $crate::Sequence for $ty<O> {
            type Item = $crate::iterators::Batch<O>;
            fn len(&self) -> usize {
                self.core.len()
            }
            fn get(&self, idx: usize) -> $crate::Result<$crate::iterators::Batch<O>> {
                self.core.get(idx)
            }
            fn on_epoch_end(&mut self) {
                self.core.set_epoch(self.core.epoch + 1);
            }
        }
    };
}
pub(crate) use file_iterator_common;
