//! `NumpyArrayIterator`: Keras' `flow(x, y)` over in-memory arrays, deterministic and parallel.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use ndarray::{ArcArray, Array4, Axis, Ix4};
use rayon::prelude::*;

use super::{Batch, BatchElement, Sequence, check_index};
use crate::array::DType;
use crate::generator::ImageDataGenerator;
use crate::rng::{Stream, os_seed, permutation, sample_rng};
use crate::save::{SaveFormat, SaveOptions, Saver};
use crate::transform::{Pixel, image_dims};
use crate::{DynArray, Error, Result};

/// Which part of a `validation_split` an iterator serves.
///
/// ```
/// use augflow::iterators::Subset;
/// assert_eq!("validation".parse::<Subset>().unwrap(), Subset::Validation);
/// assert!("test".parse::<Subset>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subset {
    /// Everything but the validation part.
    Training,
    /// The first `int(n · validation_split)` samples (Keras' rule), or of the shuffled order
    /// with [`FlowBuilder::shuffle_before_split`].
    Validation,
}

impl std::str::FromStr for Subset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "training" => Ok(Subset::Training),
            "validation" => Ok(Subset::Validation),
            _ => Err(Error::invalid(
                "subset",
                format!("{s:?}"),
                "\"training\" or \"validation\"",
            )),
        }
    }
}

/// Builds a [`NumpyArrayIterator`]: Keras' `flow()` arguments, validated in
/// [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct FlowBuilder<T: Pixel, O = f32> {
    datagen: ImageDataGenerator,
    x: ArcArray<T, Ix4>,
    y: Option<DynArray>,
    sample_weight: Option<DynArray>,
    extras: Vec<DynArray>,
    batch_size: usize,
    shuffle: bool,
    seed: Option<u64>,
    subset: Option<Subset>,
    ignore_class_split: bool,
    shuffle_before_split: Option<u64>,
    augment_validation: bool,
    augment: bool,
    explicit_output: bool,
    save: Option<SaveOptions>,
    _out: PhantomData<O>,
}

impl ImageDataGenerator {
    /// Keras' `flow(x, y)`: an iterator of augmented batches over in-memory images
    /// `(N, H, W, C)` (or `(N, C, H, W)` for channels-first) of `u8`, `u16`, `f32` or `f64`.
    ///
    /// `x` is held without copying (an owned `Array4` is moved in, an `ArcArray` shared);
    /// `u8` stays `u8` until a sample is written into its batch. `y` may be any
    /// [`DynArray`] (class ids, one-hot rows, regression targets) — or `None::<DynArray>`.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::{Array1, Array4};
    ///
    /// let datagen = ImageDataGenerator::builder().rotation_range(20.0).horizontal_flip(true).rescale(1.0 / 255.0).build()?;
    /// let x = Array4::<u8>::zeros((10, 8, 8, 3));
    /// let y = Array1::from_iter(0..10_i64);
    /// let it = datagen.flow(x, Some(y)).batch_size(4).seed(42).build()?;
    /// assert_eq!(it.len(), 3);
    /// let b = it.get(2)?;
    /// assert_eq!(b.x.shape(), &[2, 8, 8, 3]);
    /// assert_eq!(b.y.unwrap().len(), 2);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn flow<T: Pixel, Y: Into<DynArray>>(
        &self,
        x: impl Into<ArcArray<T, Ix4>>,
        y: Option<Y>,
    ) -> FlowBuilder<T, f32> {
        FlowBuilder {
            datagen: self.clone(),
            x: x.into(),
            y: y.map(Into::into),
            sample_weight: None,
            extras: Vec::new(),
            batch_size: 32,
            shuffle: true,
            seed: None,
            subset: None,
            ignore_class_split: false,
            shuffle_before_split: None,
            augment_validation: false,
            augment: true,
            explicit_output: false,
            save: None,
            _out: PhantomData,
        }
    }
}

impl<T: Pixel, O: BatchElement> FlowBuilder<T, O> {
    /// Samples per batch (default 32).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Shuffle the samples every epoch (default true, as Keras' `flow`).
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }
    /// Seed of the permutations and the augmentation; without it one is drawn from the OS
    /// and reported by [`NumpyArrayIterator::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Per-sample weights, returned aligned with each batch's samples (also under subsets,
    /// unlike Keras, which misaligns them — spec §13 step 5).
    pub fn sample_weight(mut self, w: impl Into<DynArray>) -> Self {
        self.sample_weight = Some(w.into());
        self
    }
    /// An extra array passed through untouched (Keras' `x = (images, [misc…])`).
    pub fn extra(mut self, a: impl Into<DynArray>) -> Self {
        self.extras.push(a.into());
        self
    }
    /// Serve only one part of the generator's `validation_split`.
    pub fn subset(mut self, s: Subset) -> Self {
        self.subset = Some(s);
        self
    }
    /// Skip the check that both parts of the split hold the same set of classes.
    pub fn ignore_class_split(mut self, on: bool) -> Self {
        self.ignore_class_split = on;
        self
    }
    /// Beyond Keras: shuffle the samples with `seed` before splitting (Keras always takes
    /// the first samples as validation, which is wrong for data sorted by class).
    pub fn shuffle_before_split(mut self, seed: u64) -> Self {
        self.shuffle_before_split = Some(seed);
        self
    }
    /// Beyond Keras: randomly augment the validation subset too. By default validation
    /// batches are standardized but not augmented (keras-preprocessing#218).
    pub fn augment_validation(mut self, on: bool) -> Self {
        self.augment_validation = on;
        self
    }
    /// Turn random augmentation off altogether (standardization only).
    pub fn augment(mut self, on: bool) -> Self {
        self.augment = on;
        self
    }
    /// Keras' `save_to_dir`, `save_prefix`, `save_format`: every augmented sample is also
    /// written to `dir` (created if missing; an unwritable folder fails `build`), as
    /// `{prefix}_e{epoch:03}_i{index:06}.{ext}` — deterministic and unique, unlike Keras'
    /// random suffix (keras#8249). Images are min–max scaled as Keras' `array_to_img`; files
    /// are written atomically and the batch is not modified.
    pub fn save_to_dir(
        mut self,
        dir: impl Into<std::path::PathBuf>,
        prefix: impl Into<String>,
        format: SaveFormat,
    ) -> Self {
        self.save = Some(SaveOptions::new(dir).prefix(prefix).format(format));
        self
    }

    /// Like [`save_to_dir`](Self::save_to_dir) with every option, e.g. one sub-folder per
    /// class (named after the label of `y`: its value, or the index of the largest entry of a
    /// one-hot row).
    pub fn save_options(mut self, options: SaveOptions) -> Self {
        self.save = Some(options);
        self
    }

    /// Output element type: `f32` (default), `f64`, or `half::f16` / `half::bf16` for
    /// mixed-precision training (computed in `f32`, then rounded to nearest even; see
    /// [`BatchElement`]); overrides the generator's `dtype`.
    pub fn output<O2: BatchElement>(self) -> FlowBuilder<T, O2> {
        FlowBuilder {
            datagen: self.datagen,
            x: self.x,
            y: self.y,
            sample_weight: self.sample_weight,
            extras: self.extras,
            batch_size: self.batch_size,
            shuffle: self.shuffle,
            seed: self.seed,
            subset: self.subset,
            ignore_class_split: self.ignore_class_split,
            shuffle_before_split: self.shuffle_before_split,
            augment_validation: self.augment_validation,
            augment: self.augment,
            explicit_output: true,
            save: self.save,
            _out: PhantomData,
        }
    }

    /// Validates everything (spec §13's errors, never a panic) and builds the iterator.
    pub fn build(self) -> Result<NumpyArrayIterator<T, O>> {
        let datagen = self.datagen;
        let cfg = datagen.config();
        if cfg.dtype != O::DTYPE && !self.explicit_output {
            return Err(Error::invalid(
                "dtype",
                format!("{} in the generator", cfg.dtype),
                format!(
                    "the iterator's output type {} (use `.output::<f64>()` for float64)",
                    O::NAME
                ),
            ));
        }
        let shape = self.x.shape().to_vec();
        let n = shape[0];
        if n == 0 {
            return Err(Error::Empty {
                name: "x",
                expected: "at least one image".into(),
            });
        }
        let (_, _, c) = image_dims(&shape[1..], cfg.data_format, "x")?;
        if !matches!(c, 1 | 3 | 4) {
            log::warn!(
                "NumpyArrayIterator is set to use the data format convention \"{}\", i.e. expected either 1, 3, or 4 channels; got an array with shape {shape:?} ({c} channels).",
                cfg.data_format
            );
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        let check_len = |name: String, a: &DynArray| -> Result<()> {
            if a.ndim() == 0 || a.len() != n {
                return Err(Error::LengthMismatch {
                    name,
                    got: if a.ndim() == 0 { 0 } else { a.len() },
                    other: "x".into(),
                    expected: n,
                });
            }
            Ok(())
        };
        if let Some(y) = &self.y {
            check_len("y".into(), y)?;
        }
        if let Some(w) = &self.sample_weight {
            check_len("sample_weight".into(), w)?;
        }
        for (k, e) in self.extras.iter().enumerate() {
            check_len(format!("extras[{k}]"), e)?;
        }
        let members = split_members(
            n,
            cfg.validation_split,
            self.subset,
            self.shuffle_before_split,
            self.y.as_ref().filter(|_| !self.ignore_class_split),
        )?;
        let augment =
            self.augment && (self.subset != Some(Subset::Validation) || self.augment_validation);
        let seed = self.seed.unwrap_or_else(os_seed);
        let saver = self.save.map(SaveOptions::build).transpose()?;
        let mut it = NumpyArrayIterator {
            datagen,
            x: self.x,
            y: self.y,
            sample_weight: self.sample_weight,
            extras: self.extras,
            members,
            batch_size: self.batch_size,
            shuffle: self.shuffle,
            seed,
            epoch: 0,
            order: Vec::new(),
            augment,
            saver,
            _out: PhantomData,
        };
        it.set_epoch(0);
        Ok(it)
    }
}

/// The sample indices of `subset` (all when `None`), applying Keras' split rule (spec §13
/// step 5) and its class check when `labels` is given.
fn split_members(
    n: usize,
    split: f64,
    subset: Option<Subset>,
    shuffle_seed: Option<u64>,
    labels: Option<&DynArray>,
) -> Result<Vec<usize>> {
    let Some(subset) = subset else {
        return Ok((0..n).collect());
    };
    if split == 0.0 {
        return Err(Error::invalid(
            "subset",
            format!("{subset:?}"),
            "a generator with validation_split > 0 (it is 0)",
        ));
    }
    let order: Vec<usize> = match shuffle_seed {
        Some(s) => permutation(s, Stream::Split, 0, n),
        None => (0..n).collect(),
    };
    // spec §13: split_idx = int(len(x) · validation_split), a truncated f64 product.
    let split_idx = (n as f64 * split) as usize;
    let (val, train) = order.split_at(split_idx);
    if let Some(y) = labels {
        let (vs, ts) = (distinct_values(y, val)?, distinct_values(y, train)?);
        if vs != ts {
            let show =
                |s: &BTreeSet<u64>| s.iter().map(|b| f64::from_bits(*b).to_string()).collect();
            return Err(Error::ClassSplit {
                validation: show(&vs),
                training: show(&ts),
            });
        }
    }
    let part = match subset {
        Subset::Validation => val,
        Subset::Training => train,
    };
    if part.is_empty() {
        return Err(Error::Empty {
            name: "subset",
            expected: format!(
                "the {subset:?} subset of {n} samples with validation_split {split} holds no sample; use more data or another split"
            ),
        });
    }
    Ok(part.to_vec())
}

/// The distinct values of the rows `rows` of `y`, flattened (numpy's `unique`).
fn distinct_values(y: &DynArray, rows: &[usize]) -> Result<BTreeSet<u64>> {
    let sel = y.select(rows)?;
    Ok(values_f64(&sel)?
        .into_iter()
        .map(|v| (v + 0.0).to_bits())
        .collect())
}

/// One class name per row of `y`, as `save_to_dir`'s class sub-folders name them: the value
/// of a 1-D label (integers without a decimal point), or the index of the largest entry of a
/// one-hot (or score) row.
///
/// ```
/// use augflow::{DynArray, iterators::class_names};
/// use ndarray::array;
/// assert_eq!(class_names(&DynArray::from(array![3_i64, 0, 3]))?, ["3", "0", "3"]);
/// assert_eq!(class_names(&DynArray::from(array![[0.1_f32, 0.9], [1.0, 0.0]]))?, ["1", "0"]);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn class_names(y: &DynArray) -> Result<Vec<String>> {
    let v = values_f64(y)?;
    let n = y.len().max(1);
    let per = v.len() / n;
    Ok(v.chunks(per.max(1))
        .map(|row| {
            if per == 1 {
                let x = row[0];
                if x.fract() == 0.0 {
                    format!("{}", x as i64)
                } else {
                    x.to_string()
                }
            } else {
                let best = row
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (i, &x)| if x > b.1 { (i, x) } else { b },
                    );
                best.0.to_string()
            }
        })
        .collect())
}

/// Every element of `a` as `f64`.
pub(crate) fn values_f64(a: &DynArray) -> Result<Vec<f64>> {
    macro_rules! conv {
        ($t:ty) => {
            a.view::<$t>()?.iter().map(|&v| v as f64).collect()
        };
    }
    Ok(match a.dtype() {
        DType::Bool => a.view::<bool>()?.iter().map(|&v| v as u8 as f64).collect(),
        DType::U8 => conv!(u8),
        DType::U16 => conv!(u16),
        DType::U32 => conv!(u32),
        DType::U64 => conv!(u64),
        DType::I8 => conv!(i8),
        DType::I16 => conv!(i16),
        DType::I32 => conv!(i32),
        DType::I64 => conv!(i64),
        DType::F32 => conv!(f32),
        DType::F64 => conv!(f64),
    })
}

/// Keras' `NumpyArrayIterator`, made reproducible and parallel.
///
/// The transform of sample `i` in epoch `e` is a pure function of `(seed, e, i)` and the
/// order of epoch `e` a pure function of `(seed, e)`: the same seed gives bit-identical
/// batches whatever the thread count, the batch size or the order batches are asked for.
/// [`get`](Sequence::get) takes `&self`; the samples of a batch are transformed in
/// parallel (rayon) straight into the batch buffer.
#[derive(Debug, Clone)]
pub struct NumpyArrayIterator<T: Pixel, O = f32> {
    datagen: ImageDataGenerator,
    x: ArcArray<T, Ix4>,
    y: Option<DynArray>,
    sample_weight: Option<DynArray>,
    extras: Vec<DynArray>,
    members: Vec<usize>,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    epoch: u64,
    order: Vec<usize>,
    augment: bool,
    saver: Option<Saver>,
    _out: PhantomData<O>,
}

impl<T: Pixel, O: BatchElement> NumpyArrayIterator<T, O> {
    /// The seed in use (drawn from the OS when none was given), to replay this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current epoch (0 at first, +1 at each `on_epoch_end`).
    pub fn current_epoch(&self) -> u64 {
        self.epoch
    }

    /// Number of samples served per epoch (the subset's size under a split).
    pub fn num_samples(&self) -> usize {
        self.members.len()
    }

    /// Samples per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Indices (into the arrays given) of the samples this iterator serves, in input order.
    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// The generator used.
    pub fn generator(&self) -> &ImageDataGenerator {
        &self.datagen
    }

    /// Jumps to epoch `e` (its permutation and transforms), e.g. to resume a run.
    pub fn set_epoch(&mut self, e: u64) {
        self.epoch = e;
        let m = self.members.len();
        self.order = if self.shuffle {
            permutation(self.seed, Stream::Permutation, e, m)
                .into_iter()
                .map(|p| self.members[p])
                .collect()
        } else {
            self.members.clone()
        };
    }

    /// Back to epoch 0: the run replays from its start.
    pub fn reset(&mut self) {
        self.set_epoch(0);
    }

    /// One pass over the current epoch, in order (call `on_epoch_end` after it).
    pub fn epoch(&self) -> impl Iterator<Item = Result<Batch<O>>> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// The sample indices of batch `idx` of the current epoch.
    pub fn batch_indices(&self, idx: usize) -> Result<&[usize]> {
        check_index(idx, self.len())?;
        let start = idx * self.batch_size;
        let end = (start + self.batch_size).min(self.order.len());
        Ok(&self.order[start..end])
    }
}

impl<T: Pixel, O: BatchElement> Sequence for NumpyArrayIterator<T, O> {
    type Item = Batch<O>;

    fn len(&self) -> usize {
        self.members.len().div_ceil(self.batch_size)
    }

    fn get(&self, idx: usize) -> Result<Batch<O>> {
        let index = self.batch_indices(idx)?.to_vec();
        let img_shape = &self.x.shape()[1..];
        let shape = (index.len(), img_shape[0], img_shape[1], img_shape[2]);
        // Every element is written by the per-sample path, so no zero-fill is needed.
        let mut x = Array4::<O>::uninit(shape);
        let (epoch, seed, augment) = (self.epoch, self.seed, self.augment);
        x.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(index.par_iter())
            .try_for_each(|(mut slot, &i)| -> Result<()> {
                let mut rng = sample_rng(seed, epoch, i as u64);
                let out = slot.as_slice_mut().expect("a batch slot is contiguous");
                O::sample_into_uninit(
                    &self.datagen,
                    self.x.index_axis(Axis(0), i),
                    out,
                    &mut rng,
                    augment,
                )
            })?;
        // SAFETY: every slot was fully written (try_for_each returned Ok for all of them).
        let x = unsafe { x.assume_init() };
        let y = self.y.as_ref().map(|y| y.select(&index)).transpose()?;
        if let Some(saver) = &self.saver {
            let classes = match (&y, saver.options().per_class_subfolders) {
                (Some(y), true) => Some(class_names(y)?),
                _ => None,
            };
            let fmt = self.datagen.data_format();
            x.axis_iter(Axis(0))
                .into_par_iter()
                .zip(index.par_iter())
                .enumerate()
                .try_for_each(|(k, (img, &i))| -> Result<()> {
                    let class = classes.as_ref().map(|c| c[k].as_str());
                    O::save_sample(saver, img, fmt, epoch, i, class).map(|_| ())
                })?;
        }
        Ok(Batch {
            x,
            y,
            sample_weight: self
                .sample_weight
                .as_ref()
                .map(|w| w.select(&index))
                .transpose()?,
            extras: self
                .extras
                .iter()
                .map(|e| e.select(&index))
                .collect::<Result<_>>()?,
            index,
            epoch,
        })
    }

    fn on_epoch_end(&mut self) {
        self.set_epoch(self.epoch + 1);
    }
}
