//! JPEG decoders (issue 16): libjpeg-turbo and the pure-Rust decoder give the same image to
//! within rounding, in every colour mode; DCT-domain downscaling before a resize stays
//! within a stated bound of resizing the full decode; a file libjpeg-turbo only warns about
//! is still read.

use std::path::{Path, PathBuf};

use augflow::iterators::{ColorMode, JpegDecoder, LoadOptions, ResizeFilter, load_img};
use ndarray::Array3;

/// A photo-like `w × h` JPEG (smooth shading, edges, fine texture), written at quality 90.
fn write_jpeg(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let ring = ((fx - 0.4).hypot(fy - 0.6) * 40.0).sin() * 40.0;
        let grain = ((x * 7919 + y * 104_729) % 23) as f32;
        let edge = if x * 3 > w && y * 2 < h { 60.0 } else { 0.0 };
        let v = |base: f32| (base + ring + grain + edge).clamp(0.0, 255.0) as u8;
        image::Rgb([
            v(60.0 + 120.0 * fx),
            v(40.0 + 150.0 * fy),
            v(170.0 - 90.0 * fx),
        ])
    });
    let path = dir.join(name);
    let mut out = std::fs::File::create(&path).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    path
}

/// Mean and largest absolute difference of two same-shaped images.
fn differences(a: &Array3<u8>, b: &Array3<u8>) -> (f64, u8) {
    assert_eq!(a.shape(), b.shape());
    let (mut sum, mut max) = (0u64, 0u8);
    for (&x, &y) in a.iter().zip(b) {
        let d = x.abs_diff(y);
        sum += u64::from(d);
        max = max.max(d);
    }
    (sum as f64 / a.len() as f64, max)
}

#[test]
fn decoders_agree_to_within_rounding_in_every_colour_mode() {
    if !JpegDecoder::LibjpegTurbo.is_available() {
        return; // one decoder only: nothing to compare
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write_jpeg(dir.path(), "photo.jpg", 120, 90);
    for mode in [ColorMode::Rgb, ColorMode::Grayscale, ColorMode::Rgba] {
        let opts = LoadOptions::new().color_mode(mode);
        let turbo = load_img(&p, &opts.jpeg_decoder(JpegDecoder::LibjpegTurbo)).unwrap();
        let pure = load_img(&p, &opts.jpeg_decoder(JpegDecoder::Pure)).unwrap();
        assert_eq!(turbo.shape(), &[90, 120, mode.channels()]);
        let (mean, max) = differences(&turbo, &pure);
        // Both use an accurate integer IDCT and smooth chroma upsampling; they differ only
        // in their rounding.
        assert!(mean < 0.5 && max <= 8, "{mode:?}: mean {mean}, max {max}");
        assert_eq!(load_img(&p, &opts).unwrap(), turbo, "Auto is libjpeg-turbo");
    }
}

#[test]
fn dct_downscaling_stays_within_a_bound_of_resizing_the_full_decode() {
    let dir = tempfile::tempdir().unwrap();
    // 1/2 (640x480 -> 224x224), 1/4 (1000x1000) and 1/8 (1900x1800, cropped to a square).
    for (w, h, keep) in [(640, 480, false), (1000, 1000, false), (1900, 1800, true)] {
        let p = write_jpeg(dir.path(), "big.jpg", w, h);
        // The reference: the full decode, losslessly stored, then resized.
        let full = load_img(&p, &LoadOptions::new()).unwrap();
        let png = dir.path().join("full.png");
        image::RgbImage::from_raw(w, h, full.into_raw_vec_and_offset().0)
            .unwrap()
            .save(&png)
            .unwrap();
        for filter in [
            ResizeFilter::Bilinear,
            ResizeFilter::Bicubic,
            ResizeFilter::Box,
        ] {
            let opts = LoadOptions::new()
                .target_size(224, 224)
                .interpolation(filter)
                .keep_aspect_ratio(keep);
            let scaled = load_img(&p, &opts).unwrap();
            let reference = load_img(&png, &opts).unwrap();
            let (mean, max) = differences(&scaled, &reference);
            // The bound documented in the README ("Reading files").
            assert!(
                mean <= 2.0 && max <= 48,
                "{w}x{h} {filter:?}: mean {mean}, max {max}"
            );
        }
        // Nearest keeps sampling the file's own pixels: no DCT scaling, same as the PNG.
        let nearest = LoadOptions::new().target_size(224, 224);
        assert_eq!(
            load_img(&p, &nearest).unwrap(),
            load_img(&png, &nearest).unwrap()
        );
    }
}

#[test]
fn a_jpeg_with_extraneous_bytes_is_read_by_every_decoder() {
    // Bytes between the scan and the end marker: Pillow reads such a file (libjpeg warns).
    // Where libjpeg-turbo's TurboJPEG interface reports a warning as a failure, augflow
    // reads the file with the pure-Rust decoder instead.
    let dir = tempfile::tempdir().unwrap();
    let good = write_jpeg(dir.path(), "good.jpg", 64, 48);
    let mut bytes = std::fs::read(&good).unwrap();
    let eoi = bytes.len() - 2;
    bytes.splice(eoi..eoi, [0x12, 0x34, 0x56]);
    let odd = dir.path().join("odd.jpg");
    std::fs::write(&odd, &bytes).unwrap();
    let pure = load_img(&odd, &LoadOptions::new().jpeg_decoder(JpegDecoder::Pure)).unwrap();
    assert_eq!(pure.shape(), &[48, 64, 3]);
    let (mean, _) = differences(&load_img(&odd, &LoadOptions::new()).unwrap(), &pure);
    assert!(mean < 0.5, "mean difference {mean}");
}
