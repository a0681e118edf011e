//! What a source of samples is to the batch engine: how many samples it has, how to show
//! sample `i`'s pixels, and which labels travel with a batch of samples. Everything else
//! (order, subsets, augmentation, saving, output type, errors) is the engine's.

use ndarray::{ArrayView2, ArrayView3};

use super::BatchOptions;
use super::subset::split_rows;
use crate::generator::ImageDataGenerator;
use crate::targets::SampleMask;
use crate::transform::{DataFormat, Pixel};
use crate::{DynArray, Result};

/// A source of samples for the batch engine ([`BatchIterator`](super::BatchIterator)): an
/// array's rows, the files of a folder, the rows of a CSV file.
///
/// A source is indexed `0..num_samples()`; the engine decides which of those indices an
/// epoch serves and in which order, and draws sample `i`'s transform from `(seed, epoch, i)`.
///
/// ```
/// use augflow::iterators::{BatchSource, Labels};
/// use augflow::{DataFormat, Result};
/// use ndarray::{Array3, ArrayView3};
///
/// /// Flat grey images, sample `i` of brightness `i`.
/// #[derive(Debug, Clone)]
/// struct Greys(usize);
/// impl BatchSource for Greys {
///     type Pixel = u8;
///     type Scratch = ();
///     fn num_samples(&self) -> usize { self.0 }
///     fn image_shape(&self, _: DataFormat) -> [usize; 3] { [4, 4, 1] }
///     fn new_scratch(&self) {}
///     fn with_image<R>(&self, i: usize, _: DataFormat, _: &mut (),
///                      f: impl FnOnce(ArrayView3<'_, u8>) -> Result<R>) -> Result<R> {
///         f(Array3::from_elem((4, 4, 1), i as u8).view())
///     }
///     fn labels(&self, _: &[usize]) -> Result<Labels> { Ok(Labels::default()) }
/// }
/// let datagen = augflow::ImageDataGenerator::builder().build()?;
/// let it = augflow::iterators::IteratorBuilder::new(&datagen, Greys(5)).batch_size(2).shuffle(false).build()?;
/// use augflow::Sequence;
/// assert_eq!(it.get(2)?.x[[0, 0, 0, 0]], 4.0);
/// # Ok::<(), augflow::Error>(())
/// ```
pub trait BatchSource: Sync + Send + Clone {
    /// The element type of the images before augmentation.
    type Pixel: Pixel;
    /// Per-thread working memory (a resizer, a decode buffer), made once per thread and task.
    type Scratch;

    /// Number of samples, indexed `0..num_samples()`.
    fn num_samples(&self) -> usize;

    /// The shape of one output image: `(H, W, C)`, or `(C, H, W)` channels-first.
    fn image_shape(&self, format: DataFormat) -> [usize; 3];

    /// Makes one thread's scratch.
    fn new_scratch(&self) -> Self::Scratch;

    /// Calls `f` with sample `i`'s image, in `format`'s layout and of
    /// [`image_shape`](Self::image_shape). Errors (an unreadable file) name the sample.
    fn with_image<R>(
        &self,
        i: usize,
        format: DataFormat,
        scratch: &mut Self::Scratch,
        f: impl FnOnce(ArrayView3<'_, Self::Pixel>) -> Result<R>,
    ) -> Result<R>;

    /// Calls `f` with sample `i`'s image channels last, at the size it is stored at, before
    /// any resize to [`image_shape`](Self::image_shape): the engine asks for it when an
    /// augmentation pipeline sets the output size itself, so that a file is resampled once,
    /// straight to the pipeline's size. By default the image of
    /// [`with_image`](Self::with_image).
    fn with_stored_image<R>(
        &self,
        i: usize,
        scratch: &mut Self::Scratch,
        f: impl FnOnce(ArrayView3<'_, Self::Pixel>) -> Result<R>,
    ) -> Result<R> {
        self.with_image(i, DataFormat::ChannelsLast, scratch, f)
    }

    /// The dtype and shape all of this source's masks have, when known before any is read
    /// (masks from one array): the engine then writes each moved mask straight into the
    /// batch instead of stacking per-sample arrays. The default is `None`, which always
    /// works.
    fn mask_layout(&self) -> Option<crate::targets::MaskLayout> {
        None
    }

    /// The mask of sample `i`, `(H, W, K)` channels last and of the size of
    /// [`image_shape`](Self::image_shape), for sources with masks: the engine moves it
    /// through the sample's draw with its image. Borrowed from an array, or decoded from a
    /// file (errors name the file). The default has none.
    fn mask(&self, i: usize) -> Result<Option<SampleMask<'_>>> {
        let _ = i;
        Ok(None)
    }

    /// The boxes `(k, 4)` of sample `i`, in the format of the iterator's
    /// [`BoxOptions`](crate::targets::BoxOptions) and pixels of the output image, and their
    /// class ids, for sources with boxes: the engine moves them through the sample's draw.
    /// The default has none.
    fn boxes(&self, i: usize) -> Result<Option<(ArrayView2<'_, f32>, &[i64])>> {
        let _ = i;
        Ok(None)
    }

    /// The keypoints `(k, 2)` of sample `i` and their class ids, for sources with keypoints:
    /// the engine moves them through the sample's draw. The default has none.
    fn keypoints(&self, i: usize) -> Option<(ArrayView2<'_, f32>, &[i64])> {
        let _ = i;
        None
    }

    /// The labels, weights and extra arrays of samples `index`, row `k` belonging to sample
    /// `index[k]`.
    fn labels(&self, index: &[usize]) -> Result<Labels>;

    /// A short description of the data that changes when the data does (shapes, types, file
    /// names), stored in an [`IteratorState`](super::IteratorState) so that a state is not
    /// restored over other data. By default the number of samples.
    fn fingerprint(&self) -> String {
        format!("{} samples", self.num_samples())
    }

    /// The class name of each of samples `index`, for `save_to_dir` with one sub-folder per
    /// class; `y` is the batch's labels. By default the class of each row of `y` (its value,
    /// or the index of the largest entry of a one-hot row), or none without labels. An empty
    /// name saves into the folder itself.
    fn save_classes(&self, index: &[usize], y: Option<&DynArray>) -> Result<Vec<String>> {
        match y {
            Some(y) => y.class_names(),
            None => Ok(vec![String::new(); index.len()]),
        }
    }
}

/// What travels with a batch's images, aligned with its samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels {
    /// The labels or targets (`Batch::y`). [`Labels::y_is_x`] asks for the images instead.
    pub y: Option<DynArray>,
    /// Whether `y` is a copy of the batch's images (Keras' class mode `input`).
    pub y_is_x: bool,
    /// Per-sample weights.
    pub sample_weight: Option<DynArray>,
    /// Arrays passed through untouched (`Batch::extras`).
    pub extras: Vec<DynArray>,
}

/// How a builder's description of a source becomes the source: reads, lists and checks
/// what it needs (the files of a folder, the rows of a CSV file), and says which samples
/// the iterator serves.
pub trait SourceSpec: Sized {
    /// The source it builds.
    type Source: BatchSource;

    /// Validates the description against the generator and the options and builds the
    /// source. Returns the sample indices the iterator serves (a subset's members), in
    /// input order; `None` serves every sample.
    fn into_source(
        self,
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(Self::Source, Option<Vec<usize>>)>;

    /// The name of the parameter that sets the image size, for errors about batch memory.
    fn size_parameter(&self) -> &'static str;
}

/// A source is its own description: it serves every sample, or a subset's part of them
/// by Keras' rule (validation is the first `int(n · validation_split)` samples).
impl<S: BatchSource> SourceSpec for S {
    type Source = S;

    fn into_source(
        self,
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(S, Option<Vec<usize>>)> {
        let split = datagen.config().validation_split;
        let members = split_rows(self.num_samples(), split, options.subset, None, None)?;
        Ok((self, Some(members)))
    }

    fn size_parameter(&self) -> &'static str {
        "the source's image_shape"
    }
}
