//! `BatchElement`: the element types a batch's images can have, and how one sample is written
//! into its slot for each (straight from the kernel, or through an `f32` scratch buffer).

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::path::PathBuf;

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};
use ndarray::{Array4, ArrayView3};

use crate::array::DType;
use crate::generator::ImageDataGenerator;
use crate::rng::SampleRng;
use crate::save::Saver;
use crate::transform::{DataFormat, Pixel, TransformParams, WarpOut};
use crate::{DynArray, Result};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
    impl Sealed for u8 {}
}

/// The element type of a batch's images: `f32` (the default), `f64`, the half-precision
/// [`half::f16`] and [`half::bf16`] for mixed-precision training, or `u8` for pixel batches
/// that the model normalizes (as FFCV and DALI users do).
///
/// `f32` and `f64` are written by the warp kernel straight into the batch, and the
/// photometric steps and standardization run in that precision (as Keras runs them in its
/// `dtype`). `f16` and `bf16` samples are computed exactly as an `f32` batch would be, into a
/// per-thread scratch buffer, then rounded to nearest even into the batch slot (as
/// `half::f16::from_f32`): an `f16` batch is the `f32` batch converted element by element,
/// and just as deterministic.
///
/// `u8` batches are written by the warp kernel straight into the batch, rounded half up and
/// saturated to `0..=255` (scipy's rule for an integer output, which Keras'
/// `dtype="uint8"` gets; see [`WarpOut`](crate::transform::WarpOut)): with the default fast
/// kernel from its `f32` value, with [`Kernel::Exact`](crate::Kernel::Exact) from scipy's
/// `f64` value. Channel shift, brightness and a preprocessing function run as for an `f32`
/// batch, which is then rounded the same way. Rescale and normalization are refused with an
/// error naming `dtype` (see
/// [`GeneratorConfig::check_integer_output`](crate::GeneratorConfig::check_integer_output)).
///
/// ```
/// use augflow::{ImageDataGenerator, Sequence};
/// use ndarray::Array4;
///
/// let datagen = ImageDataGenerator::builder().rotation_range(30.0).build()?;
/// let x = Array4::<u8>::from_shape_fn((4, 6, 6, 3), |(n, r, c, k)| (n * 50 + r * 7 + c * 3 + k) as u8);
/// let wide = datagen.flow(x.clone()).seed(3).build()?.get(0)?;
/// let bytes = datagen.flow(x).seed(3).output::<u8>().build()?.get(0)?;
/// assert!(bytes.x.iter().zip(&wide.x).all(|(&b, &f)| (b as f32 - f).abs() <= 0.5));
/// # Ok::<(), augflow::Error>(())
/// ```
///
/// ```
/// use augflow::{ImageDataGenerator, Sequence};
/// use half::f16;
/// use ndarray::Array4;
///
/// let datagen = ImageDataGenerator::builder().rotation_range(30.0).rescale(1.0 / 255.0).build()?;
/// let x = Array4::<u8>::from_shape_fn((4, 6, 6, 3), |(n, r, c, k)| (n * 50 + r * 7 + c * 3 + k) as u8);
/// let wide = datagen.flow(x.clone()).seed(3).build()?.get(0)?;
/// let half = datagen.flow(x).seed(3).output::<f16>().build()?.get(0)?;
/// assert_eq!(half.x, wide.x.mapv(f16::from_f32));
/// # Ok::<(), augflow::Error>(())
/// ```
///
/// The trait is sealed: these four types are the only ones.
pub trait BatchElement:
    Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// The generator `dtype` this type is computed in: `float32` for `f32`, `f16` and `bf16`,
    /// `float64` for `f64`, `uint8` for `u8`.
    const DTYPE: DType;
    /// The type's name, for messages (`"f32"`, `"f16"`, …).
    const NAME: &'static str;

    /// The iterators' per-sample path: draws the transform (when `augment`), warps, runs the
    /// photometric steps and standardizes into `out`, which is fully initialized when this
    /// returns `Ok`, with the parameters drawn (the sample's targets move with them).
    #[doc(hidden)]
    fn sample_into_uninit<T: Pixel>(
        datagen: &ImageDataGenerator,
        x: ArrayView3<'_, T>,
        out: &mut [MaybeUninit<Self>],
        rng: &mut SampleRng,
        augment: bool,
    ) -> Result<TransformParams>;

    /// Writes `f32` values into `out` (of the same length) in this type: exact for `f32` and
    /// `f64`, rounded to nearest even for the half-precision types, half up and saturated for
    /// `u8`. Used for samples of an augmentation pipeline, which computes in `f32`.
    #[doc(hidden)]
    fn write_f32(src: &[f32], out: &mut [MaybeUninit<Self>]);

    /// Writes one sample of a batch with `saver` (half-precision and `u8` samples are
    /// widened to `f32` first, which is exact).
    #[doc(hidden)]
    fn save_sample(
        saver: &Saver,
        img: ArrayView3<'_, Self>,
        data_format: DataFormat,
        epoch: u64,
        sample_index: usize,
        class: Option<&str>,
    ) -> Result<PathBuf>;

    /// The images as a [`DynArray`] (class mode `input`); half-precision images are widened
    /// to `f32`, which is exact, as `DynArray` has no half-precision dtype.
    #[doc(hidden)]
    fn into_dyn(x: Array4<Self>) -> DynArray;
}

macro_rules! direct_element {
    ($t:ty, $dtype:expr, $name:literal) => {
        impl BatchElement for $t {
            const DTYPE: DType = $dtype;
            const NAME: &'static str = $name;
            #[inline]
            fn sample_into_uninit<T: Pixel>(
                datagen: &ImageDataGenerator,
                x: ArrayView3<'_, T>,
                out: &mut [MaybeUninit<Self>],
                rng: &mut SampleRng,
                augment: bool,
            ) -> Result<TransformParams> {
                datagen.sample_into_uninit(x, out, rng, augment)
            }
            fn write_f32(src: &[f32], out: &mut [MaybeUninit<Self>]) {
                for (d, &s) in out.iter_mut().zip(src) {
                    d.write(<$t>::from(s));
                }
            }
            fn save_sample(
                saver: &Saver,
                img: ArrayView3<'_, Self>,
                data_format: DataFormat,
                epoch: u64,
                sample_index: usize,
                class: Option<&str>,
            ) -> Result<PathBuf> {
                saver.save(img, data_format, epoch, sample_index, class)
            }
            fn into_dyn(x: Array4<Self>) -> DynArray {
                DynArray::from(x)
            }
        }
    };
}
direct_element!(f32, DType::F32, "f32");
direct_element!(f64, DType::F64, "f64");

thread_local! {
    /// Each thread's `f32` scratch sample for the half-precision outputs; grown to the
    /// largest sample seen up to [`SCRATCH_KEEP`] elements, so steady state allocates nothing.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// The largest scratch buffer (in `f32` elements, 16 MiB) a thread keeps between samples: a
/// 2048x2048 RGB-less image, or a 1182x1182 RGB one. A larger sample gets its own buffer,
/// freed as soon as it is converted, so one huge batch does not leave every pool thread
/// holding its size for the life of the process. Such samples cost far more to warp than to
/// allocate.
const SCRATCH_KEEP: usize = 1 << 22;

/// Puts `buf` back as this thread's scratch when it is within [`SCRATCH_KEEP`] and larger
/// than the one there (a nested sample may have stored one meanwhile); otherwise frees it.
fn keep_scratch(buf: Vec<f32>) {
    if buf.capacity() > SCRATCH_KEEP {
        return;
    }
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        if buf.capacity() > s.capacity() {
            *s = buf;
        }
    });
}

/// An `O` sample computed exactly as an `f32` batch's, in this thread's scratch buffer, then
/// written into `out` with [`BatchElement::write_f32`].
fn via_f32_scratch<T: Pixel, O: BatchElement>(
    datagen: &ImageDataGenerator,
    x: ArrayView3<'_, T>,
    out: &mut [MaybeUninit<O>],
    rng: &mut SampleRng,
    augment: bool,
) -> Result<TransformParams> {
    // The buffer is taken out of the cell, not borrowed across the sample: a preprocessing
    // function may run rayon work that lands another sample on this thread, which then
    // simply allocates its own buffer.
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let n = out.len();
    buf.clear();
    buf.reserve(n);
    let result = datagen.sample_into_uninit(x, &mut buf.spare_capacity_mut()[..n], rng, augment);
    if result.is_ok() {
        // SAFETY: on Ok, sample_into_uninit initialized all `n` elements.
        unsafe { buf.set_len(n) };
        O::write_f32(&buf, out);
    }
    keep_scratch(buf);
    result
}

impl BatchElement for u8 {
    const DTYPE: DType = DType::U8;
    const NAME: &'static str = "u8";
    fn sample_into_uninit<T: Pixel>(
        datagen: &ImageDataGenerator,
        x: ArrayView3<'_, T>,
        out: &mut [MaybeUninit<Self>],
        rng: &mut SampleRng,
        augment: bool,
    ) -> Result<TransformParams> {
        if datagen.only_warps() {
            datagen.warp_sample_into_uninit(x, out, rng, augment)
        } else {
            via_f32_scratch(datagen, x, out, rng, augment)
        }
    }
    fn write_f32(src: &[f32], out: &mut [MaybeUninit<Self>]) {
        for (d, &s) in out.iter_mut().zip(src) {
            d.write(u8::from_f32(s));
        }
    }
    fn save_sample(
        saver: &Saver,
        img: ArrayView3<'_, Self>,
        data_format: DataFormat,
        epoch: u64,
        sample_index: usize,
        class: Option<&str>,
    ) -> Result<PathBuf> {
        let wide = img.mapv(f32::from);
        saver.save(wide.view(), data_format, epoch, sample_index, class)
    }
    fn into_dyn(x: Array4<Self>) -> DynArray {
        DynArray::from(x)
    }
}

/// Elements converted per step: a stack buffer the bulk converter (F16C where the CPU has
/// it) writes before the copy into the uninitialized slot.
const CHUNK: usize = 256;

macro_rules! half_element {
    ($t:ty, $name:literal) => {
        impl BatchElement for $t {
            const DTYPE: DType = DType::F32;
            const NAME: &'static str = $name;
            fn sample_into_uninit<T: Pixel>(
                datagen: &ImageDataGenerator,
                x: ArrayView3<'_, T>,
                out: &mut [MaybeUninit<Self>],
                rng: &mut SampleRng,
                augment: bool,
            ) -> Result<TransformParams> {
                via_f32_scratch(datagen, x, out, rng, augment)
            }
            fn write_f32(src: &[f32], out: &mut [MaybeUninit<Self>]) {
                let mut tmp = [<$t>::ZERO; CHUNK];
                for (dst, src) in out.chunks_mut(CHUNK).zip(src.chunks(CHUNK)) {
                    let tmp = &mut tmp[..src.len()];
                    // Round to nearest even, as `from_f32`.
                    tmp.convert_from_f32_slice(src);
                    for (d, &s) in dst.iter_mut().zip(tmp.iter()) {
                        d.write(s);
                    }
                }
            }
            fn save_sample(
                saver: &Saver,
                img: ArrayView3<'_, Self>,
                data_format: DataFormat,
                epoch: u64,
                sample_index: usize,
                class: Option<&str>,
            ) -> Result<PathBuf> {
                let wide = img.mapv(<$t>::to_f32);
                saver.save(wide.view(), data_format, epoch, sample_index, class)
            }
            fn into_dyn(x: Array4<Self>) -> DynArray {
                DynArray::from(x.mapv(<$t>::to_f32))
            }
        }
    };
}
half_element!(f16, "f16");
half_element!(bf16, "bf16");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::sample_rng;
    use ndarray::Array3;

    fn sample<O: BatchElement>(datagen: &ImageDataGenerator, x: &Array3<u8>) -> Vec<O> {
        let mut out = vec![MaybeUninit::<O>::uninit(); x.len()];
        O::sample_into_uninit(datagen, x.view(), &mut out, &mut sample_rng(1, 2, 3), true).unwrap();
        // SAFETY: initialized on Ok.
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    }

    fn scratch_capacity() -> usize {
        SCRATCH.with(|s| s.borrow().capacity())
    }

    #[test]
    fn a_huge_half_sample_does_not_stay_resident_in_the_scratch() {
        // Runs on its own test thread, so the scratch is this test's alone.
        let datagen = ImageDataGenerator::builder().build().unwrap();
        let small = Array3::<u8>::from_elem((8, 8, 3), 7);
        let huge = Array3::<u8>::from_elem((2049, 2048, 1), 9);
        assert!(huge.len() > SCRATCH_KEEP);
        let _ = sample::<f16>(&datagen, &small);
        assert!(scratch_capacity() >= small.len());
        let out = sample::<f16>(&datagen, &huge);
        assert!(out.iter().all(|&v| v == f16::from_f32(9.0)));
        assert!(scratch_capacity() <= SCRATCH_KEEP, "{}", scratch_capacity());
        let _ = sample::<bf16>(&datagen, &small);
        assert!(
            (small.len()..=SCRATCH_KEEP).contains(&scratch_capacity()),
            "{}",
            scratch_capacity()
        );
    }

    #[test]
    fn half_samples_of_every_size_are_the_rounded_f32_sample() {
        let datagen = ImageDataGenerator::builder()
            .rotation_range(40.0)
            .zoom_range(0.2)
            .rescale(1.0 / 255.0)
            .build()
            .unwrap();
        // Sizes below, at and above one conversion chunk, in shrinking and growing order so
        // the reused scratch buffer is both longer and shorter than the sample.
        for (h, w) in [(20, 20), (1, 1), (3, 5), (9, 19), (16, 16), (2, 3)] {
            let x = Array3::from_shape_fn((h, w, 3), |(r, c, k)| (r * 31 + c * 7 + k * 101) as u8);
            let wide = sample::<f32>(&datagen, &x);
            let f16s = sample::<f16>(&datagen, &x);
            let bf16s = sample::<bf16>(&datagen, &x);
            let want16: Vec<f16> = wide.iter().map(|&v| f16::from_f32(v)).collect();
            let wantb: Vec<bf16> = wide.iter().map(|&v| bf16::from_f32(v)).collect();
            assert_eq!(f16s, want16, "{h}x{w}");
            assert_eq!(bf16s, wantb, "{h}x{w}");
        }
    }
}
