//! `BatchIterator`: the one batch engine. It owns, for every source, the order of each epoch
//! (the global permutation of `(seed, epoch)`), the subset's members, augmentation on or
//! off, `save_to_dir`, the output type and the error rule; a [`BatchSource`] only shows
//! sample `i`.

use std::marker::PhantomData;
use std::mem::MaybeUninit;

use ndarray::{Array4, ArrayView3, Axis};
use rayon::prelude::*;

use super::pipelined::{Draws, pipeline_sample};
use super::targets::{BatchTargets, MaskBatch, SampleTargets, gather, move_targets};
use super::{Batch, BatchElement, BatchOptions, BatchSource, Sequence, check_index};
use crate::generator::ImageDataGenerator;
use crate::rng::{Stream, os_seed, permutation, sample_rng};
use crate::save::{SaveOptions, Saver};
use crate::targets::MaskLayout;
use crate::{Error, Result};

/// An iterator of augmented batches over a [`BatchSource`]: Keras' `NumpyArrayIterator`,
/// `DirectoryIterator` and `DataFrameIterator`, made reproducible and parallel.
/// [`NumpyArrayIterator`](super::NumpyArrayIterator),
/// [`DirectoryIterator`](super::DirectoryIterator) and
/// [`DataFrameIterator`](super::DataFrameIterator) are this type for their sources.
///
/// The transform of sample `i` in epoch `e` is a pure function of `(seed, e, i)` and the
/// order of epoch `e` a pure function of `(seed, e)`: the same seed gives bit-identical
/// batches whatever the thread count, the batch size or the order batches are asked for.
/// [`get`](Sequence::get) takes `&self`; the samples of a batch are loaded and transformed
/// in parallel (rayon) straight into the batch buffer. When samples fail, the error is that
/// of the first failing sample by position in the batch, whatever the thread count.
///
/// ```
/// use augflow::{ImageDataGenerator, Sequence};
/// use ndarray::{Array1, Array4};
///
/// let datagen = ImageDataGenerator::builder().rotation_range(20.0).rescale(1.0 / 255.0).build()?;
/// let it = datagen.flow(Array4::<u8>::zeros((10, 8, 8, 3))).y(Array1::from_iter(0..10_i64)).batch_size(4).seed(42).build()?;
/// assert_eq!((it.len(), it.num_samples(), it.seed()), (3, 10, 42));
/// let b = it.get(2)?;
/// assert_eq!(b.x.shape(), &[2, 8, 8, 3]);
/// assert_eq!(b.index, it.batch_indices(2)?);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchIterator<S, O = f32> {
    pub(crate) datagen: ImageDataGenerator,
    pub(crate) source: S,
    members: Vec<usize>,
    options: BatchOptions,
    pub(crate) seed: u64,
    epoch: u64,
    /// This epoch's samples, in order: the shard's part of the global order.
    order: Vec<usize>,
    /// How many of the last samples of `order` are a shard's padding.
    padding: usize,
    saver: Option<Saver>,
    _out: PhantomData<O>,
}

impl<S: BatchSource, O: BatchElement> BatchIterator<S, O> {
    /// Checks what depends on the source (batch memory, `drop_remainder`), creates the save
    /// folder last, and starts at epoch 0.
    pub(crate) fn new(
        datagen: ImageDataGenerator,
        source: S,
        members: Option<Vec<usize>>,
        options: BatchOptions,
        size_parameter: &'static str,
    ) -> Result<Self> {
        let members = members.unwrap_or_else(|| (0..source.num_samples()).collect());
        let mut it = BatchIterator {
            seed: options.seed.unwrap_or_else(os_seed),
            datagen,
            source,
            members,
            saver: None,
            options,
            epoch: 0,
            order: Vec::new(),
            padding: 0,
            _out: PhantomData,
        };
        it.set_epoch(0);
        it.check_batch_memory(size_parameter)?;
        it.check_not_empty()?;
        it.saver = it
            .options
            .save
            .clone()
            .map(SaveOptions::build)
            .transpose()?;
        Ok(it)
    }

    /// Refuses an iterator that would serve no batch, naming the option that emptied it.
    fn check_not_empty(&self) -> Result<()> {
        if !self.is_empty() {
            return Ok(());
        }
        let m = self.members.len();
        if let Some(s) = self.options.shard {
            s.check_serves(m)?;
        }
        Err(Error::invalid(
            "drop_remainder",
            format!(
                "true with {} samples and batch_size {}",
                self.order.len(),
                self.options.batch_size
            ),
            "at least one full batch (lower batch_size, or keep the short batch)",
        ))
    }

    /// Refuses a batch whose memory cannot be reserved, naming the parameter that sized it.
    fn check_batch_memory(&self, size_parameter: &'static str) -> Result<()> {
        let n = self.options.batch_size.min(self.num_samples());
        let shape = self.image_shape();
        new_batch::<O>(n, shape)
            .map(drop)
            .map_err(|bytes| memory_error(size_parameter, shape, n, bytes, O::NAME))
    }

    /// The seed in use (drawn from the OS when none was given), to replay this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The current epoch (0 at first, +1 at each `on_epoch_end`).
    pub fn current_epoch(&self) -> u64 {
        self.epoch
    }
    /// Number of samples served per epoch: the subset's size under a split, this shard's
    /// part (padding included) under [`shard`](super::IteratorBuilder::shard).
    pub fn num_samples(&self) -> usize {
        self.order.len()
    }
    /// Samples per batch.
    pub fn batch_size(&self) -> usize {
        self.options.batch_size
    }
    /// The options the iterator was built with.
    pub fn options(&self) -> &BatchOptions {
        &self.options
    }
    /// Indices (into the source's samples) of the samples this iterator serves, in input
    /// order: a subset's members, or every sample.
    pub fn members(&self) -> &[usize] {
        &self.members
    }
    /// The source of the samples.
    pub fn source(&self) -> &S {
        &self.source
    }
    /// The generator used.
    pub fn generator(&self) -> &ImageDataGenerator {
        &self.datagen
    }
    /// The shape of one image of a batch: `(H, W, C)`, or `(C, H, W)` channels-first; with
    /// a [`pipeline`](super::IteratorBuilder::pipeline), its output size.
    pub fn image_shape(&self) -> [usize; 3] {
        let shape = self.source.image_shape(self.datagen.data_format());
        match &self.options.pipeline {
            // Pipelines are channels last (checked when the options are validated).
            Some(aug) => {
                let [h, w] = aug.output_size([shape[0], shape[1]]);
                [h, w, shape[2]]
            }
            None => shape,
        }
    }
    /// Jumps to epoch `e` (its permutation and transforms), e.g. to resume a run.
    pub fn set_epoch(&mut self, e: u64) {
        self.epoch = e;
        let m = self.members.len();
        let global: Vec<usize> = if self.options.shuffle {
            permutation(self.seed, Stream::Permutation, e, m)
                .into_iter()
                .map(|p| self.members[p])
                .collect()
        } else {
            self.members.clone()
        };
        (self.order, self.padding) = match self.options.shard {
            Some(shard) => shard.select(&global),
            None => (global, 0),
        };
    }
    /// How many of the last samples of batch `idx` are a shard's padding: repeats of samples
    /// that another shard serves in this epoch, there only so that every shard has as many
    /// batches (see [`ShardRemainder::Pad`](super::ShardRemainder::Pad)). Drop them when
    /// exact counts matter, e.g. in evaluation.
    pub fn batch_padding(&self, idx: usize) -> Result<usize> {
        check_index(idx, self.len())?;
        let start = idx * self.options.batch_size;
        let end = (start + self.options.batch_size).min(self.order.len());
        let first_pad = self.order.len() - self.padding;
        Ok(end.saturating_sub(first_pad.max(start)))
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
        let start = idx * self.options.batch_size;
        let end = (start + self.options.batch_size).min(self.order.len());
        Ok(&self.order[start..end])
    }

    /// Loads and augments samples `index` into a batch of images, in parallel, with their
    /// masks (when the source has masks) moved through the same draws. The images go into
    /// `reuse`'s memory when it holds enough, else into new memory.
    fn images(&self, index: &[usize], reuse: Vec<O>) -> Result<Moved<O>> {
        let shape = self.image_shape();
        let mut x = batch_buffer(index.len(), shape, reuse)
            .map_err(|bytes| memory_error("batch_size", shape, index.len(), bytes, O::NAME))?;
        let (epoch, seed, augment) = (self.epoch, self.seed, self.options.augments());
        let format = self.datagen.data_format();
        let (h, w, _) = format.hwc(shape);
        // Every sample's result is kept so the error reported is the first by position,
        // whatever the thread count.
        // A pipeline's masks have its output size.
        let mask_layout = self
            .source
            .mask_layout()
            .map(|layout| match self.options.pipeline {
                Some(_) => MaskLayout {
                    shape: [shape[0], shape[1], layout.shape[2]],
                    ..layout
                },
                None => layout,
            });
        let mut masks = mask_layout
            .map(|layout| MaskBatch::new(&layout, index.len()))
            .transpose()?;
        let mut mask_slots: Vec<_> = match &mut masks {
            Some(m) => m.slots().into_iter().map(Some).collect(),
            None => index.iter().map(|_| None).collect(),
        };
        let results: Vec<Result<SampleTargets>> = x
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(index.par_iter())
            .zip(mask_slots.par_drain(..))
            .map_init(
                || self.source.new_scratch(),
                |scratch, ((mut slot, &i), mask_slot)| {
                    let out = slot.as_slice_mut().expect("a batch slot is contiguous");
                    if let Some(aug) = &self.options.pipeline {
                        let draws = Draws {
                            seed,
                            epoch,
                            augment,
                        };
                        let (source, datagen) = (&self.source, &self.datagen);
                        let (run, sample) = ((aug, &self.options), (i, draws, mask_slot));
                        return pipeline_sample(source, datagen, run, sample, scratch, shape, out);
                    }
                    let params = self.source.with_image(i, format, scratch, |image| {
                        let mut rng = sample_rng(seed, epoch, i as u64);
                        O::sample_into_uninit(&self.datagen, image, out, &mut rng, augment)
                    })?;
                    let (datagen, options) = (&self.datagen, &self.options);
                    let sample = (i, mask_slot);
                    move_targets(&self.source, sample, datagen, &params, options, (h, w))
                },
            )
            .collect();
        let targets = results.into_iter().collect::<Result<Vec<_>>>()?;
        // SAFETY: every slot of x and of the masks was fully written (all results are Ok).
        let x = unsafe { x.assume_init() };
        let format = self.datagen.data_format();
        Ok((x, unsafe { gather(targets, masks, format)? }))
    }

    /// Writes the batch's samples with the saver, if any.
    fn save(&self, x: &Array4<O>, index: &[usize], y: Option<&crate::DynArray>) -> Result<()> {
        let Some(saver) = &self.saver else {
            return Ok(());
        };
        let classes = if saver.options().per_class_subfolders {
            self.source.save_classes(index, y)?
        } else {
            vec![String::new(); index.len()]
        };
        let format = self.datagen.data_format();
        x.axis_iter(Axis(0))
            .into_par_iter()
            .zip(index.par_iter())
            .zip(classes.par_iter())
            .try_for_each(|((img, &i), class): ((ArrayView3<'_, O>, _), &String)| {
                let class = Some(class.as_str()).filter(|c| !c.is_empty());
                O::save_sample(saver, img, format, self.epoch, i, class).map(|_| ())
            })
    }
}

impl<S: BatchSource, O: BatchElement> Sequence for BatchIterator<S, O> {
    type Item = Batch<O>;

    fn len(&self) -> usize {
        let (m, b) = (self.order.len(), self.options.batch_size);
        if self.options.drop_remainder {
            m / b
        } else {
            m.div_ceil(b)
        }
    }

    fn get(&self, idx: usize) -> Result<Batch<O>> {
        self.batch(idx, Vec::new())
    }

    fn get_into(&self, idx: usize, out: &mut Batch<O>) -> Result<()> {
        let reuse = std::mem::take(&mut out.x).into_raw_vec_and_offset().0;
        *out = self.batch(idx, reuse)?;
        Ok(())
    }

    fn on_epoch_end(&mut self) {
        self.set_epoch(self.epoch + 1);
    }
}

impl<S: BatchSource, O: BatchElement> BatchIterator<S, O> {
    /// Batch `idx`, its images written into `reuse`'s memory when it holds enough.
    fn batch(&self, idx: usize, reuse: Vec<O>) -> Result<Batch<O>> {
        let index = self.batch_indices(idx)?.to_vec();
        let (x, targets) = self.images(&index, reuse)?;
        let labels = self.source.labels(&index)?;
        let y = match labels.y_is_x {
            true => Some(O::into_dyn(x.clone())),
            false => labels.y,
        };
        self.save(&x, &index, y.as_ref())?;
        Ok(Batch {
            x,
            y,
            sample_weight: labels.sample_weight,
            extras: labels.extras,
            masks: targets.masks,
            boxes: targets.boxes,
            keypoints: targets.keypoints,
            index,
            epoch: self.epoch,
        })
    }
}

/// A batch's images, with its masks, boxes and keypoints when the source has them.
type Moved<O> = (Array4<O>, BatchTargets);

/// An uninitialized batch of `n` images of `shape`, or the bytes it needed when that much
/// memory cannot be reserved: a size from the user never aborts the process.
pub(super) fn new_batch<O: Copy>(
    n: usize,
    shape: [usize; 3],
) -> std::result::Result<Array4<MaybeUninit<O>>, u128> {
    batch_buffer(n, shape, Vec::new())
}

/// [`new_batch`] in `reuse`'s memory when its capacity holds the batch (so a steady-state
/// epoch touches no fresh page), else in memory reserved for it.
fn batch_buffer<O: Copy>(
    n: usize,
    shape: [usize; 3],
    reuse: Vec<O>,
) -> std::result::Result<Array4<MaybeUninit<O>>, u128> {
    let wanted = || shape.iter().fold(n as u128, |a, &d| a * d as u128) * size_of::<O>() as u128;
    let len = shape
        .iter()
        .try_fold(n, |a, &d| a.checked_mul(d))
        .filter(|&l| {
            l.checked_mul(size_of::<O>())
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or_else(wanted)?;
    let mut v = uninit_vec(reuse);
    v.clear();
    v.try_reserve_exact(len).map_err(|_| wanted())?;
    // SAFETY: MaybeUninit needs no initialization; the capacity is `len`.
    unsafe { v.set_len(len) };
    let [a, b, c] = shape;
    Ok(Array4::from_shape_vec((n, a, b, c), v).expect("the length is the product of the shape"))
}

pub(super) fn memory_error(
    param: &'static str,
    shape: [usize; 3],
    n: usize,
    bytes: u128,
    ty: &str,
) -> Error {
    Error::invalid(
        param,
        format!("a batch of {n} images of shape {shape:?} in {ty}: {bytes} bytes"),
        "a batch that fits in memory (use smaller images or a smaller batch_size)",
    )
}

/// `v`'s memory as uninitialized slots (the same allocation; `O: Copy` has no drop).
fn uninit_vec<O: Copy>(v: Vec<O>) -> Vec<MaybeUninit<O>> {
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: MaybeUninit<O> has O's size and alignment, so the allocation, length and
    // capacity describe the same memory; `v` is not dropped.
    unsafe { Vec::from_raw_parts(ptr.cast::<MaybeUninit<O>>(), len, cap) }
}
