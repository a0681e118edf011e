//! `numpy_input_fn` (spec §16): batches of named feature arrays and targets, over a fixed
//! number of epochs or forever, in row order or shuffled by a seed.
//!
//! [`builder`] checks the settings and the data in TensorFlow's order and starts an
//! [`InputFn`]; [`order`] says which rows batch `b` holds; [`columns`] gathers them into a
//! [`FeatureBatch`]; [`map`] runs the user's steps on it; [`format`] renders TensorFlow's
//! error texts.

mod builder;
mod columns;
mod format;
mod map;
mod order;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::array::DynArray;
use crate::pipeline::prefetch::{Job, OrderedPool};
use crate::{Error, Result};

pub use builder::{InputFnBuilder, numpy_input_fn};
use columns::select_all;
pub use columns::{Columns, DIRECT_INPUT_KEY, FeatureBatch};
use map::ResolvedStep;
use order::Order;

/// Everything needed to build batch `b`, shared with the worker threads.
struct Plan {
    x: BTreeMap<String, DynArray>,
    y: Option<Columns>,
    order: Order,
    /// Stateless map steps, run where the batch is built.
    maps: Vec<ResolvedStep>,
}

impl Plan {
    fn build_batch(&self, b: u64) -> Result<FeatureBatch> {
        let rows = self.order.rows(b);
        let mut batch = FeatureBatch {
            features: select_all(&self.x, &rows)?,
            targets: self.y.as_ref().map(|y| y.select(&rows)).transpose()?,
            rows,
        };
        for m in &self.maps {
            m.apply(&mut batch)?;
        }
        Ok(batch)
    }
}

/// The batches of a [`numpy_input_fn`], in order: an [`Iterator`] of `Result<FeatureBatch>`
/// that returns `None` forever after the last batch, or [`InputFn::next_batch`], which
/// returns [`Error::EndOfInput`] there (TensorFlow's `OutOfRangeError`).
///
/// Dropping it stops and joins its worker threads.
///
/// ```
/// use augflow::{Error, pipeline::numpy_input_fn};
///
/// // spec §16: N=3, batch_size=2, num_epochs=3 -> [0,1] [2,0] [1,2] [0,1] [2].
/// let mut input = numpy_input_fn(ndarray::array![0_i64, 1, 2])
///     .batch_size(2).num_epochs(Some(3)).shuffle(false).build()?;
/// let mut seen = Vec::new();
/// while let Ok(batch) = input.next_batch() {
///     seen.push(batch.x().unwrap().to_vec::<i64>()?);
/// }
/// assert_eq!(seen, [vec![0, 1], vec![2, 0], vec![1, 2], vec![0, 1], vec![2]]);
/// assert!(matches!(input.next_batch(), Err(Error::EndOfInput(_))));
/// assert!(input.next().is_none());
/// # Ok::<(), augflow::Error>(())
/// ```
pub struct InputFn {
    plan: Arc<Plan>,
    pool: Option<OrderedPool<FeatureBatch>>,
    consumer_maps: Vec<ResolvedStep>,
    next: u64,
    num_batches: Option<u64>,
    num_epochs: Option<u64>,
    /// Threads building batches ahead, and how many batches they may build ahead.
    num_threads: usize,
    window: usize,
}

impl InputFn {
    /// Starts the batches of `x` and `y` in `order`, with `maps` applied to each and
    /// `num_threads` building them at most `window` batches ahead.
    fn start(
        x: BTreeMap<String, DynArray>,
        y: Option<Columns>,
        order: Order,
        maps: Vec<ResolvedStep>,
        num_threads: usize,
        window: usize,
        num_epochs: Option<u64>,
    ) -> Result<InputFn> {
        let num_batches = order.num_batches();
        // Stateful steps, and everything after the first one, run on the consumer's thread
        // so that they see the batches one at a time, in order.
        let threaded = num_threads > 1;
        let first_stateful = if threaded {
            maps.iter()
                .position(|m| m.is_stateful())
                .unwrap_or(maps.len())
        } else {
            0
        };
        let mut worker_maps = maps;
        let consumer_maps = worker_maps.split_off(first_stateful);
        let plan = Arc::new(Plan {
            x,
            y,
            order,
            maps: worker_maps,
        });
        let mut input = InputFn {
            plan,
            pool: None,
            consumer_maps,
            next: 0,
            num_batches,
            num_epochs,
            num_threads,
            window,
        };
        input.start_pool()?;
        Ok(input)
    }

    /// Starts the threads that build batches `next..` ahead (none with one thread).
    fn start_pool(&mut self) -> Result<()> {
        self.pool = None; // joins the previous threads, if any
        if self.num_threads <= 1 {
            return Ok(());
        }
        let (plan, from) = (Arc::clone(&self.plan), self.next);
        let job: Job<FeatureBatch> = Arc::new(move |k| plan.build_batch(from + k as u64));
        let end = self
            .num_batches
            .map(|b| usize::try_from(b - from).unwrap_or(usize::MAX));
        let pool = OrderedPool::start(job, end, self.num_threads, self.window, "input_fn batch")?;
        self.pool = Some(pool);
        Ok(())
    }

    /// TensorFlow's `OutOfRangeError` once every epoch has been emitted.
    fn end_of_input(&self) -> Error {
        Error::EndOfInput(format!(
            "Already emitted {} epochs.",
            self.num_epochs.unwrap_or(0)
        ))
    }

    /// The shuffling seed in use (drawn from the OS when none was given; 0 and unused when
    /// `shuffle` is off and no seed was given).
    ///
    /// ```
    /// let a = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2]).shuffle(true).build()?;
    /// let replay = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2])
    ///     .shuffle(true).seed(a.seed()).build()?;
    /// let rows = |i: augflow::pipeline::InputFn| i.flat_map(|b| b.unwrap().rows).collect::<Vec<_>>();
    /// assert_eq!(rows(a), rows(replay));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn seed(&self) -> u64 {
        self.plan.order.seed()
    }

    /// Total number of batches (`None` when `num_epochs` is `None`).
    ///
    /// ```
    /// let input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2, 3, 4, 5])
    ///     .batch_size(2).shuffle(false).build()?;
    /// assert_eq!(input.num_batches(), Some(3));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn num_batches(&self) -> Option<u64> {
        self.num_batches
    }

    /// The next batch, or [`Error::EndOfInput`] once every epoch has been emitted (and on
    /// every later call).
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8])
    ///     .num_epochs(Some(0)).shuffle(false).build()?;
    /// assert!(matches!(input.next_batch(), Err(augflow::Error::EndOfInput(_))));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn next_batch(&mut self) -> Result<FeatureBatch> {
        if self.num_batches.is_some_and(|nb| self.next >= nb) {
            return Err(self.end_of_input());
        }
        let b = self.next;
        self.next += 1;
        let built = match &mut self.pool {
            Some(pool) => pool.next_item(),
            None => Some(self.plan.build_batch(b)),
        };
        let built = built.unwrap_or_else(|| Err(self.end_of_input()));
        let mut batch = built?;
        for m in &self.consumer_maps {
            m.apply(&mut batch)?;
        }
        Ok(batch)
    }
}

impl Iterator for InputFn {
    type Item = Result<FeatureBatch>;

    fn next(&mut self) -> Option<Result<FeatureBatch>> {
        match self.next_batch() {
            Err(Error::EndOfInput(_)) => None,
            other => Some(other),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.num_batches {
            Some(nb) => {
                let left = usize::try_from(nb.saturating_sub(self.next)).unwrap_or(usize::MAX);
                (left, Some(left))
            }
            None => (usize::MAX, None),
        }
    }
}

impl std::fmt::Debug for InputFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputFn")
            .field("rows", &self.plan.order.rows_per_epoch())
            .field("batch_size", &self.plan.order.batch_size())
            .field("num_epochs", &self.num_epochs)
            .field("shuffle", &self.plan.order.shuffle())
            .field("seed", &self.plan.order.seed())
            .field("threads", &self.pool.is_some())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::array::DType;
    use crate::pipeline::UserFn;

    pub(super) fn arange(n: i64) -> DynArray {
        DynArray::from((0..n).collect::<Vec<i64>>())
    }

    /// The `x` values of every batch (x = arange, so values are the source rows).
    pub(super) fn batches(input: InputFn) -> Vec<Vec<i64>> {
        input
            .map(|b| b.unwrap().x().unwrap().to_vec::<i64>().unwrap())
            .collect()
    }

    pub(super) fn ordered(n: i64, bs: usize, epochs: Option<u64>, threads: usize) -> InputFn {
        numpy_input_fn(arange(n))
            .batch_size(bs)
            .num_epochs(epochs)
            .num_threads(threads)
            .shuffle(false)
            .build()
            .unwrap()
    }

    #[test]
    fn zero_epochs_ends_at_once() {
        let mut input = ordered(4, 2, Some(0), 1);
        assert!(matches!(input.next_batch(), Err(Error::EndOfInput(_))));
        assert!(input.next().is_none());
    }

    #[test]
    fn end_of_input_repeats_after_the_end() {
        let mut input = ordered(2, 2, Some(1), 2);
        assert!(input.next_batch().is_ok());
        for _ in 0..3 {
            match input.next_batch() {
                Err(Error::EndOfInput(msg)) => assert_eq!(msg, "Already emitted 1 epochs."),
                other => panic!("expected EndOfInput, got {other:?}"),
            }
            assert!(input.next().is_none());
        }
    }

    #[test]
    fn shuffled_output_is_identical_for_one_two_and_four_threads() {
        let run = |threads| {
            numpy_input_fn(arange(37))
                .y(DynArray::from(
                    (0..37).map(|v| v as f64 * 0.5).collect::<Vec<_>>(),
                ))
                .batch_size(5)
                .num_epochs(Some(3))
                .num_threads(threads)
                .queue_capacity(12)
                .shuffle(true)
                .seed(2024)
                .build()
                .unwrap()
                .collect::<Result<Vec<_>>>()
                .unwrap()
        };
        let one = run(1);
        assert_eq!(one.len(), (37 * 3_usize).div_ceil(5));
        assert_eq!(run(2), one);
        assert_eq!(run(4), one);
    }

    #[test]
    fn window_bounds_rows_built_ahead() {
        // queue_capacity 10 rows with batches of 4 -> 2 batches ahead at most.
        let built = Arc::new(Mutex::new(0_usize));
        let c = Arc::clone(&built);
        let f = UserFn::new("count", [DType::I64], move |x: &[DynArray]| {
            *c.lock().unwrap() += 1;
            Ok(x.to_vec())
        })
        .stateful(false);
        let mut input = numpy_input_fn(arange(100))
            .batch_size(4)
            .queue_capacity(10)
            .num_threads(4)
            .shuffle(false)
            .map(f)
            .build()
            .unwrap();
        input.next_batch().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(*built.lock().unwrap(), 3);
    }
}
