//! What flows through a [`numpy_input_fn`](super::numpy_input_fn): the `x`/`y` columns given
//! to it, and the [`FeatureBatch`] of rows it yields.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use ndarray::{Array, Dimension};

use crate::Result;
use crate::array::{DynArray, Element};

/// The feature key under which a single `x` array is stored, as in TensorFlow (spec §16).
pub const DIRECT_INPUT_KEY: &str = "__direct_np_input__";

/// `x` or `y` of [`numpy_input_fn`](super::numpy_input_fn): one array, or a dict of named
/// arrays (kept sorted by key). Converts from a [`DynArray`], any `ndarray` array of a
/// supported element type, a `BTreeMap` or a `HashMap` of names to [`DynArray`]s.
///
/// ```
/// use std::collections::BTreeMap;
/// use augflow::array::DynArray;
/// use augflow::pipeline::Columns;
///
/// let one: Columns = ndarray::array![1.0_f32, 2.0].into();
/// assert!(matches!(one, Columns::Array(_)));
/// let dict: Columns = BTreeMap::from([("a".to_string(), DynArray::from(vec![1_u8]))]).into();
/// assert!(matches!(dict, Columns::Dict(_)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Columns {
    /// A single array.
    Array(DynArray),
    /// Named arrays, sorted by name.
    Dict(BTreeMap<String, DynArray>),
}

impl From<DynArray> for Columns {
    fn from(a: DynArray) -> Self {
        Columns::Array(a)
    }
}

impl<T: Element, D: Dimension> From<Array<T, D>> for Columns {
    fn from(a: Array<T, D>) -> Self {
        Columns::Array(a.into())
    }
}

impl From<BTreeMap<String, DynArray>> for Columns {
    fn from(d: BTreeMap<String, DynArray>) -> Self {
        Columns::Dict(d)
    }
}

impl<S: BuildHasher> From<HashMap<String, DynArray, S>> for Columns {
    fn from(d: HashMap<String, DynArray, S>) -> Self {
        Columns::Dict(d.into_iter().collect())
    }
}

impl Columns {
    /// The single array, if this is one.
    ///
    /// ```
    /// let c: augflow::pipeline::Columns = ndarray::array![1_i64].into();
    /// assert_eq!(c.as_array().unwrap().len(), 1);
    /// ```
    pub fn as_array(&self) -> Option<&DynArray> {
        match self {
            Columns::Array(a) => Some(a),
            Columns::Dict(_) => None,
        }
    }

    /// The dict, if this is one.
    ///
    /// ```
    /// let c: augflow::pipeline::Columns = ndarray::array![1_i64].into();
    /// assert!(c.as_dict().is_none());
    /// ```
    pub fn as_dict(&self) -> Option<&BTreeMap<String, DynArray>> {
        match self {
            Columns::Array(_) => None,
            Columns::Dict(d) => Some(d),
        }
    }

    pub(super) fn select(&self, rows: &[usize]) -> Result<Columns> {
        Ok(match self {
            Columns::Array(a) => Columns::Array(a.select(rows)?),
            Columns::Dict(d) => Columns::Dict(select_all(d, rows)?),
        })
    }
}

pub(super) fn select_all(
    d: &BTreeMap<String, DynArray>,
    rows: &[usize],
) -> Result<BTreeMap<String, DynArray>> {
    d.iter()
        .map(|(k, a)| Ok((k.clone(), a.select(rows)?)))
        .collect()
}

/// One batch of a [`InputFn`](super::InputFn): the features (sorted by name; a single `x`
/// array under [`DIRECT_INPUT_KEY`], see [`FeatureBatch::x`]), the targets if `y` was given,
/// and the source row of each sample.
///
/// ```
/// use augflow::pipeline::numpy_input_fn;
///
/// let mut input = numpy_input_fn(ndarray::array![10_i64, 11, 12])
///     .y(ndarray::array![0_u8, 1, 0])
///     .batch_size(2)
///     .shuffle(false)
///     .build()?;
/// let batch = input.next_batch()?;
/// assert_eq!(batch.rows, [0, 1]);
/// assert_eq!(batch.x().unwrap().to_vec::<i64>()?, [10, 11]);
/// assert_eq!(batch.y().unwrap().to_vec::<u8>()?, [0, 1]);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureBatch {
    /// Feature arrays by name, each with `rows.len()` rows.
    pub features: BTreeMap<String, DynArray>,
    /// The targets: `None` when no `y` was given, else the same kind of value as `y`.
    pub targets: Option<Columns>,
    /// The source row index of each sample (TensorFlow's dropped index component).
    pub rows: Vec<usize>,
}

impl FeatureBatch {
    /// The features as a single array when `x` was a single array.
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1.0_f64, 2.0])
    ///     .shuffle(false).build()?;
    /// assert_eq!(input.next_batch()?.x().unwrap().len(), 2);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn x(&self) -> Option<&DynArray> {
        self.features.get(DIRECT_INPUT_KEY)
    }

    /// The feature named `name`.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use augflow::array::DynArray;
    /// let x = BTreeMap::from([("age".to_string(), DynArray::from(vec![30.0_f64]))]);
    /// let mut input = augflow::pipeline::numpy_input_fn(x).shuffle(false).build()?;
    /// assert!(input.next_batch()?.feature("age").is_some());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn feature(&self, name: &str) -> Option<&DynArray> {
        self.features.get(name)
    }

    /// The targets as a single array when `y` was a single array.
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1.0_f64])
    ///     .y(ndarray::array![7_i64]).shuffle(false).build()?;
    /// assert_eq!(input.next_batch()?.y().unwrap().view::<i64>()?[[0]], 7);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn y(&self) -> Option<&DynArray> {
        self.targets.as_ref().and_then(Columns::as_array)
    }

    /// Number of samples in the batch.
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2, 3])
    ///     .batch_size(2).shuffle(false).build()?;
    /// assert_eq!(input.next_batch()?.len(), 2);
    /// assert_eq!(input.next_batch()?.len(), 1);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the batch holds no sample (never the case for batches an
    /// [`InputFn`](super::InputFn) yields).
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8])
    ///     .shuffle(false).build()?;
    /// assert!(!input.next_batch()?.is_empty());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::numpy_input_fn;
    use super::super::tests::arange;
    use super::*;

    #[test]
    fn dict_targets_stay_aligned_with_features() {
        let x = BTreeMap::from([("a".to_string(), arange(6))]);
        let y = BTreeMap::from([(
            "t".to_string(),
            DynArray::from((0..6).map(|v| v * 10).collect::<Vec<i64>>()),
        )]);
        let input = numpy_input_fn(x)
            .y(y)
            .batch_size(4)
            .shuffle(true)
            .seed(3)
            .build()
            .unwrap();
        for b in input {
            let b = b.unwrap();
            let a = b.feature("a").unwrap().to_vec::<i64>().unwrap();
            let t = b.targets.as_ref().unwrap().as_dict().unwrap()["t"]
                .to_vec::<i64>()
                .unwrap();
            assert_eq!(a.iter().map(|v| v * 10).collect::<Vec<_>>(), t);
            assert_eq!(a, b.rows.iter().map(|&r| r as i64).collect::<Vec<_>>());
        }
    }
}
