//! Masks as a source holds them: one `(N, H, W, K)` array of `u8`, `u16` or `f32`, checked
//! against the images once, and shown one sample at a time to the batch engine.

use ndarray::{ArcArray, Array3, ArrayD, ArrayView3, Axis, CowArray, Ix3, Ix4, IxDyn};

use super::masks::{MaskValue, warp_mask};
use crate::array::{DType, DynArray, Element};
use crate::generator::ImageDataGenerator;
use crate::transform::TransformParams;
use crate::{DataFormat, Error, Result};

/// The mask of one sample, `(H, W, K)` channels last, as a source shows it to the batch
/// engine: borrowed from an array (`flow(x).masks(m)`, no copy), or owned when decoded from
/// a file (`flow_from_dataframe(..).mask_col(..)`).
///
/// ```
/// use augflow::targets::SampleMask;
/// use ndarray::{Array3, CowArray};
///
/// let ids = Array3::<u8>::zeros((4, 4, 1));
/// let borrowed = SampleMask::U8(CowArray::from(ids.view()));
/// assert_eq!(borrowed.shape(), [4, 4, 1]);
/// ```
#[derive(Debug, Clone)]
pub enum SampleMask<'a> {
    /// Class ids up to 255.
    U8(CowArray<'a, u8, Ix3>),
    /// Class ids up to 65535.
    U16(CowArray<'a, u16, Ix3>),
    /// Soft masks, distance maps.
    F32(CowArray<'a, f32, Ix3>),
}

impl SampleMask<'_> {
    /// `[H, W, K]`.
    pub fn shape(&self) -> [usize; 3] {
        let s = match self {
            SampleMask::U8(m) => m.shape(),
            SampleMask::U16(m) => m.shape(),
            SampleMask::F32(m) => m.shape(),
        };
        [s[0], s[1], s[2]]
    }

    /// This mask moved through `params` as its image is (see [`warp_mask`]), as a
    /// `(1, H, W, K)` array of its own dtype, ready to be stacked into a batch.
    pub(crate) fn warp(
        &self,
        datagen: &ImageDataGenerator,
        params: &TransformParams,
        cval: f64,
    ) -> Result<DynArray> {
        let (d, p) = (datagen, params);
        Ok(match self {
            SampleMask::U8(m) => warp_mask(d, m.view(), p, cval)?.insert_axis(Axis(0)).into(),
            SampleMask::U16(m) => warp_mask(d, m.view(), p, cval)?.insert_axis(Axis(0)).into(),
            SampleMask::F32(m) => warp_mask(d, m.view(), p, cval)?.insert_axis(Axis(0)).into(),
        })
    }
}

impl SampleMask<'_> {
    /// This mask as `f32` values, first moved through the generator's `params` (with `cval`
    /// where a constant fill shows) when given: the form an augmentation pipeline moves.
    pub(crate) fn values(
        &self,
        generator: Option<(&ImageDataGenerator, &TransformParams, f64)>,
    ) -> Result<Array3<f32>> {
        fn widen<M: MaskValue>(
            m: ArrayView3<'_, M>,
            generator: Option<(&ImageDataGenerator, &TransformParams, f64)>,
        ) -> Result<Array3<f32>> {
            let widened = |m: ArrayView3<'_, M>| m.mapv(|v| v.to_f64() as f32);
            Ok(match generator {
                Some((d, p, cval)) => widened(warp_mask(d, m, p, cval)?.view()),
                None => widened(m),
            })
        }
        match self {
            SampleMask::U8(m) => widen(m.view(), generator),
            SampleMask::U16(m) => widen(m.view(), generator),
            SampleMask::F32(m) => widen(m.view(), generator),
        }
    }

    /// `values` (moved from this mask by [`values`](Self::values)) back in this mask's dtype,
    /// as a `(1, H, W, K)` array ready to be stacked into a batch.
    pub(crate) fn with_values(&self, values: Array3<f32>) -> DynArray {
        let batch = |v: Array3<f32>| v.insert_axis(Axis(0));
        match self {
            SampleMask::U8(_) => batch(values).mapv(u8::from_sample).into(),
            SampleMask::U16(_) => batch(values).mapv(u16::from_sample).into(),
            SampleMask::F32(_) => batch(values).into(),
        }
    }
}

/// The dtype (`U8`, `U16` or `F32`) and `(H, W, K)` shape every mask of a source has, when
/// they are known before any is read: the batch engine then writes each sample's moved mask
/// straight into its batch (see
/// [`BatchSource::mask_layout`](crate::iterators::BatchSource::mask_layout)).
///
/// ```
/// use augflow::DType;
/// use augflow::targets::MaskLayout;
/// let layout = MaskLayout { dtype: DType::U8, shape: [224, 224, 1] };
/// assert_eq!(layout.shape.iter().product::<usize>(), 50176);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskLayout {
    /// The masks' element type.
    pub dtype: DType,
    /// `[H, W, K]`, channels last.
    pub shape: [usize; 3],
}

/// Every sample's mask, shared without copying.
#[derive(Debug, Clone)]
pub(crate) enum MaskArray {
    U8(ArcArray<u8, Ix4>),
    U16(ArcArray<u16, Ix4>),
    F32(ArcArray<f32, Ix4>),
}

impl MaskArray {
    /// The masks of `n` images of `h × w`: `(N, H, W)`, or `(N, H, W, K)` channels-last and
    /// `(N, K, H, W)` channels-first, of `u8`, `u16` or `f32`. Errors name `masks`, the
    /// shape or dtype found and what is accepted.
    pub(crate) fn new(
        masks: DynArray,
        (n, h, w): (usize, usize, usize),
        format: DataFormat,
    ) -> Result<Self> {
        let shape = masks.shape().to_vec();
        let hwk = match (shape.len(), format) {
            (4, DataFormat::ChannelsFirst) => vec![shape[0], shape[2], shape[3], shape[1]],
            _ => shape.clone(),
        };
        let fits = matches!(shape.len(), 3 | 4)
            && hwk[..3] == [n, h, w]
            && hwk.get(3).is_none_or(|&k| k > 0);
        if !fits {
            let with_k = match format {
                DataFormat::ChannelsLast => format!("({n}, {h}, {w}, K)"),
                DataFormat::ChannelsFirst => format!("({n}, K, {h}, {w})"),
            };
            return Err(Error::Shape {
                name: "masks",
                shape,
                expected: format!(
                    "({n}, {h}, {w}) or {with_k}: one mask of the images' size per image"
                ),
            });
        }
        match masks.dtype() {
            DType::U8 => Ok(MaskArray::U8(four_d(masks, format)?)),
            DType::U16 => Ok(MaskArray::U16(four_d(masks, format)?)),
            DType::F32 => Ok(MaskArray::F32(four_d(masks, format)?)),
            other => Err(Error::invalid(
                "masks",
                format!("an array of {other}"),
                "masks of uint8 or uint16 (class ids) or float32",
            )),
        }
    }

    /// The mask of sample `i`.
    pub(crate) fn view(&self, i: usize) -> SampleMask<'_> {
        match self {
            MaskArray::U8(a) => SampleMask::U8(a.index_axis(Axis(0), i).into()),
            MaskArray::U16(a) => SampleMask::U16(a.index_axis(Axis(0), i).into()),
            MaskArray::F32(a) => SampleMask::F32(a.index_axis(Axis(0), i).into()),
        }
    }

    /// The dtype and `(H, W, K)` of every mask.
    pub(crate) fn layout(&self) -> MaskLayout {
        let (dtype, s) = match self {
            MaskArray::U8(a) => (DType::U8, a.shape()),
            MaskArray::U16(a) => (DType::U16, a.shape()),
            MaskArray::F32(a) => (DType::F32, a.shape()),
        };
        MaskLayout {
            dtype,
            shape: [s[1], s[2], s[3]],
        }
    }

    /// Refuses a fill value `cval` the masks' dtype cannot hold, naming `mask_cval`.
    pub(crate) fn check_cval(&self, cval: f64) -> Result<()> {
        let holds = match self {
            MaskArray::U8(_) => u8::holds(cval),
            MaskArray::U16(_) => u16::holds(cval),
            MaskArray::F32(_) => f32::holds(cval),
        };
        if holds {
            return Ok(());
        }
        Err(Error::invalid(
            "mask_cval",
            cval,
            format!("a value of the masks' dtype ({})", self.describe()),
        ))
    }

    /// The dtype and shape, for a configuration fingerprint.
    pub(crate) fn describe(&self) -> String {
        match self {
            MaskArray::U8(a) => format!("uint8 {:?}", a.shape()),
            MaskArray::U16(a) => format!("uint16 {:?}", a.shape()),
            MaskArray::F32(a) => format!("float32 {:?}", a.shape()),
        }
    }
}

/// A 3-D or 4-D array as `(N, H, W, K)` (a view of a channels-first `(N, K, H, W)`).
fn four_d<T: Element>(masks: DynArray, format: DataFormat) -> Result<ArcArray<T, Ix4>> {
    let mut a: ArrayD<T> = masks.into_array()?;
    if a.ndim() == 3 {
        a = a.insert_axis(Axis(3));
    } else if format == DataFormat::ChannelsFirst {
        a = a.permuted_axes(IxDyn(&[0, 2, 3, 1]));
    }
    Ok(a.into_dimensionality::<Ix4>()
        .expect("rank checked above")
        .into_shared())
}
