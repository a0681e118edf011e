//! One sample of an iterator with an augmentation pipeline
//! ([`IteratorBuilder::pipeline`](super::IteratorBuilder::pipeline)): the generator's
//! transform (skipped when it is the identity), then the pipeline, both drawn from the
//! sample's stream, written into the batch slot.

use std::mem::MaybeUninit;

use ndarray::{Array3, ArrayView3};

use super::{BatchElement, BatchSource};
use crate::augment::{Augment, Sample};
use crate::generator::ImageDataGenerator;
use crate::rng::{SampleRng, sample_rng};
use crate::transform::{DataFormat, Pixel};
use crate::{Error, Result};

/// What one sample's draws depend on: the seed, the epoch, and whether the generator
/// augments (its random transform; the pipeline always runs).
#[derive(Debug, Clone, Copy)]
pub(super) struct Draws {
    pub(super) seed: u64,
    pub(super) epoch: u64,
    pub(super) augment: bool,
}

/// Loads sample `i`, runs the generator's transform and `aug` on it and writes the result,
/// of `shape` (channels last), into `out`. A pipeline that sets the output size takes the
/// image as the source stores it (a file is not resized to `target_size` first).
pub(super) fn pipeline_sample<S: BatchSource, O: BatchElement>(
    source: &S,
    datagen: &ImageDataGenerator,
    aug: &Augment,
    (i, draws): (usize, Draws),
    scratch: &mut S::Scratch,
    shape: [usize; 3],
    out: &mut [MaybeUninit<O>],
) -> Result<()> {
    refuse_targets(source, i)?;
    let mut rng = sample_rng(draws.seed, draws.epoch, i as u64);
    let run = |image: ArrayView3<'_, S::Pixel>| -> Result<Array3<f32>> {
        if datagen.is_identity() {
            // Read in the source's own type: a leading crop or resize widens only its output.
            let (h, w, c) = image.dim();
            let params = aug.draw(&mut rng, [h, w, c])?;
            return aug.transform_view(&params, image);
        }
        let staged = generator_pass(datagen, image, &mut rng, draws.augment)?;
        let (h, w, c) = staged.dim();
        let params = aug.draw(&mut rng, [h, w, c])?;
        Ok(aug.transform(&params, Sample::new(staged))?.image)
    };
    let image = match aug.fixed_size() {
        Some(_) => source.with_stored_image(i, scratch, run)?,
        None => source.with_image(i, DataFormat::ChannelsLast, scratch, run)?,
    };
    if image.shape() != shape {
        return Err(Error::Shape {
            name: "image",
            shape: image.shape().to_vec(),
            expected: format!("{shape:?} for sample {i}: the batch's image shape"),
        });
    }
    O::write_f32(image.as_standard_layout().as_slice().unwrap_or(&[]), out);
    Ok(())
}

/// The generator's transform of `image`, in `f32`.
fn generator_pass<T: Pixel>(
    datagen: &ImageDataGenerator,
    image: ArrayView3<'_, T>,
    rng: &mut SampleRng,
    augment: bool,
) -> Result<Array3<f32>> {
    let (h, w, c) = image.dim();
    let n = h * w * c;
    let mut buf: Vec<f32> = Vec::with_capacity(n);
    datagen.sample_into_uninit(image, &mut buf.spare_capacity_mut()[..n], rng, augment)?;
    // SAFETY: on Ok, sample_into_uninit initialized all `n` elements.
    unsafe { buf.set_len(n) };
    Array3::from_shape_vec((h, w, c), buf).map_err(|e| Error::Shape {
        name: "image",
        shape: vec![h, w, c],
        expected: format!("a consistent buffer ({e})"),
    })
}

/// Refuses a sample with masks, boxes or keypoints: a pipeline does not move them yet.
fn refuse_targets<S: BatchSource>(source: &S, i: usize) -> Result<()> {
    let what = if source.mask_layout().is_some() || source.mask(i)?.is_some() {
        "masks"
    } else if source.boxes(i)?.is_some() {
        "boxes"
    } else if source.keypoints(i).is_some() {
        "keypoints"
    } else {
        return Ok(());
    };
    Err(Error::Unsupported {
        name: "pipeline",
        value: format!("an augmentation pipeline with {what} (sample {i})"),
        reason: "iterators do not move masks, boxes or keypoints through a pipeline yet; \
                 use Augment::transform on a Sample, or the generator's transform"
            .into(),
    })
}
