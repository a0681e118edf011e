//! Checkpoints of a [`numpy_input_fn`](super::numpy_input_fn) run: where it stands, as the
//! iterators' [`IteratorState`], and a restore that continues with the same bits.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::InputFn;
use super::columns::Columns;
use crate::array::DynArray;
use crate::iterators::{IteratorState, check_same_config};
use crate::{Error, Result};

impl InputFn {
    /// Where the run stands: the seed, the epoch and the number of batches taken so far
    /// (`position`; batches built ahead by worker threads but not taken are not counted),
    /// the shard, and the configuration entry by entry (data shapes, batch size, epochs,
    /// shuffling, map steps). A small serde value, for a checkpoint.
    ///
    /// ```
    /// use augflow::pipeline::numpy_input_fn;
    /// let input = || numpy_input_fn(ndarray::Array1::from_iter(0..10_i64))
    ///     .batch_size(3).shuffle(true).seed(5).num_threads(2).build();
    /// let mut first = input()?;
    /// first.next_batch()?;
    /// let saved = serde_json::to_string(&first.state())?;
    ///
    /// let mut resumed = input()?;
    /// resumed.restore(&serde_json::from_str(&saved)?)?;
    /// assert_eq!(resumed.next_batch()?.rows, first.next_batch()?.rows);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn state(&self) -> IteratorState {
        let order = &self.plan.order;
        IteratorState {
            seed: order.seed(),
            epoch: order.epoch_of(self.next),
            position: usize::try_from(self.next).unwrap_or(usize::MAX),
            shard: order.shard(),
            config: self.config_entries(),
        }
    }

    /// Continues from `state`, a [`state`](Self::state) of a run with the same
    /// configuration: the next batch is the one that run would have given next, bit for bit,
    /// whatever the thread counts of the two runs. The seed is the state's, so a run built
    /// without a seed replays the checkpointed one.
    ///
    /// Errors with [`Error::InvalidParameter`] naming every entry of the configuration that
    /// differs, and [`Error::IndexOutOfRange`] for a position past the last batch. Stateful
    /// map steps keep their own state: restoring does not rewind them.
    pub fn restore(&mut self, state: &IteratorState) -> Result<()> {
        check_same_config(&self.config_entries(), state)?;
        let position = state.position as u64;
        if let Some(n) = self.num_batches.filter(|&n| position > n) {
            return Err(Error::IndexOutOfRange {
                index: state.position,
                len: usize::try_from(n).unwrap_or(usize::MAX),
            });
        }
        self.pool = None; // joins the workers, so the plan is no longer shared
        Arc::get_mut(&mut self.plan)
            .expect("only the workers share the plan")
            .order
            .set_seed(state.seed);
        self.next = position;
        self.start_pool()
    }

    fn config_entries(&self) -> BTreeMap<String, String> {
        let plan = &self.plan;
        let order = &plan.order;
        let columns = |c: &BTreeMap<String, DynArray>| -> String {
            let parts: Vec<String> = c
                .iter()
                .map(|(k, a)| format!("{k}: {} {:?}", a.dtype(), a.shape()))
                .collect();
            parts.join(", ")
        };
        let y = match &plan.y {
            None => "-".to_string(),
            Some(Columns::Array(a)) => format!("{} {:?}", a.dtype(), a.shape()),
            Some(Columns::Dict(d)) => columns(d),
        };
        let maps: Vec<String> = plan
            .maps
            .iter()
            .chain(&self.consumer_maps)
            .map(|m| m.describe())
            .collect();
        let entries = [
            ("x", columns(&plan.x)),
            ("y", y),
            ("rows", order.rows_per_epoch().to_string()),
            ("batch_size", order.batch_size().to_string()),
            ("num_batches", format!("{:?}", self.num_batches)),
            ("shuffle", order.shuffle().to_string()),
            ("shard", format!("{:?}", order.shard())),
            ("maps", maps.join(", ")),
        ];
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::numpy_input_fn;
    use super::super::tests::{arange, batches};
    use crate::iterators::ShardRemainder;

    const POLICIES: [ShardRemainder; 3] = [
        ShardRemainder::Pad,
        ShardRemainder::Drop,
        ShardRemainder::Uneven,
    ];

    struct Run {
        n: i64,
        batch: usize,
        epochs: u64,
        shard: (usize, usize, ShardRemainder),
        threads: usize,
    }

    impl Run {
        fn input(&self, seed: Option<u64>) -> super::InputFn {
            let (count, index, policy) = self.shard;
            let mut b = numpy_input_fn(arange(self.n))
                .y(arange(self.n))
                .batch_size(self.batch)
                .num_epochs(Some(self.epochs))
                .shuffle(true)
                .num_threads(self.threads)
                .shard(count, index)
                .shard_remainder(policy);
            if let Some(s) = seed {
                b = b.seed(s);
            }
            b.build().unwrap()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Stopped after any batch, checkpointed through JSON and restored in a fresh run
        /// (built without the seed, with another thread count), a run gives the same batches
        /// as an uninterrupted one.
        #[test]
        fn a_restored_run_finishes_with_the_uninterrupted_batches(
            n in 1_i64..40, batch in 1_usize..9, epochs in 1_u64..4,
            count in 1_usize..5, index_seed in 0_usize..100, policy in 0_usize..3,
            threads in 1_usize..4, stop_seed in 0_usize..1000,
        ) {
            let shard = (count, index_seed % count, POLICIES[policy]);
            if POLICIES[policy] != ShardRemainder::Pad && (n as usize) < count {
                return Ok(()); // a shard with no rows: refused at build, tested below
            }
            let run = Run { n, batch, epochs, shard, threads };
            let whole = batches(run.input(Some(7)));
            let stop = stop_seed % (whole.len() + 1);
            let mut first = run.input(Some(7));
            for _ in 0..stop {
                first.next_batch().unwrap();
            }
            let saved = serde_json::to_string(&first.state()).unwrap();
            drop(first);
            let other = Run { threads: 4 - threads, ..run };
            let mut resumed = other.input(None);
            resumed.restore(&serde_json::from_str(&saved).unwrap()).unwrap();
            let rest = batches(resumed);
            prop_assert_eq!(&whole[stop..], &rest[..]);
        }

        /// One epoch's shards are disjoint and cover it: exactly every row under `Uneven`,
        /// every row plus padding in equal parts under `Pad`, equal parts under `Drop`.
        #[test]
        fn the_shards_of_an_epoch_deal_out_its_rows(
            n in 1_i64..50, batch in 1_usize..9, count in 1_usize..9, policy in 0_usize..3,
        ) {
            let policy = POLICIES[policy];
            if policy != ShardRemainder::Pad && (n as usize) < count {
                return Ok(());
            }
            let parts: Vec<Vec<i64>> = (0..count)
                .map(|k| {
                    let run = Run { n, batch, epochs: 1, shard: (count, k, policy), threads: 1 };
                    batches(run.input(Some(3))).concat()
                })
                .collect();
            let mut all: Vec<i64> = parts.concat();
            all.sort_unstable();
            let mut distinct = all.clone();
            distinct.dedup();
            let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
            let n = n as usize;
            match policy {
                ShardRemainder::Uneven => prop_assert_eq!(all, (0..n as i64).collect::<Vec<_>>()),
                ShardRemainder::Pad => {
                    prop_assert_eq!(distinct.len(), n);
                    prop_assert!(lens.iter().all(|&l| l == n.div_ceil(count)));
                }
                ShardRemainder::Drop => {
                    prop_assert_eq!(distinct.len(), n / count * count);
                    prop_assert_eq!(all.len(), n / count * count);
                    prop_assert!(lens.iter().all(|&l| l == n / count));
                }
            }
        }
    }

    #[test]
    fn a_state_of_another_configuration_is_refused_naming_what_differs() {
        let a = numpy_input_fn(arange(10))
            .batch_size(2)
            .shuffle(true)
            .seed(1)
            .build()
            .unwrap();
        let mut b = numpy_input_fn(arange(10))
            .batch_size(3)
            .shuffle(true)
            .build()
            .unwrap();
        let msg = b.restore(&a.state()).unwrap_err().to_string();
        assert!(msg.contains("batch_size (state 2, here 3)"), "{msg}");
        assert!(!msg.contains("shuffle"), "{msg}");
    }

    #[test]
    fn a_position_past_the_last_batch_is_out_of_range() {
        let build = || {
            numpy_input_fn(arange(4))
                .batch_size(2)
                .shuffle(false)
                .build()
                .unwrap()
        };
        let mut state = build().state();
        state.position = 3;
        let err = build().restore(&state).unwrap_err();
        assert!(
            matches!(err, crate::Error::IndexOutOfRange { index: 3, len: 2 }),
            "{err}"
        );
    }

    #[test]
    fn a_shard_with_no_rows_is_refused_naming_num_shards() {
        let err = numpy_input_fn(arange(3))
            .shuffle(false)
            .shard(4, 3)
            .shard_remainder(ShardRemainder::Drop)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("num_shards"), "{err}");
        let err = numpy_input_fn(arange(3))
            .shuffle(false)
            .shard(2, 2)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("shard index"), "{err}");
    }
}
