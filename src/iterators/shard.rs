//! Shards for data-parallel training: each of `count` processes takes a disjoint part of
//! every epoch's global order, as torch's `DistributedSampler` does, with the same remainder
//! policies. A sample is transformed identically whichever shard reads it.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What to do with the samples left over when an epoch does not divide evenly by the shard
/// count.
///
/// ```
/// use augflow::iterators::ShardRemainder;
/// assert_eq!("pad".parse::<ShardRemainder>()?, ShardRemainder::Pad);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardRemainder {
    /// Repeat samples from the start of the epoch's order so every shard has the same number
    /// of samples, hence of batches, as collective training needs (torch's default).
    /// [`BatchIterator::batch_padding`](super::BatchIterator::batch_padding) says which are
    /// repeats.
    #[default]
    Pad,
    /// Drop the last samples of the epoch's order so every shard has the same number
    /// (torch's `drop_last=True`).
    Drop,
    /// Keep every sample once; the first shards may have one sample more than the others.
    Uneven,
}

impl std::str::FromStr for ShardRemainder {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pad" => Ok(ShardRemainder::Pad),
            "drop" => Ok(ShardRemainder::Drop),
            "uneven" => Ok(ShardRemainder::Uneven),
            _ => Err(Error::invalid(
                "shard_remainder",
                format!("{s:?}"),
                "\"pad\", \"drop\" or \"uneven\"",
            )),
        }
    }
}

/// One shard of `count`: which part of each epoch this iterator serves.
///
/// Shard `index` takes positions `index, index + count, index + 2·count, …` of the epoch's
/// global order (after the remainder policy), so shards are disjoint and, with padding
/// removed, cover the epoch exactly.
///
/// ```
/// use augflow::iterators::{Shard, ShardRemainder};
/// let s = Shard::new(3, 1)?;
/// assert_eq!(s.select(&[10, 11, 12, 13, 14, 15, 16]), (vec![11, 14, 10], 1)); // 10 pads
/// let u = Shard::new(3, 1)?.remainder(ShardRemainder::Uneven);
/// assert_eq!(u.select(&[10, 11, 12, 13, 14, 15, 16]), (vec![11, 14], 0));
/// assert!(Shard::new(2, 2).is_err());
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    count: usize,
    index: usize,
    remainder: ShardRemainder,
}

impl Shard {
    /// Shard `index` of `count`, padding the remainder.
    pub fn new(count: usize, index: usize) -> Result<Shard> {
        if count == 0 {
            return Err(Error::invalid("num_shards", 0, "an integer >= 1"));
        }
        if index >= count {
            return Err(Error::invalid(
                "shard index",
                index,
                format!("an index below num_shards ({count})"),
            ));
        }
        Ok(Shard {
            count,
            index,
            remainder: ShardRemainder::Pad,
        })
    }

    /// Shard `index` of `count` without the checks of [`new`](Self::new) (builders check
    /// it in `build`).
    pub(crate) fn unchecked(count: usize, index: usize, remainder: ShardRemainder) -> Shard {
        Shard {
            count,
            index,
            remainder,
        }
    }

    /// The same shard with another remainder policy.
    pub fn remainder(mut self, policy: ShardRemainder) -> Shard {
        self.remainder = policy;
        self
    }

    /// Number of shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// This shard's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The remainder policy.
    pub fn remainder_policy(&self) -> ShardRemainder {
        self.remainder
    }

    /// Refuses a shard that would serve nothing of an epoch of `n` samples (more shards than
    /// samples under `Drop` or `Uneven`, or no samples at all), naming `num_shards`.
    pub(crate) fn check_serves(&self, n: usize) -> Result<()> {
        let serves = match self.remainder {
            ShardRemainder::Pad => n > 0,
            ShardRemainder::Drop => n >= self.count,
            ShardRemainder::Uneven => self.index < n,
        };
        if serves {
            return Ok(());
        }
        Err(Error::invalid(
            "num_shards",
            format!(
                "{} with {n} samples and remainder policy {:?}",
                self.count, self.remainder
            ),
            "at most as many shards as samples (or the pad policy)",
        ))
    }

    /// How many positions an epoch of `n` samples is dealt out over: `n` rounded up (pad) or
    /// down (drop) to a multiple of the shard count, or `n` (uneven).
    fn positions(&self, n: usize) -> usize {
        let c = self.count;
        match self.remainder {
            ShardRemainder::Pad => n.div_ceil(c) * c,
            ShardRemainder::Drop => n / c * c,
            ShardRemainder::Uneven => n,
        }
    }

    /// How many samples this shard serves of an epoch of `n`: the length of
    /// [`select`](Self::select)'s part.
    pub(crate) fn len_of(&self, n: usize) -> usize {
        self.positions(n)
            .saturating_sub(self.index)
            .div_ceil(self.count)
    }

    /// This shard's part of an epoch's global `order`, and how many of its last samples are
    /// padding (repeats of samples other shards serve).
    pub fn select(&self, order: &[usize]) -> (Vec<usize>, usize) {
        let (n, c) = (order.len(), self.count);
        let total = self.positions(n);
        let mine: Vec<usize> = (self.index..total)
            .step_by(c)
            .map(|p| order[p % n.max(1)])
            .collect();
        let padding = (self.index..total).step_by(c).filter(|&p| p >= n).count();
        (mine, padding)
    }
}
