//! JPEG files: which decoder reads them (libjpeg-turbo under the `turbojpeg` feature, else
//! the `image` crate's pure-Rust zune-jpeg), the truncation check both share, and
//! DCT-domain downscaling when a file is much larger than its `target_size`.

use std::path::Path;

use super::decode::{LoadOptions, ResizeFilter};
use super::resize_plan::ResizePlan;
use crate::{Error, Result};

/// The decoder that reads JPEG files: [`LoadOptions::jpeg_decoder`].
///
/// `Auto` (the default) is libjpeg-turbo when the crate is built with its `turbojpeg`
/// feature (on by default), else the pure-Rust decoder. libjpeg-turbo decodes as Pillow does
/// (accurate integer IDCT, smooth chroma upsampling: the same pixels as Keras' `load_img` on
/// the same library version) and, on the project's benchmark files, faster than the
/// pure-Rust decoder (README, "Reading files"). Only libjpeg-turbo can downscale in the DCT
/// domain. Other formats are read by the `image` crate whatever this says.
///
/// ```
/// use augflow::iterators::JpegDecoder;
/// assert_eq!(JpegDecoder::default(), JpegDecoder::Auto);
/// assert!(JpegDecoder::Pure.is_available());
/// assert_eq!("pure".parse::<JpegDecoder>().unwrap(), JpegDecoder::Pure);
/// assert!("libjpeg".parse::<JpegDecoder>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JpegDecoder {
    /// libjpeg-turbo where built in, else [`JpegDecoder::Pure`].
    #[default]
    Auto,
    /// libjpeg-turbo (needs the `turbojpeg` feature; otherwise refused by validation).
    LibjpegTurbo,
    /// The `image` crate's decoder (zune-jpeg), pure Rust; never downscales while decoding.
    Pure,
}

impl JpegDecoder {
    /// Whether this build can use the decoder (`LibjpegTurbo` needs the `turbojpeg` feature).
    pub fn is_available(self) -> bool {
        self != JpegDecoder::LibjpegTurbo || cfg!(feature = "turbojpeg")
    }

    /// Whether JPEG files go through libjpeg-turbo.
    #[cfg_attr(not(feature = "turbojpeg"), allow(dead_code))] // used by libjpeg-turbo alone
    pub(crate) fn uses_turbo(self) -> bool {
        cfg!(feature = "turbojpeg") && self != JpegDecoder::Pure
    }

    /// Refuses a decoder this build does not have.
    pub(crate) fn validate(self) -> Result<()> {
        if self.is_available() {
            return Ok(());
        }
        Err(Error::invalid(
            "jpeg_decoder",
            "\"libjpeg-turbo\"",
            "\"auto\" or \"pure\" (this build of augflow lacks its `turbojpeg` feature)",
        ))
    }
}

impl std::str::FromStr for JpegDecoder {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(JpegDecoder::Auto),
            "libjpeg-turbo" => Ok(JpegDecoder::LibjpegTurbo),
            "pure" => Ok(JpegDecoder::Pure),
            _ => Err(Error::invalid(
                "jpeg_decoder",
                format!("{s:?}"),
                "\"auto\", \"libjpeg-turbo\" or \"pure\"",
            )),
        }
    }
}

/// Whether `bytes` start as a JPEG file does (the SOI marker and a marker after it).
#[cfg_attr(not(feature = "turbojpeg"), allow(dead_code))] // used by libjpeg-turbo alone
pub(crate) fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// An [`Error::Image`] naming `path`, for a JPEG that cannot be decoded.
pub(crate) fn jpeg_error(path: &Path, message: String) -> Error {
    Error::Image {
        path: path.to_path_buf(),
        source: image::ImageError::Decoding(image::error::DecodingError::new(
            image::ImageFormat::Jpeg.into(),
            message,
        )),
    }
}

/// Refuses a JPEG cut before its end-of-image marker ("image file is truncated", as PIL
/// says), whichever decoder reads it: libjpeg-turbo would pad it with grey and only warn.
pub(crate) fn check_complete(bytes: &[u8], path: &Path) -> Result<()> {
    if jpeg_is_complete(bytes) {
        return Ok(());
    }
    Err(jpeg_error(
        path,
        format!(
            "image file is truncated: the JPEG data ({} bytes) ends before its end-of-image marker",
            bytes.len()
        ),
    ))
}

/// Whether a JPEG's segments and entropy-coded data run up to an end-of-image marker, as a
/// complete file's do. Walks the markers in one pass; bytes after the marker do not matter.
/// A file too malformed to walk counts as complete, for the decoder to judge.
fn jpeg_is_complete(b: &[u8]) -> bool {
    let mut pos = 2; // after SOI
    loop {
        let Some(&marker_lead) = b.get(pos) else {
            return false;
        };
        if marker_lead != 0xFF {
            return true;
        }
        let Some(&marker) = b.get(pos + 1) else {
            return false;
        };
        match marker {
            0xD9 => return true,
            0xFF => pos += 1, // fill byte
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let Some(len) = b.get(pos + 2..pos + 4) else {
                    return false;
                };
                pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
                if marker == 0xDA {
                    // Entropy-coded data: runs to the next marker other than a stuffed
                    // 0xFF00 or a restart marker.
                    loop {
                        match (b.get(pos), b.get(pos + 1)) {
                            (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => pos += 2,
                            (Some(0xFF), Some(_)) => break,
                            (Some(_), _) => pos += 1,
                            (None, _) => return false,
                        }
                    }
                }
            }
        }
    }
}

/// The DCT-domain downscaling of an `h × w` JPEG decoded for `opts`: the largest of 8, 4, 2
/// (decode at 1/8, 1/4, 1/2) whose image still holds the target size in the part the resize
/// keeps, both ways; 1 (full size) otherwise, and always for nearest resizing, which must
/// sample the file's own pixels (Keras' `load_img`), or without a `target_size`.
#[cfg_attr(not(feature = "turbojpeg"), allow(dead_code))] // used by libjpeg-turbo alone
pub(crate) fn dct_downscale(opts: &LoadOptions, h: usize, w: usize) -> usize {
    let Some((th, tw)) = opts.target_size else {
        return 1;
    };
    if opts.interpolation == ResizeFilter::Nearest {
        return 1;
    }
    let holds_target = |d: usize| {
        let (sh, sw) = (h.div_ceil(d), w.div_ceil(d));
        ResizePlan::new(opts, sh, sw).is_none_or(|p| p.crop.height >= th && p.crop.width >= tw)
    };
    [8, 4, 2]
        .into_iter()
        .find(|&d| holds_target(d))
        .unwrap_or(1)
}

#[cfg(feature = "turbojpeg")]
pub(crate) use turbo::decode_turbo;

#[cfg(feature = "turbojpeg")]
mod turbo {
    use std::cell::RefCell;
    use std::path::Path;

    use image::DynamicImage;
    use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat, ScalingFactor};

    use super::{check_complete, dct_downscale, jpeg_error};
    use crate::Result;
    use crate::iterators::decode::{LoadOptions, check_declared_pixels};

    thread_local! {
        /// One libjpeg-turbo handle per thread, reused from file to file.
        static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
    }

    /// Decodes the JPEG `bytes` (the content of `path`) with libjpeg-turbo, as 8-bit grey
    /// (one-component files) or RGB, downscaled in the DCT domain as [`dct_downscale`]
    /// says. Refuses, naming the file, a truncated file and one whose header declares more
    /// than `opts.max_pixels` (before anything is allocated for its pixels).
    ///
    /// `None` where libjpeg-turbo cannot or will not give the image: CMYK and YCCK files
    /// (it has no conversion to RGB), and files it finds corrupt, even those it only warns
    /// about (extraneous bytes, a damaged scan), which Pillow and the pure-Rust decoder
    /// still read. The caller hands those to the `image` crate, whose error, if any, names
    /// the file.
    pub(crate) fn decode_turbo(
        bytes: &[u8],
        path: &Path,
        opts: &LoadOptions,
    ) -> Result<Option<DynamicImage>> {
        check_complete(bytes, path)?;
        DECOMPRESSOR.with_borrow_mut(|slot| {
            let tj = match slot {
                Some(tj) => tj,
                None => {
                    slot.insert(Decompressor::new().map_err(|e| jpeg_error(path, e.to_string()))?)
                }
            };
            decode_with(tj, bytes, path, opts)
        })
    }

    fn decode_with(
        tj: &mut Decompressor,
        bytes: &[u8],
        path: &Path,
        opts: &LoadOptions,
    ) -> Result<Option<DynamicImage>> {
        let refused = |e: turbojpeg::Error| {
            log::debug!("libjpeg-turbo refused {}: {e}", path.display());
        };
        let Ok(header) = tj.read_header(bytes).map_err(refused) else {
            return Ok(None);
        };
        let dims = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        check_declared_pixels(
            path,
            (dims(header.width), dims(header.height)),
            bytes.len(),
            opts.max_pixels,
        )?;
        let format = match header.colorspace {
            Colorspace::CMYK | Colorspace::YCCK => return Ok(None),
            Colorspace::Gray => PixelFormat::GRAY,
            _ => PixelFormat::RGB,
        };
        let denominator = if header.is_lossless {
            1
        } else {
            dct_downscale(opts, header.height, header.width)
        };
        let scale = ScalingFactor::new(1, denominator);
        if tj.set_scaling_factor(scale).map_err(refused).is_err() {
            return Ok(None);
        }
        let scaled = header.scaled(scale);
        let (w, h, c) = (scaled.width, scaled.height, format.size());
        let mut pixels = Vec::new();
        w.checked_mul(h * c)
            .and_then(|len| pixels.try_reserve_exact(len).ok().map(|()| len))
            .map(|len| pixels.resize(len, 0))
            .ok_or_else(|| jpeg_error(path, format!("cannot allocate {w}x{h} pixels")))?;
        let image = Image {
            pixels: pixels.as_mut_slice(),
            width: w,
            pitch: w * c,
            height: h,
            format,
        };
        if tj.decompress(bytes, image).map_err(refused).is_err() {
            return Ok(None);
        }
        let (w, h) = (dims(w), dims(h));
        let img = match format {
            PixelFormat::GRAY => image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::from),
            _ => image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::from),
        };
        img.map(Some)
            .ok_or_else(|| jpeg_error(path, "internal error: pixel buffer size".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_completeness_walks_segments_stuffing_and_restarts() {
        // SOI, an APP0 segment holding FF D9 (not an end marker there), SOS, entropy data
        // with a stuffed FF 00 and a restart marker, then EOI and trailing junk.
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xFF, 0xD9];
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x01, 0x12, 0xFF, 0x00, 0x34]);
        b.extend_from_slice(&[0xFF, 0xD0, 0x56, 0xFF, 0xD9, 0x00, 0x00]);
        assert!(jpeg_is_complete(&b));
        let eoi = b.len() - 4;
        for cut in 0..eoi {
            assert!(!jpeg_is_complete(&b[..cut]), "cut at {cut}");
        }
    }

    #[test]
    fn dct_downscale_keeps_the_target_inside_the_decoded_image() {
        let bilinear = LoadOptions::new()
            .target_size(224, 224)
            .interpolation(ResizeFilter::Bilinear);
        // 500x375: 1/2 would give 250x188, under 224 rows.
        assert_eq!(dct_downscale(&bilinear, 375, 500), 1);
        assert_eq!(dct_downscale(&bilinear, 448, 448), 2);
        assert_eq!(dct_downscale(&bilinear, 447, 2000), 2); // 224 rows at 1/2 (rounded up)
        assert_eq!(dct_downscale(&bilinear, 446, 2000), 1);
        assert_eq!(dct_downscale(&bilinear, 900, 1200), 4);
        assert_eq!(dct_downscale(&bilinear, 3000, 4000), 8);
        // A centre crop to the square target keeps 3000x3000 of 3000x9000: still 1/8.
        let cropped = bilinear.keep_aspect_ratio(true);
        assert_eq!(dct_downscale(&cropped, 3000, 9000), 8);
        assert_eq!(dct_downscale(&cropped, 500, 9000), 2);
        // Nearest samples the file's pixels; no target, no resize.
        let nearest = LoadOptions::new().target_size(224, 224);
        assert_eq!(dct_downscale(&nearest, 3000, 4000), 1);
        assert_eq!(dct_downscale(&LoadOptions::new(), 3000, 4000), 1);
    }

    #[test]
    fn decoder_names_parse_and_unavailable_ones_are_refused() {
        assert_eq!(
            "libjpeg-turbo".parse::<JpegDecoder>().unwrap(),
            JpegDecoder::LibjpegTurbo
        );
        assert_eq!(
            JpegDecoder::LibjpegTurbo.validate().is_ok(),
            cfg!(feature = "turbojpeg")
        );
        assert!(JpegDecoder::Auto.validate().is_ok());
        assert!(!JpegDecoder::Pure.uses_turbo());
    }
}
