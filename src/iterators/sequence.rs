//! The `Sequence` trait: a finite, indexable, epoch-aware source of batches (Keras' `Sequence`).

use crate::Result;

/// A finite source of batches, indexable like Keras' `keras.utils.Sequence`.
///
/// `get` takes `&self`, so several batches can be built at once from several threads; the
/// only state change is [`Sequence::on_epoch_end`], which takes `&mut self`.
///
/// ```
/// use augflow::{Result, Sequence};
///
/// struct Squares(usize);
/// impl Sequence for Squares {
///     type Item = usize;
///     fn len(&self) -> usize { self.0 }
///     fn get(&self, idx: usize) -> Result<usize> {
///         augflow::iterators::check_index(idx, self.0)?;
///         Ok(idx * idx)
///     }
///     fn on_epoch_end(&mut self) {}
/// }
/// let s = Squares(4);
/// assert_eq!(s.get(3).unwrap(), 9);
/// assert!(s.get(4).is_err());
/// ```
pub trait Sequence: Sync {
    /// What one index yields (a batch).
    type Item: Send;

    /// Number of batches in one epoch.
    fn len(&self) -> usize;

    /// Whether an epoch holds no batch.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Builds batch `idx` of the current epoch. Errors with [`crate::Error::IndexOutOfRange`]
    /// when `idx >= len()`.
    fn get(&self, idx: usize) -> Result<Self::Item>;

    /// Moves to the next epoch (new permutation, new random transforms).
    fn on_epoch_end(&mut self);
}

/// Returns [`crate::Error::IndexOutOfRange`] unless `idx < len`.
///
/// ```
/// assert!(augflow::iterators::check_index(2, 3).is_ok());
/// assert!(augflow::iterators::check_index(3, 3).is_err());
/// ```
pub fn check_index(idx: usize, len: usize) -> Result<()> {
    if idx < len {
        Ok(())
    } else {
        Err(crate::Error::IndexOutOfRange { index: idx, len })
    }
}
