//! `ImageDataGenerator`: a validated configuration that draws random transform parameters,
//! applies them, standardizes, and fits dataset statistics (featurewise, ZCA).

mod config;
mod fit;
mod layout;
mod preprocess;
mod ranges;
mod standardize;

use std::sync::Arc;

use ndarray::{Array2, Array3, ArrayView3, ArrayViewMut3};

pub use config::GeneratorConfig;
pub use config::{ANGLE_LIMIT, PIXEL_LIMIT};
pub use fit::FitOptions;
pub use preprocess::Preprocess;
pub use ranges::{SHIFT_LIMIT, ShiftRange, ZOOM_LIMIT, ZoomRange};

pub(crate) use preprocess::run_user;

use crate::array::DType;
use crate::rng::{SampleRng, uniform, unit_f64};
use crate::transform::{
    self, Geometry, Interpolation, Kernel, Layout, OutPixel, Pixel, TransformParams, Warp,
    WarpOptions, image_dims,
};
use crate::{BoxError, DataFormat, FillMode, Result};

/// Dataset statistics computed by [`ImageDataGenerator::fit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FitStats {
    /// Per-channel mean (length C), when `featurewise_center`.
    pub mean: Option<Vec<f32>>,
    /// Per-channel std of the centred data (length C), when `featurewise_std_normalization`.
    pub std: Option<Vec<f32>>,
    /// The `d × d` ZCA whitening matrix (`d = H·W·C`, C-order flattening of one image in its
    /// data format), when `zca_whitening`.
    pub zca_whitening_matrix: Option<Arc<Array2<f64>>>,
}

/// Keras' `ImageDataGenerator`: random affine and photometric augmentation, standardization
/// and dataset statistics, with every Keras argument (see [`GeneratorConfig`]).
///
/// Cheap to clone (the ZCA matrix and the preprocessing function are shared).
///
/// ```
/// use augflow::{FillMode, ImageDataGenerator};
/// use augflow::rng::sample_rng;
/// use ndarray::Array3;
///
/// let datagen = ImageDataGenerator::builder()
///     .rotation_range(20.0)
///     .width_shift_range(0.1)
///     .zoom_range(0.1)
///     .horizontal_flip(true)
///     .fill_mode(FillMode::Reflect)
///     .rescale(1.0 / 255.0)
///     .build()?;
/// let img = Array3::<u8>::from_elem((32, 48, 3), 200);
/// let mut rng = sample_rng(42, 0, 0);
/// let params = datagen.random_transform_params(32, 48, &mut rng);
/// let mut out: Array3<f32> = datagen.apply_transform(img.view(), &params)?;
/// datagen.standardize(out.view_mut())?;
/// assert!(out.iter().all(|&v| (v - 200.0 / 255.0).abs() < 1e-6)); // a flat image stays flat
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Clone)]
pub struct ImageDataGenerator {
    config: GeneratorConfig,
    interpolation: Interpolation,
    preprocessing: Option<Arc<dyn Preprocess>>,
    stats: FitStats,
}

impl std::fmt::Debug for ImageDataGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageDataGenerator")
            .field("config", &self.config)
            .field("preprocessing_function", &self.preprocessing.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

impl ImageDataGenerator {
    /// A builder with Keras' defaults.
    pub fn builder() -> ImageDataGeneratorBuilder {
        ImageDataGeneratorBuilder::default()
    }

    /// Validates `config` (spec §2) and builds the generator.
    ///
    /// ```
    /// use augflow::{GeneratorConfig, ImageDataGenerator};
    /// let cfg = GeneratorConfig { rotation_range: f64::NAN, ..Default::default() };
    /// let err = ImageDataGenerator::new(cfg).unwrap_err();
    /// assert!(err.to_string().contains("rotation_range"));
    /// ```
    pub fn new(config: GeneratorConfig) -> Result<Self> {
        let config = config.validated()?;
        Ok(ImageDataGenerator {
            interpolation: config.interpolation()?,
            config,
            preprocessing: None,
            stats: FitStats::default(),
        })
    }

    /// The effective configuration (after Keras' overrides).
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// Whether the generator leaves every sample as it is: its defaults (whatever its
    /// `dtype` and data format) and no preprocessing function. Iterators with an
    /// augmentation pipeline skip its pass then.
    pub(crate) fn is_identity(&self) -> bool {
        let cfg = &self.config;
        let plain = GeneratorConfig {
            dtype: cfg.dtype,
            data_format: cfg.data_format,
            ..GeneratorConfig::default()
        };
        self.preprocessing.is_none() && *cfg == plain
    }

    /// The statistics computed by `fit` (empty before).
    pub fn stats(&self) -> &FitStats {
        &self.stats
    }

    /// Replaces the fitted statistics, e.g. with values saved from an earlier `fit` or
    /// from Keras (`mean`, `std`, `zca_whitening_matrix`). Lengths are checked when used.
    pub fn set_stats(&mut self, stats: FitStats) {
        self.stats = stats;
    }

    /// The data format of images this generator handles.
    pub fn data_format(&self) -> DataFormat {
        self.config.data_format
    }

    /// The geometry (corrected or Keras').
    pub fn geometry(&self) -> Geometry {
        self.config.geometry
    }

    /// The resampling arithmetic (fast or bit-exact).
    pub fn kernel(&self) -> Kernel {
        self.config.kernel
    }

    /// The resampling options of this generator.
    pub fn warp_options(&self) -> WarpOptions {
        WarpOptions {
            fill_mode: self.config.fill_mode,
            cval: self.config.cval,
            interpolation: self.interpolation,
            data_format: self.config.data_format,
            fast: self.config.kernel == Kernel::Fast,
            scale: 1.0,
        }
    }

    /// Draws the parameters of one augmentation for an image of `height × width`, with the
    /// draws and distributions of Keras' `get_random_transform` (spec §3.1), from `rng`.
    ///
    /// Under [`Geometry::Keras`], `tx` comes from `height_shift_range · H` and `ty` from
    /// `width_shift_range · W`, as in Keras 2.9; under the corrected geometry `tx`
    /// (horizontal) comes from `width_shift_range · W` and `ty` from `height_shift_range · H`.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, rng::sample_rng};
    /// let datagen = ImageDataGenerator::builder().rotation_range(30.0).build().unwrap();
    /// let p = datagen.random_transform_params(64, 64, &mut sample_rng(1, 0, 0));
    /// assert!(p.theta.abs() <= 30.0 && p.tx == 0.0 && !p.flip_horizontal);
    /// ```
    pub fn random_transform_params(
        &self,
        height: usize,
        width: usize,
        rng: &mut SampleRng,
    ) -> TransformParams {
        let c = &self.config;
        let theta = if c.rotation_range != 0.0 {
            uniform(rng, -c.rotation_range, c.rotation_range)
        } else {
            0.0
        };
        let (tx, ty) = match c.geometry {
            Geometry::Keras => {
                let tx = c.height_shift_range.draw(rng, height);
                (tx, c.width_shift_range.draw(rng, width))
            }
            Geometry::Corrected => {
                let tx = c.width_shift_range.draw(rng, width);
                (tx, c.height_shift_range.draw(rng, height))
            }
        };
        let shear = if c.shear_range != 0.0 {
            uniform(rng, -c.shear_range, c.shear_range)
        } else {
            0.0
        };
        let (zx, zy) = if c.zoom_range.is_off() {
            (1.0, 1.0)
        } else {
            let (lo, hi) = c.zoom_range.bounds();
            let zx = uniform(rng, lo, hi);
            (zx, uniform(rng, lo, hi))
        };
        // Both flips are always drawn, as in Keras, so a flag never shifts later draws.
        let flip_horizontal = (unit_f64(rng) < 0.5) && c.horizontal_flip;
        let flip_vertical = (unit_f64(rng) < 0.5) && c.vertical_flip;
        let channel_shift_intensity = (c.channel_shift_range != 0.0)
            .then(|| uniform(rng, -c.channel_shift_range, c.channel_shift_range));
        let brightness = c.brightness_range.map(|[lo, hi]| uniform(rng, lo, hi));
        TransformParams {
            theta,
            tx,
            ty,
            shear,
            zx,
            zy,
            flip_horizontal,
            flip_vertical,
            channel_shift_intensity,
            brightness,
        }
    }

    /// Applies `params` to one image `x` into `out` (same shape), in one pass: the affine
    /// warp with the flips folded in, then channel shift and brightness on the result
    /// (spec §4). `x` may be `u8`, `u16`, `f32` or `f64`; `out` is `f32` or `f64`.
    ///
    /// ```
    /// use augflow::{Geometry, ImageDataGenerator, TransformParams};
    /// use ndarray::{Array3, array};
    /// // spec §20 G1: theta = 180 on a 3x4 arange, Keras geometry, nearest fill.
    /// let datagen = ImageDataGenerator::builder().geometry(Geometry::Keras).build().unwrap();
    /// let x = Array3::from_shape_fn((3, 4, 1), |(r, c, _)| (4 * r + c) as f32);
    /// let mut out = Array3::<f32>::zeros((3, 4, 1));
    /// let p = TransformParams { theta: 180.0, ..Default::default() };
    /// datagen.apply_transform_into(x.view(), &p, out.view_mut()).unwrap();
    /// assert_eq!(out.remove_axis(ndarray::Axis(2)), array![[10., 9., 8., 8.], [10., 9., 8., 8.], [6., 5., 4., 4.]]);
    /// ```
    pub fn apply_transform_into<T: Pixel, O: OutPixel>(
        &self,
        x: ArrayView3<'_, T>,
        params: &TransformParams,
        mut out: ArrayViewMut3<'_, O>,
    ) -> Result<()> {
        let fmt = self.config.data_format;
        let (h, w, c) = image_dims(x.shape(), fmt, "image")?;
        if x.shape() != out.shape() {
            return Err(crate::Error::Shape {
                name: "output",
                shape: out.shape().to_vec(),
                expected: format!("the image's shape {:?}", x.shape()),
            });
        }
        check_params(params)?;
        let lay = Layout::new(fmt, h, w, c);
        let src = x.as_standard_layout();
        let src = src.as_slice().expect("standard layout is contiguous");
        match out.as_slice_mut() {
            Some(dst) => self.transform_slice(src, dst, lay, params),
            None => {
                let mut tmp = Array3::<O>::default(out.raw_dim());
                self.transform_slice(src, tmp.as_slice_mut().expect("fresh"), lay, params)?;
                out.assign(&tmp);
                Ok(())
            }
        }
    }

    /// Like [`apply_transform_into`](Self::apply_transform_into), allocating the output.
    pub fn apply_transform<T: Pixel, O: OutPixel>(
        &self,
        x: ArrayView3<'_, T>,
        params: &TransformParams,
    ) -> Result<Array3<O>> {
        let mut out = Array3::<O>::default(x.raw_dim());
        self.apply_transform_into(x, params, out.view_mut())?;
        Ok(out)
    }

    /// Draws parameters from `rng` and applies them: Keras' `random_transform`.
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, rng::sample_rng};
    /// use ndarray::Array3;
    /// let datagen = ImageDataGenerator::builder().vertical_flip(true).build().unwrap();
    /// let x = Array3::from_shape_fn((2, 1, 1), |(r, _, _)| r as u8);
    /// let y: Array3<f32> = datagen.random_transform(x.view(), &mut sample_rng(0, 0, 0)).unwrap();
    /// assert!(y[[0, 0, 0]] + y[[1, 0, 0]] == 1.0); // same pixels, maybe flipped
    /// ```
    pub fn random_transform<T: Pixel, O: OutPixel>(
        &self,
        x: ArrayView3<'_, T>,
        rng: &mut SampleRng,
    ) -> Result<Array3<O>> {
        let (h, w, _) = image_dims(x.shape(), self.config.data_format, "image")?;
        let params = self.random_transform_params(h, w, rng);
        self.apply_transform(x, &params)
    }

    /// The per-sample path of the iterators: draws parameters from `rng` (when `augment`),
    /// applies them into `out` and standardizes `out` in place. Returns the parameters used.
    pub fn transform_sample_into<T: Pixel, O: OutPixel>(
        &self,
        x: ArrayView3<'_, T>,
        mut out: ArrayViewMut3<'_, O>,
        rng: &mut SampleRng,
        augment: bool,
    ) -> Result<TransformParams> {
        let (h, w, _) = image_dims(x.shape(), self.config.data_format, "image")?;
        let params = if augment {
            self.random_transform_params(h, w, rng)
        } else {
            TransformParams::default()
        };
        self.apply_transform_into(x, &params, out.view_mut())?;
        self.standardize(out)?;
        Ok(params)
    }

    /// The iterators' per-sample path into a batch slot that is not initialized yet: draws
    /// parameters (when `augment`), warps (which writes every element), applies the
    /// photometric steps and standardizes. `out` is initialized when this returns `Ok`.
    pub(crate) fn sample_into_uninit<T: Pixel, O: OutPixel>(
        &self,
        x: ArrayView3<'_, T>,
        out: &mut [std::mem::MaybeUninit<O>],
        rng: &mut SampleRng,
        augment: bool,
    ) -> Result<TransformParams> {
        let (lay, params) = self.sample_params(x.shape(), out.len(), rng, augment)?;
        let src = x.as_standard_layout();
        let src = src.as_slice().expect("standard layout is contiguous");
        // Keras rescales right after the augmentation (spec §9 step 2). When nothing runs in
        // between — no channel shift, brightness or preprocessing function — the kernel
        // applies the same product as it writes, saving a pass over the image.
        let fold = self.config.active_rescale().filter(|_| {
            params.channel_shift_intensity.is_none()
                && params.brightness.is_none()
                && self.preprocessing.is_none()
        });
        let opts = WarpOptions {
            scale: fold.unwrap_or(1.0),
            ..self.warp_options()
        };
        transform::warp_slice_uninit(src, out, lay, &self.warp(&params, lay), &opts);
        // SAFETY: warp_slice_uninit writes every element of `out`.
        let out = unsafe { &mut *(out as *mut [std::mem::MaybeUninit<O>] as *mut [O]) };
        if fold.is_some() {
            self.standardize_after_rescale(out, lay)?;
        } else {
            self.photometric(out, lay, &params)?;
            let view = ArrayViewMut3::from_shape(x.raw_dim(), out).expect("same length");
            self.standardize(view)?;
        }
        Ok(params)
    }

    /// The per-sample path for an output that only the warp writes (`u8` batches): draws
    /// parameters (when `augment`) and warps into `out`, which is initialized when this
    /// returns `Ok`. Only for a generator whose samples need nothing after the warp (see
    /// [`only_warps`](Self::only_warps)).
    pub(crate) fn warp_sample_into_uninit<T: Pixel, O: transform::WarpOut>(
        &self,
        x: ArrayView3<'_, T>,
        out: &mut [std::mem::MaybeUninit<O>],
        rng: &mut SampleRng,
        augment: bool,
    ) -> Result<TransformParams> {
        debug_assert!(self.only_warps());
        let (lay, params) = self.sample_params(x.shape(), out.len(), rng, augment)?;
        let src = x.as_standard_layout();
        let src = src.as_slice().expect("standard layout is contiguous");
        let opts = self.warp_options();
        transform::warp_slice_uninit(src, out, lay, &self.warp(&params, lay), &opts);
        Ok(params)
    }

    /// Whether a sample is finished once warped: no channel shift, brightness,
    /// preprocessing function, rescale or normalization.
    pub(crate) fn only_warps(&self) -> bool {
        let c = &self.config;
        self.preprocessing.is_none()
            && c.channel_shift_range == 0.0
            && c.brightness_range.is_none()
            && c.pixel_value_steps().is_empty()
    }

    /// The layout of a sample of `shape` (whose output holds `out_len` elements) and its
    /// parameters: drawn from `rng` when `augment`, checked.
    fn sample_params(
        &self,
        shape: &[usize],
        out_len: usize,
        rng: &mut SampleRng,
        augment: bool,
    ) -> Result<(Layout, TransformParams)> {
        let fmt = self.config.data_format;
        let (h, w, c) = image_dims(shape, fmt, "image")?;
        let lay = Layout::new(fmt, h, w, c);
        debug_assert_eq!(out_len, lay.len());
        let params = if augment {
            self.random_transform_params(h, w, rng)
        } else {
            TransformParams::default()
        };
        check_params(&params)?;
        Ok((lay, params))
    }

    fn warp(&self, p: &TransformParams, lay: Layout) -> Warp {
        Warp {
            map: transform::sampling_map(p, lay.h, lay.w, self.config.geometry),
            flip_horizontal: p.flip_horizontal,
            flip_vertical: p.flip_vertical,
        }
    }

    pub(crate) fn transform_slice<T: Pixel, O: OutPixel>(
        &self,
        src: &[T],
        dst: &mut [O],
        lay: Layout,
        p: &TransformParams,
    ) -> Result<()> {
        transform::warp_slice(src, dst, lay, &self.warp(p, lay), &self.warp_options());
        self.photometric(dst, lay, p)
    }

    fn photometric<O: OutPixel>(
        &self,
        dst: &mut [O],
        lay: Layout,
        p: &TransformParams,
    ) -> Result<()> {
        // Channel shift and brightness are pointwise given the whole image's min and max, so
        // running them after the flips (folded into the warp) gives Keras' order (spec §4).
        if let Some(i) = p.channel_shift_intensity {
            transform::channel_shift_slice(dst, i);
        }
        if let Some(b) = p.brightness {
            match self.config.geometry {
                Geometry::Keras => {
                    let chan = transform::channel_fn(self.config.data_format, lay.h, lay.w, lay.c);
                    transform::brightness_keras_slice(dst, lay.c, chan, b)?;
                }
                Geometry::Corrected => transform::brightness_plain_slice(dst, b),
            }
        }
        Ok(())
    }
}

/// The largest shift of explicit parameters, in pixels (`2^50`): coordinates keep their
/// integer part exact in `f64` below `2^52`. Drawn shifts are far smaller (see [`SHIFT_LIMIT`]).
const PARAM_SHIFT_LIMIT: f64 = (1u64 << 50) as f64;

/// Checks parameters (drawn, or given to `apply_transform`) before they reach the warp:
/// finite, zoom and shift within what keeps every sampling coordinate finite and exact,
/// brightness and channel shift within [`PIXEL_LIMIT`]. Every draw of a valid configuration
/// passes; explicit parameters beyond these limits would give non-finite pixels.
fn check_params(p: &TransformParams) -> Result<()> {
    p.validate()?;
    let within = |name: &'static str, v: f64, limit: f64, what: &str| {
        if v.abs() <= limit {
            Ok(())
        } else {
            Err(crate::Error::invalid(
                name,
                v,
                format!("a magnitude <= {limit:e} ({what})"),
            ))
        }
    };
    within("zx", p.zx, ZOOM_LIMIT, "a zoom factor")?;
    within("zy", p.zy, ZOOM_LIMIT, "a zoom factor")?;
    within("tx", p.tx, PARAM_SHIFT_LIMIT, "pixels")?;
    within("ty", p.ty, PARAM_SHIFT_LIMIT, "pixels")?;
    if let Some(b) = p.brightness {
        within("brightness", b, PIXEL_LIMIT, "a factor")?;
    }
    if let Some(c) = p.channel_shift_intensity {
        within("channel_shift_intensity", c, PIXEL_LIMIT, "an intensity")?;
    }
    Ok(())
}

/// Builds an [`ImageDataGenerator`]; setters are named after Keras' arguments and
/// [`build`](Self::build) validates everything at once.
///
/// ```
/// use augflow::{Error, ImageDataGenerator};
/// let err = ImageDataGenerator::builder().zoom_range(f64::INFINITY).build().unwrap_err();
/// assert!(matches!(err, Error::InvalidParameter { name: "zoom_range", .. }));
/// ```
#[derive(Clone, Default)]
pub struct ImageDataGeneratorBuilder {
    config: GeneratorConfig,
    preprocessing: Option<Arc<dyn Preprocess>>,
}

impl ImageDataGeneratorBuilder {
    /// Starts from an existing configuration (for example one read from a JSON file).
    pub fn from_config(config: GeneratorConfig) -> Self {
        ImageDataGeneratorBuilder {
            config,
            preprocessing: None,
        }
    }

    /// Subtract the dataset's per-channel mean (call `fit` first).
    pub fn featurewise_center(mut self, v: bool) -> Self {
        self.config.featurewise_center = v;
        self
    }

    /// Subtract each image's mean.
    pub fn samplewise_center(mut self, v: bool) -> Self {
        self.config.samplewise_center = v;
        self
    }

    /// Divide by the dataset's per-channel std (call `fit` first).
    pub fn featurewise_std_normalization(mut self, v: bool) -> Self {
        self.config.featurewise_std_normalization = v;
        self
    }

    /// Divide each image by its std.
    pub fn samplewise_std_normalization(mut self, v: bool) -> Self {
        self.config.samplewise_std_normalization = v;
        self
    }

    /// ZCA whitening (call `fit` first).
    pub fn zca_whitening(mut self, v: bool) -> Self {
        self.config.zca_whitening = v;
        self
    }

    /// Epsilon of ZCA (default 1e-6).
    pub fn zca_epsilon(mut self, v: f64) -> Self {
        self.config.zca_epsilon = v;
        self
    }

    /// Degrees: rotation uniform in `[-r, r]`.
    pub fn rotation_range(mut self, v: f64) -> Self {
        self.config.rotation_range = v;
        self
    }

    /// Degrees: shear uniform in `[-s, s]`.
    pub fn shear_range(mut self, v: f64) -> Self {
        self.config.shear_range = v;
        self
    }

    /// Channel shift intensity range.
    pub fn channel_shift_range(mut self, v: f64) -> Self {
        self.config.channel_shift_range = v;
        self
    }

    /// Boundary handling.
    pub fn fill_mode(mut self, v: FillMode) -> Self {
        self.config.fill_mode = v;
        self
    }

    /// Fill value for `FillMode::Constant`.
    pub fn cval(mut self, v: f64) -> Self {
        self.config.cval = v;
        self
    }

    /// Random horizontal flips.
    pub fn horizontal_flip(mut self, v: bool) -> Self {
        self.config.horizontal_flip = v;
        self
    }

    /// Random vertical flips.
    pub fn vertical_flip(mut self, v: bool) -> Self {
        self.config.vertical_flip = v;
        self
    }

    /// Layout of the images.
    pub fn data_format(mut self, v: DataFormat) -> Self {
        self.config.data_format = v;
        self
    }

    /// Fraction of the data held out for validation.
    pub fn validation_split(mut self, v: f64) -> Self {
        self.config.validation_split = v;
        self
    }

    /// Spline order 0 or 1.
    pub fn interpolation_order(mut self, v: u32) -> Self {
        self.config.interpolation_order = v;
        self
    }

    /// Output element type.
    pub fn dtype(mut self, v: DType) -> Self {
        self.config.dtype = v;
        self
    }

    /// Corrected (default) or Keras' geometry.
    pub fn geometry(mut self, v: Geometry) -> Self {
        self.config.geometry = v;
        self
    }

    /// Fast (default) or bit-exact resampling (see [`Kernel`]).
    ///
    /// ```
    /// use augflow::{ImageDataGenerator, Kernel};
    /// let g = ImageDataGenerator::builder().kernel(Kernel::Exact).build()?;
    /// assert_eq!(g.kernel(), Kernel::Exact);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn kernel(mut self, v: Kernel) -> Self {
        self.config.kernel = v;
        self
    }

    /// Byte budget for the ZCA matrix (default 2 GiB).
    pub fn zca_memory_budget(mut self, v: u64) -> Self {
        self.config.zca_memory_budget = v;
        self
    }

    /// Horizontal shift range: a fraction (`< 1`), pixels, an integer or a list.
    pub fn width_shift_range(mut self, v: impl Into<ShiftRange>) -> Self {
        self.config.width_shift_range = v.into();
        self
    }

    /// Vertical shift range: a fraction (`< 1`), pixels, an integer or a list.
    pub fn height_shift_range(mut self, v: impl Into<ShiftRange>) -> Self {
        self.config.height_shift_range = v.into();
        self
    }

    /// Zoom range: `z` for `[1 - z, 1 + z]`, or `(lo, hi)`.
    pub fn zoom_range(mut self, v: impl Into<ZoomRange>) -> Self {
        self.config.zoom_range = v.into();
        self
    }

    /// Brightness factor range `(lo, hi)`.
    pub fn brightness_range(mut self, lo: f64, hi: f64) -> Self {
        self.config.brightness_range = Some([lo, hi]);
        self
    }

    /// Multiply by `r` after augmentation (e.g. `1.0 / 255.0`).
    pub fn rescale(mut self, r: f64) -> Self {
        self.config.rescale = Some(r);
        self
    }

    /// A function run on each image before the other standardization steps.
    pub fn preprocessing_function<F>(mut self, f: F) -> Self
    where
        F: Fn(ArrayViewMut3<'_, f32>) -> std::result::Result<(), BoxError> + Send + Sync + 'static,
    {
        self.preprocessing = Some(Arc::new(f));
        self
    }

    /// Like [`preprocessing_function`](Self::preprocessing_function), for a [`Preprocess`]
    /// implementation (e.g. one that handles `f64` natively).
    pub fn preprocess(mut self, p: Arc<dyn Preprocess>) -> Self {
        self.preprocessing = Some(p);
        self
    }

    /// Validates the configuration and builds the generator.
    pub fn build(self) -> Result<ImageDataGenerator> {
        let mut g = ImageDataGenerator::new(self.config)?;
        g.preprocessing = self.preprocessing;
        Ok(g)
    }
}
