//! Subsets of a `validation_split`: which part an iterator serves, and Keras' rules for
//! cutting a list of samples into validation and training parts (spec §13 step 5, §14.3,
//! §14.4). One copy of the rule for every source.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::rng::{Stream, permutation};
use crate::{DynArray, Error, Result};

/// Which part of a `validation_split` an iterator serves.
///
/// ```
/// use augflow::iterators::Subset;
/// assert_eq!("validation".parse::<Subset>().unwrap(), Subset::Validation);
/// assert!("test".parse::<Subset>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subset {
    /// Everything but the validation part.
    Training,
    /// The first `int(n · validation_split)` samples (Keras' rule), or of the shuffled order
    /// with `shuffle_before_split` on arrays.
    Validation,
}

impl std::str::FromStr for Subset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "training" => Ok(Subset::Training),
            "validation" => Ok(Subset::Validation),
            _ => Err(Error::invalid(
                "subset",
                format!("{s:?}"),
                "\"training\" or \"validation\"",
            )),
        }
    }
}

/// The positions of a list of `n` that `subset` keeps: validation is the first
/// `int(n · validation_split)` (a truncated `f64` product, as Keras computes it), training
/// the rest; everything when `subset` is `None`.
pub(crate) fn split_range(n: usize, validation_split: f64, subset: Option<Subset>) -> Range<usize> {
    let cut = ((n as f64 * validation_split) as usize).min(n);
    match subset {
        None => 0..n,
        Some(Subset::Validation) => 0..cut,
        Some(Subset::Training) => cut..n,
    }
}

/// The error of a subset asked of a generator without a validation split.
pub(crate) fn check_split(subset: Option<Subset>, validation_split: f64) -> Result<()> {
    match subset {
        Some(s) if validation_split == 0.0 => Err(Error::invalid(
            "subset",
            format!("{s:?}"),
            "a generator with validation_split > 0 (it is 0)",
        )),
        _ => Ok(()),
    }
}

/// The sample indices of `subset` of `n` arrays' rows (all when `None`): Keras' split of the
/// input order, or of a permutation by `shuffle_seed`, with Keras' check that both parts
/// hold the same classes when `labels` is given.
pub(crate) fn split_rows(
    n: usize,
    validation_split: f64,
    subset: Option<Subset>,
    shuffle_seed: Option<u64>,
    labels: Option<&DynArray>,
) -> Result<Vec<usize>> {
    check_split(subset, validation_split)?;
    let Some(subset) = subset else {
        return Ok((0..n).collect());
    };
    let order: Vec<usize> = match shuffle_seed {
        Some(s) => permutation(s, Stream::Split, 0, n),
        None => (0..n).collect(),
    };
    let cut = split_range(n, validation_split, Some(Subset::Validation)).end;
    let (val, train) = order.split_at(cut);
    if let Some(y) = labels {
        check_same_classes(y, val, train)?;
    }
    let part = match subset {
        Subset::Validation => val,
        Subset::Training => train,
    };
    if part.is_empty() {
        return Err(empty_subset(subset, n, "samples", validation_split));
    }
    Ok(part.to_vec())
}

/// Keras' check that the validation and training rows of `y` hold the same set of values.
fn check_same_classes(y: &DynArray, val: &[usize], train: &[usize]) -> Result<()> {
    let (vs, ts) = (distinct_values(y, val)?, distinct_values(y, train)?);
    if vs == ts {
        return Ok(());
    }
    let show = |s: &BTreeSet<u64>| s.iter().map(|b| f64::from_bits(*b).to_string()).collect();
    Err(Error::ClassSplit {
        validation: show(&vs),
        training: show(&ts),
    })
}

/// The distinct values of the rows `rows` of `y`, flattened (numpy's `unique`).
fn distinct_values(y: &DynArray, rows: &[usize]) -> Result<BTreeSet<u64>> {
    let values = y.select(rows)?.values_f64()?;
    Ok(values.into_iter().map(|v| (v + 0.0).to_bits()).collect())
}

/// The error of a subset that holds nothing.
pub(crate) fn empty_subset(subset: Subset, total: usize, what: &str, split: f64) -> Error {
    Error::Empty {
        name: "subset",
        expected: format!(
            "the {subset:?} subset of {total} {what} with validation_split {split} holds no {}; use more data or another split",
            what.trim_end_matches('s')
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_is_the_truncated_front_of_the_list() {
        assert_eq!(split_range(10, 0.25, Some(Subset::Validation)), 0..2);
        assert_eq!(split_range(10, 0.25, Some(Subset::Training)), 2..10);
        assert_eq!(split_range(10, 0.25, None), 0..10);
        // 3 · 0.7 = 2.0999999999999996 truncates to 2, as Python's int() does.
        assert_eq!(split_range(3, 0.7, Some(Subset::Validation)), 0..2);
    }

    #[test]
    fn a_subset_without_a_split_is_refused_by_name() {
        let e = split_rows(4, 0.0, Some(Subset::Training), None, None).unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { name: "subset", .. }),
            "{e}"
        );
        assert_eq!(split_rows(3, 0.0, None, None, None).unwrap(), [0, 1, 2]);
    }
}
