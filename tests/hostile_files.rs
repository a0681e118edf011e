//! Hostile and odd files (issue 17): every read of a `.npy`, `.npz` or image file ends in an
//! `Ok` that holds exactly the file's data or an error naming the file; none hangs, panics,
//! aborts or allocates more than the file can justify.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use augflow::Error;
use augflow::array::{DType, DynArray, read_npy, read_npz, write_npz};
use augflow::iterators::{Crop, JpegDecoder, LoadOptions, ResizeFilter, load_img};

/// Records the largest single allocation each thread asks for, so a test can check that a
/// small hostile file never makes the reader request gigabytes (even where the OS would grant
/// them lazily).
struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(layout.size())));
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// The largest allocation `f` asked for on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|m| m.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A version 1.0 `.npy` file with `dict` as its header, padded as NumPy pads it.
fn npy_v1(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = dict.to_owned();
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn assert_format_error_naming(err: &Error, path: &Path) {
    assert!(
        matches!(err, Error::Format { path: p, .. } if p == path),
        "expected a format error naming {}, got {err}",
        path.display()
    );
}

#[test]
fn deeply_nested_npy_header_is_refused_at_once() {
    // 16 nested braces took over a minute in the literal parser ndarray-npy used; 22 nested
    // brackets about 20 s. Either finishes at once now, or this test hangs.
    let dir = tempfile::tempdir().unwrap();
    for (open, close) in [("{", "}"), ("[", "]"), ("(", ")")] {
        let nested = format!("{}{}", open.repeat(40), close.repeat(40));
        let dict = format!("{{'descr': {nested}, 'fortran_order': False, 'shape': (1,), }}");
        let p = write(dir.path(), "nested.npy", &npy_v1(&dict, &[0; 8]));
        assert_format_error_naming(&read_npy(&p).unwrap_err(), &p);
        let dict = format!("{}{}", "{".repeat(100), "}".repeat(100));
        let p = write(dir.path(), "braces.npy", &npy_v1(&dict, &[]));
        assert_format_error_naming(&read_npy(&p).unwrap_err(), &p);
    }
}

#[test]
fn npy_header_length_beyond_the_file_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    // 70 bytes, version 2.0, header length 0xFFFFFFF0.
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&0xFFFF_FFF0_u32.to_le_bytes());
    bytes.resize(70, b' ');
    let p = write(dir.path(), "huge-header.npy", &bytes);
    let (r, largest) = largest_allocation(|| read_npy(&p));
    assert_format_error_naming(&r.unwrap_err(), &p);
    assert!(
        largest < 1 << 20,
        "asked for {largest} bytes for a 70-byte file"
    );
}

#[test]
fn npy_shape_beyond_the_file_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000,), }";
    let p = write(dir.path(), "short.npy", &npy_v1(dict, &[0; 64]));
    let (r, largest) = largest_allocation(|| read_npy(&p));
    assert_format_error_naming(&r.unwrap_err(), &p);
    assert!(largest < 1 << 20, "asked for {largest} bytes");
}

#[test]
fn npy_dtypes_numpy_accepts_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], DType); 6] = [
        ("<i1", &[0xFF, 0x02], DType::I8),
        ("<b1", &[1, 0], DType::Bool),
        ("=f4", &[0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0], DType::F32),
        ("|u1", &[7, 8], DType::U8),
        ("<u2", &[1, 0, 0, 1], DType::U16),
        (
            ">f8",
            &[0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0],
            DType::F64,
        ),
    ];
    for (descr, data, dtype) in cases {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}");
        let p = write(dir.path(), "d.npy", &npy_v1(&dict, data));
        let a = read_npy(&p).unwrap_or_else(|e| panic!("{descr}: {e}"));
        assert_eq!(a.dtype(), dtype, "{descr}");
        assert_eq!(a.shape(), &[2], "{descr}");
    }
    let dict = "{'descr': '<i1', 'fortran_order': False, 'shape': (2,), }";
    let p = write(dir.path(), "i1.npy", &npy_v1(dict, &[0xFF, 0x02]));
    assert_eq!(read_npy(&p).unwrap().to_vec::<i8>().unwrap(), [-1, 2]);
    let dict = "{'descr': '=f4', 'fortran_order': False, 'shape': (2,), }";
    let p = write(
        dir.path(),
        "f4.npy",
        &npy_v1(dict, &[0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0]),
    );
    assert_eq!(read_npy(&p).unwrap().to_vec::<f32>().unwrap(), [1.0, -2.0]);
    let dict = "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }";
    let p = write(
        dir.path(),
        "be.npy",
        &npy_v1(dict, &[0xC0, 0x04, 0, 0, 0, 0, 0, 0]),
    );
    assert_eq!(read_npy(&p).unwrap().to_vec::<f64>().unwrap(), [-2.5]);
}

#[test]
fn npy_header_in_numpys_other_spellings_is_read() {
    // Keys in any order, double quotes, no trailing comma, a 0-d shape, a list shape.
    let dir = tempfile::tempdir().unwrap();
    let dict = "{\"shape\": (2, 1), \"fortran_order\": False, \"descr\": \"<u1\"}";
    let p = write(dir.path(), "a.npy", &npy_v1(dict, &[3, 4]));
    let a = read_npy(&p).unwrap();
    assert_eq!(a.shape(), &[2, 1]);
    let dict = "{'descr': '<i8', 'fortran_order': False, 'shape': ()}";
    let p = write(dir.path(), "b.npy", &npy_v1(dict, &5_i64.to_le_bytes()));
    assert_eq!(read_npy(&p).unwrap().to_vec::<i64>().unwrap(), [5]);
}

#[test]
fn npy_with_bytes_after_the_data_is_read_as_numpy_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
    let p = write(
        dir.path(),
        "trailing.npy",
        &npy_v1(dict, &[1, 0, 2, 0, 9, 9, 9]),
    );
    assert_eq!(read_npy(&p).unwrap().to_vec::<i16>().unwrap(), [1, 2]);
}

#[test]
fn every_truncation_of_an_npy_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    let full = npy_v1(dict, &[0; 12]);
    for len in 0..full.len() {
        let p = write(dir.path(), "cut.npy", &full[..len]);
        assert_format_error_naming(
            &read_npy(&p).expect_err(&format!("{len} bytes of {}", full.len())),
            &p,
        );
    }
}

/// Rewrites the entry counts of a zip's end-of-central-directory record.
fn set_eocd_entry_count(zip: &mut [u8], count: u16) {
    let eocd = zip
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("an end-of-central-directory record");
    zip[eocd + 8..eocd + 10].copy_from_slice(&count.to_le_bytes());
    zip[eocd + 10..eocd + 12].copy_from_slice(&count.to_le_bytes());
}

#[test]
fn npz_whose_directory_end_undercounts_its_entries_is_not_read_as_a_subset() {
    let dir = tempfile::tempdir().unwrap();
    let dict = BTreeMap::from([
        ("a".to_string(), DynArray::from(vec![1_u8, 2])),
        ("b".to_string(), DynArray::from(vec![3_i64])),
        ("c".to_string(), DynArray::from(vec![4.0_f32])),
    ]);
    let good = dir.path().join("good.npz");
    write_npz(&good, &dict).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    for count in [0, 1, 2] {
        let mut bad = bytes.clone();
        set_eocd_entry_count(&mut bad, count);
        let p = write(dir.path(), "undercount.npz", &bad);
        match read_npz(&p) {
            // Reading what is there, as NumPy does, is as good as refusing.
            Ok(read) => assert_eq!(read, dict, "count {count}"),
            Err(e) => assert_format_error_naming(&e, &p),
        }
    }
}

#[test]
fn every_truncation_of_an_npz_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let dict = BTreeMap::from([("x".to_string(), DynArray::from(vec![1.5_f64, 2.5]))]);
    let good = dir.path().join("good.npz");
    write_npz(&good, &dict).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    for len in 0..bytes.len() {
        let p = write(dir.path(), "cut.npz", &bytes[..len]);
        assert_format_error_naming(&read_npz(&p).expect_err(&format!("{len} bytes")), &p);
    }
}

#[test]
fn npz_entry_with_a_huge_v2_header_length_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let dict = BTreeMap::from([("x".to_string(), DynArray::from(vec![1_u8; 64]))]);
    let good = dir.path().join("good.npz");
    write_npz(&good, &dict).unwrap();
    let mut bytes = std::fs::read(&good).unwrap();
    let at = bytes
        .windows(6)
        .position(|w| w == b"\x93NUMPY")
        .expect("an npy magic");
    bytes[at + 6] = 2;
    bytes[at + 8..at + 12].copy_from_slice(&0xFFFF_FFF0_u32.to_le_bytes());
    let p = write(dir.path(), "huge.npz", &bytes);
    let (r, largest) = largest_allocation(|| read_npz(&p));
    assert_format_error_naming(&r.unwrap_err(), &p);
    assert!(largest < 1 << 20, "asked for {largest} bytes");
}

fn noisy_rgb(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let v = (x * 37 + y * 91) as u8;
        image::Rgb([v, v.wrapping_mul(3), v ^ 0x5A])
    })
}

fn jpeg_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// The JPEG decoders this build has: the pure-Rust one, and libjpeg-turbo where built in.
fn jpeg_decoders() -> Vec<LoadOptions> {
    [JpegDecoder::Pure, JpegDecoder::LibjpegTurbo]
        .into_iter()
        .filter(|d| d.is_available())
        .map(|d| LoadOptions::new().jpeg_decoder(d))
        .collect()
}

#[test]
fn truncated_jpeg_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let full = jpeg_bytes(&noisy_rgb(64, 64));
    let good = write(dir.path(), "good.jpg", &full);
    for opts in jpeg_decoders() {
        let d = opts.jpeg_decoder;
        assert_eq!(load_img(&good, &opts).unwrap().shape(), &[64, 64, 3]);
        for percent in [30, 60, 90, 99] {
            let cut = write(dir.path(), "cut.jpg", &full[..full.len() * percent / 100]);
            let err = load_img(&cut, &opts)
                .expect_err(&format!("{d:?}: a JPEG cut to {percent} % loaded"));
            assert!(err.to_string().contains("cut.jpg"), "{d:?}: {err}");
            assert!(err.to_string().contains("truncated"), "{d:?}: {err}");
        }
        // Bytes after the end-of-image marker are ignored, as PIL ignores them.
        let mut padded = full.clone();
        padded.extend_from_slice(&[0; 100]);
        let p = write(dir.path(), "padded.jpg", &padded);
        assert!(load_img(&p, &opts).is_ok(), "{d:?}");
    }
}

#[test]
fn corrupt_jpeg_is_an_error_naming_the_file_for_every_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let full = jpeg_bytes(&noisy_rgb(48, 32));
    let sof = full.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
    let sos = full.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
    let mut zero_width = full.clone();
    zero_width[sof + 7..sof + 9].copy_from_slice(&[0, 0]);
    let mut no_components = full.clone();
    no_components[sof + 9] = 0;
    let mut scan_first = full[..2].to_vec(); // the scan before any frame header
    scan_first.extend_from_slice(&full[sos..]);
    let mut junk = full[..4].to_vec();
    junk.extend((0..400u32).map(|i| (i * 7919 % 251) as u8));
    junk.extend_from_slice(&[0xFF, 0xD9]);
    let cases = [
        ("zero-width.jpg", zero_width),
        ("no-components.jpg", no_components),
        ("scan-first.jpg", scan_first),
        ("junk.jpg", junk),
        ("only-markers.jpg", vec![0xFF, 0xD8, 0xFF, 0xD9]),
    ];
    for opts in jpeg_decoders() {
        for (name, bytes) in &cases {
            let p = write(dir.path(), name, bytes);
            let err =
                load_img(&p, &opts).expect_err(&format!("{:?} loaded {name}", opts.jpeg_decoder));
            assert!(
                matches!(&err, Error::Image { path, .. } | Error::Format { path, .. } if *path == p),
                "{:?}, {name}: {err}",
                opts.jpeg_decoder
            );
        }
    }
}

#[test]
fn truncated_png_stays_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    noisy_rgb(32, 32)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    let full = out.into_inner();
    let p = write(dir.path(), "cut.png", &full[..full.len() * 3 / 10]);
    let err = load_img(&p, &LoadOptions::new()).unwrap_err();
    assert!(err.to_string().contains("cut.png"), "{err}");
}

/// A real greyscale JPEG whose frame header is patched to declare `w × h`: one byte per
/// pixel, so 30000x16384 stays under the `image` crate's own 512 MiB allocation cap.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_fn(16, 16, |x, y| image::Luma([(x * 16 + y) as u8]))
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    let mut bytes = out.into_inner();
    let sof = bytes
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("a baseline frame header");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

#[test]
fn decompression_bomb_is_refused_from_the_header_naming_size_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    // 30000 x 16384 = 491,520,000 pixels, and 65535 x 65535 (JPEG's largest), over the
    // default limit.
    for (w, h) in [(30000, 16384), (65535, 65535)] {
        let p = write(dir.path(), "bomb.jpg", &jpeg_declaring(w, h));
        for opts in jpeg_decoders() {
            let (r, largest) = largest_allocation(|| load_img(&p, &opts));
            let msg = r.unwrap_err().to_string();
            for part in ["bomb.jpg", &format!("{w}x{h}"), "max_pixels"] {
                assert!(msg.contains(part), "{part} missing from: {msg}");
            }
            assert!(largest < 64 << 20, "asked for {largest} bytes");
        }
    }
    // The limit is the user's: a 16x16 JPEG is refused under 255 pixels, read at 256.
    let p = write(dir.path(), "small.jpg", &jpeg_declaring(16, 16));
    for opts in jpeg_decoders() {
        let msg = load_img(&p, &opts.max_pixels(255)).unwrap_err().to_string();
        assert!(msg.contains("small.jpg") && msg.contains("255"), "{msg}");
        assert!(load_img(&p, &opts.max_pixels(256)).is_ok());
    }
}

#[test]
fn pixel_limit_is_settable_and_names_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("small.png");
    noisy_rgb(100, 50).save(&p).unwrap();
    let opts = LoadOptions::new().max_pixels(4999);
    let msg = load_img(&p, &opts).unwrap_err().to_string();
    for part in ["small.png", "100x50", "4999"] {
        assert!(msg.contains(part), "{part} missing from: {msg}");
    }
    assert!(load_img(&p, &LoadOptions::new().max_pixels(5000)).is_ok());
    assert_eq!(
        LoadOptions::new().max_pixels,
        LoadOptions::DEFAULT_MAX_PIXELS
    );
    assert!(load_img(&p, &LoadOptions::new().max_pixels(0)).is_err());
}

#[test]
fn huge_target_sizes_are_errors_not_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.png");
    noisy_rgb(4, 4).save(&p).unwrap();
    for (h, w) in [
        (1 << 32, 1),
        (1 << 32, 1 << 32),
        (usize::MAX, usize::MAX),
        (usize::MAX, 1),
        (100_000, 100_000),
    ] {
        for keep in [false, true] {
            let opts = LoadOptions::new().target_size(h, w).keep_aspect_ratio(keep);
            let err = load_img(&p, &opts).expect_err(&format!("({h}, {w})"));
            assert!(
                matches!(
                    err,
                    Error::InvalidParameter {
                        name: "target_size",
                        ..
                    }
                ),
                "({h}, {w}): {err}"
            );
        }
    }
    // With the pixel guard off, sizes whose bytes cannot be counted are still errors.
    let unguarded = LoadOptions::new().max_pixels(u64::MAX);
    for (h, w) in [
        (usize::MAX, usize::MAX),
        (usize::MAX / 2, 1),
        (1, usize::MAX),
    ] {
        let err = load_img(&p, &unguarded.target_size(h, w)).expect_err(&format!("({h}, {w})"));
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    name: "target_size",
                    ..
                }
            ),
            "({h}, {w}): {err}"
        );
    }
}

#[test]
fn keep_aspect_ratio_with_huge_sizes_does_not_overflow() {
    let m = usize::MAX;
    assert_eq!(Crop::keep_aspect_ratio(m, m, m, m), Crop::full(m, m));
    let c = Crop::keep_aspect_ratio(m, 10, 1, m);
    assert!(c.height >= 1 && c.height <= m && c.width == 10, "{c:?}");
    let c = Crop::keep_aspect_ratio(10, m, m, 1);
    assert!(c.width >= 1 && c.height == 10, "{c:?}");
}

#[test]
fn keep_aspect_ratio_never_crops_to_nothing() {
    // Keras' formula gives crop_w = min(1, 100 * 448 // 224) = 1 but crop_h = 1 * 224 // 448 = 0.
    assert_eq!(
        Crop::keep_aspect_ratio(100, 1, 224, 448),
        Crop {
            top: 49,
            left: 0,
            height: 1,
            width: 1
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("thin.png");
    image::GrayImage::from_pixel(1, 100, image::Luma([200]))
        .save(&p)
        .unwrap();
    for filter in [
        ResizeFilter::Nearest,
        ResizeFilter::Bilinear,
        ResizeFilter::Bicubic,
        ResizeFilter::Lanczos,
    ] {
        let opts = LoadOptions::new()
            .target_size(224, 448)
            .keep_aspect_ratio(true)
            .interpolation(filter);
        let a = load_img(&p, &opts).unwrap();
        assert_eq!(a.shape(), &[224, 448, 3]);
        assert!(
            a.iter().all(|&v| v == 200),
            "{filter:?}: not the image's grey"
        );
    }
}

#[test]
fn file_iterators_refuse_a_target_size_over_the_pixel_limit_at_build() {
    // target_size(100000, 100000) used to build, then abort on a 120 GB batch.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cats")).unwrap();
    noisy_rgb(4, 4).save(dir.path().join("cats/a.png")).unwrap();
    let csv = write(dir.path(), "l.csv", b"filename,class\ncats/a.png,cat\n");
    let datagen = augflow::ImageDataGenerator::builder().build().unwrap();
    let err = datagen
        .flow_from_directory(dir.path())
        .target_size(100_000, 100_000)
        .build();
    let Err(err) = err else {
        panic!("a 10^10-pixel target_size built")
    };
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "target_size",
                ..
            }
        ),
        "{err}"
    );
    let err = datagen
        .flow_from_dataframe(&csv)
        .directory(dir.path())
        .target_size(100_000, 100_000)
        .build();
    let Err(err) = err else {
        panic!("a 10^10-pixel target_size built")
    };
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "target_size",
                ..
            }
        ),
        "{err}"
    );
}
