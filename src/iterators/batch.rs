//! `Batch`: what one index of an iterator yields.

use ndarray::Array4;

use crate::DynArray;

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
    /// let b = Batch { x: Array4::<f32>::zeros((2, 4, 4, 3)), y: None, sample_weight: None, extras: vec![], index: vec![0, 1], epoch: 0 };
    /// let (data, shape) = b.into_x_vec();
    /// assert_eq!((data.len(), shape), (96, [2, 4, 4, 3]));
    /// ```
    pub fn into_x_vec(self) -> (Vec<O>, [usize; 4]) {
        let s = self.x.shape();
        let shape = [s[0], s[1], s[2], s[3]];
        let x = if self.x.is_standard_layout() {
            self.x
        } else {
            self.x.as_standard_layout().into_owned()
        };
        let (v, offset) = x.into_raw_vec_and_offset();
        debug_assert!(offset.unwrap_or(0) == 0);
        (v, shape)
    }
}
