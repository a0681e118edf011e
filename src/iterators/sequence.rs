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

    /// Builds batch `idx` into `out`, reusing what it can of `out`'s memory: the same value
    /// [`get`](Self::get) returns, without fresh pages for every batch of a steady-state
    /// epoch. The iterators reuse the image buffer of `out` (any earlier batch of theirs, of
    /// any size); this default simply stores `get`'s result. On error `out` holds some valid
    /// batch, not a meaningful one.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Sequence};
    /// use ndarray::Array4;
    ///
    /// let datagen = ImageDataGenerator::builder().rotation_range(20.0).build()?;
    /// let it = datagen.flow(Array4::<u8>::ones((6, 8, 8, 3))).batch_size(2).seed(5).output::<u8>().build()?;
    /// let mut batch = it.get(0)?;
    /// let buffer = batch.x.as_ptr();
    /// it.get_into(1, &mut batch)?;
    /// assert_eq!(batch, it.get(1)?);
    /// assert_eq!(batch.x.as_ptr(), buffer); // the same memory, refilled
    /// # Ok::<(), augflow::Error>(())
    /// ```
    fn get_into(&self, idx: usize, out: &mut Self::Item) -> Result<()> {
        *out = self.get(idx)?;
        Ok(())
    }

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

/// Endless iteration over a [`Sequence`], like Keras' `next()`: batches in index order, and
/// at the end of each epoch [`Sequence::on_epoch_end`] is called and the next epoch begins.
///
/// ```
/// use augflow::iterators::{Endless, Sequence};
/// # use augflow::Result;
/// # struct Count(usize, u64);
/// # impl Sequence for Count {
/// #     type Item = (u64, usize);
/// #     fn len(&self) -> usize { self.0 }
/// #     fn get(&self, i: usize) -> Result<(u64, usize)> { augflow::iterators::check_index(i, self.0)?; Ok((self.1, i)) }
/// #     fn on_epoch_end(&mut self) { self.1 += 1 }
/// # }
/// let mut seq = Count(2, 0);
/// let got: Vec<_> = Endless::new(&mut seq).take(5).map(|b| b.unwrap()).collect();
/// assert_eq!(got, vec![(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]);
/// ```
#[derive(Debug)]
pub struct Endless<'a, S: Sequence> {
    seq: &'a mut S,
    pos: usize,
}

impl<'a, S: Sequence> Endless<'a, S> {
    /// Starts at batch 0 of the sequence's current epoch.
    pub fn new(seq: &'a mut S) -> Self {
        Endless { seq, pos: 0 }
    }

    /// Starts at batch `position` of the sequence's current epoch, e.g. where a restored
    /// [`IteratorState`](super::IteratorState) says a run stopped.
    ///
    /// ```
    /// use augflow::iterators::Endless;
    /// use augflow::ImageDataGenerator;
    /// let datagen = ImageDataGenerator::builder().build()?;
    /// let mut it = datagen.flow(ndarray::Array4::<u8>::zeros((5, 2, 2, 1))).batch_size(2).seed(1).build()?;
    /// let mut run = Endless::new(&mut it);
    /// run.next();
    /// let state = run.sequence().state(run.position());
    ///
    /// let mut again = datagen.flow(ndarray::Array4::<u8>::zeros((5, 2, 2, 1))).batch_size(2).seed(1).build()?;
    /// let position = again.restore(&state)?;
    /// let mut resumed = Endless::at(&mut again, position);
    /// assert_eq!(resumed.next().unwrap()?, run.next().unwrap()?);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn at(seq: &'a mut S, position: usize) -> Self {
        Endless { seq, pos: position }
    }

    /// Batches of the current epoch served so far: the index of the next one.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The sequence iterated.
    pub fn sequence(&self) -> &S {
        self.seq
    }
}

impl<S: Sequence> Iterator for Endless<'_, S> {
    type Item = Result<S::Item>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.seq.is_empty() {
            return None;
        }
        if self.pos == self.seq.len() {
            self.seq.on_epoch_end();
            self.pos = 0;
        }
        let item = self.seq.get(self.pos);
        self.pos += 1;
        Some(item)
    }
}
