//! `Batch`: what one index of an iterator yields.

use ndarray::Array4;

use crate::DynArray;
use crate::array::into_row_major_vec;

/// One batch: the augmented images and whatever travels with them, aligned sample by sample.
///
/// `x` is a standard-layout (C-order) array, so [`Batch::into_x_vec`] hands it to another
/// framework (burn, candle, tch) as one contiguous buffer without a copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<O = f32> {
    /// Images `(n, H, W, C)` or `(n, C, H, W)`.
    pub x: Array4<O>,
    /// Labels or targets of these samples, in their own dtype and trailing shape.
    pub y: Option<DynArray>,
    /// Per-sample weights.
    pub sample_weight: Option<DynArray>,
    /// Extra arrays passed through untouched (Keras' `(x, [misc…])` tuple).
    pub extras: Vec<DynArray>,
    /// The samples' masks `(n, H, W, K)` in their own dtype, moved with their images, when
    /// the source has masks (see [`FlowBuilder::masks`](super::FlowBuilder::masks)).
    pub masks: Option<DynArray>,
    /// The samples' boxes and class ids moved with their images, when the source has boxes
    /// (see [`FlowBuilder::boxes`](super::FlowBuilder::boxes)).
    pub boxes: Option<crate::targets::BatchBoxes>,
    /// The samples' keypoints and class ids moved with their images, when the source has
    /// keypoints (see [`FlowBuilder::keypoints`](super::FlowBuilder::keypoints)).
    pub keypoints: Option<crate::targets::BatchKeypoints>,
    /// Index of each sample in the arrays given to the iterator.
    pub index: Vec<usize>,
    /// The epoch this batch belongs to.
    pub epoch: u64,
}

impl<O: Clone> Batch<O> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The images as one contiguous row-major buffer plus their shape, without copying.
    ///
    /// ```
    /// use augflow::iterators::Batch;
    /// use ndarray::Array4;
    /// let b = Batch { x: Array4::<f32>::zeros((2, 4, 4, 3)), y: None, sample_weight: None, extras: vec![], masks: None, boxes: None, keypoints: None, index: vec![0, 1], epoch: 0 };
    /// let (data, shape) = b.into_x_vec();
    /// assert_eq!((data.len(), shape), (96, [2, 4, 4, 3]));
    /// ```
    pub fn into_x_vec(self) -> (Vec<O>, [usize; 4]) {
        let parts = self.into_parts();
        (parts.x, parts.x_shape)
    }

    /// The images, the labels, the sample weights and the extras as contiguous row-major
    /// buffers with their shapes: what a tensor constructor of another framework takes, with
    /// no conversion. The images move out without a copy (a batch is built in standard
    /// layout); the labels, weights and extras keep their own dtype and move out as a typed
    /// `Vec` with [`DynArray::into_vec`], also without a copy.
    ///
    /// In candle, for instance: `Tensor::from_vec(parts.x, &parts.x_shape, &device)` and, for
    /// `i64` class ids, `Tensor::from_vec(y.into_vec::<i64>()?, y_shape, &device)`; in burn,
    /// `TensorData::new(parts.x, parts.x_shape)`.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::{Array1, Array4};
    ///
    /// let datagen = ImageDataGenerator::builder().horizontal_flip(true).build()?;
    /// let x = Array4::<u8>::zeros((5, 8, 6, 3));
    /// let y = Array1::from_iter(0..5_i64);
    /// let it = datagen.flow(x).y(y).batch_size(4).shuffle(false).seed(1).build()?;
    ///
    /// let parts = it.get(0)?.into_parts();
    /// assert_eq!(parts.x_shape, [4, 8, 6, 3]);
    /// assert_eq!(parts.x.len(), 4 * 8 * 6 * 3);
    /// let y = parts.y.expect("flow was given labels");
    /// assert_eq!(y.shape(), &[4]);
    /// assert_eq!(y.into_vec::<i64>()?, [0, 1, 2, 3]); // still i64, in batch order
    /// assert!(parts.sample_weight.is_none());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn into_parts(self) -> BatchParts<O> {
        let s = self.x.shape();
        let x_shape = [s[0], s[1], s[2], s[3]];
        BatchParts {
            x: into_row_major_vec(self.x),
            x_shape,
            y: self.y,
            sample_weight: self.sample_weight,
            extras: self.extras,
            masks: self.masks,
            boxes: self.boxes,
            keypoints: self.keypoints,
        }
    }
}

/// The arrays of a [`Batch`] as contiguous row-major buffers, from [`Batch::into_parts`].
///
/// `x` holds `x_shape[0] · x_shape[1] · x_shape[2] · x_shape[3]` values in row-major order,
/// `(n, H, W, C)` or `(n, C, H, W)` as the iterator was set up. The other arrays keep their
/// dtype and shape; [`DynArray::into_vec`] moves each out as a typed `Vec`.
///
/// ```
/// # use augflow::{ImageDataGenerator, Sequence};
/// # let datagen = ImageDataGenerator::builder().build()?;
/// # let it = datagen.flow(ndarray::Array4::<u8>::zeros((2, 3, 3, 1))).build()?;
/// let augflow::iterators::BatchParts { x, x_shape, .. } = it.get(0)?.into_parts();
/// assert_eq!(x.len(), x_shape.iter().product::<usize>());
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BatchParts<O = f32> {
    /// The images, row-major.
    pub x: Vec<O>,
    /// The shape of the images: `(n, H, W, C)` or `(n, C, H, W)`.
    pub x_shape: [usize; 4],
    /// Labels or targets, in their own dtype and trailing shape.
    pub y: Option<DynArray>,
    /// Per-sample weights.
    pub sample_weight: Option<DynArray>,
    /// Extra arrays passed through untouched (Keras' `(x, [misc…])` tuple).
    pub extras: Vec<DynArray>,
    /// The samples' masks, `(n, H, W, K)` row-major in their own dtype.
    pub masks: Option<DynArray>,
    /// The samples' boxes and class ids (see [`BatchBoxes::padded`](crate::targets::BatchBoxes::padded)
    /// for fixed shapes).
    pub boxes: Option<crate::targets::BatchBoxes>,
    /// The samples' keypoints, class ids and visibility.
    pub keypoints: Option<crate::targets::BatchKeypoints>,
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array4};

    use super::*;

    fn batch(x: Array4<f32>) -> Batch<f32> {
        let n = x.shape()[0];
        Batch {
            x,
            y: Some(DynArray::from(Array1::from_iter(0..n as i64))),
            sample_weight: Some(DynArray::from(vec![0.5_f64; n])),
            extras: vec![DynArray::from(vec![7_u8; n])],
            masks: None,
            boxes: None,
            keypoints: None,
            index: (0..n).collect(),
            epoch: 0,
        }
    }

    #[test]
    fn into_parts_keeps_every_array_row_major_in_its_own_dtype() {
        let x = Array4::from_shape_fn((2, 2, 3, 1), |(n, h, w, _)| (n * 100 + h * 10 + w) as f32);
        let p = batch(x.clone()).into_parts();
        assert_eq!(p.x_shape, [2, 2, 3, 1]);
        assert_eq!(p.x, x.iter().copied().collect::<Vec<_>>());
        assert_eq!(p.x[4], 11.0); // sample 0, row 1, column 1
        assert_eq!(p.y.unwrap().into_vec::<i64>().unwrap(), [0, 1]);
        assert_eq!(
            p.sample_weight.unwrap().into_vec::<f64>().unwrap(),
            [0.5, 0.5]
        );
        assert_eq!(p.extras[0].clone().into_vec::<u8>().unwrap(), [7, 7]);
    }

    #[test]
    fn into_parts_of_channels_first_images_in_another_memory_order_is_row_major() {
        // (n, H, W, C) data viewed as (n, C, H, W): not standard layout, so copied in order.
        let nhwc =
            Array4::from_shape_fn((1, 2, 2, 3), |(_, h, w, c)| (h * 100 + w * 10 + c) as f32);
        let nchw = nhwc.permuted_axes([0, 3, 1, 2]);
        assert!(!nchw.is_standard_layout());
        let p = batch(nchw.clone()).into_parts();
        assert_eq!(p.x_shape, [1, 3, 2, 2]);
        assert_eq!(p.x, nchw.iter().copied().collect::<Vec<_>>());
        assert_eq!(&p.x[..4], [0.0, 10.0, 100.0, 110.0]); // channel 0, all pixels
    }

    #[test]
    fn into_parts_moves_the_image_buffer_without_copying() {
        let x = Array4::<f32>::zeros((3, 4, 4, 3));
        let ptr = x.as_ptr();
        assert_eq!(batch(x).into_parts().x.as_ptr(), ptr);
    }

    #[test]
    fn into_x_vec_of_images_sliced_in_place_holds_only_those_images() {
        let mut x = Array4::from_shape_fn((4, 1, 1, 2), |(n, _, _, c)| (n * 10 + c) as f32);
        x.slice_collapse(ndarray::s![2.., .., .., ..]);
        let mut b = batch(Array4::zeros((2, 1, 1, 2)));
        b.x = x;
        assert_eq!(b.into_x_vec(), (vec![20.0, 21.0, 30.0, 31.0], [2, 1, 1, 2]));
    }
}
