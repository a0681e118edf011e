//! `IteratorBuilder`: one builder for every iterator. It holds the generator, a description
//! of the source (`S`, a [`SourceSpec`]) and the [`BatchOptions`]; the options' setters and
//! `output::<O>()` are written here once, the source's own setters beside each source.

use std::marker::PhantomData;
use std::path::PathBuf;

use super::{BatchElement, BatchIterator, BatchOptions, Shard, ShardRemainder, SourceSpec, Subset};
use crate::Result;
use crate::generator::ImageDataGenerator;
use crate::save::{SaveFormat, SaveOptions};

/// Builds an iterator of augmented batches over any source: Keras' `flow`,
/// `flow_from_directory` and `flow_from_dataframe` arguments, validated in
/// [`build`](Self::build). [`FlowBuilder`](super::FlowBuilder),
/// [`DirectoryBuilder`](super::DirectoryBuilder) and
/// [`DataFrameBuilder`](super::DataFrameBuilder) are this type for their sources.
///
/// ```
/// use augflow::{ImageDataGenerator, Sequence};
/// use ndarray::Array4;
///
/// let datagen = ImageDataGenerator::builder().horizontal_flip(true).build()?;
/// let it = datagen
///     .flow(Array4::<u8>::zeros((10, 8, 8, 3)))
///     .batch_size(4)
///     .drop_remainder(true)
///     .seed(1)
///     .build()?;
/// assert_eq!(it.len(), 2); // the last two samples make a short batch, dropped
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct IteratorBuilder<S, O = f32> {
    pub(crate) datagen: ImageDataGenerator,
    pub(crate) spec: S,
    pub(crate) options: BatchOptions,
    _out: PhantomData<O>,
}

impl<S> IteratorBuilder<S, f32> {
    /// A builder over `spec` with Keras' default options and `f32` output.
    pub fn new(datagen: &ImageDataGenerator, spec: S) -> Self {
        IteratorBuilder {
            datagen: datagen.clone(),
            spec,
            options: BatchOptions::default(),
            _out: PhantomData,
        }
    }
}

impl<S, O> IteratorBuilder<S, O> {
    /// Samples per batch (default 32).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.options.batch_size = n;
        self
    }
    /// Shuffle the samples every epoch (default true, as Keras).
    pub fn shuffle(mut self, on: bool) -> Self {
        self.options.shuffle = on;
        self
    }
    /// Seed of the permutations and the augmentation; without it one is drawn from the OS
    /// and reported by the iterator's `seed()`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.options.seed = Some(seed);
        self
    }
    /// Serve only one part of the generator's `validation_split`.
    pub fn subset(mut self, s: Subset) -> Self {
        self.options.subset = Some(s);
        self
    }
    /// Beyond Keras: randomly augment the validation subset too. By default validation
    /// batches are standardized but not augmented (keras-preprocessing#218).
    pub fn augment_validation(mut self, on: bool) -> Self {
        self.options.augment_validation = on;
        self
    }
    /// Turn random augmentation off altogether (standardization only).
    pub fn augment(mut self, on: bool) -> Self {
        self.options.augment = on;
        self
    }
    /// Runs a Keras 3 augmentation pipeline on every sample, after the generator's own
    /// transform (skipped when the generator is left at its defaults, so the pipeline
    /// replaces it). The pipeline draws from the sample's stream after the generator's
    /// draws, so a batch stays a pure function of `(seed, epoch, index)`. Its output size
    /// is the batch's (e.g. 224×224 after `RandomResizedCrop(224)`; see
    /// [`Augment::output_size`](crate::augment::Augment::output_size)).
    ///
    /// File sources (`flow_from_directory`, `flow_from_dataframe`) decode each file and,
    /// when the pipeline sets the output size itself (a crop or resize op), hand the
    /// decoded image at its stored size to the generator and the pipeline: there is no
    /// intermediate resize to `target_size`. Otherwise files are brought to `target_size`
    /// first, as without a pipeline. The pipeline runs on every subset, validation
    /// included: give a validation iterator its own pipeline (e.g. `Resizing`, `CenterCrop`,
    /// `Normalization`). Batches are channels last.
    ///
    /// Masks and boxes move with their image through the generator's transform and then the
    /// pipeline, from the same draws: masks with nearest sampling, at the pipeline's output
    /// size, in their own dtype; boxes by Keras 3's rules (an op's `bounding_box_format`, if
    /// set, must be `xyxy`), then clipped and thresholded by the
    /// [`box_options`](Self::box_options). A sample with targets is read at `target_size`
    /// (where its targets are given), even when the pipeline sets the size. Keypoints move
    /// by each op's exact geometry (an elastic field included); those that leave the image
    /// or land on fill are dropped or marked invisible, as
    /// [`outside_points`](Self::outside_points) says.
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::Array4;
    ///
    /// let aug = Augment::from_json(r#"[
    ///     {"class_name": "RandomResizedCrop", "config": {"size": [16, 16]}},
    ///     {"class_name": "RandomFlip", "config": {"mode": "horizontal"}}]"#)?;
    /// let datagen = ImageDataGenerator::builder().build()?;
    /// let x = Array4::<u8>::from_shape_fn((6, 30, 40, 3), |(n, y, x, c)| (n + y + x + c) as u8);
    /// let it = datagen.flow(x).batch_size(4).seed(7).pipeline(aug).build()?;
    /// assert_eq!(it.image_shape(), [16, 16, 3]);
    /// assert_eq!(it.get(0)?.x.shape(), &[4, 16, 16, 3]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn pipeline(mut self, aug: crate::augment::Augment) -> Self {
        self.options.pipeline = Some(aug);
        self
    }
    /// Drop the last batch of each epoch when it holds fewer than `batch_size` samples, as
    /// tf.data's `drop_remainder` and torch's `drop_last` (default false: Keras serves it).
    /// An iterator that would then serve no batch at all fails to build.
    pub fn drop_remainder(mut self, on: bool) -> Self {
        self.options.drop_remainder = on;
        self
    }
    /// Serve only shard `index` of `num_shards` of every epoch, for data-parallel training
    /// (one shard per process, as torch's `DistributedSampler`): the epoch's global order is
    /// dealt out position by position, so shards are disjoint and a sample is transformed
    /// identically whichever shard reads it. Subsets are split first, then sharded. The
    /// remainder is padded by default; see [`shard_remainder`](Self::shard_remainder).
    pub fn shard(mut self, num_shards: usize, index: usize) -> Self {
        let policy = self
            .options
            .shard
            .map(|s| s.remainder_policy())
            .unwrap_or_default();
        self.options.shard = Some(Shard::unchecked(num_shards, index, policy));
        self
    }
    /// What to do when an epoch does not divide by the shard count (default
    /// [`ShardRemainder::Pad`]); used with [`shard`](Self::shard).
    pub fn shard_remainder(mut self, policy: ShardRemainder) -> Self {
        let shard = self.options.shard.unwrap_or(Shard::unchecked(1, 0, policy));
        self.options.shard = Some(shard.remainder(policy));
        self
    }
    /// The value masks show where a `constant` fill shows outside them (default 0; for
    /// example 255 as an "ignore" id). Other fill modes fill masks as they fill the image.
    /// Used by sources with masks ([`FlowBuilder::masks`](super::FlowBuilder::masks)).
    pub fn mask_cval(mut self, value: f64) -> Self {
        self.options.mask_cval = value;
        self
    }
    /// How boxes are written (default `pascal_voc`) and which survive a sample's transform
    /// (`min_area`, `min_visibility`), for sources with boxes
    /// ([`FlowBuilder::boxes`](super::FlowBuilder::boxes)).
    pub fn box_options(mut self, options: crate::targets::BoxOptions) -> Self {
        self.options.box_options = options;
        self
    }
    /// What happens to keypoints a sample's transform moves out of the image: dropped (the
    /// default) or kept and marked invisible, for sources with keypoints
    /// ([`FlowBuilder::keypoints`](super::FlowBuilder::keypoints)).
    pub fn outside_points(mut self, policy: crate::targets::OutsidePoints) -> Self {
        self.options.outside_points = policy;
        self
    }
    /// Keras' `save_to_dir`, `save_prefix`, `save_format`: every augmented sample is also
    /// written to `dir` (created if missing; an unwritable folder fails `build`), as
    /// `{prefix}_e{epoch:03}_i{index:06}.{ext}` — deterministic and unique, unlike Keras'
    /// random suffix (keras#8249); `index` is the sample's `Batch::index`. Images are min–max
    /// scaled as Keras' `array_to_img`; files are written atomically and the batch is not
    /// modified.
    pub fn save_to_dir(
        mut self,
        dir: impl Into<PathBuf>,
        prefix: impl Into<String>,
        format: SaveFormat,
    ) -> Self {
        self.options.save = Some(SaveOptions::new(dir).prefix(prefix).format(format));
        self
    }
    /// Like [`save_to_dir`](Self::save_to_dir) with every option, e.g. one sub-folder per
    /// class (named after the sample's class: its folder, or the label of `y` — its value,
    /// or the index of the largest entry of a one-hot row).
    pub fn save_options(mut self, options: SaveOptions) -> Self {
        self.options.save = Some(options);
        self
    }
    /// Output element type: `f32` (default), `f64`, or `half::f16` / `half::bf16` for
    /// mixed-precision training (computed in `f32`, then rounded to nearest even; see
    /// [`BatchElement`]); overrides the generator's `dtype`. With class mode `input`, `y` of
    /// a half-precision batch is `x` widened to `f32` (exact).
    pub fn output<O2: BatchElement>(mut self) -> IteratorBuilder<S, O2> {
        self.options.explicit_output = true;
        IteratorBuilder {
            datagen: self.datagen,
            spec: self.spec,
            options: self.options,
            _out: PhantomData,
        }
    }
    /// The options set so far.
    pub fn options(&self) -> &BatchOptions {
        &self.options
    }
}

impl<S: SourceSpec, O: BatchElement> IteratorBuilder<S, O> {
    /// Validates everything (Keras' errors, never a panic), reads what the source needs
    /// and builds the iterator.
    pub fn build(self) -> Result<BatchIterator<S::Source, O>> {
        self.options.validate::<O>(&self.datagen)?;
        let size_parameter = self.spec.size_parameter();
        let (source, members) = self.spec.into_source(&self.datagen, &self.options)?;
        BatchIterator::new(self.datagen, source, members, self.options, size_parameter)
    }
}
