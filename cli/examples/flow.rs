//! `flow` end to end on real pictures: loads `assets/*.png|jpg`, resizes them to one size,
//! flows them with the standard augmentation (rotation ±20°, width/height shift ±10 %, shear
//! ±10°, zoom ±10 %, horizontal flip, nearest fill, ×1/255), prints the batch shapes and the
//! throughput over a few epochs, and saves one epoch of augmented samples to a folder.
//!
//! ```sh
//! cargo run --release --example flow                    # writes out/flow_samples/
//! cargo run --release --example flow -- /tmp/samples   # another folder
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use augflow::Sequence;
use augflow_cli::workload::standard_generator;
use image::imageops::FilterType;
use ndarray::{Array1, Array4};

/// Every image must have this size to share one array.
const SIDE: u32 = 224;
/// Epochs timed for the throughput.
const EPOCHS: usize = 20;

/// The pictures of `dir` (png and jpg, sorted by name) resized to `SIDE × SIDE` RGB.
fn load_assets(dir: &Path) -> Result<(Array4<u8>, Vec<String>), Box<dyn std::error::Error>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
    });
    paths.sort();
    if paths.is_empty() {
        return Err(format!("no png or jpg image in {}", dir.display()).into());
    }
    let side = SIDE as usize;
    let mut x = Array4::<u8>::zeros((paths.len(), side, side, 3));
    let mut names = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let img = image::open(p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .resize_exact(SIDE, SIDE, FilterType::Triangle)
            .to_rgb8();
        for (px, v) in x
            .index_axis_mut(ndarray::Axis(0), i)
            .iter_mut()
            .zip(img.as_raw())
        {
            *px = *v;
        }
        names.push(
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    }
    Ok((x, names))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("out/flow_samples"), PathBuf::from);
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    let (x, names) = load_assets(&assets)?;
    println!(
        "loaded {} images from {} ({}), resized to {SIDE}x{SIDE}x3 u8",
        x.shape()[0],
        assets.display(),
        names.join(", ")
    );
    let y = Array1::from_iter(0..x.shape()[0] as i64);
    let datagen = standard_generator()?;

    // Shapes of one epoch.
    let mut it = datagen
        .flow(x.clone())
        .y(y.clone())
        .batch_size(4)
        .seed(42)
        .build()?;
    for (i, batch) in it.epoch().enumerate() {
        let batch = batch?;
        let y = batch.y.as_ref().map(|y| y.shape().to_vec());
        println!(
            "epoch 0 batch {i}: x {:?} f32, y {y:?}, samples {:?}",
            batch.x.shape(),
            batch.index
        );
    }

    // Throughput: a few epochs, every batch built and dropped.
    let start = Instant::now();
    let mut images = 0;
    for _ in 0..EPOCHS {
        for batch in it.epoch() {
            images += std::hint::black_box(batch?).len();
        }
        it.on_epoch_end();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{images} images in {EPOCHS} epochs: {secs:.3} s, {:.0} img/s on {} rayon threads",
        images as f64 / secs,
        rayon::current_num_threads()
    );

    // One epoch saved: the files show what the network sees (min-max stretched).
    let saving = datagen
        .flow(x)
        .y(y)
        .batch_size(4)
        .seed(42)
        .save_to_dir(&out, "flow", augflow::SaveFormat::Png)
        .build()?;
    for batch in saving.epoch() {
        batch?;
    }
    println!(
        "wrote {} augmented samples to {}/ (flow_e000_i<index>.png)",
        saving.num_samples(),
        out.display()
    );
    Ok(())
}
