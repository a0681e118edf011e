//! Reading a [`DynArray`] of labels as numbers and as class names, whatever its dtype.

use super::{DType, DynArray};
use crate::Result;

impl DynArray {
    /// Every element as `f64`, in row-major order (booleans as 0 and 1).
    ///
    /// ```
    /// use augflow::DynArray;
    /// use ndarray::array;
    /// assert_eq!(DynArray::from(array![[1_u8, 2], [3, 4]]).values_f64()?, [1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(DynArray::from(array![true, false]).values_f64()?, [1.0, 0.0]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn values_f64(&self) -> Result<Vec<f64>> {
        fn wide<T: super::Element + Copy>(a: &DynArray, f: impl Fn(T) -> f64) -> Result<Vec<f64>> {
            Ok(a.view::<T>()?.iter().map(|&v| f(v)).collect())
        }
        match self.dtype() {
            DType::Bool => wide(self, |v: bool| u8::from(v) as f64),
            DType::U8 => wide(self, |v: u8| v as f64),
            DType::U16 => wide(self, |v: u16| v as f64),
            DType::U32 => wide(self, |v: u32| v as f64),
            DType::U64 => wide(self, |v: u64| v as f64),
            DType::I8 => wide(self, |v: i8| v as f64),
            DType::I16 => wide(self, |v: i16| v as f64),
            DType::I32 => wide(self, |v: i32| v as f64),
            DType::I64 => wide(self, |v: i64| v as f64),
            DType::F32 => wide(self, |v: f32| v as f64),
            DType::F64 => wide(self, |v: f64| v),
        }
    }

    /// One class name per row, as `save_to_dir`'s class sub-folders name them: the value of
    /// a 1-D label (integers without a decimal point), or the index of the largest entry of
    /// a one-hot (or score) row.
    ///
    /// ```
    /// use augflow::DynArray;
    /// use ndarray::array;
    /// assert_eq!(DynArray::from(array![3_i64, 0, 3]).class_names()?, ["3", "0", "3"]);
    /// assert_eq!(DynArray::from(array![[0.1_f32, 0.9], [1.0, 0.0]]).class_names()?, ["1", "0"]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn class_names(&self) -> Result<Vec<String>> {
        let v = self.values_f64()?;
        let per = (v.len() / self.len().max(1)).max(1);
        Ok(v.chunks(per).map(|row| class_name(row, per)).collect())
    }
}

/// The class name of one row of `per` values.
fn class_name(row: &[f64], per: usize) -> String {
    if per == 1 {
        let x = row[0];
        return if x.fract() == 0.0 {
            format!("{}", x as i64)
        } else {
            x.to_string()
        };
    }
    let best =
        row.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |b, (i, &x)| if x > b.1 { (i, x) } else { b },
        );
    best.0.to_string()
}
