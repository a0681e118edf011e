//! Element types and memory layouts the kernels read and write.

use serde::{Deserialize, Serialize};

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An input element type: `u8`, `u16`, `f32` or `f64`.
///
/// Kernels read every element as `f64` (exact for all four types), so a `u8` dataset stays
/// `u8` until a sample is written into the output batch.
///
/// ```
/// use augflow::transform::Pixel;
/// assert_eq!(200u8.to_f64(), 200.0);
/// ```
pub trait Pixel: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The value as `f64` (exact).
    fn to_f64(self) -> f64;
    /// Which of the four types this is (lets kernels pick vector loads at compile time).
    #[doc(hidden)]
    const KIND: PixelKind;
}

/// The element types of [`Pixel`], for kernels that specialize on them.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelKind {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl Pixel for u8 {
    const KIND: PixelKind = PixelKind::U8;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl Pixel for u16 {
    const KIND: PixelKind = PixelKind::U16;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl Pixel for f32 {
    const KIND: PixelKind = PixelKind::F32;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl Pixel for f64 {
    const KIND: PixelKind = PixelKind::F64;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

/// An element type the warp kernel writes: `f32`, `f64`, or `u8` for batches that leave
/// normalization to the model.
///
/// The kernel computes every value in `f64` (or, on the fast path, `f32`) and writes it with
/// [`from_f64`](Self::from_f64) / [`from_f32`](Self::from_f32). `u8` takes scipy's rule for
/// an integer output (`ndimage`'s `t + 0.5`, clamped, truncated): round half up, saturated
/// to `0..=255`, and NaN to 0 — what Keras' `ImageDataGenerator(dtype="uint8")` gets from
/// `scipy.ndimage.affine_transform` (spec §5.5 step 6).
///
/// ```
/// use augflow::transform::WarpOut;
/// assert_eq!(<f32 as WarpOut>::from_f64(0.1), 0.1_f32);
/// assert_eq!([2.5, 2.4999, -3.0, 300.0, f64::NAN].map(u8::from_f64), [3, 2, 0, 255, 0]);
/// assert_eq!(u8::from_f32(254.5), 255);
/// ```
pub trait WarpOut:
    Pixel + Default + PartialEq + std::ops::Mul<Output = Self> + std::fmt::Debug
{
    /// Rounds an `f64` to this type: to nearest for the floats, as above for `u8`.
    fn from_f64(v: f64) -> Self;
    /// Rounds an `f32` to this type: exact for the floats, `from_f64(v as f64)` for `u8`.
    fn from_f32(v: f32) -> Self;
    /// The type's name, for messages.
    const NAME: &'static str;
}

impl WarpOut for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
    const NAME: &'static str = "f32";
}
impl WarpOut for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v as f64
    }
    const NAME: &'static str = "f64";
}
impl WarpOut for u8 {
    /// scipy's integer output: `t + 0.5` truncated toward zero; `as` saturates to `0..=255`
    /// and maps NaN to 0.
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        (v + 0.5) as u8
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        Self::from_f64(v as f64)
    }
    const NAME: &'static str = "u8";
}

/// A floating-point output element type: `f32` or `f64`, the types the photometric steps
/// and standardization run in.
///
/// Photometric steps and standardization run in this type's precision, as Keras runs them in
/// its `dtype` (spec §6, §9).
///
/// ```
/// use augflow::transform::{OutPixel, WarpOut};
/// assert_eq!(<f32 as WarpOut>::from_f64(0.1), 0.1_f32);
/// fn halve<O: OutPixel>(v: O) -> O { v / O::from_f64(2.0) }
/// assert_eq!(halve(3.0_f64), 1.5);
/// ```
pub trait OutPixel:
    WarpOut
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
{
    /// Tags a view of this type as an [`ImageMut`] (for user code).
    fn image_mut(x: ndarray::ArrayViewMut3<'_, Self>) -> ImageMut<'_>;
}

impl OutPixel for f32 {
    fn image_mut(x: ndarray::ArrayViewMut3<'_, f32>) -> ImageMut<'_> {
        ImageMut::F32(x)
    }
}
impl OutPixel for f64 {
    fn image_mut(x: ndarray::ArrayViewMut3<'_, f64>) -> ImageMut<'_> {
        ImageMut::F64(x)
    }
}

/// Where the channel axis is: Keras' `data_format`.
///
/// ```
/// use augflow::DataFormat;
/// assert_eq!("channels_first".parse::<DataFormat>().unwrap(), DataFormat::ChannelsFirst);
/// assert_eq!(DataFormat::default(), DataFormat::ChannelsLast);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// One image is `(H, W, C)`, a batch `(N, H, W, C)` (Keras' default).
    #[default]
    ChannelsLast,
    /// One image is `(C, H, W)`, a batch `(N, C, H, W)` (PyTorch's layout).
    ChannelsFirst,
}

impl DataFormat {
    /// `(height, width, channels)` of one image of shape `shape` in this format.
    ///
    /// ```
    /// use augflow::DataFormat;
    /// assert_eq!(DataFormat::ChannelsFirst.hwc([3, 32, 48]), (32, 48, 3));
    /// ```
    pub fn hwc(self, shape: [usize; 3]) -> (usize, usize, usize) {
        match self {
            DataFormat::ChannelsLast => (shape[0], shape[1], shape[2]),
            DataFormat::ChannelsFirst => (shape[1], shape[2], shape[0]),
        }
    }

    /// The shape of one image of `h × w × c` in this format.
    ///
    /// ```
    /// use augflow::DataFormat;
    /// assert_eq!(DataFormat::ChannelsFirst.image_shape(32, 48, 3), [3, 32, 48]);
    /// ```
    pub fn image_shape(self, h: usize, w: usize, c: usize) -> [usize; 3] {
        match self {
            DataFormat::ChannelsLast => [h, w, c],
            DataFormat::ChannelsFirst => [c, h, w],
        }
    }

    /// The channel axis of a single image (0 or 2).
    pub fn channel_axis(self) -> usize {
        match self {
            DataFormat::ChannelsLast => 2,
            DataFormat::ChannelsFirst => 0,
        }
    }
}

impl std::str::FromStr for DataFormat {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "channels_last" => Ok(DataFormat::ChannelsLast),
            "channels_first" => Ok(DataFormat::ChannelsFirst),
            _ => Err(crate::Error::invalid(
                "data_format",
                format!("{s:?}"),
                "\"channels_last\" (channel after row and column) or \"channels_first\" (channel before row and column)",
            )),
        }
    }
}

impl std::fmt::Display for DataFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DataFormat::ChannelsLast => "channels_last",
            DataFormat::ChannelsFirst => "channels_first",
        })
    }
}

/// Element strides of one contiguous image: `(row, col, channel)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub rs: usize,
    pub cs: usize,
    pub chs: usize,
}

impl Layout {
    pub(crate) fn new(format: DataFormat, h: usize, w: usize, c: usize) -> Self {
        match format {
            DataFormat::ChannelsLast => Layout {
                h,
                w,
                c,
                rs: w * c,
                cs: c,
                chs: 1,
            },
            DataFormat::ChannelsFirst => Layout {
                h,
                w,
                c,
                rs: w,
                cs: 1,
                chs: h * w,
            },
        }
    }

    #[inline(always)]
    pub(crate) fn at(&self, r: usize, col: usize) -> usize {
        r * self.rs + col * self.cs
    }

    pub(crate) fn len(&self) -> usize {
        self.h * self.w * self.c
    }
}

/// A mutable view of one image in either output precision, for user code that handles both.
#[derive(Debug)]
pub enum ImageMut<'a> {
    /// An `f32` image.
    F32(ndarray::ArrayViewMut3<'a, f32>),
    /// An `f64` image.
    F64(ndarray::ArrayViewMut3<'a, f64>),
}
