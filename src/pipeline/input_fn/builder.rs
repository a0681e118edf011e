//! `numpy_input_fn` (spec §16): batches of named feature arrays and targets, over a fixed
//! number of epochs or forever, in row order or shuffled by a seed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};

use ndarray::{Array, Dimension};

use crate::pipeline::prefetch::{Job, OrderedPool};
use crate::pipeline::user_fn::UserFn;
use crate::array::{DynArray, Element};
use crate::{Error, Result};

/// The feature key under which a single `x` array is stored, as in TensorFlow (spec §16).
pub const DIRECT_INPUT_KEY: &str = "__direct_np_input__";

/// `x` or `y` of [`numpy_input_fn`]: one array, or a dict of named arrays (kept sorted by
/// key). Converts from a [`DynArray`], any `ndarray` array of a supported element type, a
/// `BTreeMap` or a `HashMap` of names to [`DynArray`]s.
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

    fn select(&self, rows: &[usize]) -> Result<Columns> {
        Ok(match self {
            Columns::Array(a) => Columns::Array(a.select(rows)?),
            Columns::Dict(d) => Columns::Dict(select_all(d, rows)?),
        })
    }
}

fn select_all(
    d: &BTreeMap<String, DynArray>,
    rows: &[usize],
) -> Result<BTreeMap<String, DynArray>> {
    d.iter()
        .map(|(k, a)| Ok((k.clone(), a.select(rows)?)))
        .collect()
}

/// One batch of a [`InputFn`]: the features (sorted by name; a single `x` array under
/// [`DIRECT_INPUT_KEY`], see [`FeatureBatch::x`]), the targets if `y` was given, and the
/// source row of each sample.
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

    /// Whether the batch holds no sample (never the case for batches an [`InputFn`] yields).
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

/// Starts a [`numpy_input_fn`] over `x`: one array or a dict of named arrays (spec §16).
///
/// `shuffle` must be set before [`InputFnBuilder::build`]; every other setting has
/// TensorFlow's default: `batch_size` 128, `num_epochs` `Some(1)`, `queue_capacity` 1000,
/// `num_threads` 1.
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
        num_epochs: Some(1),
        shuffle: None,
        queue_capacity: 1000,
        num_threads: 1,
        seed: None,
        maps: Vec::new(),
    }
}

/// A user function applied to named feature columns of every batch.
#[derive(Clone, Debug)]
struct MapStep {
    f: UserFn,
    /// `None`: every feature, in key order (resolved in `build`).
    inputs: Option<Vec<String>>,
    /// `None`: the same keys as the inputs.
    outputs: Option<Vec<String>>,
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
    num_epochs: Option<u64>,
    shuffle: Option<bool>,
    queue_capacity: usize,
    num_threads: usize,
    seed: Option<u64>,
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

    /// Rows per batch (default 128). Only the very last batch of the run may be shorter.
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
        self.maps.push(MapStep {
            f,
            inputs: None,
            outputs: None,
        });
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
        self.maps.push(MapStep {
            f,
            inputs: Some(inputs.iter().map(|s| s.to_string()).collect()),
            outputs: Some(outputs.iter().map(|s| s.to_string()).collect()),
        });
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
        // spec §16: checked when numpy_input_fn is called, before anything else.
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
        // spec §16 step 1: x.
        let x_single = matches!(self.x, Columns::Array(_));
        let x = match self.x {
            Columns::Dict(d) if d.is_empty() => {
                return Err(Error::Empty {
                    name: "x",
                    expected: "x cannot be an empty dict; pass at least one named array".into(),
                });
            }
            Columns::Dict(d) => d,
            Columns::Array(a) => {
                if a.ndim() > 0 && a.size() == 0 {
                    return Err(Error::Empty {
                        name: "x",
                        expected: format!(
                            "x cannot be an empty array (got shape {:?}); pass at least one row",
                            a.shape()
                        ),
                    });
                }
                BTreeMap::from([(DIRECT_INPUT_KEY.to_owned(), a)])
            }
        };
        // spec §16 step 2: y.
        if let Some(Columns::Dict(d)) = &self.y {
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
        }
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
        let total_rows = self.num_epochs.and_then(|e| e.checked_mul(n as u64));
        let batch_size = self.batch_size as u64;
        let num_batches = total_rows.map(|t| t.div_ceil(batch_size));
        // Stateful steps, and everything after the first one, run on the consumer's thread
        // so that they see the batches one at a time, in order.
        let first_stateful = maps
            .iter()
            .position(|m| m.f.is_stateful())
            .unwrap_or(maps.len());
        let (worker_maps, consumer_maps) = if self.num_threads > 1 {
            let mut m = maps;
            let rest = m.split_off(first_stateful);
            (m, rest)
        } else {
            (Vec::new(), maps)
        };
        let plan = Arc::new(Plan {
            x,
            y: self.y,
            n,
            batch_size,
            total_rows,
            shuffle,
            seed,
            perms: Mutex::new(BTreeMap::new()),
            maps: worker_maps,
        });
        let pool = if self.num_threads > 1 {
            let window = (self.queue_capacity / self.batch_size).max(1);
            let p = Arc::clone(&plan);
            let job: Job<FeatureBatch> = Arc::new(move |b| p.build_batch(b as u64));
            let end = num_batches.map(|b| usize::try_from(b).unwrap_or(usize::MAX));
            Some(OrderedPool::start(
                job,
                end,
                self.num_threads,
                window,
                "input_fn batch",
            )?)
        } else {
            None
        };
        Ok(InputFn {
            plan,
            pool,
            consumer_maps,
            next: 0,
            num_batches,
            num_epochs: self.num_epochs,
        })
    }
}

/// `{'a', 'b'}`, Python's rendering of a set of strings (sorted here, so it is stable).
fn python_set(keys: &[&String]) -> String {
    let inner: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// `(5,)`, `(5, 2)`: Python's rendering of a shape, as in TensorFlow's message.
fn python_shape(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn python_shapes(d: &BTreeMap<String, DynArray>) -> String {
    let inner: Vec<String> = d
        .iter()
        .map(|(k, a)| format!("'{k}': {}", python_shape(a.shape())))
        .collect();
    format!("{{{}}}", inner.join(", "))
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

/// Resolves each step's inputs and outputs against the feature keys it will see.
fn resolve_maps(steps: Vec<MapStep>, mut keys: BTreeSet<String>) -> Result<Vec<ResolvedStep>> {
    let mut out = Vec::with_capacity(steps.len());
    for mut step in steps {
        let inputs = step
            .inputs
            .take()
            .unwrap_or_else(|| keys.iter().cloned().collect());
        let outputs = step.outputs.take().unwrap_or_else(|| inputs.clone());
        let name = step.f.name().to_owned();
        let mut seen = BTreeSet::new();
        for k in &inputs {
            if !keys.contains(k) {
                return Err(Error::invalid(
                    "map inputs",
                    format!("'{k}' (for {name})"),
                    format!("a feature name, one of {keys:?}"),
                ));
            }
            if !seen.insert(k) {
                return Err(Error::invalid(
                    "map inputs",
                    format!("'{k}' twice (for {name})"),
                    "each feature named at most once",
                ));
            }
        }
        let declared = step.f.outputs().len();
        let distinct: BTreeSet<&String> = outputs.iter().collect();
        if outputs.len() != declared || distinct.len() != outputs.len() {
            return Err(Error::invalid(
                "map outputs",
                format!("{outputs:?} (for {name})"),
                format!("{declared} distinct names, one per output {name} declares"),
            ));
        }
        keys.extend(outputs.iter().cloned());
        out.push(ResolvedStep {
            f: step.f,
            inputs,
            outputs,
        });
    }
    Ok(out)
}

/// A [`MapStep`] with its feature names resolved by `build`.
#[derive(Debug)]
struct ResolvedStep {
    f: UserFn,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl ResolvedStep {
    fn apply(&self, batch: &mut FeatureBatch) -> Result<()> {
        let (inputs, outputs) = (&self.inputs, &self.outputs);
        // Move the inputs out (no copy), call, then put them back before the outputs land.
        let mut taken = Vec::with_capacity(inputs.len());
        for k in inputs {
            match batch.features.remove(k) {
                Some(a) => taken.push(a),
                None => {
                    return Err(Error::Contract {
                        what: self.f.name().to_owned(),
                        message: format!("feature '{k}' is missing from the batch"),
                    });
                }
            }
        }
        let result = self.f.call(&taken);
        for (k, a) in inputs.iter().zip(taken) {
            batch.features.insert(k.clone(), a);
        }
        let values = result?;
        for (i, v) in values.iter().enumerate() {
            if v.ndim() == 0 || v.len() != batch.rows.len() {
                return Err(Error::Contract {
                    what: self.f.name().to_owned(),
                    message: format!(
                        "{i}-th value returned by {} has shape {:?}, but the batch has {} rows \
                         (a map step must keep one row per sample)",
                        self.f.name(),
                        v.shape(),
                        batch.rows.len()
                    ),
                });
            }
        }
        for (k, v) in outputs.iter().zip(values) {
            batch.features.insert(k.clone(), v);
        }
        Ok(())
    }
}

/// Everything needed to build batch `b`, shared with the worker threads.
struct Plan {
    x: BTreeMap<String, DynArray>,
    y: Option<Columns>,
    n: usize,
    batch_size: u64,
    /// `None`: forever.
    total_rows: Option<u64>,
    shuffle: bool,
    seed: u64,
    /// Recently used epoch permutations (workers ask for nearly increasing epochs).
    perms: Mutex<BTreeMap<u64, Arc<Vec<usize>>>>,
    /// Stateless map steps, run where the batch is built.
    maps: Vec<ResolvedStep>,
}

const PERM_CACHE: usize = 4;

impl Plan {
    fn permutation(&self, epoch: u64) -> Arc<Vec<usize>> {
        let mut cache = self.perms.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = cache.get(&epoch) {
            return Arc::clone(p);
        }
        let p = Arc::new(epoch_permutation(self.n, self.seed, epoch));
        cache.insert(epoch, Arc::clone(&p));
        while cache.len() > PERM_CACHE {
            cache.pop_first();
        }
        p
    }

    /// The source rows of batch `b`: positions `b·bs .. (b+1)·bs` of the endless stream of
    /// epochs, cut at the total (spec §16: batches cross epoch boundaries, only the very last
    /// one may be short).
    fn rows(&self, b: u64) -> Vec<usize> {
        let n = self.n as u64;
        let start = b.saturating_mul(self.batch_size);
        let end = start.saturating_add(self.batch_size);
        let end = self.total_rows.map_or(end, |t| end.min(t));
        let mut rows = Vec::with_capacity(end.saturating_sub(start) as usize);
        let mut p = start;
        while p < end {
            let epoch = p / n;
            let k = (p % n) as usize;
            let take = (n - k as u64).min(end - p) as usize;
            if self.shuffle {
                rows.extend_from_slice(&self.permutation(epoch)[k..k + take]);
            } else {
                rows.extend(k..k + take);
            }
            p += take as u64;
        }
        rows
    }

    fn build_batch(&self, b: u64) -> Result<FeatureBatch> {
        let rows = self.rows(b);
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

/// The order of the rows in `epoch`: a full permutation, a pure function of `(seed, epoch)`.
pub(crate) fn epoch_permutation(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    crate::rng::permutation(seed, crate::rng::Stream::Other, epoch, n)
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
}

impl InputFn {
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
        self.plan.seed
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
            return Err(Error::EndOfInput(format!(
                "Already emitted {} epochs.",
                self.num_epochs.unwrap_or(0)
            )));
        }
        let b = self.next;
        self.next += 1;
        let built = match &mut self.pool {
            Some(pool) => pool.next_item().unwrap_or_else(|| {
                Err(Error::EndOfInput(format!(
                    "Already emitted {} epochs.",
                    self.num_epochs.unwrap_or(0)
                )))
            }),
            None => self.plan.build_batch(b),
        };
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
            .field("rows", &self.plan.n)
            .field("batch_size", &self.plan.batch_size)
            .field("num_epochs", &self.num_epochs)
            .field("shuffle", &self.plan.shuffle)
            .field("seed", &self.plan.seed)
            .field("threads", &self.pool.is_some())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::DType;

    fn arange(n: i64) -> DynArray {
        DynArray::from((0..n).collect::<Vec<i64>>())
    }

    /// The `x` values of every batch (x = arange, so values are the source rows).
    fn batches(input: InputFn) -> Vec<Vec<i64>> {
        input
            .map(|b| b.unwrap().x().unwrap().to_vec::<i64>().unwrap())
            .collect()
    }

    fn ordered(n: i64, bs: usize, epochs: Option<u64>, threads: usize) -> InputFn {
        numpy_input_fn(arange(n))
            .batch_size(bs)
            .num_epochs(epochs)
            .num_threads(threads)
            .shuffle(false)
            .build()
            .unwrap()
    }

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
    fn permutation_depends_only_on_seed_and_epoch() {
        assert_eq!(epoch_permutation(20, 5, 3), epoch_permutation(20, 5, 3));
        assert_ne!(epoch_permutation(20, 5, 3), epoch_permutation(20, 5, 4));
        assert_ne!(epoch_permutation(20, 5, 3), epoch_permutation(20, 6, 3));
        assert_eq!(epoch_permutation(1, 5, 3), [0]);
        assert!(epoch_permutation(0, 5, 3).is_empty());
    }

    #[test]
    fn fisher_yates_is_unbiased_on_three_elements() {
        // 6 orderings of 3 rows, each expected 1/6 of the time over many (seed, epoch) pairs.
        let mut counts = BTreeMap::new();
        let trials = 6000;
        for e in 0..trials {
            *counts.entry(epoch_permutation(3, 99, e)).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 6);
        for (perm, c) in counts {
            // Binomial(6000, 1/6): sd ≈ 29; 6 sd either side.
            assert!((826..=1174).contains(&c), "{perm:?} seen {c} times");
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

    fn counter_fn(stateful: bool) -> (UserFn, Arc<Mutex<Vec<i64>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        let f = UserFn::new("record", [DType::I64], move |x: &[DynArray]| {
            let v = x[0].view::<i64>()?;
            s.lock().unwrap().push(v[0]);
            Ok(vec![DynArray::from(v.mapv(|a| a + 100))])
        })
        .stateful(stateful);
        (f, seen)
    }

    #[test]
    fn stateful_map_runs_in_batch_order_with_many_threads() {
        let (f, seen) = counter_fn(true);
        let out = batches(
            numpy_input_fn(arange(40))
                .batch_size(1)
                .num_threads(4)
                .shuffle(false)
                .map(f)
                .build()
                .unwrap(),
        );
        assert_eq!(out.len(), 40);
        assert_eq!(out[3], [103]);
        assert_eq!(*seen.lock().unwrap(), (0..40).collect::<Vec<i64>>());
    }

    #[test]
    fn stateless_map_gives_the_same_batches_with_threads() {
        let run = |threads| {
            let (f, _) = counter_fn(false);
            batches(
                numpy_input_fn(arange(9))
                    .batch_size(2)
                    .num_threads(threads)
                    .shuffle(true)
                    .seed(8)
                    .map(f)
                    .build()
                    .unwrap(),
            )
        };
        let one = run(1);
        assert!(one.iter().flatten().all(|&v| (100..109).contains(&v)));
        assert_eq!(run(3), one);
    }

    #[test]
    fn map_that_changes_the_row_count_is_a_contract_error() {
        let f = UserFn::new("first_only", [DType::I64], |x: &[DynArray]| {
            Ok(vec![x[0].select(&[0])?])
        });
        let mut input = numpy_input_fn(arange(4))
            .batch_size(2)
            .shuffle(false)
            .map(f)
            .build()
            .unwrap();
        let err = input.next_batch().unwrap_err();
        assert!(matches!(err, Error::Contract { .. }), "{err}");
        assert!(err.to_string().contains("2 rows"), "{err}");
    }

    #[test]
    fn panicking_map_is_an_error_not_an_abort_with_threads() {
        let f = UserFn::new(
            "boom",
            [DType::I64],
            |_: &[DynArray]| -> std::result::Result<Vec<DynArray>, crate::BoxError> {
                panic!("user bug")
            },
        )
        .stateful(false);
        let mut input = numpy_input_fn(arange(4))
            .batch_size(2)
            .num_threads(2)
            .shuffle(false)
            .map(f)
            .build()
            .unwrap();
        let err = input.next_batch().unwrap_err();
        assert!(matches!(err, Error::UserFunction { .. }), "{err}");
        assert!(err.to_string().contains("user bug"), "{err}");
    }

    #[test]
    fn map_columns_checks_names_at_build() {
        let (f, _) = counter_fn(false);
        let x = BTreeMap::from([("a".to_string(), arange(2))]);
        let b = || numpy_input_fn(x.clone()).shuffle(false);
        assert!(
            b().map_columns(&["nope"], f.clone(), &["z"])
                .build()
                .is_err()
        );
        assert!(
            b().map_columns(&["a", "a"], f.clone(), &["z"])
                .build()
                .is_err()
        );
        assert!(
            b().map_columns(&["a"], f.clone(), &["z", "w"])
                .build()
                .is_err()
        );
        // A later step may read what an earlier one wrote.
        assert!(
            b().map_columns(&["a"], f.clone(), &["z"])
                .map_columns(&["z"], f, &["w"])
                .build()
                .is_ok()
        );
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
