//! A tiny segmentation and detection set from the sample photos in `assets/`, for the README's
//! `augflow preview --masks` and `--coco` sheets: `images/` (the photos as PNG), `masks/`
//! (class ids by a colour rule: 1 where a pixel is strongly red or orange, 2 where it is
//! near white, 0 elsewhere) and `coco.json` (a few hand-placed boxes: faces, eyes, a cup, a spoon,
//! a helmet).
//!
//! ```sh
//! cargo run --release --example targets_demo                 # writes out/targets-demo/
//! cargo run --release --example targets_demo -- /tmp/demo    # another folder
//! ```

use std::path::{Path, PathBuf};

use serde_json::json;

/// A box: its category id and COCO `[x, y, width, height]`.
type Labelled = (i64, [f64; 4]);

/// The photos of the set, each with its boxes.
const PHOTOS: [(&str, &[Labelled]); 3] = [
    (
        "astronaut.png",
        &[
            (1, [88.0, 28.0, 64.0, 70.0]),
            (5, [138.0, 170.0, 112.0, 86.0]),
        ],
    ),
    (
        "chelsea.png",
        &[
            (2, [76.0, 48.0, 44.0, 36.0]),
            (2, [163.0, 58.0, 36.0, 34.0]),
            (1, [20.0, 0.0, 200.0, 170.0]),
        ],
    ),
    (
        "coffee.png",
        &[
            (3, [70.0, 4.0, 106.0, 106.0]),
            (4, [134.0, 94.0, 42.0, 46.0]),
        ],
    ),
];
const CATEGORIES: [(i64, &str); 5] = [
    (1, "face"),
    (2, "eye"),
    (3, "cup"),
    (4, "spoon"),
    (5, "helmet"),
];

/// Class 1 for strongly red or orange pixels, 2 for near-white ones, else 0 (background).
fn class_of(p: &image::Rgb<u8>) -> u8 {
    let [r, g, b] = p.0.map(i32::from);
    if r > 140 && r > g + 50 && r > b + 50 {
        1
    } else if r.min(g).min(b) > 185 {
        2
    } else {
        0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("out/targets-demo"), PathBuf::from);
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    let (images_dir, masks_dir) = (out.join("images"), out.join("masks"));
    std::fs::create_dir_all(&images_dir)?;
    std::fs::create_dir_all(&masks_dir)?;
    let (mut images, mut annotations) = (Vec::new(), Vec::new());
    for (id, (file, boxes)) in PHOTOS.iter().enumerate() {
        let photo = image::open(assets.join(file))?.to_rgb8();
        let name = Path::new(file).with_extension("png");
        photo.save(images_dir.join(&name))?;
        let mask = image::GrayImage::from_fn(photo.width(), photo.height(), |x, y| {
            image::Luma([class_of(photo.get_pixel(x, y))])
        });
        mask.save(masks_dir.join(&name))?;
        images.push(
            json!({"id": id, "file_name": name, "width": photo.width(), "height": photo.height()}),
        );
        for (category, bbox) in boxes.iter() {
            let n = annotations.len();
            annotations.push(json!({"id": n, "image_id": id, "category_id": category, "bbox": bbox, "iscrowd": 0}));
        }
    }
    let categories: Vec<_> = CATEGORIES
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    let coco = json!({"images": images, "annotations": annotations, "categories": categories});
    std::fs::write(out.join("coco.json"), serde_json::to_string_pretty(&coco)?)?;
    println!(
        "wrote {} images, their masks and coco.json ({} boxes) to {}",
        PHOTOS.len(),
        annotations.len(),
        out.display()
    );
    Ok(())
}
