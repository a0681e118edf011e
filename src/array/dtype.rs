//! Element types a [`DynArray`](super::DynArray) can hold, named as NumPy names them.

use std::fmt;

/// The element type of a [`DynArray`](super::DynArray), with NumPy's names.
///
/// ```
/// use augflow::array::DType;
///
/// assert_eq!(DType::F32.to_string(), "float32");
/// assert_eq!(DType::from_npy_descr("<i8"), Some(DType::I64));
/// assert_eq!(DType::Bool.size_of(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DType {
    /// `bool` (NumPy `bool`, one byte per element).
    Bool,
    /// `u8` (NumPy `uint8`).
    U8,
    /// `u16` (NumPy `uint16`).
    U16,
    /// `u32` (NumPy `uint32`).
    U32,
    /// `u64` (NumPy `uint64`).
    U64,
    /// `i8` (NumPy `int8`).
    I8,
    /// `i16` (NumPy `int16`).
    I16,
    /// `i32` (NumPy `int32`).
    I32,
    /// `i64` (NumPy `int64`).
    I64,
    /// `f32` (NumPy `float32`).
    F32,
    /// `f64` (NumPy `float64`).
    F64,
}

impl DType {
    /// Every supported dtype, in declaration order.
    ///
    /// ```
    /// assert_eq!(augflow::array::DType::ALL.len(), 11);
    /// ```
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    /// NumPy's name of the dtype (`"float32"`, `"int64"`, `"bool"`, ...).
    ///
    /// ```
    /// assert_eq!(augflow::array::DType::U8.name(), "uint8");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Bytes per element.
    ///
    /// ```
    /// assert_eq!(augflow::array::DType::F64.size_of(), 8);
    /// ```
    pub fn size_of(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::U16 | DType::I16 => 2,
            DType::U32 | DType::I32 | DType::F32 => 4,
            DType::U64 | DType::I64 | DType::F64 => 8,
        }
    }

    /// The dtype of a `.npy` type descriptor such as `"<f4"`, `">i8"` or `"|b1"`; `None` for
    /// anything else (structured, complex, string, `float16`, ...).
    ///
    /// The byte order is not part of the dtype: `"<f4"` and `">f4"` are both `float32`.
    ///
    /// ```
    /// use augflow::array::DType;
    /// assert_eq!(DType::from_npy_descr("|u1"), Some(DType::U8));
    /// assert_eq!(DType::from_npy_descr(">f8"), Some(DType::F64));
    /// assert_eq!(DType::from_npy_descr("<c8"), None);
    /// ```
    pub fn from_npy_descr(descr: &str) -> Option<DType> {
        Self::from_npy_descr_with_order(descr).map(|(d, _)| d)
    }

    /// The dtype of a `.npy` type descriptor and whether its data is big-endian: `<` is
    /// little-endian, `>` and `!` big-endian, `=`, `|` and no mark the machine's own order
    /// (NumPy's rules; the mark of a one-byte type does not matter).
    pub(crate) fn from_npy_descr_with_order(descr: &str) -> Option<(DType, bool)> {
        // NumPy's one-character aliases for the single-byte types.
        match descr {
            "b" => return Some((DType::I8, false)),
            "B" => return Some((DType::U8, false)),
            "?" => return Some((DType::Bool, false)),
            _ => {}
        }
        let (big_endian, body) = match descr.as_bytes().first() {
            Some(b'<') => (false, &descr[1..]),
            Some(b'>' | b'!') => (true, &descr[1..]),
            Some(b'=' | b'|') => (cfg!(target_endian = "big"), &descr[1..]),
            _ => (cfg!(target_endian = "big"), descr),
        };
        let dtype = match body {
            "b1" => DType::Bool,
            "u1" => DType::U8,
            "u2" => DType::U16,
            "u4" => DType::U32,
            "u8" => DType::U64,
            "i1" => DType::I8,
            "i2" => DType::I16,
            "i4" => DType::I32,
            "i8" => DType::I64,
            "f4" => DType::F32,
            "f8" => DType::F64,
            _ => return None,
        };
        Some((dtype, big_endian && dtype.size_of() > 1))
    }
}

impl std::str::FromStr for DType {
    type Err = crate::Error;

    /// Parses NumPy's name (`"float32"`, `"int64"`, `"bool"`, ...) or Rust's (`"f32"`, `"i64"`).
    ///
    /// ```
    /// use augflow::array::DType;
    /// assert_eq!("float64".parse::<DType>().unwrap(), DType::F64);
    /// assert_eq!("u8".parse::<DType>().unwrap(), DType::U8);
    /// assert!("float16".parse::<DType>().is_err());
    /// ```
    fn from_str(s: &str) -> crate::Result<Self> {
        let rust = |d: DType| match d {
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::U16 => "u16",
            DType::U32 => "u32",
            DType::U64 => "u64",
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        };
        DType::ALL
            .into_iter()
            .find(|&d| d.name() == s || rust(d) == s)
            .ok_or_else(|| {
                crate::Error::invalid(
                    "dtype",
                    format!("{s:?}"),
                    "a NumPy dtype name such as \"float32\", \"float64\", \"int64\", \"uint8\" or \"bool\"",
                )
            })
    }
}

impl serde::Serialize for DType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for DType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Rust element type that a [`DynArray`](super::DynArray) can hold.
///
/// Implemented for `bool`, `u8`, `u16`, `u32`, `u64`, `i8`, `i16`, `i32`, `i64`, `f32` and
/// `f64`; sealed, so the set of dtypes stays the one `.npy` I/O knows.
///
/// ```
/// use augflow::array::{DType, Element};
/// assert_eq!(<f32 as Element>::DTYPE, DType::F32);
/// ```
pub trait Element:
    super::dyn_array::Store
    + Clone
    + Send
    + Sync
    + fmt::Debug
    + PartialEq
    + ndarray_npy::ReadableElement
    + ndarray_npy::WritableElement
    + 'static
{
    /// The dtype of this element type.
    const DTYPE: DType;
}

macro_rules! impl_element {
    ($($t:ty => $d:ident),* $(,)?) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
        }
    )*};
}

impl_element!(
    bool => Bool, u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, f32 => F32, f64 => F64,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dtype_round_trips_through_its_little_endian_descr() {
        for d in DType::ALL {
            let kind = match d {
                DType::Bool => 'b',
                DType::U8 | DType::U16 | DType::U32 | DType::U64 => 'u',
                DType::I8 | DType::I16 | DType::I32 | DType::I64 => 'i',
                DType::F32 | DType::F64 => 'f',
            };
            let descr = format!("<{kind}{}", d.size_of());
            assert_eq!(DType::from_npy_descr(&descr), Some(d), "{descr}");
        }
    }

    #[test]
    fn unsupported_descr_is_none() {
        for descr in ["<f2", "<c16", "|S5", "<U3", "O", "", "<"] {
            assert_eq!(DType::from_npy_descr(descr), None, "{descr}");
        }
    }

    #[test]
    fn byte_order_marks_follow_numpy() {
        let native_big = cfg!(target_endian = "big");
        let cases = [
            ("<f4", DType::F32, false),
            (">f4", DType::F32, true),
            ("!i2", DType::I16, true),
            ("=f8", DType::F64, native_big),
            ("|u4", DType::U32, native_big),
            ("i8", DType::I64, native_big),
            (">u1", DType::U8, false),
            ("<b1", DType::Bool, false),
        ];
        for (descr, dtype, big) in cases {
            assert_eq!(
                DType::from_npy_descr_with_order(descr),
                Some((dtype, big)),
                "{descr}"
            );
        }
    }
}
