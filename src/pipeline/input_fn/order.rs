//! The order plan of a [`numpy_input_fn`](super::numpy_input_fn): which source rows batch
//! `b` holds. Rows run through an endless stream of epochs, each in row order or shuffled by
//! the epoch permutation of [`crate::rng`], and the stream is cut at `num_epochs · n` rows.
//! With a shard, each epoch is the shard's part of that global order (as for the iterators),
//! and the shard's epochs are streamed the same way.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::iterators::Shard;
use crate::rng::{Stream, permutation};

/// How many epoch orders [`Order`] keeps: workers ask for nearly increasing epochs.
const EPOCH_CACHE: usize = 4;

/// Which rows each batch holds; a pure function of the settings, shared with the workers.
#[derive(Debug)]
pub(super) struct Order {
    /// Rows of the source (at least 1).
    n: usize,
    /// This shard's part of every epoch, or `None` for every row.
    shard: Option<Shard>,
    /// Rows each epoch streams: `n`, or the shard's part of it (at least 1).
    per_epoch: usize,
    batch_size: u64,
    /// `None`: forever.
    total_rows: Option<u64>,
    shuffle: bool,
    seed: u64,
    /// Recently used epoch orders.
    epochs: Mutex<BTreeMap<u64, Arc<Vec<usize>>>>,
}

impl Order {
    /// The order of `n` rows (`n >= 1`) in batches of `batch_size` (`>= 1`) over
    /// `num_epochs` passes (`None`: forever), shuffled by `seed` when `shuffle`, all of them
    /// or `shard`'s part of each epoch. Errors when the shard would serve no row.
    pub(super) fn new(
        n: usize,
        batch_size: usize,
        num_epochs: Option<u64>,
        shuffle: bool,
        seed: u64,
        shard: Option<Shard>,
    ) -> crate::Result<Self> {
        let per_epoch = match shard {
            Some(s) => {
                s.check_serves(n)?;
                s.len_of(n)
            }
            None => n,
        };
        Ok(Order {
            n,
            shard,
            per_epoch,
            batch_size: batch_size as u64,
            total_rows: num_epochs.and_then(|e| e.checked_mul(per_epoch as u64)),
            shuffle,
            seed,
            epochs: Mutex::new(BTreeMap::new()),
        })
    }

    /// Ends the run at the last whole batch when `drop` (tf.data's `drop_remainder`): only the
    /// run's last batch can be short, so it is the one cut.
    pub(super) fn drop_remainder(mut self, drop: bool) -> Self {
        if drop {
            self.total_rows = self.total_rows.map(|t| t - t % self.batch_size);
        }
        self
    }

    /// Total number of batches (`None` when the order runs forever).
    pub(super) fn num_batches(&self) -> Option<u64> {
        self.total_rows.map(|t| t.div_ceil(self.batch_size))
    }

    /// The epoch (of this shard's stream) that batch `b` starts in.
    pub(super) fn epoch_of(&self, b: u64) -> u64 {
        b.saturating_mul(self.batch_size) / self.per_epoch as u64
    }

    /// Rows of the source.
    pub(super) fn rows_per_epoch(&self) -> usize {
        self.n
    }

    /// The shard, if any.
    pub(super) fn shard(&self) -> Option<Shard> {
        self.shard
    }

    /// Replays under another seed (a restored state's), forgetting the cached orders.
    pub(super) fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
        self.epochs
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Rows per batch.
    pub(super) fn batch_size(&self) -> u64 {
        self.batch_size
    }

    /// Whether each epoch is shuffled.
    pub(super) fn shuffle(&self) -> bool {
        self.shuffle
    }

    /// The shuffling seed.
    pub(super) fn seed(&self) -> u64 {
        self.seed
    }

    /// The rows of `epoch`, in order: the crate's one epoch permutation (a pure function of
    /// `(seed, epoch)`) or row order, then the shard's part of it; cached.
    fn epoch_rows(&self, epoch: u64) -> Arc<Vec<usize>> {
        let mut cache = self.epochs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = cache.get(&epoch) {
            return Arc::clone(p);
        }
        let global = if self.shuffle {
            permutation(self.seed, Stream::Other, epoch, self.n)
        } else {
            (0..self.n).collect()
        };
        let rows = match self.shard {
            Some(s) => s.select(&global).0,
            None => global,
        };
        let p = Arc::new(rows);
        cache.insert(epoch, Arc::clone(&p));
        while cache.len() > EPOCH_CACHE {
            cache.pop_first();
        }
        p
    }

    /// The source rows of batch `b`: positions `b·bs .. (b+1)·bs` of the endless stream of
    /// epochs, cut at the total (spec §16: batches cross epoch boundaries, only the very last
    /// one may be short).
    pub(super) fn rows(&self, b: u64) -> Vec<usize> {
        let n = self.per_epoch as u64;
        let start = b.saturating_mul(self.batch_size);
        let end = start.saturating_add(self.batch_size);
        let end = self.total_rows.map_or(end, |t| end.min(t));
        let mut rows = Vec::with_capacity(end.saturating_sub(start) as usize);
        let mut p = start;
        while p < end {
            let epoch = p / n;
            let k = (p % n) as usize;
            let take = (n - k as u64).min(end - p) as usize;
            if self.shuffle || self.shard.is_some() {
                rows.extend_from_slice(&self.epoch_rows(epoch)[k..k + take]);
            } else {
                rows.extend(k..k + take);
            }
            p += take as u64;
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::super::numpy_input_fn;
    use super::super::tests::{arange, batches, ordered};
    use super::*;

    // The order examples of spec §16 (TensorFlow's numpy_io_test.py).
    #[test]
    fn five_rows_batch_two_one_epoch() {
        assert_eq!(
            batches(ordered(5, 2, Some(1), 1)),
            [vec![0, 1], vec![2, 3], vec![4]]
        );
    }

    #[test]
    fn three_rows_batch_two_three_epochs_cross_epoch_boundaries() {
        assert_eq!(
            batches(ordered(3, 2, Some(3), 1)),
            [vec![0, 1], vec![2, 0], vec![1, 2], vec![0, 1], vec![2]]
        );
    }

    #[test]
    fn batch_larger_than_data_takes_every_epoch_at_once() {
        assert_eq!(batches(ordered(2, 128, Some(2), 1)), [vec![0, 1, 0, 1]]);
    }

    #[test]
    fn forever_keeps_cycling_in_order() {
        let input = ordered(3, 2, None, 1);
        let got: Vec<Vec<i64>> = input
            .take(4)
            .map(|b| b.unwrap().x().unwrap().to_vec::<i64>().unwrap())
            .collect();
        assert_eq!(got, [vec![0, 1], vec![2, 0], vec![1, 2], vec![0, 1]]);
    }

    #[test]
    fn each_shuffled_epoch_is_a_full_permutation_and_epochs_differ() {
        let n = 50;
        let rows: Vec<usize> = numpy_input_fn(arange(n as i64))
            .batch_size(7)
            .num_epochs(Some(3))
            .shuffle(true)
            .seed(11)
            .build()
            .unwrap()
            .flat_map(|b| b.unwrap().rows)
            .collect();
        assert_eq!(rows.len(), 3 * n);
        let epochs: Vec<&[usize]> = rows.chunks(n).collect();
        for e in &epochs {
            let mut sorted = e.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
        assert_ne!(epochs[0], epochs[1]);
        assert_ne!(epochs[0], (0..n).collect::<Vec<_>>().as_slice());
    }

    #[test]
    fn shuffled_epoch_depends_only_on_seed_and_epoch() {
        // One batch per epoch: batch e holds epoch e's order.
        let rows = |n, seed, e| Order::new(n, n, None, true, seed, None).unwrap().rows(e);
        assert_eq!(rows(20, 5, 3), rows(20, 5, 3));
        assert_ne!(rows(20, 5, 3), rows(20, 5, 4));
        assert_ne!(rows(20, 5, 3), rows(20, 6, 3));
        assert_eq!(rows(1, 5, 3), [0]);
        // A seed replays the same rows in every version: the order is the crate's epoch
        // permutation on the `Other` stream, never a copy of it.
        assert_eq!(rows(20, 5, 3), permutation(5, Stream::Other, 3, 20));
    }

    #[test]
    fn a_batch_across_the_epoch_boundary_joins_two_permutations() {
        let order = Order::new(5, 4, Some(2), true, 9, None).unwrap();
        let both: Vec<usize> = (0..3).flat_map(|b| order.rows(b)).collect();
        let mut expected = permutation(9, Stream::Other, 0, 5);
        expected.extend(permutation(9, Stream::Other, 1, 5));
        assert_eq!(both, expected);
        assert_eq!(order.num_batches(), Some(3));
        assert_eq!(order.rows(2).len(), 2);
    }

    fn kept(n: i64, bs: usize, epochs: Option<u64>, threads: usize) -> Vec<Vec<i64>> {
        let input = numpy_input_fn(arange(n))
            .batch_size(bs)
            .num_epochs(epochs)
            .num_threads(threads)
            .drop_remainder(true)
            .shuffle(false)
            .build()
            .unwrap();
        batches(input)
    }

    #[test]
    fn drop_remainder_drops_only_the_last_short_batch_of_the_run() {
        for threads in [1, 3] {
            assert_eq!(kept(5, 2, Some(1), threads), [vec![0, 1], vec![2, 3]]);
            // Batches still cross epoch boundaries: only the run's last batch is short.
            assert_eq!(
                kept(3, 2, Some(3), threads),
                [vec![0, 1], vec![2, 0], vec![1, 2], vec![0, 1]]
            );
            // Nothing is short, nothing is dropped.
            assert_eq!(kept(4, 2, Some(1), threads), [vec![0, 1], vec![2, 3]]);
            // Fewer rows than one batch: no batch at all, as tf.data yields none.
            assert!(kept(3, 4, Some(1), threads).is_empty());
        }
    }

    #[test]
    fn drop_remainder_counts_only_whole_batches_and_leaves_forever_alone() {
        let built = |epochs| {
            numpy_input_fn(arange(5))
                .batch_size(2)
                .num_epochs(epochs)
                .drop_remainder(true)
                .shuffle(true)
                .seed(4)
                .build()
                .unwrap()
        };
        let finite = built(Some(3));
        assert_eq!(finite.num_batches(), Some(7));
        assert_eq!(finite.size_hint(), (7, Some(7)));
        assert!(finite.map(|b| b.unwrap().len()).all(|len| len == 2));
        let forever = built(None);
        assert_eq!(forever.num_batches(), None);
        assert_eq!(forever.take(9).map(|b| b.unwrap().len()).sum::<usize>(), 18);
    }
}
