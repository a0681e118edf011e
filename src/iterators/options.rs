//! `BatchOptions`: the options every iterator has, whatever its source, with Keras' defaults.

use super::{BatchElement, Shard, Subset, subset::check_split};
use crate::array::DType;
use crate::generator::ImageDataGenerator;
use crate::save::SaveOptions;
use crate::{Error, Result};

/// The options every iterator has, whatever its source: batching, order, seed, subset,
/// augmentation and `save_to_dir`. Builders set them through their setters
/// ([`IteratorBuilder::batch_size`](super::IteratorBuilder::batch_size), …).
///
/// ```
/// use augflow::iterators::BatchOptions;
/// let o = BatchOptions::default();
/// assert_eq!((o.batch_size, o.shuffle, o.drop_remainder), (32, true, false));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BatchOptions {
    /// Samples per batch (default 32).
    pub batch_size: usize,
    /// Shuffle the samples every epoch (default true).
    pub shuffle: bool,
    /// Seed of the permutations and the augmentation; `None` draws one from the OS.
    pub seed: Option<u64>,
    /// Serve only one part of the generator's `validation_split`.
    pub subset: Option<Subset>,
    /// Randomly augment (default true); off leaves standardization only.
    pub augment: bool,
    /// Augment the validation subset too (default false, unlike Keras).
    pub augment_validation: bool,
    /// Drop the last batch of an epoch when it is short (default false).
    pub drop_remainder: bool,
    /// This process's shard of every epoch, for data-parallel training.
    pub shard: Option<Shard>,
    /// The value a `constant` fill shows in masks (default 0; e.g. 255 as an "ignore" id).
    pub mask_cval: f64,
    /// How boxes are written and which survive a transform.
    pub box_options: crate::targets::BoxOptions,
    /// What happens to keypoints a transform moves out of the image (default: dropped).
    pub outside_points: crate::targets::OutsidePoints,
    /// Keras' `save_to_dir` and friends.
    pub save: Option<SaveOptions>,
    /// Whether the output type was chosen with `output::<O>()`, overriding the generator's
    /// `dtype`.
    pub explicit_output: bool,
    /// A Keras 3 augmentation pipeline run on every sample after the generator's transform
    /// (see [`IteratorBuilder::pipeline`](super::IteratorBuilder::pipeline)).
    pub pipeline: Option<crate::augment::Augment>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            batch_size: 32,
            shuffle: true,
            seed: None,
            subset: None,
            augment: true,
            augment_validation: false,
            drop_remainder: false,
            shard: None,
            mask_cval: 0.0,
            box_options: crate::targets::BoxOptions::default(),
            outside_points: crate::targets::OutsidePoints::Drop,
            save: None,
            explicit_output: false,
            pipeline: None,
        }
    }
}

impl BatchOptions {
    /// Whether samples are augmented: on, unless the validation subset is served without
    /// [`augment_validation`](Self::augment_validation).
    pub fn augments(&self) -> bool {
        self.augment && (self.subset != Some(Subset::Validation) || self.augment_validation)
    }

    /// Whether samples are saved into one sub-folder per class.
    pub fn saves_per_class(&self) -> bool {
        self.save.as_ref().is_some_and(|s| s.per_class_subfolders)
    }

    /// Checks what does not depend on the source: the output type against the generator's
    /// `dtype`, the batch size, and a subset without a split.
    pub(crate) fn validate<O: BatchElement>(&self, datagen: &ImageDataGenerator) -> Result<()> {
        let cfg = datagen.config();
        if cfg.dtype != O::DTYPE && !self.explicit_output {
            return Err(Error::invalid(
                "dtype",
                format!("{} in the generator", cfg.dtype),
                format!(
                    "the iterator's output type {} (use `.output::<f64>()` for float64, `.output::<u8>()` for uint8)",
                    O::NAME
                ),
            ));
        }
        if O::DTYPE == DType::U8 {
            cfg.check_integer_output()?;
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        if let Some(s) = self.shard {
            Shard::new(s.count(), s.index())?;
        }
        if self.pipeline.is_some() && cfg.data_format == crate::DataFormat::ChannelsFirst {
            return Err(Error::Unsupported {
                name: "data_format",
                value: "channels_first".into(),
                reason: "an augmentation pipeline writes channels-last batches; use \
                         channels_last with `pipeline`"
                    .into(),
            });
        }
        check_split(self.subset, cfg.validation_split)
    }
}
