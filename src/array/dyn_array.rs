//! [`DynArray`]: an `ndarray::ArrayD` whose element type is known at run time.

use std::fmt;

use ndarray::{Array, ArrayD, ArrayViewD, Axis, Dimension, IxDyn};

use super::dtype::{DType, Element};
use crate::{Error, Result};

/// The storage of a [`DynArray`], one variant per dtype.
#[derive(Clone, PartialEq)]
pub enum Data {
    Bool(ArrayD<bool>),
    U8(ArrayD<u8>),
    U16(ArrayD<u16>),
    U32(ArrayD<u32>),
    U64(ArrayD<u64>),
    I8(ArrayD<i8>),
    I16(ArrayD<i16>),
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
}

/// Runs `$body` with `$a` bound to the typed array inside `$data`, whatever its dtype.
macro_rules! dispatch {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            Data::Bool($a) => $body,
            Data::U8($a) => $body,
            Data::U16($a) => $body,
            Data::U32($a) => $body,
            Data::U64($a) => $body,
            Data::I8($a) => $body,
            Data::I16($a) => $body,
            Data::I32($a) => $body,
            Data::I64($a) => $body,
            Data::F32($a) => $body,
            Data::F64($a) => $body,
        }
    };
}

/// Like [`dispatch!`], but the body builds a new array of the same dtype.
macro_rules! map_same {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            Data::Bool($a) => Data::Bool($body),
            Data::U8($a) => Data::U8($body),
            Data::U16($a) => Data::U16($body),
            Data::U32($a) => Data::U32($body),
            Data::U64($a) => Data::U64($body),
            Data::I8($a) => Data::I8($body),
            Data::I16($a) => Data::I16($body),
            Data::I32($a) => Data::I32($body),
            Data::I64($a) => Data::I64($body),
            Data::F32($a) => Data::F32($body),
            Data::F64($a) => Data::F64($body),
        }
    };
}

pub(crate) use dispatch;

/// Moves a typed array into [`Data`] and back, per element type. Public but unreachable from
/// outside the crate, which seals [`Element`].
pub trait Store: Sized {
    fn wrap(a: ArrayD<Self>) -> Data;
    fn unwrap(d: Data) -> std::result::Result<ArrayD<Self>, Data>;
    fn unwrap_ref(d: &Data) -> Option<&ArrayD<Self>>;
}

macro_rules! impl_store {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl Store for $t {
            fn wrap(a: ArrayD<Self>) -> Data {
                Data::$v(a)
            }
            fn unwrap(d: Data) -> std::result::Result<ArrayD<Self>, Data> {
                match d {
                    Data::$v(a) => Ok(a),
                    other => Err(other),
                }
            }
            fn unwrap_ref(d: &Data) -> Option<&ArrayD<Self>> {
                match d {
                    Data::$v(a) => Some(a),
                    _ => None,
                }
            }
        }
    )*};
}

impl_store!(
    bool => Bool, u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, f32 => F32, f64 => F64,
);

/// An n-dimensional array whose dtype is chosen at run time: the value type of a dict of
/// mixed-dtype features (`{"age": float64, "height": int64}`) and of `.npy`/`.npz` files.
///
/// Axis 0 is the sample axis: [`DynArray::len`] is `shape[0]` and [`DynArray::select`]
/// gathers rows, which is all batching needs. Convert to a typed `ndarray` array for
/// arithmetic.
///
/// ```
/// use augflow::array::{DType, DynArray};
/// use ndarray::{array, ArrayD};
///
/// let a = DynArray::from(array![[1.0_f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// assert_eq!(a.dtype(), DType::F32);
/// assert_eq!(a.shape(), &[3, 2]);
/// assert_eq!(a.len(), 3);
///
/// let rows = a.select(&[2, 0])?;
/// let typed: ArrayD<f32> = rows.into_array()?;
/// assert_eq!(typed, array![[5.0_f32, 6.0], [1.0, 2.0]].into_dyn());
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct DynArray {
    pub(crate) data: Data,
}

impl DynArray {
    pub(crate) fn from_data(data: Data) -> Self {
        DynArray { data }
    }

    /// Builds an array of `shape` from `values` in row-major (C) order.
    ///
    /// Errors with [`Error::Shape`] when the shape does not hold exactly `values.len()`
    /// elements.
    ///
    /// ```
    /// use augflow::array::DynArray;
    ///
    /// let a = DynArray::from_shape_vec(&[2, 3], vec![0_i64, 1, 2, 3, 4, 5])?;
    /// assert_eq!(a.shape(), &[2, 3]);
    /// assert!(DynArray::from_shape_vec(&[4, 2], vec![0_u8; 3]).is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn from_shape_vec<T: Element>(shape: &[usize], values: Vec<T>) -> Result<Self> {
        let n = values.len();
        let a = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| Error::Shape {
            name: "shape",
            shape: shape.to_vec(),
            expected: format!("a shape holding exactly the {n} values given"),
        })?;
        Ok(Self::from(a))
    }

    /// The element type.
    ///
    /// ```
    /// use augflow::array::{DType, DynArray};
    /// assert_eq!(DynArray::from(vec![true, false]).dtype(), DType::Bool);
    /// ```
    pub fn dtype(&self) -> DType {
        match &self.data {
            Data::Bool(_) => DType::Bool,
            Data::U8(_) => DType::U8,
            Data::U16(_) => DType::U16,
            Data::U32(_) => DType::U32,
            Data::U64(_) => DType::U64,
            Data::I8(_) => DType::I8,
            Data::I16(_) => DType::I16,
            Data::I32(_) => DType::I32,
            Data::I64(_) => DType::I64,
            Data::F32(_) => DType::F32,
            Data::F64(_) => DType::F64,
        }
    }

    /// The shape, axis 0 first.
    ///
    /// ```
    /// use augflow::array::DynArray;
    /// assert_eq!(DynArray::from(ndarray::Array3::<u8>::zeros((4, 2, 3))).shape(), &[4, 2, 3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        dispatch!(&self.data, a => a.shape())
    }

    /// The number of axes (0 for a scalar).
    ///
    /// ```
    /// use augflow::array::DynArray;
    /// assert_eq!(DynArray::from(vec![1_u8, 2]).ndim(), 1);
    /// ```
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of rows, `shape[0]`; 0 for a 0-d (scalar) array, which has no rows.
    ///
    /// ```
    /// use augflow::array::DynArray;
    /// assert_eq!(DynArray::from(ndarray::Array2::<f64>::zeros((5, 2))).len(), 5);
    /// assert_eq!(DynArray::from(ndarray::arr0(1.0_f64)).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.shape().first().copied().unwrap_or(0)
    }

    /// Whether the array has no rows (`len() == 0`).
    ///
    /// ```
    /// use augflow::array::DynArray;
    /// assert!(DynArray::from(Vec::<f32>::new()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total number of elements (the product of the shape; 1 for a scalar).
    ///
    /// ```
    /// use augflow::array::DynArray;
    /// assert_eq!(DynArray::from(ndarray::Array2::<f32>::zeros((5, 0))).size(), 0);
    /// ```
    pub fn size(&self) -> usize {
        dispatch!(&self.data, a => a.len())
    }

    /// Gathers `rows` along axis 0, in the order given (repeats allowed): the batching
    /// primitive. The result has shape `[rows.len(), shape[1..]...]` and the same dtype.
    ///
    /// Errors with [`Error::Shape`] for a 0-d array and with [`Error::InvalidParameter`]
    /// (naming the first bad index) when an index is `>= len()`.
    ///
    /// ```
    /// use augflow::array::DynArray;
    ///
    /// let a = DynArray::from(vec![10_i32, 11, 12]);
    /// let picked: Vec<i32> = a.select(&[2, 2, 0])?.into_array::<i32>()?.into_iter().collect();
    /// assert_eq!(picked, [12, 12, 10]);
    /// assert!(a.select(&[3]).is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn select(&self, rows: &[usize]) -> Result<DynArray> {
        if self.ndim() == 0 {
            return Err(Error::Shape {
                name: "array",
                shape: vec![],
                expected: "at least one axis to select rows from".into(),
            });
        }
        let n = self.len();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(Error::invalid(
                "rows",
                bad,
                format!("row indices below the array's length {n}"),
            ));
        }
        Ok(DynArray::from_data(
            map_same!(&self.data, a => a.select(Axis(0), rows)),
        ))
    }

    /// A 4-D `(N, H, W, C)` array as `(N, C, H, W)` in standard layout (other ranks are
    /// returned as they are): channels-last batches turned channels-first.
    pub(crate) fn into_channels_first(self) -> DynArray {
        if self.ndim() != 4 {
            return self;
        }
        let axes = IxDyn(&[0, 3, 1, 2]);
        DynArray::from_data(map_same!(self.data, a => {
            let p = a.permuted_axes(axes.clone());
            if p.is_standard_layout() { p } else { p.as_standard_layout().into_owned() }
        }))
    }

    /// Concatenates `parts` along axis 0. All parts must have the same dtype and the same
    /// shape past axis 0.
    ///
    /// Errors with [`Error::Empty`] for no parts, [`Error::InvalidParameter`] for mixed
    /// dtypes and [`Error::Shape`] for a row-shape mismatch or a 0-d part.
    ///
    /// ```
    /// use augflow::array::DynArray;
    ///
    /// let a = DynArray::from(vec![1_u8, 2]);
    /// let b = DynArray::from(vec![3_u8]);
    /// let c = DynArray::concat(&[a.clone(), b])?;
    /// assert_eq!(c.into_array::<u8>()?.into_raw_vec_and_offset().0, vec![1, 2, 3]);
    /// assert!(DynArray::concat(&[a, DynArray::from(vec![1.0_f32])]).is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn concat(parts: &[DynArray]) -> Result<DynArray> {
        let first = parts.first().ok_or_else(|| Error::Empty {
            name: "parts",
            expected: "at least one array to concatenate".into(),
        })?;
        for p in parts {
            if p.dtype() != first.dtype() {
                return Err(Error::invalid(
                    "parts",
                    format!("an array of dtype {}", p.dtype()),
                    format!("every part of dtype {} (the first part's)", first.dtype()),
                ));
            }
            if p.ndim() == 0 || p.shape()[1..] != first.shape()[1..] {
                return Err(Error::Shape {
                    name: "parts",
                    shape: p.shape().to_vec(),
                    expected: format!(
                        "[_, {:?}] like the first part (shape {:?})",
                        first.shape().get(1..).unwrap_or(&[]),
                        first.shape()
                    ),
                });
            }
        }
        fn cat<T: Element>(parts: &[DynArray]) -> Data {
            let views: Vec<ArrayViewD<'_, T>> = parts
                .iter()
                .filter_map(|p| T::unwrap_ref(&p.data).map(|a| a.view()))
                .collect();
            // Checked above: one dtype and equal row shapes, so this cannot fail.
            let joined = ndarray::concatenate(Axis(0), &views)
                .expect("parts checked to share dtype and row shape");
            T::wrap(joined)
        }
        let data = match first.dtype() {
            DType::Bool => cat::<bool>(parts),
            DType::U8 => cat::<u8>(parts),
            DType::U16 => cat::<u16>(parts),
            DType::U32 => cat::<u32>(parts),
            DType::U64 => cat::<u64>(parts),
            DType::I8 => cat::<i8>(parts),
            DType::I16 => cat::<i16>(parts),
            DType::I32 => cat::<i32>(parts),
            DType::I64 => cat::<i64>(parts),
            DType::F32 => cat::<f32>(parts),
            DType::F64 => cat::<f64>(parts),
        };
        Ok(DynArray::from_data(data))
    }

    /// A typed view, or [`Error::InvalidParameter`] naming the dtype found and the one asked
    /// for.
    ///
    /// ```
    /// use augflow::array::DynArray;
    ///
    /// let a = DynArray::from(vec![1.5_f64, 2.5]);
    /// assert_eq!(a.view::<f64>()?.sum(), 4.0);
    /// let err = a.view::<f32>().unwrap_err();
    /// assert!(err.to_string().contains("float64"));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn view<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        T::unwrap_ref(&self.data)
            .map(|a| a.view())
            .ok_or_else(|| dtype_error(self.dtype(), T::DTYPE))
    }

    /// The elements in row-major (C) order, as a flat `Vec`, or [`Error::InvalidParameter`]
    /// naming the dtype found and the one asked for.
    ///
    /// ```
    /// use augflow::array::DynArray;
    ///
    /// let a = DynArray::from(ndarray::array![[1_u8, 2], [3, 4]]);
    /// assert_eq!(a.to_vec::<u8>()?, [1, 2, 3, 4]);
    /// assert!(a.to_vec::<i8>().is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        Ok(self.view::<T>()?.iter().cloned().collect())
    }

    /// Converts into a typed `ndarray` array without copying, or fails with
    /// [`Error::InvalidParameter`] naming the dtype found and the one asked for (no casting).
    ///
    /// ```
    /// use augflow::array::DynArray;
    /// use ndarray::ArrayD;
    ///
    /// let a: ArrayD<i64> = DynArray::from(vec![1_i64, 2]).into_array()?;
    /// assert_eq!(a.shape(), &[2]);
    /// let err = DynArray::from(vec![1_i64]).into_array::<i32>().unwrap_err();
    /// assert!(err.to_string().contains("int64") && err.to_string().contains("int32"));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn into_array<T: Element>(self) -> Result<ArrayD<T>> {
        let found = self.dtype();
        T::unwrap(self.data).map_err(|_| dtype_error(found, T::DTYPE))
    }
}

impl DynArray {
    /// Moves the elements out in row-major (C) order as one contiguous `Vec<T>`: the buffer
    /// another framework's tensor constructor takes (candle's `Tensor::from_vec(v, shape,
    /// &device)`, burn's `TensorData::new(v, shape)`, tch's `Tensor::from_slice(&v)`), with
    /// [`shape`](Self::shape) read before. No copy when the array owns exactly its elements in
    /// that order, as every array augflow builds does; one copy otherwise.
    ///
    /// Fails with [`Error::InvalidParameter`] naming the dtype found and the one asked for (no
    /// casting).
    ///
    /// ```
    /// use augflow::array::DynArray;
    ///
    /// let y = DynArray::from(ndarray::array![[1_i64, 2, 3], [4, 5, 6]]);
    /// let shape = y.shape().to_vec();
    /// assert_eq!((y.clone().into_vec::<i64>()?, shape), (vec![1, 2, 3, 4, 5, 6], vec![2, 3]));
    /// assert!(y.into_vec::<f32>().is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn into_vec<T: Element>(self) -> Result<Vec<T>> {
        Ok(into_row_major_vec(self.into_array::<T>()?))
    }
}

/// The elements of `a` in row-major (C) order: its own buffer, without a copy, when `a` is in
/// standard layout (the elements then sit contiguously from its first one), a copy otherwise.
pub(crate) fn into_row_major_vec<T: Clone, D: Dimension>(a: Array<T, D>) -> Vec<T> {
    if !a.is_standard_layout() {
        return a.iter().cloned().collect();
    }
    let len = a.len();
    let (mut v, offset) = a.into_raw_vec_and_offset();
    // An array sliced in place keeps its whole buffer: its elements start at `offset`.
    let offset = offset.unwrap_or(0);
    if offset > 0 {
        v.drain(..offset);
    }
    v.truncate(len);
    v
}

fn dtype_error(found: DType, expected: DType) -> Error {
    Error::invalid(
        "dtype",
        found,
        format!("{expected} (the element type asked for; no implicit cast is done)"),
    )
}

impl<T: Element, D: Dimension> From<Array<T, D>> for DynArray {
    fn from(a: Array<T, D>) -> Self {
        DynArray::from_data(T::wrap(a.into_dyn()))
    }
}

impl<T: Element> From<Vec<T>> for DynArray {
    fn from(v: Vec<T>) -> Self {
        DynArray::from(ndarray::Array1::from(v))
    }
}

impl<T: Element> TryFrom<DynArray> for ArrayD<T> {
    type Error = Error;

    fn try_from(a: DynArray) -> Result<Self> {
        a.into_array()
    }
}

impl fmt::Debug for DynArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        dispatch!(&self.data, a => write!(f, "DynArray<{}>{:?}", self.dtype(), a))
    }
}

impl fmt::Display for DynArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        dispatch!(&self.data, a => fmt::Display::fmt(a, f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn select_gathers_rows_in_the_order_given_with_repeats() {
        let a = DynArray::from(array![[0_i64, 1], [2, 3], [4, 5]]);
        let s = a.select(&[2, 0, 2]).unwrap();
        assert_eq!(s.shape(), &[3, 2]);
        assert_eq!(
            s.into_array::<i64>().unwrap(),
            array![[4_i64, 5], [0, 1], [4, 5]].into_dyn()
        );
    }

    #[test]
    fn select_of_no_rows_keeps_the_row_shape() {
        let a = DynArray::from(Array2::<f32>::zeros((3, 4)));
        assert_eq!(a.select(&[]).unwrap().shape(), &[0, 4]);
    }

    #[test]
    fn select_out_of_range_names_the_index_and_length() {
        let a = DynArray::from(vec![1_u8, 2, 3]);
        let msg = a.select(&[0, 5]).unwrap_err().to_string();
        assert!(msg.contains('5') && msg.contains('3'), "{msg}");
    }

    #[test]
    fn select_on_a_scalar_is_a_shape_error() {
        let a = DynArray::from(ndarray::arr0(1_u8));
        assert!(matches!(a.select(&[0]), Err(Error::Shape { .. })));
    }

    #[test]
    fn concat_rejects_mismatched_row_shapes() {
        let a = DynArray::from(Array2::<u8>::zeros((1, 2)));
        let b = DynArray::from(Array2::<u8>::zeros((1, 3)));
        assert!(matches!(
            DynArray::concat(&[a, b]),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(DynArray::concat(&[]), Err(Error::Empty { .. })));
    }

    #[test]
    fn concat_of_selects_equals_select_of_concatenated_indices() {
        let a = DynArray::from(array![[0.0_f64], [1.0], [2.0]]);
        let joined = DynArray::concat(&[a.select(&[2]).unwrap(), a.select(&[0, 1]).unwrap()]);
        assert_eq!(joined.unwrap(), a.select(&[2, 0, 1]).unwrap());
    }

    #[test]
    fn try_from_names_found_and_expected_dtype() {
        let err = ArrayD::<f32>::try_from(DynArray::from(vec![1.0_f64])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("float64") && msg.contains("float32"), "{msg}");
    }

    #[test]
    fn into_vec_gives_row_major_order_whatever_the_memory_order() {
        let a = array![[1_u16, 2, 3], [4, 5, 6]];
        let t = DynArray::from(a.clone().reversed_axes());
        assert_eq!(t.shape(), &[3, 2]);
        assert_eq!(t.into_vec::<u16>().unwrap(), [1, 4, 2, 5, 3, 6]);
        let f = DynArray::from(a.t().as_standard_layout().reversed_axes().into_owned());
        assert_eq!(f.into_vec::<u16>().unwrap(), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn into_vec_of_an_array_sliced_in_place_holds_only_its_elements() {
        let mut a = Array2::from_shape_vec((4, 2), (0..8_i32).collect()).unwrap();
        a.slice_collapse(ndarray::s![1..3, ..]);
        assert!(a.is_standard_layout());
        assert_eq!(DynArray::from(a).into_vec::<i32>().unwrap(), [2, 3, 4, 5]);
    }

    #[test]
    fn into_vec_moves_a_standard_layout_buffer_without_copying() {
        let v: Vec<f64> = (0..12).map(f64::from).collect();
        let ptr = v.as_ptr();
        let a = DynArray::from_shape_vec(&[3, 4], v).unwrap();
        let back = a.into_vec::<f64>().unwrap();
        assert_eq!(back.as_ptr(), ptr);
        assert_eq!(back[11], 11.0);
    }
}
