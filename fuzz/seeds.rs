//! Writes the seed corpus of `fuzz/corpus/`: small valid files of each target, made from
//! the formats' specifications (the `.npy` headers by hand, as NumPy writes them) and by the
//! `image` crate's encoders. The `.npz` seeds written by NumPy itself are copied from
//! `tests/data/` by hand.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use augflow::array::{DynArray, write_npz};

/// A `.npy` file of format `version` (1, 2 or 3) with `dict` as its header, padded to a
/// multiple of 64 bytes as NumPy pads it.
fn npy(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let len_bytes = if version == 1 { 2 } else { 4 };
    let mut dict = dict.to_owned();
    while !(8 + len_bytes + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    out.extend_from_slice(&(dict.len() as u32).to_le_bytes()[..len_bytes]);
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn header(descr: &str, fortran: bool, shape: &str) -> String {
    let order = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}")
}

fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .map_err(|e| format!("{format:?}: {e}"))?;
    Ok(out.into_inner())
}

/// Writes every seed under `root/<target>/`; returns how many files were written.
pub fn write_all(root: &Path) -> Result<usize, String> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "npy/f4_2x3.npy".into(),
            npy(1, &header("<f4", false, "(2, 3)"), &[0x3f; 24]),
        ),
        (
            "npy/u1_fortran.npy".into(),
            npy(1, &header("|u1", true, "(2, 2)"), &[1, 2, 3, 4]),
        ),
        (
            "npy/i4_big_endian.npy".into(),
            npy(
                1,
                &header(">i4", false, "(3,)"),
                &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 1, 0, 0],
            ),
        ),
        (
            "npy/b1.npy".into(),
            npy(1, &header("|b1", false, "(4,)"), &[0, 1, 1, 0]),
        ),
        (
            "npy/i8_scalar.npy".into(),
            npy(1, &header("<i8", false, "()"), &7_i64.to_le_bytes()),
        ),
        (
            "npy/f8_v2.npy".into(),
            npy(2, &header("<f8", false, "(1, 1)"), &2.5_f64.to_le_bytes()),
        ),
        (
            "npy/u2_v3.npy".into(),
            npy(3, &header("<u2", false, "(2,)"), &[1, 0, 0, 1]),
        ),
        (
            "npy/empty_rows.npy".into(),
            npy(1, &header("<f4", false, "(0, 3)"), &[]),
        ),
        (
            "csv/plain.csv".into(),
            b"filename,class\na.png,cat\nb.png,dog\n".to_vec(),
        ),
        (
            "csv/weights_lists.csv".into(),
            b"filename,class,w\na.png,cat,1.0\nb.png,\"['cat', 'dog']\",2\n".to_vec(),
        ),
        (
            "csv/multi_label.csv".into(),
            b"filename,class\r\na.png,cat|dog\r\nb.png,dog\r\nmissing.png,cat\r\n".to_vec(),
        ),
    ];
    let dict = BTreeMap::from([
        (
            "x".to_string(),
            DynArray::from(ndarray::Array2::<u8>::from_elem((2, 3), 7)),
        ),
        ("y".to_string(), DynArray::from(vec![1_i64, 0])),
    ]);
    std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let scratch = root.join(".seed.npz");
    write_npz(&scratch, &dict).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&scratch).map_err(|e| e.to_string())?;
    std::fs::remove_file(&scratch).map_err(|e| e.to_string())?;
    files.push(("npz/augflow_x_y.npz".into(), bytes));
    let rgb = image::RgbImage::from_fn(8, 6, |x, y| {
        image::Rgb([(x * 30) as u8, (y * 40) as u8, 128])
    });
    let rgb = image::DynamicImage::ImageRgb8(rgb);
    let gray = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(5, 5, |x, y| {
        image::Luma([(x * y * 9) as u8])
    }));
    let rgba = image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(4, 4, |x, y| {
        image::Rgba([x as u8 * 60, y as u8 * 60, 9, (x + y) as u8 * 30])
    }));
    let gray16 = image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(3, 3, |x, y| {
        image::Luma([(x * 20000 + y) as u16])
    }));
    use image::ImageFormat as F;
    for (name, img, format) in [
        ("rgb.png", &rgb, F::Png),
        ("gray.png", &gray, F::Png),
        ("rgba.png", &rgba, F::Png),
        ("gray16.png", &gray16, F::Png),
        ("rgb.jpg", &rgb, F::Jpeg),
        ("gray.jpg", &gray, F::Jpeg),
        ("rgb.bmp", &rgb, F::Bmp),
        ("rgb.ppm", &rgb, F::Pnm),
        ("rgb.tif", &rgb, F::Tiff),
    ] {
        files.push((format!("image/{name}"), encoded(img.clone(), format)?));
    }
    for (name, bytes) in &files {
        let p = root.join(name);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(files.len())
}
