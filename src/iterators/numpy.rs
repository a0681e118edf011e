//! Arrays as a source: Keras' `flow(x, y)` over in-memory images, held without a copy.

use ndarray::{Array2, ArrayView2, ArrayView3, Axis};

use super::images::Images;
use super::subset::split_rows;
use super::{BatchIterator, BatchOptions, BatchSource, IteratorBuilder, Labels, SourceSpec};
use crate::generator::ImageDataGenerator;
use crate::targets::{MaskArray, PerSample, SampleMask, check_boxes, check_keypoints};
use crate::transform::{DataFormat, Pixel, image_dims};
use crate::{DynArray, Error, Result};

/// The samples of `flow`: rows of an `(N, H, W, C)` (or `(N, C, H, W)`) array, with the
/// arrays that travel with them. Held without copying (see [`Images`]).
#[derive(Debug, Clone)]
pub struct ArraySource<T: Pixel> {
    x: Images<T>,
    y: Option<DynArray>,
    sample_weight: Option<DynArray>,
    extras: Vec<DynArray>,
    masks: Option<MaskArray>,
    boxes: Option<PerSample>,
    keypoints: Option<PerSample>,
}

/// Per image, a `(k, d)` array of boxes or keypoints; per image, one class id per row.
type BoxesAndLabels = (Vec<Array2<f32>>, Vec<Vec<i64>>);

/// What [`ImageDataGenerator::flow`] builds from: the arrays, and how a subset is split.
#[derive(Debug, Clone)]
pub struct ArraySpec<T: Pixel> {
    source: ArraySource<T>,
    masks: Option<DynArray>,
    /// Each image's boxes and their class ids, checked when the source is built.
    boxes: Option<BoxesAndLabels>,
    /// Each image's keypoints and their class ids, likewise.
    keypoints: Option<BoxesAndLabels>,
    ignore_class_split: bool,
    shuffle_before_split: Option<u64>,
}

/// Builds a [`NumpyArrayIterator`]: Keras' `flow()` arguments.
pub type FlowBuilder<T, O = f32> = IteratorBuilder<ArraySpec<T>, O>;

/// Keras' `NumpyArrayIterator`: batches over in-memory arrays (see [`BatchIterator`]).
pub type NumpyArrayIterator<T, O = f32> = BatchIterator<ArraySource<T>, O>;

impl ImageDataGenerator {
    /// Keras' `flow(x)`: an iterator of augmented batches over in-memory images
    /// `(N, H, W, C)` (or `(N, C, H, W)` for channels-first) of `u8`, `u16`, `f32` or `f64`.
    /// Labels and other arrays are added with [`y`](FlowBuilder::y),
    /// [`sample_weight`](FlowBuilder::sample_weight) and [`extra`](FlowBuilder::extra).
    ///
    /// `x` is held without copying (an owned `Array4` is moved in, an `ArcArray` shared, a
    /// `.npy` memory-mapped with [`Images::open_npy`]); `u8` stays `u8` until a sample is
    /// written into its batch.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::{Array1, Array4};
    ///
    /// let datagen = ImageDataGenerator::builder().rotation_range(20.0).horizontal_flip(true).rescale(1.0 / 255.0).build()?;
    /// let x = Array4::<u8>::zeros((10, 8, 8, 3));
    /// let y = Array1::from_iter(0..10_i64);
    /// let it = datagen.flow(x).y(y).batch_size(4).seed(42).build()?;
    /// assert_eq!(it.len(), 3);
    /// let b = it.get(2)?;
    /// assert_eq!(b.x.shape(), &[2, 8, 8, 3]);
    /// assert_eq!(b.y.unwrap().len(), 2);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn flow<T: Pixel>(&self, x: impl Into<Images<T>>) -> FlowBuilder<T> {
        let source = ArraySource {
            x: x.into(),
            y: None,
            sample_weight: None,
            extras: Vec::new(),
            masks: None,
            boxes: None,
            keypoints: None,
        };
        IteratorBuilder::new(
            self,
            ArraySpec {
                source,
                masks: None,
                boxes: None,
                keypoints: None,
                ignore_class_split: false,
                shuffle_before_split: None,
            },
        )
    }
}

impl<T: Pixel, O> FlowBuilder<T, O> {
    /// Labels or targets of every sample (class ids, one-hot rows, regression targets), in
    /// any dtype; each batch's `y` holds the rows of its samples.
    pub fn y(mut self, y: impl Into<DynArray>) -> Self {
        self.spec.source.y = Some(y.into());
        self
    }
    /// Per-sample weights, returned aligned with each batch's samples (also under subsets,
    /// unlike Keras, which misaligns them — spec §13 step 5).
    pub fn sample_weight(mut self, w: impl Into<DynArray>) -> Self {
        self.spec.source.sample_weight = Some(w.into());
        self
    }
    /// An extra array passed through untouched (Keras' `x = (images, [misc…])`).
    pub fn extra(mut self, a: impl Into<DynArray>) -> Self {
        self.spec.source.extras.push(a.into());
        self
    }
    /// Segmentation masks, one per image: `(N, H, W)`, or `(N, H, W, K)` channels-last and
    /// `(N, K, H, W)` under [`DataFormat::ChannelsFirst`](crate::DataFormat), of `u8` or `u16`
    /// class ids or `f32` values; batches give them in the batch's layout, `(n, H, W, K)` or
    /// `(n, K, H, W)` (a `(N, H, W)` mask as `K = 1`). Each batch's
    /// [`masks`](super::Batch::masks) holds its samples' masks moved through their images'
    /// draws: the same map and flips, nearest sampling (ids are never blended), the
    /// generator's fill mode with [`mask_cval`](IteratorBuilder::mask_cval) for `constant`,
    /// and none of the photometric steps.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::{Array3, Array4};
    ///
    /// let datagen = ImageDataGenerator::builder().rotation_range(90.0).horizontal_flip(true).build()?;
    /// let x = Array4::<u8>::zeros((6, 16, 16, 3));
    /// let masks = Array3::<u8>::from_shape_fn((6, 16, 16), |(_, r, _)| u8::from(r < 8));
    /// let it = datagen.flow(x).masks(masks).mask_cval(255.0).batch_size(4).seed(1).build()?;
    /// let m = it.get(0)?.masks.unwrap();
    /// assert_eq!(m.shape(), &[4, 16, 16, 1]);
    /// assert!(m.to_vec::<u8>()?.iter().all(|&v| v <= 1 || v == 255)); // ids, or the fill
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn masks(mut self, masks: impl Into<DynArray>) -> Self {
        self.spec.masks = Some(masks.into());
        self
    }
    /// Bounding boxes, `boxes[i]` of shape `(k_i, 4)` for image `i`, in the format of
    /// [`box_options`](IteratorBuilder::box_options) (default `pascal_voc`, pixel corners),
    /// with one class id per box in `labels[i]`. Each batch's
    /// [`boxes`](super::Batch::boxes) holds its samples' boxes moved through their images'
    /// draws: corners mapped, the enclosing box taken, clipped to the image, and dropped
    /// with their labels below `min_area` or `min_visibility` (see [`crate::targets`]).
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::{Array4, array};
    ///
    /// let datagen = ImageDataGenerator::builder().horizontal_flip(true).build()?;
    /// let x = Array4::<u8>::zeros((2, 10, 10, 3));
    /// let boxes = vec![array![[1.0_f32, 2.0, 4.0, 6.0]], array![[0.0_f32, 0.0, 10.0, 10.0]]];
    /// let it = datagen.flow(x).boxes(boxes, vec![vec![7], vec![1]]).shuffle(false).seed(0).build()?;
    /// let b = it.get(0)?.boxes.unwrap();
    /// assert_eq!(b.labels, [vec![7], vec![1]]);
    /// let first = b.boxes[0].row(0).to_vec();
    /// assert!(first == [1.0, 2.0, 4.0, 6.0] || first == [6.0, 2.0, 9.0, 6.0]); // maybe flipped
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn boxes(mut self, boxes: Vec<Array2<f32>>, labels: Vec<Vec<i64>>) -> Self {
        self.spec.boxes = Some((boxes, labels));
        self
    }
    /// Keypoints, `points[i]` of shape `(k_i, 2)` for image `i`: `(x, y)` in pixel corners
    /// (the centre of pixel `(r, c)` is `(c + 0.5, r + 0.5)`), with one class id per point in
    /// `labels[i]`. Each batch's [`keypoints`](super::Batch::keypoints) holds them moved
    /// through their images' draws; points leaving the image are dropped, or kept and marked
    /// invisible with [`outside_points`](IteratorBuilder::outside_points).
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::{Array4, array};
    ///
    /// let datagen = ImageDataGenerator::builder().vertical_flip(true).build()?;
    /// let x = Array4::<u8>::zeros((1, 10, 10, 3));
    /// let it = datagen.flow(x).keypoints(vec![array![[2.5_f32, 1.5]]], vec![vec![4]]).seed(0).build()?;
    /// let k = it.get(0)?.keypoints.unwrap();
    /// let p = k.points[0].row(0).to_vec();
    /// assert!(p == [2.5, 1.5] || p == [2.5, 8.5]); // maybe flipped
    /// assert_eq!((k.labels[0][0], k.visible[0][0]), (4, true));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn keypoints(mut self, points: Vec<Array2<f32>>, labels: Vec<Vec<i64>>) -> Self {
        self.spec.keypoints = Some((points, labels));
        self
    }
    /// Skip the check that both parts of the split hold the same set of classes.
    pub fn ignore_class_split(mut self, on: bool) -> Self {
        self.spec.ignore_class_split = on;
        self
    }
    /// Beyond Keras: shuffle the samples with `seed` before splitting (Keras always takes
    /// the first samples as validation, which is wrong for data sorted by class).
    pub fn shuffle_before_split(mut self, seed: u64) -> Self {
        self.spec.shuffle_before_split = Some(seed);
        self
    }
}

impl<T: Pixel> SourceSpec for ArraySpec<T> {
    type Source = ArraySource<T>;

    fn into_source(
        self,
        datagen: &ImageDataGenerator,
        options: &BatchOptions,
    ) -> Result<(ArraySource<T>, Option<Vec<usize>>)> {
        let cfg = datagen.config();
        let src = self.source;
        let shape = src.x.shape().to_vec();
        let n = shape[0];
        if n == 0 {
            return Err(Error::Empty {
                name: "x",
                expected: "at least one image".into(),
            });
        }
        image_dims(&shape[1..], cfg.data_format, "x")?;
        if let Some(warning) = datagen.layout_warning(&shape) {
            log::warn!("{warning}");
        }
        let mut src = src;
        src.check_lengths(n)?;
        let (h, w, _) = cfg.data_format.hwc([shape[1], shape[2], shape[3]]);
        let targets = (self.masks, self.boxes, self.keypoints);
        src.attach_targets(targets, options, (n, h, w), cfg.data_format)?;
        let labels = src.y.as_ref().filter(|_| !self.ignore_class_split);
        let members = split_rows(
            n,
            cfg.validation_split,
            options.subset,
            self.shuffle_before_split,
            labels,
        )?;
        Ok((src, Some(members)))
    }

    fn size_parameter(&self) -> &'static str {
        "x"
    }
}

impl<T: Pixel> ArraySource<T> {
    /// Checks the masks, boxes and keypoints given to `flow` against `n` images of `h × w`
    /// and keeps them.
    fn attach_targets(
        &mut self,
        (masks, boxes, keypoints): (
            Option<DynArray>,
            Option<BoxesAndLabels>,
            Option<BoxesAndLabels>,
        ),
        options: &BatchOptions,
        (n, h, w): (usize, usize, usize),
        format: DataFormat,
    ) -> Result<()> {
        if let Some(m) = masks {
            self.masks = Some(MaskArray::new(m, (n, h, w), format)?);
            self.masks
                .as_ref()
                .map(|m| m.check_cval(options.mask_cval))
                .transpose()?;
        }
        if let Some((rows, labels)) = boxes {
            let opts = options.box_options;
            opts.validate()?;
            let check = |b: ArrayView2<'_, f32>, i| check_boxes(b, opts.format, h, w, i);
            self.boxes = Some(PerSample::new("boxes", rows, labels, n, check)?);
        }
        if let Some((rows, labels)) = keypoints {
            let check = |p: ArrayView2<'_, f32>, i| check_keypoints(p, i);
            self.keypoints = Some(PerSample::new("keypoints", rows, labels, n, check)?);
        }
        Ok(())
    }

    /// Every array that travels with `x` has one row per image.
    fn check_lengths(&self, n: usize) -> Result<()> {
        let check = |name: String, a: &DynArray| -> Result<()> {
            let got = if a.ndim() == 0 { 0 } else { a.len() };
            if a.ndim() == 0 || got != n {
                return Err(Error::LengthMismatch {
                    name,
                    got,
                    other: "x".into(),
                    expected: n,
                });
            }
            Ok(())
        };
        if let Some(y) = &self.y {
            check("y".into(), y)?;
        }
        if let Some(w) = &self.sample_weight {
            check("sample_weight".into(), w)?;
        }
        for (k, e) in self.extras.iter().enumerate() {
            check(format!("extras[{k}]"), e)?;
        }
        Ok(())
    }

    /// The images.
    pub fn x(&self) -> &Images<T> {
        &self.x
    }
}

impl<T: Pixel> BatchSource for ArraySource<T> {
    type Pixel = T;
    type Scratch = ();

    fn num_samples(&self) -> usize {
        self.x.view().len_of(Axis(0))
    }

    fn image_shape(&self, _: DataFormat) -> [usize; 3] {
        let [_, h, w, c] = self.x.shape();
        [h, w, c]
    }

    fn new_scratch(&self) {}

    fn with_image<R>(
        &self,
        i: usize,
        _: DataFormat,
        _: &mut (),
        f: impl FnOnce(ArrayView3<'_, T>) -> Result<R>,
    ) -> Result<R> {
        let out = f(self.x.view().index_axis(Axis(0), i));
        self.x.release(i);
        out
    }

    fn fingerprint(&self) -> String {
        let shape = |a: &Option<DynArray>| a.as_ref().map(|a| (a.dtype(), a.shape().to_vec()));
        let extras: Vec<_> = self
            .extras
            .iter()
            .map(|a| (a.dtype(), a.shape().to_vec()))
            .collect();
        let masks = self.masks.as_ref().map(MaskArray::describe);
        let boxes = self.boxes.as_ref().map(PerSample::describe);
        let keypoints = self.keypoints.as_ref().map(PerSample::describe);
        format!(
            "x {:?} of {}, y {:?}, sample_weight {:?}, extras {extras:?}, masks {masks:?}, boxes {boxes:?}, keypoints {keypoints:?}",
            self.x.shape(),
            std::any::type_name::<T>(),
            shape(&self.y),
            shape(&self.sample_weight),
        )
    }

    fn mask_layout(&self) -> Option<crate::targets::MaskLayout> {
        self.masks.as_ref().map(|m| m.layout())
    }

    fn mask(&self, i: usize) -> Result<Option<SampleMask<'_>>> {
        Ok(self.masks.as_ref().map(|m| m.view(i)))
    }

    fn boxes(&self, i: usize) -> Result<Option<(ArrayView2<'_, f32>, &[i64])>> {
        Ok(self.boxes.as_ref().map(|b| b.get(i)))
    }

    fn keypoints(&self, i: usize) -> Option<(ArrayView2<'_, f32>, &[i64])> {
        self.keypoints.as_ref().map(|k| k.get(i))
    }

    fn labels(&self, index: &[usize]) -> Result<Labels> {
        let pick = |a: &DynArray| a.select(index);
        Ok(Labels {
            y: self.y.as_ref().map(pick).transpose()?,
            y_is_x: false,
            sample_weight: self.sample_weight.as_ref().map(pick).transpose()?,
            extras: self.extras.iter().map(pick).collect::<Result<_>>()?,
        })
    }
}
