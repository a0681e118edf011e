//! Checkpointable iterator state: where a run is (seed, epoch, position, shard) and what it
//! was configured with, so a preempted job resumes with bit-identical batches, and a state
//! from another configuration is refused with the entries that differ.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{BatchElement, BatchIterator, BatchSource, Sequence, Shard};
use crate::{Error, Result};

/// Where an iterator is, and what it was configured with: a small serde value to store with
/// a training checkpoint (torchdata's `state_dict`).
///
/// ```
/// use augflow::{ImageDataGenerator, Sequence};
/// use augflow::iterators::IteratorState;
/// use ndarray::Array4;
///
/// let datagen = ImageDataGenerator::builder().rotation_range(10.0).build()?;
/// let build = || datagen.flow(Array4::<u8>::zeros((10, 4, 4, 1))).batch_size(3).build();
/// let mut it = build()?; // no seed: one is drawn from the OS, and the state keeps it
/// it.on_epoch_end();
/// let saved: IteratorState = serde_json::from_str(&serde_json::to_string(&it.state(2))?)?;
///
/// let mut fresh = build()?;
/// let position = fresh.restore(&saved)?;
/// assert_eq!((position, fresh.current_epoch()), (2, 1));
/// assert_eq!(fresh.get(position)?, it.get(2)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IteratorState {
    /// The seed of the run.
    pub seed: u64,
    /// The epoch in progress.
    pub epoch: u64,
    /// Batches of `epoch` already consumed: the index of the next batch to serve.
    pub position: usize,
    /// The shard served, if any.
    pub shard: Option<Shard>,
    /// The configuration, entry by entry (generator, options, data shape and a fingerprint of
    /// the source); [`BatchIterator::restore`] names the entries that differ.
    pub config: BTreeMap<String, String>,
}

/// A [`Sequence`] whose run can be saved and resumed: what [`Prefetch`](crate::Prefetch)
/// needs to checkpoint the sequence it wraps. [`BatchIterator`] implements it.
///
/// ```
/// use augflow::iterators::Resumable;
/// fn checkpoint<S: Resumable>(seq: &S, consumed: usize) -> String {
///     serde_json::to_string(&seq.state(consumed)).unwrap()
/// }
/// let datagen = augflow::ImageDataGenerator::builder().build()?;
/// let it = datagen.flow(ndarray::Array4::<u8>::zeros((4, 2, 2, 1))).seed(5).build()?;
/// assert!(checkpoint(&it, 0).contains("\"seed\":5"));
/// # Ok::<(), augflow::Error>(())
/// ```
pub trait Resumable: Sequence {
    /// The state of a run that has consumed `position` items of the current epoch.
    fn state(&self, position: usize) -> IteratorState;
    /// Continues the run `state` describes; returns the index of the next item.
    fn restore(&mut self, state: &IteratorState) -> Result<usize>;
}

impl<S: BatchSource, O: BatchElement> Resumable for BatchIterator<S, O> {
    fn state(&self, position: usize) -> IteratorState {
        BatchIterator::state(self, position)
    }
    fn restore(&mut self, state: &IteratorState) -> Result<usize> {
        BatchIterator::restore(self, state)
    }
}

impl<S: BatchSource, O: BatchElement> BatchIterator<S, O> {
    /// The state of a run that has consumed `position` batches of the current epoch.
    pub fn state(&self, position: usize) -> IteratorState {
        IteratorState {
            seed: self.seed(),
            epoch: self.current_epoch(),
            position,
            shard: self.options().shard,
            config: self.config_entries(),
        }
    }

    /// Continues the run `state` describes: takes its seed and epoch, and returns the index
    /// of the next batch to serve. Refuses a state whose configuration differs, naming every
    /// entry that differs (a preprocessing function cannot be compared, and is not).
    pub fn restore(&mut self, state: &IteratorState) -> Result<usize> {
        check_same_config(&self.config_entries(), state)?;
        self.seed = state.seed;
        self.set_epoch(state.epoch);
        if state.position > self.len() {
            return Err(Error::IndexOutOfRange {
                index: state.position,
                len: self.len(),
            });
        }
        Ok(state.position)
    }

    /// The configuration a state must match, entry by entry.
    fn config_entries(&self) -> BTreeMap<String, String> {
        let o = self.options();
        let generator = serde_json::to_string(self.generator().config())
            .expect("a generator configuration serializes");
        let entries = [
            ("generator", generator),
            ("output", O::NAME.to_string()),
            ("batch_size", o.batch_size.to_string()),
            ("shuffle", o.shuffle.to_string()),
            ("drop_remainder", o.drop_remainder.to_string()),
            ("augment", o.augments().to_string()),
            ("subset", format!("{:?}", o.subset)),
            ("shard", format!("{:?}", o.shard)),
            ("image_shape", format!("{:?}", self.image_shape())),
            ("samples", self.members().len().to_string()),
            ("members", format!("{:016x}", fnv(self.members()))),
            ("source", self.source().fingerprint()),
        ];
        let mut entries: BTreeMap<String, String> = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // Only with a pipeline, so that states saved without one keep matching.
        if let Some(aug) = &o.pipeline {
            let json = aug.to_json();
            entries.insert(
                "pipeline".into(),
                format!("{:016x}", fnv_bytes(json.bytes())),
            );
        }
        entries
    }
}

/// FNV-1a over a list of indices: a stable, platform-independent fingerprint.
/// Refuses a `state` whose configuration differs from `mine`, naming every entry that
/// differs with both values.
pub(crate) fn check_same_config(
    mine: &BTreeMap<String, String>,
    state: &IteratorState,
) -> Result<()> {
    let keys: std::collections::BTreeSet<&String> =
        mine.keys().chain(state.config.keys()).collect();
    let differ: Vec<String> = keys
        .into_iter()
        .filter(|k| mine.get(*k) != state.config.get(*k))
        .map(|k| {
            let show = |m: &BTreeMap<String, String>| m.get(k).cloned().unwrap_or("-".into());
            format!("{k} (state {}, here {})", show(&state.config), show(mine))
        })
        .collect();
    if differ.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        "state",
        format!(
            "a state whose configuration differs in {}",
            differ.join(", ")
        ),
        "the state of an iterator built with the same generator, options and data",
    ))
}

fn fnv(values: &[usize]) -> u64 {
    fnv_bytes(values.iter().flat_map(|v| (*v as u64).to_le_bytes()))
}

/// FNV-1a over bytes.
pub(crate) fn fnv_bytes(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
