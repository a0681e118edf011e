//! Augments the built-in sample photos in `assets/` and writes a contact sheet: one row per
//! photo, the original then six augmented versions.
//!
//! ```sh
//! cargo run --release --example augment_assets            # writes out/assets_preview.png
//! cargo run --release --example augment_assets -- 7 out/   # seed 7, another folder
//! ```

use std::path::{Path, PathBuf};

use augflow::{DynArray, FillMode, ImageDataGenerator, Sequence};
use image::{RgbImage, imageops::FilterType};
use ndarray::{Array4, Axis};

const SIDE: u32 = 160;
const VERSIONS: usize = 6;

fn load_assets(dir: &Path) -> Result<Array4<u8>, Box<dyn std::error::Error>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg")))
        .collect();
    paths.sort();
    let mut x = Array4::<u8>::zeros((paths.len(), SIDE as usize, SIDE as usize, 3));
    for (i, p) in paths.iter().enumerate() {
        let img = image::open(p)?.to_rgb8();
        let img = image::imageops::resize(&img, SIDE, SIDE, FilterType::Triangle);
        for (c, r, px) in img.enumerate_pixels() {
            for k in 0..3 {
                x[[i, r as usize, c as usize, k]] = px[k];
            }
        }
    }
    Ok(x)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(42);
    let out_dir = PathBuf::from(args.next().unwrap_or_else(|| "out".into()));
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let x = load_assets(&assets)?;
    let n = x.shape()[0];

    let datagen = ImageDataGenerator::builder()
        .rotation_range(20.0)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .shear_range(10.0)
        .zoom_range(0.15)
        .horizontal_flip(true)
        .brightness_range(0.7, 1.3)
        .fill_mode(FillMode::Reflect)
        .build()?;
    let mut it = datagen
        .flow(x.clone(), None::<DynArray>)
        .batch_size(n)
        .shuffle(false)
        .seed(seed)
        .build()?;

    let side = SIDE as usize;
    let mut sheet = RgbImage::new(SIDE * (VERSIONS as u32 + 1), SIDE * n as u32);
    let put =
        |sheet: &mut RgbImage, row: usize, col: usize, px: &dyn Fn(usize, usize, usize) -> u8| {
            for r in 0..side {
                for c in 0..side {
                    let p = image::Rgb([px(r, c, 0), px(r, c, 1), px(r, c, 2)]);
                    sheet.put_pixel((col * side + c) as u32, (row * side + r) as u32, p);
                }
            }
        };
    for i in 0..n {
        put(&mut sheet, i, 0, &|r, c, k| x[[i, r, c, k]]);
    }
    let start = std::time::Instant::now();
    for v in 0..VERSIONS {
        let batch = it.get(0)?;
        for (i, img) in batch.x.axis_iter(Axis(0)).enumerate() {
            put(&mut sheet, i, v + 1, &|r, c, k| {
                img[[r, c, k]].clamp(0.0, 255.0) as u8
            });
        }
        it.on_epoch_end();
    }
    let secs = start.elapsed().as_secs_f64();

    std::fs::create_dir_all(&out_dir)?;
    let path = out_dir.join("assets_preview.png");
    let tmp = out_dir.join(".assets_preview.png.tmp");
    sheet.save_with_format(&tmp, image::ImageFormat::Png)?;
    std::fs::rename(&tmp, &path)?;
    println!(
        "augmented {} images x {VERSIONS} versions in {:.1} ms (seed {seed})",
        n,
        secs * 1e3
    );
    println!("wrote {}", path.display());
    Ok(())
}
