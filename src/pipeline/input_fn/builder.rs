//! The settings of a [`numpy_input_fn`] and their checks, in TensorFlow's order (spec §16).

use std::collections::BTreeMap;

use super::InputFn;
use super::columns::{Columns, DIRECT_INPUT_KEY};
use super::format::{python_set, python_shape, python_shapes};
use super::map::{MapStep, resolve_maps};
use super::order::Order;
use crate::array::DynArray;
use crate::iterators::{Shard, ShardRemainder};
use crate::pipeline::user_fn::UserFn;
use crate::{Error, Result};

/// Starts a [`numpy_input_fn`] over `x`: one array or a dict of named arrays (spec §16).
///
/// `shuffle` must be set before [`InputFnBuilder::build`]; every other setting has
/// TensorFlow's default: `batch_size` 128, `num_epochs` `Some(1)`, `queue_capacity` 1000,
/// `num_threads` 1; `drop_remainder` (not in TensorFlow's numpy_input_fn) is off.
///
/// ```
/// use std::collections::BTreeMap;
/// use augflow::array::DynArray;
/// use augflow::pipeline::numpy_input_fn;
///
/// let x = BTreeMap::from([
///     ("age".to_string(), DynArray::from(vec![1.0_f64, 2.0, 3.0, 4.0])),
///     ("height".to_string(), DynArray::from(vec![160_i64, 170, 180, 190])),
/// ]);
/// let input = numpy_input_fn(x)
///     .y(ndarray::array![0_i64, 1, 0, 1])
///     .batch_size(3)
///     .shuffle(true)
///     .seed(7)
///     .num_epochs(Some(2))
///     .build()?;
/// let sizes: Vec<usize> = input.map(|b| b.map(|b| b.len())).collect::<augflow::Result<_>>()?;
/// assert_eq!(sizes, [3, 3, 2]); // 8 rows over two epochs, batches run across the boundary
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn numpy_input_fn(x: impl Into<Columns>) -> InputFnBuilder {
    InputFnBuilder {
        x: x.into(),
        y: None,
        batch_size: 128,
        drop_remainder: false,
        num_epochs: Some(1),
        shuffle: None,
        queue_capacity: 1000,
        num_threads: 1,
        seed: None,
        shard: None,
        maps: Vec::new(),
    }
}

/// Settings of a [`numpy_input_fn`], validated by [`InputFnBuilder::build`].
///
/// ```
/// let built = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2]).build();
/// assert!(built.unwrap_err().to_string().contains(
///     "shuffle must be provided and explicitly set as boolean (it is recommended to set it as True for training); got None"
/// ));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct InputFnBuilder {
    x: Columns,
    y: Option<Columns>,
    batch_size: usize,
    drop_remainder: bool,
    num_epochs: Option<u64>,
    shuffle: Option<bool>,
    queue_capacity: usize,
    num_threads: usize,
    seed: Option<u64>,
    shard: Option<Shard>,
    maps: Vec<MapStep>,
}

impl InputFnBuilder {
    /// The targets: one array or a dict of named arrays. Without it batches have no targets.
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8])
    ///     .y(ndarray::array![true]).shuffle(false).build()?;
    /// assert!(input.next_batch()?.targets.is_some());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn y(mut self, y: impl Into<Columns>) -> Self {
        self.y = Some(y.into());
        self
    }

    /// Rows per batch (default 128). Only the very last batch of the run may be shorter (see
    /// [`drop_remainder`](Self::drop_remainder)).
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2, 3])
    ///     .batch_size(2).shuffle(false).build()?;
    /// assert_eq!(input.next_batch()?.rows, [0, 1]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Whether to drop the last batch of the run when it holds fewer than `batch_size` rows
    /// (default `false`), like tf.data's `batch(drop_remainder=True)` after `repeat` and
    /// torch's `drop_last`.
    ///
    /// Batches run across epoch boundaries (spec §16), so only the very last batch of the
    /// whole run can be short: it is the only one dropped, and with `num_epochs(None)` none
    /// is. A run of fewer than `batch_size` rows then yields no batch.
    ///
    /// ```
    /// let input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2, 3, 4, 5])
    ///     .batch_size(2).drop_remainder(true).shuffle(false).build()?;
    /// assert_eq!(input.num_batches(), Some(2));
    /// let rows: Vec<Vec<usize>> = input.map(|b| b.map(|b| b.rows)).collect::<augflow::Result<_>>()?;
    /// assert_eq!(rows, [[0, 1], [2, 3]]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn drop_remainder(mut self, drop_remainder: bool) -> Self {
        self.drop_remainder = drop_remainder;
        self
    }

    /// Passes over the data: `Some(n)` (default `Some(1)`; `Some(0)` yields nothing) or
    /// `None` to repeat forever.
    ///
    /// ```
    /// let mut input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8])
    ///     .num_epochs(None).shuffle(false).build()?;
    /// assert_eq!(input.num_batches(), None);
    /// assert!(input.next_batch().is_ok());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn num_epochs(mut self, num_epochs: Option<u64>) -> Self {
        self.num_epochs = num_epochs;
        self
    }

    /// Whether each epoch visits the rows in a random order. Required: TensorFlow refuses a
    /// missing `shuffle`, and so does [`InputFnBuilder::build`].
    ///
    /// With `true`, every epoch is a full permutation of the rows, a pure function of
    /// `(seed, epoch)`.
    ///
    /// ```
    /// let input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2, 3])
    ///     .shuffle(true).seed(1).num_epochs(Some(1)).build()?;
    /// let mut rows: Vec<usize> = input.flat_map(|b| b.unwrap().rows).collect();
    /// rows.sort();
    /// assert_eq!(rows, [0, 1, 2]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = Some(shuffle);
        self
    }

    /// Rows buffered ahead of the consumer when `num_threads > 1` (default 1000), rounded
    /// down to whole batches, at least one batch.
    ///
    /// ```
    /// assert!(augflow::pipeline::numpy_input_fn(ndarray::array![1_u8])
    ///     .queue_capacity(0).shuffle(false).build().is_err());
    /// ```
    pub fn queue_capacity(mut self, queue_capacity: usize) -> Self {
        self.queue_capacity = queue_capacity;
        self
    }

    /// Threads that build batches (default 1: batches are built on the caller's thread when
    /// asked for). More threads build batches ahead in parallel; the output is the same for
    /// any count.
    ///
    /// ```
    /// let input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8, 2, 3])
    ///     .num_threads(3).batch_size(1).shuffle(false).build()?;
    /// let rows: Vec<usize> = input.flat_map(|b| b.unwrap().rows).collect();
    /// assert_eq!(rows, [0, 1, 2]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn num_threads(mut self, num_threads: usize) -> Self {
        self.num_threads = num_threads;
        self
    }

    /// The shuffling seed. Without one, a seed is drawn from the OS at `build` and exposed by
    /// [`InputFn::seed`], so any run can be replayed.
    ///
    /// ```
    /// let input = augflow::pipeline::numpy_input_fn(ndarray::array![1_u8])
    ///     .shuffle(true).seed(42).build()?;
    /// assert_eq!(input.seed(), 42);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Streams only shard `index` of `num_shards` of every epoch, for data-parallel training,
    /// as the iterators' [`shard`](crate::iterators::IteratorBuilder::shard) does: each
    /// epoch's global order is dealt out position by position, so shards are disjoint, and
    /// each shard's epochs are then batched across epoch boundaries as usual. The remainder
    /// is padded by default; see [`shard_remainder`](Self::shard_remainder).
    ///
    /// ```
    /// use augflow::pipeline::numpy_input_fn;
    /// let rows = |k| -> augflow::Result<Vec<usize>> {
    ///     let input = numpy_input_fn(ndarray::Array1::<i64>::zeros(10))
    ///         .shuffle(true).seed(3).batch_size(2).shard(2, k).build()?;
    ///     Ok(input.flat_map(|b| b.unwrap().rows).collect())
    /// };
    /// let (a, b) = (rows(0)?, rows(1)?);
    /// assert_eq!((a.len(), b.len()), (5, 5));
    /// let mut all = [a, b].concat();
    /// all.sort_unstable();
    /// assert_eq!(all, (0..10).collect::<Vec<_>>()); // disjoint and covering
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn shard(mut self, num_shards: usize, index: usize) -> Self {
        let policy = self
            .shard
            .map_or(ShardRemainder::Pad, |s| s.remainder_policy());
        self.shard = Some(Shard::unchecked(num_shards, index, policy));
        self
    }

    /// What to do when an epoch does not divide by the shard count (default
    /// [`ShardRemainder::Pad`]); used with [`shard`](Self::shard).
    ///
    /// ```
    /// use augflow::iterators::ShardRemainder;
    /// let input = augflow::pipeline::numpy_input_fn(ndarray::Array1::<u8>::zeros(5))
    ///     .shuffle(false).shard(2, 1).shard_remainder(ShardRemainder::Drop).build()?;
    /// assert_eq!(input.flat_map(|b| b.unwrap().rows).collect::<Vec<_>>(), [1, 3]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn shard_remainder(mut self, policy: ShardRemainder) -> Self {
        let shard = self.shard.unwrap_or(Shard::unchecked(1, 0, policy));
        self.shard = Some(shard.remainder(policy));
        self
    }

    /// Applies `f` to every batch's features: its inputs are all feature arrays in key order
    /// and its outputs (as many) replace them in the same order. Each output must keep one
    /// row per sample.
    ///
    /// A stateless `f` runs on the batch-building threads; a stateful one (and every step
    /// after it) runs on the consumer's thread, once per batch, in batch order.
    ///
    /// ```
    /// use augflow::array::{DType, DynArray};
    /// use augflow::pipeline::{UserFn, numpy_input_fn};
    ///
    /// let scale = UserFn::new("scale", [DType::F32], |x: &[DynArray]| {
    ///     Ok(vec![DynArray::from(x[0].view::<u8>()?.mapv(|v| v as f32 / 255.0))])
    /// })
    /// .stateful(false);
    /// let mut input = numpy_input_fn(ndarray::array![0_u8, 255])
    ///     .shuffle(false)
    ///     .map(scale)
    ///     .build()?;
    /// assert_eq!(input.next_batch()?.x().unwrap().to_vec::<f32>()?, [0.0, 1.0]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn map(mut self, f: UserFn) -> Self {
        self.maps.push(MapStep::all(f));
        self
    }

    /// Applies `f` to the features named `inputs` (in that order) and stores its outputs
    /// under the names `outputs` (replacing or adding features), like [`map`](Self::map)
    /// otherwise.
    ///
    /// [`build`](Self::build) checks that the inputs exist, are not repeated, and that
    /// `outputs` has one distinct name per declared output of `f`.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use augflow::array::{DType, DynArray};
    /// use augflow::pipeline::{UserFn, numpy_input_fn};
    ///
    /// let x = BTreeMap::from([("cm".to_string(), DynArray::from(vec![100.0_f64, 250.0]))]);
    /// let to_m = UserFn::new("to_m", [DType::F64], |x: &[DynArray]| {
    ///     Ok(vec![DynArray::from(x[0].view::<f64>()?.mapv(|v| v / 100.0))])
    /// });
    /// let mut input = numpy_input_fn(x).shuffle(false).map_columns(&["cm"], to_m, &["m"]).build()?;
    /// let batch = input.next_batch()?;
    /// assert_eq!(batch.feature("m").unwrap().to_vec::<f64>()?, [1.0, 2.5]);
    /// assert!(batch.feature("cm").is_some());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn map_columns(mut self, inputs: &[&str], f: UserFn, outputs: &[&str]) -> Self {
        self.maps.push(MapStep::named(inputs, f, outputs));
        self
    }

    /// Checks every setting and the data, in TensorFlow's order (spec §16), and returns the
    /// batch iterator.
    ///
    /// Errors:
    /// * `shuffle` never set: [`Error::InvalidParameter`] with TensorFlow's text
    ///   `"shuffle must be provided and explicitly set as boolean (it is recommended to set it
    ///   as True for training); got None"`;
    /// * `batch_size`, `queue_capacity` or `num_threads` of 0: [`Error::InvalidParameter`];
    /// * `x` an empty dict (`"x cannot be an empty dict"`) or an array of no element
    ///   (`"x cannot be an empty array"`), `y` an empty dict (`"y cannot be empty dict, use
    ///   None instead."`): [`Error::Empty`];
    /// * a 0-d array: [`Error::Shape`];
    /// * keys in both `x` and `y`: [`Error::InvalidParameter`] with `"{n} duplicate keys are
    ///   found in both x and y: {set}"`;
    /// * arrays of different lengths: [`Error::LengthMismatch`] listing every shape;
    /// * every array of length 0: [`Error::Empty`];
    /// * a map step naming a missing or repeated input, or the wrong number of outputs:
    ///   [`Error::InvalidParameter`].
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use augflow::{Error, array::DynArray, pipeline::numpy_input_fn};
    ///
    /// let err = numpy_input_fn(BTreeMap::<String, DynArray>::new()).shuffle(true).build().unwrap_err();
    /// assert!(matches!(err, Error::Empty { name: "x", .. }));
    /// ```
    pub fn build(self) -> Result<InputFn> {
        let shuffle = self.check_settings()?;
        // spec §16 steps 1 to 3: x, then y, then the lengths of every column.
        let x_single = matches!(self.x, Columns::Array(_));
        let x = check_x(self.x)?;
        check_y(&x, self.y.as_ref())?;
        check_columns(&x, x_single, self.y.as_ref())?;
        let n = x.values().next().map(DynArray::len).unwrap_or(0);
        if n == 0 {
            return Err(Error::Empty {
                name: "x",
                expected: "at least one row; every array in x has length 0".into(),
            });
        }
        let maps = resolve_maps(self.maps, x.keys().cloned().collect())?;
        let seed = match (shuffle, self.seed) {
            (_, Some(s)) => s,
            (true, None) => crate::rng::os_seed(),
            (false, None) => 0,
        };
        let order = Order::new(
            n,
            self.batch_size,
            self.num_epochs,
            shuffle,
            seed,
            self.shard,
        )?
        .drop_remainder(self.drop_remainder);
        let window = (self.queue_capacity / self.batch_size).max(1);
        InputFn::start(
            x,
            self.y,
            order,
            maps,
            self.num_threads,
            window,
            self.num_epochs,
        )
    }

    /// The settings that need no data, checked first as TensorFlow checks `shuffle` when
    /// `numpy_input_fn` is called (spec §16); returns `shuffle`.
    fn check_settings(&self) -> Result<bool> {
        let Some(shuffle) = self.shuffle else {
            return Err(Error::invalid(
                "shuffle",
                "None",
                "`.shuffle(true)` or `.shuffle(false)`: shuffle must be provided and explicitly \
                 set as boolean (it is recommended to set it as True for training); got None",
            ));
        };
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "at least 1 row per batch"));
        }
        if self.queue_capacity == 0 {
            return Err(Error::invalid(
                "queue_capacity",
                0,
                "at least 1 row buffered ahead",
            ));
        }
        if self.num_threads == 0 {
            return Err(Error::invalid("num_threads", 0, "at least 1 thread"));
        }
        if let Some(s) = self.shard {
            Shard::new(s.count(), s.index())?;
        }
        Ok(shuffle)
    }
}

/// spec §16 step 1: `x` as named columns, a single array under [`DIRECT_INPUT_KEY`].
fn check_x(x: Columns) -> Result<BTreeMap<String, DynArray>> {
    match x {
        Columns::Dict(d) if d.is_empty() => Err(Error::Empty {
            name: "x",
            expected: "x cannot be an empty dict; pass at least one named array".into(),
        }),
        Columns::Dict(d) => Ok(d),
        Columns::Array(a) if a.ndim() > 0 && a.size() == 0 => Err(Error::Empty {
            name: "x",
            expected: format!(
                "x cannot be an empty array (got shape {:?}); pass at least one row",
                a.shape()
            ),
        }),
        Columns::Array(a) => Ok(BTreeMap::from([(DIRECT_INPUT_KEY.to_owned(), a)])),
    }
}

/// spec §16 step 2: a dict `y` is not empty and shares no key with `x`.
fn check_y(x: &BTreeMap<String, DynArray>, y: Option<&Columns>) -> Result<()> {
    let Some(Columns::Dict(d)) = y else {
        return Ok(());
    };
    if d.is_empty() {
        return Err(Error::Empty {
            name: "y",
            expected: "y cannot be empty dict, use None instead.".into(),
        });
    }
    let dup: Vec<&String> = d.keys().filter(|k| x.contains_key(*k)).collect();
    if !dup.is_empty() {
        let set = python_set(&dup);
        return Err(Error::invalid(
            "y",
            format!("a dict with keys {set} also in x"),
            format!(
                "keys distinct from x's ({} duplicate keys are found in both x and y: {set})",
                dup.len()
            ),
        ));
    }
    Ok(())
}

/// spec §16 step 3: every column has axis 0 and the same length.
fn check_columns(
    x: &BTreeMap<String, DynArray>,
    x_single: bool,
    y: Option<&Columns>,
) -> Result<()> {
    let label = |side: &str, key: &str, single: bool| {
        if single {
            side.to_owned()
        } else {
            format!("{side}['{key}']")
        }
    };
    let mut columns: Vec<(String, &DynArray)> = x
        .iter()
        .map(|(k, a)| (label("x", k, x_single), a))
        .collect();
    match y {
        None => {}
        Some(Columns::Array(a)) => columns.push(("y".to_owned(), a)),
        Some(Columns::Dict(d)) => columns.extend(d.iter().map(|(k, a)| (label("y", k, false), a))),
    }
    for (name, a) in &columns {
        if a.ndim() == 0 {
            return Err(Error::Shape {
                name: if name.starts_with('x') { "x" } else { "y" },
                shape: vec![],
                expected: format!("{name} to have at least one axis (one entry per sample)"),
            });
        }
    }
    let (first_name, first) = &columns[0];
    if let Some((name, a)) = columns.iter().find(|(_, a)| a.len() != first.len()) {
        let shapes_x = if x_single {
            python_shape(x[DIRECT_INPUT_KEY].shape())
        } else {
            python_shapes(x)
        };
        let shapes_y = match y {
            None => "None".to_owned(),
            Some(Columns::Array(a)) => python_shape(a.shape()),
            Some(Columns::Dict(d)) => python_shapes(d),
        };
        return Err(Error::LengthMismatch {
            name: name.clone(),
            got: a.len(),
            other: format!(
                "{first_name} (Length of tensors in x and y is mismatched. All elements in x and \
                 y must have the same length. Shapes in x: {shapes_x}; Shapes in y: {shapes_y})"
            ),
            expected: first.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::arange;
    use super::*;

    #[test]
    fn missing_shuffle_gives_tensorflows_message() {
        let err = numpy_input_fn(arange(3)).build().unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidParameter {
                name: "shuffle",
                ..
            }
        ));
        assert!(err.to_string().contains(
            "shuffle must be provided and explicitly set as boolean (it is recommended to set \
             it as True for training); got None"
        ));
    }

    #[test]
    fn shuffle_is_checked_before_the_data() {
        let err = numpy_input_fn(BTreeMap::new()).build().unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidParameter {
                name: "shuffle",
                ..
            }
        ));
    }

    #[test]
    fn empty_x_dict_and_empty_x_array_are_refused() {
        let err = numpy_input_fn(BTreeMap::new())
            .shuffle(false)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("x cannot be an empty dict"),
            "{err}"
        );
        let err = numpy_input_fn(DynArray::from(Vec::<f32>::new()))
            .shuffle(false)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Empty { name: "x", .. }));
        assert!(
            err.to_string().contains("x cannot be an empty array"),
            "{err}"
        );
        // size 0 but 3 rows: refused too, as numpy's `x.size == 0` check does.
        let err = numpy_input_fn(ndarray::Array2::<u8>::zeros((3, 0)))
            .shuffle(false)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("x cannot be an empty array"),
            "{err}"
        );
    }

    #[test]
    fn empty_y_dict_says_use_none() {
        let err = numpy_input_fn(arange(2))
            .y(BTreeMap::new())
            .shuffle(false)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Empty { name: "y", .. }));
        assert!(
            err.to_string()
                .contains("y cannot be empty dict, use None instead."),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_give_the_count_and_the_set() {
        let x = BTreeMap::from([
            ("a".to_string(), arange(2)),
            ("b".to_string(), arange(2)),
            ("c".to_string(), arange(2)),
        ]);
        let y = BTreeMap::from([("c".to_string(), arange(2)), ("a".to_string(), arange(2))]);
        let err = numpy_input_fn(x).y(y).shuffle(false).build().unwrap_err();
        assert!(
            err.to_string()
                .contains("2 duplicate keys are found in both x and y: {'a', 'c'}"),
            "{err}"
        );
    }

    #[test]
    fn length_mismatch_lists_every_shape() {
        let x = BTreeMap::from([
            ("age".to_string(), arange(5)),
            (
                "height".to_string(),
                DynArray::from(ndarray::Array2::<f32>::zeros((5, 2))),
            ),
        ]);
        let err = numpy_input_fn(x)
            .y(arange(4))
            .shuffle(false)
            .build()
            .unwrap_err();
        match &err {
            Error::LengthMismatch {
                name,
                got: 4,
                expected: 5,
                ..
            } => assert_eq!(name, "y"),
            other => panic!("expected LengthMismatch, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("Shapes in x: {'age': (5,), 'height': (5, 2)}"),
            "{msg}"
        );
        assert!(msg.contains("Shapes in y: (4,)"), "{msg}");
        assert!(
            msg.contains("Length of tensors in x and y is mismatched"),
            "{msg}"
        );
    }

    #[test]
    fn length_mismatch_inside_x_names_the_column() {
        let x = BTreeMap::from([("a".to_string(), arange(3)), ("b".to_string(), arange(2))]);
        let err = numpy_input_fn(x).shuffle(false).build().unwrap_err();
        assert!(
            matches!(&err, Error::LengthMismatch { name, .. } if name == "x['b']"),
            "{err}"
        );
        assert!(err.to_string().contains("Shapes in y: None"), "{err}");
    }

    #[test]
    fn all_columns_empty_is_refused_not_a_division_by_zero() {
        let x = BTreeMap::from([("a".to_string(), DynArray::from(Vec::<f32>::new()))]);
        let err = numpy_input_fn(x).shuffle(true).build().unwrap_err();
        assert!(matches!(err, Error::Empty { name: "x", .. }), "{err}");
    }

    #[test]
    fn scalar_column_is_a_shape_error() {
        let x = BTreeMap::from([("s".to_string(), DynArray::from(ndarray::arr0(1.0_f64)))]);
        let err = numpy_input_fn(x).shuffle(false).build().unwrap_err();
        assert!(matches!(err, Error::Shape { name: "x", .. }), "{err}");
    }

    #[test]
    fn zero_sizes_and_threads_are_refused() {
        let b = || numpy_input_fn(arange(2)).shuffle(false);
        assert!(matches!(
            b().batch_size(0).build(),
            Err(Error::InvalidParameter {
                name: "batch_size",
                ..
            })
        ));
        assert!(matches!(
            b().queue_capacity(0).build(),
            Err(Error::InvalidParameter {
                name: "queue_capacity",
                ..
            })
        ));
        assert!(matches!(
            b().num_threads(0).build(),
            Err(Error::InvalidParameter {
                name: "num_threads",
                ..
            })
        ));
    }
}
