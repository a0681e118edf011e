//! Loading image files for the file iterators: decode, convert to the colour mode, centre-crop
//! and resize (Keras' `load_img`, spec §15), one file at a time, with errors naming the file.

use std::io::Cursor;
use std::path::Path;

use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images};
use image::DynamicImage;
use ndarray::Array3;

use super::jpeg::{self, JpegDecoder};
use super::resize_plan::ResizePlan;
use crate::{Error, Result};

/// The file extensions the file iterators accept (Keras' `white_list_formats`), compared
/// case-insensitively with the real extension of the file name.
pub const WHITE_LIST_FORMATS: [&str; 7] = ["png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff"];

/// Whether `path` has one of the [`WHITE_LIST_FORMATS`] as its extension (case-insensitive).
///
/// Unlike Keras, which tests `name.lower().endswith(ext)`, the extension must follow a dot:
/// `photo.JPG` is accepted, `notes.xpng` and `png` are not.
///
/// ```
/// use augflow::iterators::is_whitelisted;
/// assert!(is_whitelisted("cats/a.JPG"));
/// assert!(is_whitelisted("b.tiff"));
/// assert!(!is_whitelisted("c.xpng"));
/// assert!(!is_whitelisted("png"));
/// assert!(!is_whitelisted("d.txt"));
/// ```
pub fn is_whitelisted(path: impl AsRef<Path>) -> bool {
    path.as_ref()
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| WHITE_LIST_FORMATS.iter().any(|w| w.eq_ignore_ascii_case(e)))
}

/// The colour mode images are converted to: Keras' `color_mode`.
///
/// ```
/// use augflow::iterators::ColorMode;
/// assert_eq!("grayscale".parse::<ColorMode>().unwrap().channels(), 1);
/// assert_eq!(ColorMode::default(), ColorMode::Rgb);
/// assert!("cmyk".parse::<ColorMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorMode {
    /// One channel: PIL's `L`, `(R·19595 + G·38470 + B·7471 + 0x8000) >> 16` from RGB.
    Grayscale,
    /// Three channels (alpha dropped, grey replicated).
    #[default]
    Rgb,
    /// Four channels (alpha 255 added where the file has none).
    Rgba,
}

impl ColorMode {
    /// Number of channels of an image in this mode (1, 3 or 4).
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
            ColorMode::Rgba => 4,
        }
    }
}

impl std::str::FromStr for ColorMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "grayscale" => Ok(ColorMode::Grayscale),
            "rgb" => Ok(ColorMode::Rgb),
            "rgba" => Ok(ColorMode::Rgba),
            _ => Err(Error::invalid(
                "color_mode",
                format!("{s:?}"),
                "\"rgb\", \"rgba\", or \"grayscale\"",
            )),
        }
    }
}

/// The resampling filter used to bring a file to `target_size`: Keras' `interpolation`
/// argument of `flow_from_directory` (PIL's filter names).
///
/// `Nearest` (the default, as in Keras) is implemented here and samples the source pixel
/// `floor((x + 0.5) · crop_w / target_w)` of the crop, which is PIL's rule. The others run
/// through `fast_image_resize`'s convolution, which follows Pillow's separable-convolution
/// design with the same kernels and supports (`Bicubic` is Catmull–Rom, `a = -0.5`, like
/// PIL's; `Lanczos` is Lanczos3). Whether the results match PIL's bit for bit has **not**
/// been verified (spec §21); expect differences of a grey level here and there.
///
/// ```
/// use augflow::iterators::ResizeFilter;
/// assert_eq!("bicubic".parse::<ResizeFilter>().unwrap(), ResizeFilter::Bicubic);
/// assert_eq!(ResizeFilter::default(), ResizeFilter::Nearest);
/// assert!("area".parse::<ResizeFilter>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResizeFilter {
    /// The nearest source pixel (Keras' default).
    #[default]
    Nearest,
    /// Triangle filter (PIL `BILINEAR`).
    Bilinear,
    /// Catmull–Rom cubic (PIL `BICUBIC`).
    Bicubic,
    /// Lanczos3 (PIL `LANCZOS`).
    Lanczos,
    /// Box filter (PIL `BOX`).
    Box,
    /// Hamming filter (PIL `HAMMING`).
    Hamming,
}

impl std::str::FromStr for ResizeFilter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "nearest" => ResizeFilter::Nearest,
            "bilinear" => ResizeFilter::Bilinear,
            "bicubic" => ResizeFilter::Bicubic,
            "lanczos" => ResizeFilter::Lanczos,
            "box" => ResizeFilter::Box,
            "hamming" => ResizeFilter::Hamming,
            _ => {
                return Err(Error::invalid(
                    "interpolation",
                    format!("{s:?}"),
                    "one of \"nearest\", \"bilinear\", \"bicubic\", \"lanczos\", \"box\", \"hamming\"",
                ));
            }
        })
    }
}

impl ResizeFilter {
    fn algorithm(self) -> Option<ResizeAlg> {
        let f = match self {
            ResizeFilter::Nearest => return None,
            ResizeFilter::Bilinear => FilterType::Bilinear,
            ResizeFilter::Bicubic => FilterType::CatmullRom,
            ResizeFilter::Lanczos => FilterType::Lanczos3,
            ResizeFilter::Box => FilterType::Box,
            ResizeFilter::Hamming => FilterType::Hamming,
        };
        Some(ResizeAlg::Convolution(f))
    }
}

/// How a file becomes an array: Keras' `load_img` arguments, plus a decompression-bomb
/// guard. A small `Copy` struct with chained setters.
///
/// ```
/// use augflow::iterators::{ColorMode, LoadOptions, ResizeFilter};
/// let o = LoadOptions::new().target_size(224, 224).color_mode(ColorMode::Grayscale).interpolation(ResizeFilter::Bilinear);
/// assert_eq!(o.target_size, Some((224, 224)));
/// assert_eq!(o.max_pixels, LoadOptions::DEFAULT_MAX_PIXELS);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// `(height, width)` to resize to; `None` keeps the file's size.
    pub target_size: Option<(usize, usize)>,
    /// Colour conversion.
    pub color_mode: ColorMode,
    /// Resampling filter of the resize.
    pub interpolation: ResizeFilter,
    /// Centre-crop to the target's aspect ratio before resizing (spec §15).
    pub keep_aspect_ratio: bool,
    /// The most pixels (width × height) an image file may declare, and a `target_size` may
    /// hold; see [`LoadOptions::max_pixels`].
    pub max_pixels: u64,
    /// The decoder of JPEG files; see [`LoadOptions::jpeg_decoder`].
    pub jpeg_decoder: JpegDecoder,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            target_size: None,
            color_mode: ColorMode::default(),
            interpolation: ResizeFilter::default(),
            keep_aspect_ratio: false,
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            jpeg_decoder: JpegDecoder::Auto,
        }
    }
}

impl LoadOptions {
    /// The default [`max_pixels`](LoadOptions::max_pixels): 178,956,970 pixels, twice PIL's
    /// `Image.MAX_IMAGE_PIXELS` (89,478,485), the size above which PIL (and so Keras)
    /// refuses a file with `DecompressionBombError`. Every file Keras loads, augflow loads.
    pub const DEFAULT_MAX_PIXELS: u64 = 2 * 89_478_485;

    /// No resize, RGB, nearest, no crop, the default pixel limit.
    pub fn new() -> Self {
        Self::default()
    }
    /// Resize to `height × width`.
    pub fn target_size(mut self, height: usize, width: usize) -> Self {
        self.target_size = Some((height, width));
        self
    }
    /// Colour mode.
    pub fn color_mode(mut self, m: ColorMode) -> Self {
        self.color_mode = m;
        self
    }
    /// Resampling filter.
    pub fn interpolation(mut self, f: ResizeFilter) -> Self {
        self.interpolation = f;
        self
    }
    /// Centre-crop to the target's aspect ratio before resizing.
    pub fn keep_aspect_ratio(mut self, on: bool) -> Self {
        self.keep_aspect_ratio = on;
        self
    }
    /// The decompression-bomb guard: an image file whose header declares more than `n`
    /// pixels (width × height) is refused with [`Error::Format`] naming the file, its size
    /// and the limit, before any pixel is decoded; a `target_size` of more than `n` pixels
    /// is refused too. The limit holds for each image, in every thread decoding at once.
    /// Default [`LoadOptions::DEFAULT_MAX_PIXELS`] (PIL's limit); `u64::MAX` turns the guard
    /// off. Must be at least 1.
    ///
    /// ```
    /// use augflow::iterators::{load_img, LoadOptions};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("wide.png");
    /// image::GrayImage::new(100, 50).save(&path)?;
    /// let err = load_img(&path, &LoadOptions::new().max_pixels(4_000)).unwrap_err();
    /// assert!(err.to_string().contains("100x50"));
    /// assert!(load_img(&path, &LoadOptions::new().max_pixels(5_000)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_pixels(mut self, n: u64) -> Self {
        self.max_pixels = n;
        self
    }

    /// The decoder of JPEG files (default [`JpegDecoder::Auto`]: libjpeg-turbo when built
    /// with the `turbojpeg` feature). Asking for libjpeg-turbo in a build without it is an
    /// error of validation. With libjpeg-turbo, a file at least twice the `target_size` (in
    /// the part `keep_aspect_ratio` keeps) is decoded at 1/2, 1/4 or 1/8 of its size, the
    /// smallest that still holds the target, before a non-nearest resize.
    ///
    /// ```
    /// use augflow::iterators::{load_img, JpegDecoder, LoadOptions};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("grey.jpg");
    /// image::GrayImage::from_pixel(16, 8, image::Luma([90])).save(&path)?;
    /// let pure = load_img(&path, &LoadOptions::new().jpeg_decoder(JpegDecoder::Pure))?;
    /// let auto = load_img(&path, &LoadOptions::new())?;
    /// assert_eq!(pure.shape(), &[8, 16, 3]);
    /// assert_eq!(pure, auto); // a flat grey image decodes alike
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jpeg_decoder(mut self, decoder: JpegDecoder) -> Self {
        self.jpeg_decoder = decoder;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.jpeg_decoder.validate()?;
        if self.max_pixels == 0 {
            return Err(Error::invalid(
                "max_pixels",
                0,
                "a pixel count >= 1 (u64::MAX for no limit)",
            ));
        }
        if let Some((h, w)) = self.target_size {
            if h == 0 || w == 0 {
                return Err(Error::invalid(
                    "target_size",
                    format!("({h}, {w})"),
                    "a (height, width) pair of integers >= 1",
                ));
            }
            let pixels = (h as u128) * (w as u128);
            if pixels > u128::from(self.max_pixels) {
                return Err(Error::invalid(
                    "target_size",
                    format!("({h}, {w}), {pixels} pixels"),
                    format!(
                        "at most max_pixels = {} pixels (raise it with `max_pixels`)",
                        self.max_pixels
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A decoded, converted and resized image: `h × w × c` bytes, row-major, channels last.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub data: Vec<u8>,
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

/// Keras' `load_img` + `img_to_array` without the float conversion: reads `path`, converts it
/// to `opts.color_mode`, crops and resizes it, and returns an `(H, W, C)` `u8` array.
///
/// The format is recognised from the file's content. Errors: [`Error::Io`] when the file
/// cannot be read, [`Error::Image`] when it cannot be decoded (corrupt, truncated, unknown
/// format; a JPEG that ends before its end-of-image marker is "image file is truncated",
/// as in PIL), [`Error::Format`] when it declares more than
/// [`max_pixels`](LoadOptions::max_pixels), each naming the file; [`Error::InvalidParameter`]
/// for a `target_size` with a zero side or more than `max_pixels` pixels. 16-bit files are
/// reduced to 8 bits (PIL keeps 16-bit grey as `I;16`; augflow does not).
///
/// ```
/// use augflow::iterators::{load_img, ColorMode, LoadOptions};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("red.png");
/// image::RgbImage::from_pixel(4, 2, image::Rgb([255, 0, 0])).save(&path).unwrap();
/// let a = load_img(&path, &LoadOptions::new().color_mode(ColorMode::Grayscale).target_size(3, 5))?;
/// assert_eq!(a.shape(), &[3, 5, 1]);
/// assert!(a.iter().all(|&v| v == 76)); // (255 * 19595 + 0x8000) >> 16
/// let err = load_img(dir.path().join("missing.png"), &LoadOptions::new()).unwrap_err();
/// assert!(err.to_string().contains("missing.png"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_img(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Array3<u8>> {
    opts.validate()?;
    let d = decode_resized(path.as_ref(), opts, &mut Resizer::new())?;
    Array3::from_shape_vec((d.h, d.w, d.c), d.data).map_err(|e| Error::Format {
        path: path.as_ref().to_path_buf(),
        message: format!("internal shape error: {e}"),
    })
}

/// Reads, decodes, converts and resizes one file. `opts` must be validated.
pub(crate) fn decode_resized(
    path: &Path,
    opts: &LoadOptions,
    resizer: &mut Resizer,
) -> Result<Decoded> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let img = decode_file(&bytes, path, opts)?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return Err(Error::Format {
            path: path.to_path_buf(),
            message: format!("the image is {w}x{h} pixels; it must hold at least one pixel"),
        });
    }
    let src = convert(img, opts.color_mode);
    let c = opts.color_mode.channels();
    let Some(plan) = ResizePlan::new(opts, h, w) else {
        return Ok(Decoded { data: src, h, w, c });
    };
    let mut dst = plan.new_buffer(c)?;
    resize(&src, h, w, c, &plan, &mut dst, opts.interpolation, resizer).map_err(|message| {
        Error::Format {
            path: path.to_path_buf(),
            message,
        }
    })?;
    Ok(Decoded {
        data: dst,
        h: plan.height,
        w: plan.width,
        c,
    })
}

/// Decodes `bytes` (the content of `path`) for `opts`: JPEG files with the decoder
/// `opts.jpeg_decoder` names (libjpeg-turbo may downscale them in the DCT domain), other
/// formats with the `image` crate. Each refuses, naming the file, a header over
/// `opts.max_pixels` before decoding, a truncated JPEG, and a corrupt file.
fn decode_file(bytes: &[u8], path: &Path, opts: &LoadOptions) -> Result<DynamicImage> {
    #[cfg(feature = "turbojpeg")]
    if opts.jpeg_decoder.uses_turbo()
        && jpeg::is_jpeg(bytes)
        && let Some(img) = jpeg::decode_turbo(bytes, path, opts)?
    {
        return Ok(img);
    }
    decode_checked(bytes, path, opts.max_pixels)
}

/// Decodes `bytes` (the content of `path`) with the `image` crate, refusing from the header alone an image of more
/// than `max_pixels` pixels and a JPEG cut before its end.
pub(crate) fn decode_checked(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<DynamicImage> {
    let image_error = |source| Error::Image {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    // The decoder's own allocation cap, at the widest pixel (4 channels of f32), so that it
    // never refuses an image under `max_pixels`.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16));
    reader.limits(limits);
    if reader.format() == Some(image::ImageFormat::Jpeg) {
        jpeg::check_complete(bytes, path)?;
    }
    let decoder = reader.into_decoder().map_err(image_error)?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    check_declared_pixels(path, (w, h), bytes.len(), max_pixels)?;
    DynamicImage::from_decoder(decoder).map_err(image_error)
}

/// Refuses a file of `bytes` bytes whose header declares `w × h` pixels, more than
/// `max_pixels` (the decompression-bomb guard), naming the file, its size and the limit.
pub(crate) fn check_declared_pixels(
    path: &Path,
    (w, h): (u32, u32),
    bytes: usize,
    max_pixels: u64,
) -> Result<()> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels <= max_pixels {
        return Ok(());
    }
    Err(Error::Format {
        path: path.to_path_buf(),
        message: format!(
            "the image ({bytes} bytes) declares {w}x{h} = {pixels} pixels, over the limit of \
             max_pixels = {max_pixels} (a decompression-bomb guard, like PIL's); raise \
             `max_pixels` if the file is trusted"
        ),
    })
}

/// PIL's `convert` to `L`, `RGB` or `RGBA` for 8-bit images; other depths go through
/// `image`'s 8-bit conversion first.
fn convert(img: DynamicImage, mode: ColorMode) -> Vec<u8> {
    // spec §15: PIL's ITU-R 601-2 luma in 16-bit fixed point.
    let luma = |p: &[u8]| {
        ((p[0] as u32 * 19595 + p[1] as u32 * 38470 + p[2] as u32 * 7471 + 0x8000) >> 16) as u8
    };
    match (mode, img) {
        (ColorMode::Grayscale, DynamicImage::ImageLuma8(i)) => i.into_raw(),
        (ColorMode::Grayscale, DynamicImage::ImageLumaA8(i)) => {
            i.as_raw().chunks_exact(2).map(|p| p[0]).collect()
        }
        (ColorMode::Grayscale, DynamicImage::ImageRgba8(i)) => {
            i.as_raw().chunks_exact(4).map(luma).collect()
        }
        (ColorMode::Grayscale, DynamicImage::ImageLuma16(i)) => {
            DynamicImage::ImageLuma16(i).to_luma8().into_raw()
        }
        (ColorMode::Grayscale, other) => other.to_rgb8().chunks_exact(3).map(luma).collect(),
        (ColorMode::Rgb, DynamicImage::ImageRgb8(i)) => i.into_raw(),
        (ColorMode::Rgb, DynamicImage::ImageLuma8(i)) => {
            i.as_raw().iter().flat_map(|&l| [l, l, l]).collect()
        }
        (ColorMode::Rgb, DynamicImage::ImageLumaA8(i)) => i
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        (ColorMode::Rgb, other) => other.to_rgb8().into_raw(),
        (ColorMode::Rgba, DynamicImage::ImageRgba8(i)) => i.into_raw(),
        (ColorMode::Rgba, DynamicImage::ImageLuma8(i)) => {
            i.as_raw().iter().flat_map(|&l| [l, l, l, 255]).collect()
        }
        (ColorMode::Rgba, DynamicImage::ImageLumaA8(i)) => i
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        (ColorMode::Rgba, other) => other.to_rgba8().into_raw(),
    }
}

/// Resizes `src` (`h × w × c`) into `dst` as `plan` says.
#[allow(clippy::too_many_arguments)]
fn resize(
    src: &[u8],
    h: usize,
    w: usize,
    c: usize,
    plan: &ResizePlan,
    dst: &mut [u8],
    filter: ResizeFilter,
    resizer: &mut Resizer,
) -> std::result::Result<(), String> {
    let Some(alg) = filter.algorithm() else {
        plan.resize_nearest(src, w, c, dst);
        return Ok(());
    };
    let (crop, th, tw) = (plan.crop, plan.height, plan.width);
    let pt = match c {
        1 => PixelType::U8,
        3 => PixelType::U8x3,
        _ => PixelType::U8x4,
    };
    let dims = |v: usize| u32::try_from(v).map_err(|_| format!("dimension {v} is too large"));
    let src_img = images::ImageRef::new(dims(w)?, dims(h)?, src, pt).map_err(|e| e.to_string())?;
    let mut dst_img =
        images::Image::from_slice_u8(dims(tw)?, dims(th)?, dst, pt).map_err(|e| e.to_string())?;
    // PIL resizes RGBA premultiplied by alpha (it converts to RGBa first); so does fir.
    let opts = ResizeOptions::new()
        .resize_alg(alg)
        .crop(
            crop.left as f64,
            crop.top as f64,
            crop.width as f64,
            crop.height as f64,
        )
        .use_alpha(c == 4);
    resizer
        .resize(&src_img, &mut dst_img, &opts)
        .map_err(|e| format!("resizing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grayscale_uses_pil_fixed_point_luma() {
        let img = DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(2, 1, vec![10, 200, 30, 255, 255, 255]).unwrap(),
        );
        // (10·19595 + 200·38470 + 30·7471 + 32768) >> 16 = 8146848 >> 16 = 124; white stays 255.
        assert_eq!(convert(img, ColorMode::Grayscale), vec![124, 255]);
    }

    #[test]
    fn conversions_add_and_drop_alpha() {
        let la =
            DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_raw(1, 1, vec![7, 9]).unwrap());
        assert_eq!(convert(la.clone(), ColorMode::Rgba), vec![7, 7, 7, 9]);
        assert_eq!(convert(la, ColorMode::Rgb), vec![7, 7, 7]);
        let rgb = DynamicImage::ImageRgb8(image::RgbImage::from_raw(1, 1, vec![1, 2, 3]).unwrap());
        assert_eq!(convert(rgb, ColorMode::Rgba), vec![1, 2, 3, 255]);
    }

    #[test]
    fn box_filter_halves_a_checkerboard_to_its_mean() {
        let src: Vec<u8> = (0..16)
            .map(|i| if (i / 4 + i % 4) % 2 == 0 { 0 } else { 200 })
            .collect();
        let mut dst = vec![0u8; 4];
        resize(
            &src,
            4,
            4,
            1,
            &ResizePlan::new(&LoadOptions::new().target_size(2, 2), 4, 4).unwrap(),
            &mut dst,
            ResizeFilter::Box,
            &mut Resizer::new(),
        )
        .unwrap();
        assert_eq!(dst, vec![100; 4]);
    }
}
