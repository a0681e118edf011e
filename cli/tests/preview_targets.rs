//! `augflow preview --masks` and `--coco` end to end: each cell shows its mask and boxes
//! where its own image content went (flips included), and bad targets fail in one line
//! naming the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use augflow::DynArray;
use augflow::array::{write_npy, write_npz};
use image::{GrayImage, Luma, Rgb, RgbImage};
use ndarray::{Array3, Array4};

const BIN: &str = env!("CARGO_BIN_EXE_augflow");
/// The sheet's layout (cli/src/sheet.rs): gutter around cells, label band above each row.
const GUTTER: u32 = 6;
const LABEL: u32 = 20;
/// Images are `SIDE × SIDE` and shown in cells of that side, so a cell is the image 1:1.
const SIDE: u32 = 40;
/// The first class's colour (mask id 1, box class index 0), from the sheet's palette.
const FIRST_CLASS: [u8; 3] = [230, 25, 75];

fn augflow(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run augflow")
}

fn assert_ok(o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "exit {:?}: {err}", o.status);
}

/// The one line `augflow: error: …` of a failed run.
fn one_line_error(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "expected a failure: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err:?}");
    assert!(lines[0].starts_with("augflow: error: ") && !err.contains("panicked"));
    lines[0].to_string()
}

/// An image whose left half is bright (200) and right half dark (50), so each cell shows
/// whether it was flipped.
fn two_tone() -> RgbImage {
    RgbImage::from_fn(SIDE, SIDE, |x, _| {
        Rgb([if x < SIDE / 2 { 200 } else { 50 }; 3])
    })
}

/// Pixel `(x, y)` of cell `(row, col)` of a sheet of `SIDE` cells.
fn cell_pixel(sheet: &RgbImage, row: u32, col: u32, x: u32, y: u32) -> [u8; 3] {
    let top = GUTTER + row * (LABEL + SIDE + GUTTER) + LABEL;
    let left = GUTTER + col * (SIDE + GUTTER);
    sheet.get_pixel(left + x, top + y).0
}

/// Whether a pixel of the two-tone image is on its bright half, tinted or not (bright: 600
/// untinted, 465 under the first class; dark: 150 untinted, 241 tinted).
fn bright(p: [u8; 3]) -> bool {
    p.iter().map(|&v| u32::from(v)).sum::<u32>() > 300
}

fn tinted(p: [u8; 3]) -> bool {
    p[0] != p[1]
}

/// Checks that in every cell of the sheet's first row the mask colour covers exactly the
/// bright half (the mask is class 1 on the image's bright half); returns how many cells were
/// flipped (bright on the right).
fn assert_mask_follows_bright_half(sheet: &RgbImage, cells: u32) -> usize {
    let mut flipped = 0;
    for col in 0..cells {
        for y in 0..SIDE {
            for x in 0..SIDE {
                let p = cell_pixel(sheet, 0, col, x, y);
                assert_eq!(tinted(p), bright(p), "cell {col}, pixel ({x}, {y}): {p:?}");
            }
        }
        flipped += usize::from(bright(cell_pixel(sheet, 0, col, SIDE - 1, 0)));
    }
    flipped
}

#[test]
fn a_mask_overlay_covers_its_image_content_in_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("images")).unwrap();
    std::fs::create_dir_all(root.join("masks")).unwrap();
    two_tone().save(root.join("images/a.png")).unwrap();
    GrayImage::from_fn(SIDE, SIDE, |x, _| Luma([u8::from(x < SIDE / 2)]))
        .save(root.join("masks/a.png"))
        .unwrap();
    let cell = SIDE.to_string();
    let args = [
        "preview",
        "images",
        "--masks",
        "masks",
        "--cell",
        &cell,
        "-k",
        "8",
        "--seed",
        "5",
        "--horizontal-flip",
        "--out",
        "sheet.png",
    ];
    assert_ok(&augflow(root, &args));
    let sheet = image::open(root.join("sheet.png")).unwrap().to_rgb8();
    // Unflipped, the first class's colour is blended half over the bright half.
    let blended = FIRST_CLASS.map(|c| ((200.0 + f32::from(c)) / 2.0).round() as u8);
    assert_eq!(cell_pixel(&sheet, 0, 0, 2, 2), blended);
    assert_eq!(cell_pixel(&sheet, 0, 0, SIDE - 2, 2), [50; 3]);
    let flipped = assert_mask_follows_bright_half(&sheet, 9);
    assert!((1..9).contains(&flipped), "{flipped} of 8 versions flipped");

    // The same seed draws the same sheet.
    let again = [
        "preview", "images", "--masks", "masks", "--cell", &cell, "-k", "8",
    ];
    let again: Vec<&str> = again
        .into_iter()
        .chain(["--seed", "5", "--horizontal-flip", "--out", "again.png"])
        .collect();
    assert_ok(&augflow(root, &again));
    let a = std::fs::read(root.join("sheet.png")).unwrap();
    assert_eq!(a, std::fs::read(root.join("again.png")).unwrap());
}

#[test]
fn array_masks_are_drawn_over_array_images() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let s = SIDE as usize;
    let x = Array4::from_shape_fn(
        (2, s, s, 3),
        |(_, _, c, _)| {
            if c < s / 2 { 200_u8 } else { 50 }
        },
    );
    let m = Array3::from_shape_fn((2, s, s), |(_, _, c)| u8::from(c < s / 2));
    let arrays = BTreeMap::from([("x".to_string(), DynArray::from(x))]);
    write_npz(root.join("x.npz"), &arrays).unwrap();
    write_npy(root.join("m.npy"), &DynArray::from(m)).unwrap();
    let cell = SIDE.to_string();
    let args = [
        "preview",
        "x.npz",
        "--masks",
        "m.npy",
        "--cell",
        &cell,
        "-k",
        "8",
        "--seed",
        "2",
        "--vertical-flip",
        "--horizontal-flip",
        "--out",
        "sheet.png",
    ];
    assert_ok(&augflow(root, &args));
    let sheet = image::open(root.join("sheet.png")).unwrap().to_rgb8();
    assert!(assert_mask_follows_bright_half(&sheet, 9) >= 1);

    // One mask too few, or of another size: an error naming the file and both shapes.
    let short = Array3::<u8>::zeros((2, s, s - 1));
    write_npy(root.join("short.npy"), &DynArray::from(short)).unwrap();
    let err = one_line_error(&augflow(
        root,
        &["preview", "x.npz", "--masks", "short.npy"],
    ));
    assert!(
        err.contains("short.npy") && err.contains("[2, 40, 39]"),
        "{err}"
    );
    assert!(err.contains("(2, 40, 40)"), "{err}");
}

/// A COCO file of the image `a.png` (`SIDE × SIDE`) with one box `[x, y, w, h]`.
fn coco_json(bbox: [f64; 4], width: u32) -> String {
    format!(
        r#"{{"images": [{{"id": 1, "file_name": "a.png", "width": {width}, "height": {SIDE}}}],
            "annotations": [{{"id": 3, "image_id": 1, "bbox": {bbox:?}, "category_id": 7}}],
            "categories": [{{"id": 7, "name": "thing"}}]}}"#
    )
}

#[test]
fn a_box_is_drawn_around_its_content_in_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("images")).unwrap();
    two_tone().save(root.join("images/a.png")).unwrap();
    // A box over x 4..16, y 10..20: on the bright half.
    std::fs::write(
        root.join("coco.json"),
        coco_json([4.0, 10.0, 12.0, 10.0], SIDE),
    )
    .unwrap();
    let cell = SIDE.to_string();
    let args = [
        "preview",
        "images",
        "--coco",
        "coco.json",
        "--cell",
        &cell,
        "-k",
        "8",
        "--seed",
        "9",
        "--horizontal-flip",
        "--out",
        "sheet.png",
    ];
    assert_ok(&augflow(root, &args));
    let sheet = image::open(root.join("sheet.png")).unwrap().to_rgb8();
    let mut flipped = 0;
    for col in 0..9 {
        let px = |x, y| cell_pixel(&sheet, 0, col, x, y);
        // Mirrored, the box spans x 24..36.
        let (edge, other) = if bright(px(1, 30)) { (8, 31) } else { (31, 8) };
        flipped += usize::from(edge == 31);
        for (x, y) in [(edge, 10), (edge, 11), (edge, 18), (edge, 19)] {
            assert_eq!(px(x, y), FIRST_CLASS, "cell {col}: ({x}, {y})");
        }
        for (x, y) in [(edge, 9), (edge, 12), (edge, 15), (edge, 20), (other, 10)] {
            assert_ne!(px(x, y), FIRST_CLASS, "cell {col}: ({x}, {y})");
        }
    }
    assert_eq!(cell_pixel(&sheet, 0, 0, 4, 15), FIRST_CLASS); // left edge of the original
    assert!((1..9).contains(&flipped), "{flipped} of 9 cells flipped");
}

#[test]
fn missing_masks_bad_sizes_and_bad_coco_files_fail_in_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("images")).unwrap();
    std::fs::create_dir_all(root.join("masks")).unwrap();
    two_tone().save(root.join("images/a.png")).unwrap();
    let run = |args: &[&str]| one_line_error(&augflow(root, args));

    let err = run(&["preview", "images", "--masks", "masks"]);
    assert!(
        err.contains("masks") && err.contains("a.*") && err.contains("a.png"),
        "{err}"
    );
    GrayImage::new(7, 5).save(root.join("masks/a.png")).unwrap();
    let err = run(&["preview", "images", "--masks", "masks"]);
    assert!(
        err.contains("masks/a.png") && err.contains("7x5") && err.contains("40x40"),
        "{err}"
    );
    let err = run(&["preview", "images", "--masks", "nowhere"]);
    assert!(err.contains("nowhere"), "{err}");

    std::fs::write(root.join("bad.json"), "{\"images\": [").unwrap();
    let err = run(&["preview", "images", "--coco", "bad.json"]);
    assert!(err.contains("bad.json") && err.contains("COCO"), "{err}");
    std::fs::write(root.join("empty.json"), r#"{"images": []}"#).unwrap();
    let err = run(&["preview", "images", "--coco", "empty.json"]);
    assert!(
        err.contains("empty.json") && err.contains("no images"),
        "{err}"
    );
    std::fs::write(root.join("wide.json"), coco_json([1.0, 1.0, 2.0, 2.0], 80)).unwrap();
    let err = run(&["preview", "images", "--coco", "wide.json"]);
    assert!(err.contains("a.png") && err.contains("80x40"), "{err}");
}
