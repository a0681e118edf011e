//! User array functions with a declared output contract: the `tf.numpy_function` equivalent
//! (spec §17), and [`MapSequence`] to apply one to every item of a [`Sequence`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::catch_panic;
use crate::array::{DType, DynArray};
use crate::{BoxError, Error, Result, Sequence};

/// The body of a [`UserFn`]: arrays in, arrays out, any error type out.
pub type UserFnBody =
    dyn Fn(&[DynArray]) -> std::result::Result<Vec<DynArray>, BoxError> + Send + Sync;

/// What one output of a [`UserFn`] must be: a dtype, matched exactly (no casting, spec §17),
/// and optionally a shape where `None` is a wildcard dimension.
///
/// ```
/// use augflow::array::DType;
/// use augflow::pipeline::OutputSpec;
///
/// let spec = OutputSpec::new(DType::F32).with_shape([None, Some(28), Some(28)]);
/// assert_eq!(spec.to_string(), "float32[?, 28, 28]");
/// let any_shape: OutputSpec = DType::I64.into();
/// assert_eq!(any_shape.shape(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSpec {
    dtype: DType,
    shape: Option<Vec<Option<usize>>>,
}

impl OutputSpec {
    /// An output of `dtype` with any shape.
    ///
    /// ```
    /// assert_eq!(augflow::pipeline::OutputSpec::new(augflow::array::DType::U8).to_string(), "uint8");
    /// ```
    pub fn new(dtype: DType) -> Self {
        OutputSpec { dtype, shape: None }
    }

    /// Requires a shape of exactly `dims.len()` axes; `None` accepts any size on that axis.
    ///
    /// ```
    /// use augflow::{array::DType, pipeline::OutputSpec};
    /// let s = OutputSpec::new(DType::F64).with_shape([None]);
    /// assert_eq!(s.shape(), Some(&[None][..]));
    /// ```
    pub fn with_shape(mut self, dims: impl IntoIterator<Item = Option<usize>>) -> Self {
        self.shape = Some(dims.into_iter().collect());
        self
    }

    /// The required dtype.
    ///
    /// ```
    /// use augflow::{array::DType, pipeline::OutputSpec};
    /// assert_eq!(OutputSpec::new(DType::Bool).dtype(), DType::Bool);
    /// ```
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The required shape, if any (`None` entries are wildcards).
    ///
    /// ```
    /// use augflow::{array::DType, pipeline::OutputSpec};
    /// assert_eq!(OutputSpec::new(DType::Bool).shape(), None);
    /// ```
    pub fn shape(&self) -> Option<&[Option<usize>]> {
        self.shape.as_deref()
    }

    fn shape_matches(&self, shape: &[usize]) -> bool {
        match &self.shape {
            None => true,
            Some(dims) => {
                dims.len() == shape.len()
                    && dims
                        .iter()
                        .zip(shape)
                        .all(|(d, s)| d.is_none_or(|d| d == *s))
            }
        }
    }
}

impl From<DType> for OutputSpec {
    fn from(dtype: DType) -> Self {
        OutputSpec::new(dtype)
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dtype)?;
        if let Some(dims) = &self.shape {
            f.write_str("[")?;
            for (i, d) in dims.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match d {
                    Some(d) => write!(f, "{d}")?,
                    None => f.write_str("?")?,
                }
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// A user array function with a declared output contract: the Rust form of
/// `tf.numpy_function(func, inp, Tout, stateful)` (spec §17), but checked in every mode.
///
/// After each call the outputs are checked against the contract: their count, each dtype
/// (exactly, no casting) and each declared shape; a mismatch is an [`Error::Contract`] with
/// TensorFlow's wording (`"1-th value returned by f is float64, but expects float32"`). An
/// error returned by the function, or a panic inside it, is an [`Error::UserFunction`]; it
/// never aborts the process or stalls a pipeline.
///
/// `stateful` (the default, as in TensorFlow) means calls never overlap: they are serialized
/// by a lock shared by all clones. Used as a map step of
/// [`InputFn`](super::InputFnBuilder::map) it also runs in batch order. `stateful(false)`
/// lets calls run in parallel.
///
/// ```
/// use augflow::array::{DType, DynArray};
/// use augflow::pipeline::UserFn;
///
/// let double = UserFn::new("double", [DType::F32], |inp: &[DynArray]| {
///     let a = inp[0].view::<f32>()?;
///     Ok(vec![DynArray::from(a.mapv(|v| 2.0 * v))])
/// })
/// .stateful(false);
/// let out = double.call(&[DynArray::from(vec![1.0_f32, 2.0])])?;
/// assert_eq!(out[0], DynArray::from(vec![2.0_f32, 4.0]));
///
/// // The float64 trap: computing in f64 and returning it where float32 is declared.
/// let wrong = UserFn::new("to_f64", [DType::F32], |inp: &[DynArray]| {
///     let a = inp[0].view::<f32>()?;
///     Ok(vec![DynArray::from(a.mapv(|v| v as f64 * 0.5))])
/// });
/// let err = wrong.call(&[DynArray::from(vec![1.0_f32])]).unwrap_err();
/// assert!(err.to_string().contains("0-th value returned by to_f64 is float64, but expects float32"));
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Clone)]
pub struct UserFn {
    name: String,
    func: Arc<UserFnBody>,
    outputs: Vec<OutputSpec>,
    stateful: bool,
    lock: Arc<Mutex<()>>,
}

impl UserFn {
    /// Wraps `func` under `name` (used in every error message) with one [`OutputSpec`] per
    /// output (a [`DType`] converts into one). Stateful by default.
    ///
    /// ```
    /// use augflow::{array::{DType, DynArray}, pipeline::UserFn};
    /// let f = UserFn::new("nothing", Vec::<DType>::new(), |_: &[DynArray]| Ok(vec![]));
    /// assert!(f.call(&[])?.is_empty());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn new<F>(
        name: impl Into<String>,
        outputs: impl IntoIterator<Item = impl Into<OutputSpec>>,
        func: F,
    ) -> Self
    where
        F: Fn(&[DynArray]) -> std::result::Result<Vec<DynArray>, BoxError> + Send + Sync + 'static,
    {
        UserFn {
            name: name.into(),
            func: Arc::new(func),
            outputs: outputs.into_iter().map(Into::into).collect(),
            stateful: true,
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// Whether calls must be serialized (`true`, the default) or may run in parallel.
    ///
    /// ```
    /// use augflow::{array::{DType, DynArray}, pipeline::UserFn};
    /// let f = UserFn::new("id", [DType::U8], |x: &[DynArray]| Ok(x.to_vec())).stateful(false);
    /// assert!(!f.is_stateful());
    /// ```
    pub fn stateful(mut self, stateful: bool) -> Self {
        self.stateful = stateful;
        self
    }

    /// Whether calls are serialized.
    ///
    /// ```
    /// use augflow::{array::{DType, DynArray}, pipeline::UserFn};
    /// assert!(UserFn::new("id", [DType::U8], |x: &[DynArray]| Ok(x.to_vec())).is_stateful());
    /// ```
    pub fn is_stateful(&self) -> bool {
        self.stateful
    }

    /// The name used in error messages.
    ///
    /// ```
    /// use augflow::{array::{DType, DynArray}, pipeline::UserFn};
    /// assert_eq!(UserFn::new("id", [DType::U8], |x: &[DynArray]| Ok(x.to_vec())).name(), "id");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared outputs.
    ///
    /// ```
    /// use augflow::{array::{DType, DynArray}, pipeline::UserFn};
    /// let f = UserFn::new("id", [DType::U8], |x: &[DynArray]| Ok(x.to_vec()));
    /// assert_eq!(f.outputs().len(), 1);
    /// ```
    pub fn outputs(&self) -> &[OutputSpec] {
        &self.outputs
    }

    /// Calls the function on `inputs` and checks its outputs against the contract.
    ///
    /// Errors: [`Error::UserFunction`] when the function returns an error or panics;
    /// [`Error::Contract`] when it returns the wrong number of values
    /// (`"f returns 2 values, but expects to see 1 values."`), a value of the wrong dtype or
    /// of a shape outside the declared one.
    ///
    /// ```
    /// use augflow::{Error, array::{DType, DynArray}, pipeline::UserFn};
    ///
    /// let two = UserFn::new("two", [DType::U8], |x: &[DynArray]| Ok(vec![x[0].clone(), x[0].clone()]));
    /// let err = two.call(&[DynArray::from(vec![1_u8])]).unwrap_err();
    /// assert!(matches!(err, Error::Contract { .. }));
    /// assert!(err.to_string().contains("two returns 2 values, but expects to see 1 values."));
    ///
    /// let fails = UserFn::new("fails", [DType::U8], |_: &[DynArray]| Err("no data".into()));
    /// assert!(matches!(fails.call(&[]), Err(Error::UserFunction { .. })));
    /// ```
    pub fn call(&self, inputs: &[DynArray]) -> Result<Vec<DynArray>> {
        let run = || {
            catch_panic(
                || self.name.clone(),
                || {
                    (self.func)(inputs).map_err(|e| Error::UserFunction {
                        what: self.name.clone(),
                        message: e.to_string(),
                    })
                },
            )
        };
        let outputs = if self.stateful {
            // The panic is caught inside the lock, so the lock is never poisoned by it.
            let _serial = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            run()?
        } else {
            run()?
        };
        self.check(&outputs)?;
        Ok(outputs)
    }

    /// Checks `outputs` against the contract (spec §17: count, then each dtype exactly).
    fn check(&self, outputs: &[DynArray]) -> Result<()> {
        let contract = |message: String| Error::Contract {
            what: self.name.clone(),
            message,
        };
        if outputs.len() != self.outputs.len() {
            return Err(contract(format!(
                "{} returns {} values, but expects to see {} values.",
                self.name,
                outputs.len(),
                self.outputs.len()
            )));
        }
        for (i, (out, spec)) in outputs.iter().zip(&self.outputs).enumerate() {
            if out.dtype() != spec.dtype {
                let hint = if out.dtype() == DType::F64 && spec.dtype == DType::F32 {
                    " (the float64-vs-float32 trap: arithmetic that mixes float32 data with \
                     f64 values gives float64, and nothing is cast for you; convert the result \
                     with `.mapv(|v| v as f32)` or declare float64)"
                        .to_owned()
                } else {
                    format!(
                        " (no implicit cast is done; convert the value to {})",
                        spec.dtype
                    )
                };
                return Err(contract(format!(
                    "{i}-th value returned by {} is {}, but expects {}{hint}",
                    self.name,
                    out.dtype(),
                    spec.dtype
                )));
            }
            if !spec.shape_matches(out.shape()) {
                return Err(contract(format!(
                    "{i}-th value returned by {} has shape {:?}, but expects {spec}",
                    self.name,
                    out.shape()
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for UserFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserFn")
            .field("name", &self.name)
            .field("outputs", &self.outputs)
            .field("stateful", &self.stateful)
            .finish_non_exhaustive()
    }
}

/// A step a [`MapSequence`] applies to each item: any `Fn(In) -> Result<Out>`, or a
/// [`UserFn`] over items that are `Vec<DynArray>` or one [`DynArray`].
///
/// ```
/// use augflow::pipeline::MapFn;
/// let plus_one = |x: u32| -> augflow::Result<u32> { Ok(x + 1) };
/// assert_eq!(plus_one.apply(1)?, 2);
/// # Ok::<(), augflow::Error>(())
/// ```
pub trait MapFn<In>: Sync {
    /// What the step produces.
    type Output: Send;

    /// Applies the step to one item.
    fn apply(&self, input: In) -> Result<Self::Output>;
}

impl<In, Out: Send, F: Fn(In) -> Result<Out> + Sync> MapFn<In> for F {
    type Output = Out;

    fn apply(&self, input: In) -> Result<Out> {
        self(input)
    }
}

impl MapFn<Vec<DynArray>> for UserFn {
    type Output = Vec<DynArray>;

    fn apply(&self, input: Vec<DynArray>) -> Result<Vec<DynArray>> {
        self.call(&input)
    }
}

impl MapFn<DynArray> for UserFn {
    type Output = Vec<DynArray>;

    fn apply(&self, input: DynArray) -> Result<Vec<DynArray>> {
        self.call(std::slice::from_ref(&input))
    }
}

/// A [`Sequence`] whose item `i` is `f(inner.get(i))`: applies a map step (a closure or a
/// [`UserFn`]) lazily, so it composes with [`Prefetch`](super::Prefetch) (the step then runs
/// on the worker threads).
///
/// A panic in the step becomes an [`Error::UserFunction`]. A stateful [`UserFn`] is never
/// called twice at once, but with several prefetch workers the calls happen in the order the
/// workers reach them; map after prefetching for strict order.
///
/// ```
/// use augflow::pipeline::MapSequence;
/// use augflow::{Result, Sequence};
///
/// struct Ints;
/// impl Sequence for Ints {
///     type Item = i32;
///     fn len(&self) -> usize { 3 }
///     fn get(&self, i: usize) -> Result<i32> {
///         augflow::iterators::check_index(i, 3)?;
///         Ok(i as i32)
///     }
///     fn on_epoch_end(&mut self) {}
/// }
///
/// let negated = MapSequence::new(Ints, |x: i32| -> Result<i32> { Ok(-x) });
/// assert_eq!(negated.len(), 3);
/// assert_eq!(negated.get(2)?, -2);
/// assert!(negated.get(3).is_err());
/// # Ok::<(), augflow::Error>(())
/// ```
pub struct MapSequence<S, F> {
    inner: S,
    f: F,
}

impl<S, F> MapSequence<S, F> {
    /// Maps every item of `inner` through `f`.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct One;
    /// # impl Sequence for One {
    /// #     type Item = u8;
    /// #     fn len(&self) -> usize { 1 }
    /// #     fn get(&self, _: usize) -> Result<u8> { Ok(1) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// let m = augflow::pipeline::MapSequence::new(One, |x: u8| -> Result<u16> { Ok(x as u16 * 300) });
    /// assert_eq!(m.get(0)?, 300);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn new(inner: S, f: F) -> Self {
        MapSequence { inner, f }
    }

    /// The wrapped sequence.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct One;
    /// # impl Sequence for One {
    /// #     type Item = u8;
    /// #     fn len(&self) -> usize { 1 }
    /// #     fn get(&self, _: usize) -> Result<u8> { Ok(1) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// let m = augflow::pipeline::MapSequence::new(One, |x: u8| -> Result<u8> { Ok(x) });
    /// assert_eq!(m.inner().len(), 1);
    /// ```
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Gives back the wrapped sequence.
    ///
    /// ```
    /// # use augflow::{Result, Sequence};
    /// # struct One;
    /// # impl Sequence for One {
    /// #     type Item = u8;
    /// #     fn len(&self) -> usize { 1 }
    /// #     fn get(&self, _: usize) -> Result<u8> { Ok(1) }
    /// #     fn on_epoch_end(&mut self) {}
    /// # }
    /// let m = augflow::pipeline::MapSequence::new(One, |x: u8| -> Result<u8> { Ok(x) });
    /// let _one: One = m.into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, F> Sequence for MapSequence<S, F>
where
    S: Sequence,
    F: MapFn<S::Item>,
{
    type Item = F::Output;

    fn len(&self) -> usize {
        self.inner.len()
    }

    fn get(&self, idx: usize) -> Result<F::Output> {
        let item = self.inner.get(idx)?;
        catch_panic(|| format!("map step on item {idx}"), || self.f.apply(item))
    }

    fn on_epoch_end(&mut self) {
        self.inner.on_epoch_end();
    }
}

/// A `UserFn` taking one image and returning one image of the same shape serves as an
/// `ImageDataGenerator` `preprocessing_function`; its contract is checked on every call.
///
/// ```
/// use std::sync::Arc;
/// use augflow::{DType, DynArray, ImageDataGenerator, pipeline::UserFn};
/// use ndarray::Array3;
///
/// let invert = UserFn::new("invert", [DType::F32], |x: &[DynArray]| {
///     Ok(vec![DynArray::from(x[0].view::<f32>()?.mapv(|v| 255.0 - v))])
/// }).stateful(false);
/// let datagen = ImageDataGenerator::builder().preprocess(Arc::new(invert)).build()?;
/// let mut img = Array3::<f32>::from_elem((2, 2, 1), 5.0);
/// datagen.standardize(img.view_mut())?;
/// assert!(img.iter().all(|&v| v == 250.0));
/// # Ok::<(), augflow::Error>(())
/// ```
impl crate::generator::Preprocess for UserFn {
    fn apply(&self, image: crate::transform::ImageMut<'_>) -> std::result::Result<(), BoxError> {
        use crate::transform::ImageMut;
        let input = match &image {
            ImageMut::F32(x) => DynArray::from(x.to_owned()),
            ImageMut::F64(x) => DynArray::from(x.to_owned()),
        };
        let shape = input.shape().to_vec();
        let mut out = self.call(std::slice::from_ref(&input))?;
        if out.len() != 1 || out[0].shape() != shape.as_slice() {
            return Err(Box::new(Error::Contract {
                what: self.name.clone(),
                message: format!(
                    "as a preprocessing_function it must return one array of the image's shape {shape:?}; got {:?}",
                    out.iter().map(|a| a.shape().to_vec()).collect::<Vec<_>>()
                ),
            }));
        }
        let out = out.pop().expect("one output");
        let values: Vec<f64> = match out.dtype() {
            DType::F32 => out.view::<f32>()?.iter().map(|&v| v as f64).collect(),
            DType::F64 => out.view::<f64>()?.iter().copied().collect(),
            other => {
                return Err(Box::new(Error::Contract {
                    what: self.name.clone(),
                    message: format!(
                        "as a preprocessing_function it must return float32 or float64; got {other}"
                    ),
                }));
            }
        };
        match image {
            ImageMut::F32(mut x) => x.iter_mut().zip(values).for_each(|(d, v)| *d = v as f32),
            ImageMut::F64(mut x) => x.iter_mut().zip(values).for_each(|(d, v)| *d = v),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn f32s(v: &[f32]) -> DynArray {
        DynArray::from(v.to_vec())
    }

    #[test]
    fn wrong_count_uses_tensorflows_wording() {
        let f = UserFn::new("pair", [DType::F32, DType::F32], |x: &[DynArray]| {
            Ok(vec![x[0].clone()])
        });
        let msg = f.call(&[f32s(&[1.0])]).unwrap_err().to_string();
        assert!(
            msg.contains("pair returns 1 values, but expects to see 2 values."),
            "{msg}"
        );
    }

    #[test]
    fn float64_for_float32_names_position_dtypes_and_the_trap() {
        let f = UserFn::new("scale", [DType::I64, DType::F32], |_: &[DynArray]| {
            Ok(vec![
                DynArray::from(vec![1_i64]),
                DynArray::from(vec![0.5_f64]),
            ])
        });
        let msg = f.call(&[]).unwrap_err().to_string();
        assert!(
            msg.contains("1-th value returned by scale is float64, but expects float32"),
            "{msg}"
        );
        assert!(msg.contains("as f32"), "the fix is named: {msg}");
    }

    #[test]
    fn other_dtype_mismatch_says_no_cast_is_done() {
        let f = UserFn::new("ids", [DType::I32], |_: &[DynArray]| {
            Ok(vec![DynArray::from(vec![1_i64])])
        });
        let msg = f.call(&[]).unwrap_err().to_string();
        assert!(
            msg.contains("0-th value returned by ids is int64, but expects int32")
                && msg.contains("no implicit cast"),
            "{msg}"
        );
    }

    #[test]
    fn shape_wildcards_accept_any_size_but_not_another_rank() {
        let spec = OutputSpec::new(DType::F32).with_shape([None, Some(2)]);
        assert!(spec.shape_matches(&[7, 2]));
        assert!(!spec.shape_matches(&[7, 3]));
        assert!(!spec.shape_matches(&[7, 2, 1]));
        let f = UserFn::new("flat", [spec], |x: &[DynArray]| Ok(x.to_vec()));
        let msg = f.call(&[f32s(&[1.0, 2.0])]).unwrap_err().to_string();
        assert!(
            msg.contains("0-th value returned by flat has shape [2], but expects float32[?, 2]"),
            "{msg}"
        );
    }

    #[test]
    fn panic_in_the_function_is_a_user_function_error() {
        let f = UserFn::new(
            "bad",
            [DType::F32],
            |_: &[DynArray]| -> std::result::Result<Vec<DynArray>, BoxError> {
                panic!("index out of bounds in user code")
            },
        );
        match f.call(&[]) {
            Err(Error::UserFunction { what, message }) => {
                assert_eq!(what, "bad");
                assert!(
                    message.contains("index out of bounds in user code"),
                    "{message}"
                );
            }
            other => panic!("expected UserFunction, got {other:?}"),
        }
        // The lock is not poisoned: a second call still runs.
        assert!(matches!(f.call(&[]), Err(Error::UserFunction { .. })));
    }

    #[test]
    fn stateful_calls_never_overlap_and_stateless_ones_can() {
        fn max_concurrency(stateful: bool) -> usize {
            let now = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let (n, m) = (Arc::clone(&now), Arc::clone(&max));
            let f = UserFn::new("slow", Vec::<DType>::new(), move |_: &[DynArray]| {
                let c = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(c, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                n.fetch_sub(1, Ordering::SeqCst);
                Ok(vec![])
            })
            .stateful(stateful);
            std::thread::scope(|s| {
                for _ in 0..4 {
                    let f = f.clone();
                    s.spawn(move || f.call(&[]).unwrap());
                }
            });
            max.load(Ordering::SeqCst)
        }
        assert_eq!(max_concurrency(true), 1);
        assert!(max_concurrency(false) > 1);
    }

    struct Rows(usize);
    impl Sequence for Rows {
        type Item = DynArray;
        fn len(&self) -> usize {
            self.0
        }
        fn get(&self, i: usize) -> Result<DynArray> {
            crate::iterators::check_index(i, self.0)?;
            Ok(f32s(&[i as f32]))
        }
        fn on_epoch_end(&mut self) {}
    }

    #[test]
    fn map_sequence_applies_a_user_fn_and_reports_its_panic_as_an_error() {
        let f = UserFn::new("maybe", [DType::F32], |x: &[DynArray]| {
            if x[0].view::<f32>()?[0] == 2.0 {
                panic!("two is not allowed");
            }
            Ok(x.to_vec())
        });
        let m = MapSequence::new(Rows(3), f);
        assert_eq!(m.get(1).unwrap(), vec![f32s(&[1.0])]);
        assert!(matches!(m.get(2), Err(Error::UserFunction { .. })));
        assert!(matches!(m.get(3), Err(Error::IndexOutOfRange { .. })));
    }
}
