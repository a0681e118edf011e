//! Targets read from files move with their images: masks named in a CSV column
//! (`flow_from_dataframe(..).mask_col(..)`) and boxes of a COCO file (`flow_from_coco`).
//! Each image holds a bright rectangle; its mask is the thresholded image and its box the
//! rectangle, so after a batch the mask must still be the thresholded batch image and the box
//! must still hold the bright pixels, through resizes, random draws and both geometries.

use std::path::{Path, PathBuf};

use augflow::iterators::ClassMode;
use augflow::targets::{BoxFormat, BoxOptions};
use augflow::{Error, FillMode, Geometry, ImageDataGenerator, Sequence};
use ndarray::{Array3, ArrayD, Axis, Ix3};

mod common;
use common::{bright_bounds, on_an_edge};

/// The files' size, (height, width).
const FILE: (u32, u32) = (30, 40);
/// The class id of the rectangle in the masks.
const ID: u8 = 3;

/// The rectangle of image `i`: `(x0, y0, width, height)` in file pixels.
fn spot(i: usize) -> (u32, u32, u32, u32) {
    (
        5 + 3 * (i as u32 % 6),
        4 + 2 * (i as u32 % 5),
        12 + i as u32 % 4,
        9 + i as u32 % 3,
    )
}

fn inside(i: usize, x: u32, y: u32) -> bool {
    let (x0, y0, w, h) = spot(i);
    (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y)
}

/// Writes `n` images `images/{i}.png` (a bright rectangle on a dark ground) and their masks
/// `masks/{i}.png` (the rectangle's id on 0), and a CSV file naming both; returns the CSV.
fn write_segmentation(dir: &Path, n: usize) -> PathBuf {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::create_dir_all(dir.join("masks")).unwrap();
    let mut csv = String::from("filename,mask\n");
    for i in 0..n {
        let (h, w) = FILE;
        let image = image::GrayImage::from_fn(w, h, |x, y| {
            image::Luma([u8::from(inside(i, x, y)) * 230 + 10])
        });
        image.save(dir.join(format!("images/{i}.png"))).unwrap();
        let mask =
            image::GrayImage::from_fn(w, h, |x, y| image::Luma([u8::from(inside(i, x, y)) * ID]));
        mask.save(dir.join(format!("masks/{i}.png"))).unwrap();
        csv += &format!("images/{i}.png,masks/{i}.png\n");
    }
    let path = dir.join("seg.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn augmenting(geometry: Geometry) -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .rotation_range(40.0)
        .zoom_range(0.2)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .horizontal_flip(true)
        .vertical_flip(true)
        .channel_shift_range(10.0)
        .fill_mode(FillMode::Constant)
        .geometry(geometry)
        .build()
        .unwrap()
}

/// A segmentation iterator over the CSV in `dir`, grayscale, resized to `size`.
fn segmentation(
    datagen: &ImageDataGenerator,
    dir: &Path,
    size: (usize, usize),
) -> augflow::iterators::DataFrameBuilder {
    datagen
        .flow_from_dataframe(dir.join("seg.csv"))
        .directory(dir)
        .mask_col("mask")
        .class_mode(ClassMode::None)
        .color_mode(augflow::iterators::ColorMode::Grayscale)
        .target_size(size.0, size.1)
}

fn sample(a: &ArrayD<u8>, s: usize) -> Array3<u8> {
    a.index_axis(Axis(0), s)
        .to_owned()
        .into_dimensionality::<Ix3>()
        .unwrap()
}

/// Masks read from files, resized from 30x40 to 24x30 and moved through random rotations,
/// zooms, shifts and flips, stay the thresholded batch image (but for a one-pixel band along
/// edges, and the fill outside the input), under both geometries.
#[test]
fn masks_from_files_land_where_their_images_pixels_land() {
    let dir = tempfile::tempdir().unwrap();
    write_segmentation(dir.path(), 8);
    for geometry in [Geometry::Corrected, Geometry::Keras] {
        let datagen = augmenting(geometry);
        let it = segmentation(&datagen, dir.path(), (24, 30))
            .mask_cval(255.0)
            .batch_size(3)
            .seed(5)
            .build()
            .unwrap();
        for b in 0..it.len() {
            let batch = it.get(b).unwrap();
            let m = batch.masks.unwrap().into_array::<u8>().unwrap();
            assert_eq!(m.shape(), &[batch.x.shape()[0], 24, 30, 1]);
            for s in 0..batch.x.shape()[0] {
                let image = batch.x.index_axis(Axis(0), s).mapv(|v| v > 127.5);
                let mask = sample(&m, s);
                let marked_all = mask.mapv(|v| v == ID);
                for ((r, c, _), &v) in mask.indexed_iter() {
                    let (seen, marked) = (image[[r, c, 0]], v == ID);
                    let fill = v == 255 && !seen;
                    let edge = on_an_edge(&image, r, c) || on_an_edge(&marked_all, r, c);
                    assert!(
                        seen == marked || fill || edge,
                        "{geometry:?} batch {b} sample {s} pixel ({r}, {c}): mask {v}"
                    );
                }
            }
        }
    }
}

/// Mask files go through a pipeline that sets the size (flips, a rotation, a resized crop to
/// 20 × 20) with their images, after the generator's transform or without one: they stay
/// the thresholded batch image, one mask per sample stacked at the pipeline's size.
#[test]
fn masks_from_files_go_through_a_pipeline_with_their_images() {
    let dir = tempfile::tempdir().unwrap();
    write_segmentation(dir.path(), 6);
    let aug = augflow::augment::Augment::from_json(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal_and_vertical"}},
            {"class_name": "RandomRotation", "config": {"factor": 0.08, "fill_mode": "constant"}},
            {"class_name": "RandomResizedCrop", "config": {"size": [20, 20], "scale": [0.5, 1.0]}}]"#,
    )
    .unwrap();
    let identity = ImageDataGenerator::builder().build().unwrap();
    for datagen in [identity, augmenting(Geometry::Corrected)] {
        let it = segmentation(&datagen, dir.path(), (24, 30))
            .batch_size(4)
            .seed(3)
            .pipeline(aug.clone())
            .build()
            .unwrap();
        for b in 0..it.len() {
            let batch = it.get(b).unwrap();
            let m = batch.masks.unwrap().into_array::<u8>().unwrap();
            assert_eq!(m.shape(), &[batch.x.shape()[0], 20, 20, 1]);
            for s in 0..batch.x.shape()[0] {
                let image = batch.x.index_axis(Axis(0), s).mapv(|v| v > 127.5);
                let mask = sample(&m, s);
                let marked_all = mask.mapv(|v| v == ID);
                for ((r, c, _), &v) in mask.indexed_iter() {
                    assert!(v == 0 || v == ID, "class ids only, got {v}");
                    let edge = on_an_edge(&image, r, c) || on_an_edge(&marked_all, r, c);
                    assert!(
                        image[[r, c, 0]] == (v == ID) || edge,
                        "batch {b} sample {s} pixel ({r}, {c}): mask {v}"
                    );
                }
            }
        }
    }
}

/// Each sample's index, image and mask.
type Samples = Vec<(usize, Vec<f32>, Vec<u8>)>;

/// Every sample's image and mask, in epoch order, served by `batches` in the given order.
fn epoch(it: &augflow::iterators::DataFrameIterator, batches: Vec<usize>) -> Samples {
    let mut out = Vec::new();
    for b in batches {
        let batch = it.get(b).unwrap();
        let m = batch.masks.unwrap().into_array::<u8>().unwrap();
        for (s, &i) in batch.index.iter().enumerate() {
            let x = batch.x.index_axis(Axis(0), s).iter().copied().collect();
            out.push((b, i, x, sample(&m, s).into_raw_vec_and_offset().0));
        }
    }
    out.sort_by_key(|&(b, ..)| b);
    out.into_iter().map(|(_, i, x, m)| (i, x, m)).collect()
}

#[test]
fn masks_from_files_are_the_same_for_any_thread_count_request_order_and_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    write_segmentation(dir.path(), 7);
    let datagen = augmenting(Geometry::Corrected);
    let build = |batch_size| {
        segmentation(&datagen, dir.path(), (20, 20))
            .batch_size(batch_size)
            .seed(11)
            .build()
            .unwrap()
    };
    let in_pool = |threads: usize, f: &(dyn Fn() -> Samples + Sync)| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    };
    let three = build(3);
    let forward = in_pool(1, &|| epoch(&three, (0..three.len()).collect()));
    let backward = in_pool(2, &|| epoch(&three, (0..three.len()).rev().collect()));
    let two = build(2);
    let by_two = in_pool(2, &|| epoch(&two, (0..two.len()).collect()));
    assert_eq!(forward.len(), 7);
    assert!(
        forward == backward,
        "request order or thread count changed a batch"
    );
    assert!(forward == by_two, "the batch size changed a sample");
}

/// Without augmentation, a mask resized with its image (nearest for both, with or without
/// the aspect-ratio crop, down or up) is exactly the thresholded image.
#[test]
fn resizing_keeps_masks_aligned_with_their_images() {
    let dir = tempfile::tempdir().unwrap();
    write_segmentation(dir.path(), 5);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    for (size, keep) in [
        ((15, 20), false),
        ((24, 30), false),
        ((16, 16), true),
        ((45, 30), true),
        ((60, 80), false),
    ] {
        let it = segmentation(&datagen, dir.path(), size)
            .keep_aspect_ratio(keep)
            .batch_size(5)
            .build()
            .unwrap();
        let batch = it.get(0).unwrap();
        let m = batch.masks.unwrap().into_array::<u8>().unwrap();
        let expected = batch.x.mapv(|v| u8::from(v > 127.5) * ID).into_dyn();
        assert_eq!(m, expected, "target {size:?}, keep_aspect_ratio {keep}");
        assert!(m.iter().any(|&v| v == ID), "the rectangles are in view");
    }
}

#[test]
fn sixteen_bit_masks_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    write_segmentation(dir.path(), 2);
    let (h, w) = FILE;
    let deep = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        image::Luma([u16::from(inside(0, x, y)) * 40_000])
    });
    deep.save(dir.path().join("masks/0.png")).unwrap();
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = segmentation(&datagen, dir.path(), (30, 40))
        .batch_size(1)
        .shuffle(false)
        .build()
        .unwrap();
    let m = it
        .get(0)
        .unwrap()
        .masks
        .unwrap()
        .into_array::<u16>()
        .unwrap();
    assert!(m.iter().all(|&v| v == 0 || v == 40_000) && m.iter().any(|&v| v == 40_000));
    let mixed = segmentation(&datagen, dir.path(), (30, 40))
        .batch_size(2)
        .shuffle(false)
        .build()
        .unwrap();
    let err = mixed.get(0).map(|_| ()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "masks", .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("uint16") && err.to_string().contains("uint8"),
        "{err}"
    );
}

#[test]
fn bad_mask_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_segmentation(dir.path(), 4);
    let masks = dir.path().join("masks");
    std::fs::remove_file(masks.join("1.png")).unwrap();
    image::GrayImage::new(30, 20)
        .save(masks.join("2.png"))
        .unwrap();
    std::fs::write(masks.join("3.png"), b"not a png").unwrap();
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let kept = segmentation(&datagen, dir.path(), (30, 40))
        .shuffle(false)
        .build()
        .unwrap();
    assert_eq!(
        kept.filenames(),
        &["images/0.png", "images/2.png", "images/3.png"]
    ); // the missing mask's row is dropped
    assert_eq!(
        kept.mask_filenames(),
        &["masks/0.png", "masks/2.png", "masks/3.png"]
    );
    let it = segmentation(&datagen, dir.path(), (30, 40))
        .validate_filenames(false)
        .batch_size(1)
        .shuffle(false)
        .build()
        .unwrap();
    assert!(it.get(0).is_ok());
    let missing = it.get(1).map(|_| ()).unwrap_err();
    assert!(
        matches!(&missing, Error::Io { path, .. } if path.ends_with("masks/1.png")),
        "{missing}"
    );
    let small = it.get(2).map(|_| ()).unwrap_err();
    let msg = small.to_string();
    assert!(
        matches!(&small, Error::Format { path, .. } if path.ends_with("masks/2.png")),
        "{msg}"
    );
    assert!(
        msg.contains("30x20") && msg.contains("40x30") && msg.contains("images/2.png"),
        "{msg}"
    );
    let corrupt = it.get(3).map(|_| ()).unwrap_err();
    assert!(corrupt.to_string().contains("masks/3.png"), "{corrupt}");
    let cval = segmentation(&datagen, dir.path(), (30, 40))
        .mask_cval(-1.0)
        .build()
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(
            cval,
            Error::InvalidParameter {
                name: "mask_cval",
                ..
            }
        ),
        "{cval}"
    );
}

/// Writes `n` images with their rectangles (image 0 without, and without annotation) and a
/// COCO file: category 5 for even images, 2 for odd ones; returns the COCO file.
fn write_coco(dir: &Path, n: usize) -> PathBuf {
    let (h, w) = FILE;
    let (mut images, mut annotations) = (Vec::new(), Vec::new());
    for i in 0..n {
        let image = image::GrayImage::from_fn(w, h, |x, y| {
            image::Luma([u8::from(i > 0 && inside(i, x, y)) * 255])
        });
        image.save(dir.join(format!("{i}.png"))).unwrap();
        images.push(format!(
            r#"{{"id": {}, "file_name": "{i}.png", "width": {w}, "height": {h}}}"#,
            100 + i
        ));
        if i > 0 {
            let (x0, y0, bw, bh) = spot(i);
            let category = if i % 2 == 0 { 5 } else { 2 };
            annotations.push(format!(
                r#"{{"id": {i}, "image_id": {}, "bbox": [{x0}, {y0}, {bw}, {bh}], "category_id": {category}, "iscrowd": 0, "area": 1}}"#,
                100 + i
            ));
        }
    }
    let json = format!(
        r#"{{"images": [{}], "annotations": [{}], "categories": [{{"id": 5, "name": "five"}}, {{"id": 2, "name": "two"}}]}}"#,
        images.join(", "),
        annotations.join(", ")
    );
    let path = dir.join("coco.json");
    std::fs::write(&path, json).unwrap();
    path
}

/// COCO boxes, resized with their images from 30x40 to 20x24 and moved through random zooms,
/// shifts, flips (and rotations), hold the bright rectangle drawn at them: within a pixel on
/// each edge for axis-aligned draws, around it for rotations. Labels are the contiguous
/// class indices; the image without annotations has no box.
#[test]
fn coco_boxes_land_on_their_rectangles() {
    let dir = tempfile::tempdir().unwrap();
    let json = write_coco(dir.path(), 9);
    for geometry in [Geometry::Corrected, Geometry::Keras] {
        for rotation in [0.0, 30.0] {
            let datagen = ImageDataGenerator::builder()
                .rotation_range(rotation)
                .zoom_range(0.15)
                .width_shift_range(0.15)
                .height_shift_range(0.15)
                .horizontal_flip(true)
                .vertical_flip(true)
                .interpolation_order(0)
                .fill_mode(FillMode::Constant)
                .geometry(geometry)
                .build()
                .unwrap();
            let it = datagen
                .flow_from_coco(dir.path(), &json)
                .color_mode(augflow::iterators::ColorMode::Grayscale)
                .target_size(20, 24)
                .box_options(BoxOptions::new(BoxFormat::PascalVoc).min_visibility(1.0))
                .batch_size(4)
                .seed(3)
                .build()
                .unwrap();
            assert_eq!(it.category_ids(), &[2, 5]);
            assert_eq!(it.class_names(), &["two", "five"]);
            let mut kept = 0;
            for b in 0..it.len() {
                let batch = it.get(b).unwrap();
                let moved = batch.boxes.unwrap();
                for (s, &i) in batch.index.iter().enumerate() {
                    if i == 0 || moved.boxes[s].nrows() == 0 {
                        assert!(moved.labels[s].is_empty() && moved.boxes[s].nrows() == 0);
                        continue;
                    }
                    kept += 1;
                    assert_eq!(moved.labels[s], [if i % 2 == 0 { 1 } else { 0 }]);
                    let m = moved.boxes[s].row(0).map(|&v| f64::from(v));
                    let image = batch.x.index_axis(Axis(0), s).to_owned();
                    let seen = bright_bounds(&image).expect("a whole box is in view");
                    for k in 0..4 {
                        let close = if rotation == 0.0 {
                            (seen[k] - m[k]).abs() <= 1.0
                        } else if k < 2 {
                            seen[k] >= m[k] - 1.0
                        } else {
                            seen[k] <= m[k] + 1.0
                        };
                        assert!(
                            close,
                            "{geometry:?} rotation {rotation} image {i}: box {m:?}, rectangle {seen:?}"
                        );
                    }
                }
            }
            assert!(kept >= 4, "only {kept} boxes stayed whole");
        }
    }
}

/// Replaces `from` by `to` in the COCO file at `json`, builds an iterator over it, and
/// returns the error of `build` or of its first batch.
fn coco_error(dir: &Path, json: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(json).unwrap().replace(from, to);
    let edited = dir.join("edited.json");
    std::fs::write(&edited, text).unwrap();
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let built = datagen.flow_from_coco(dir, &edited).batch_size(16).build();
    match built {
        Err(e) => e.to_string(),
        Ok(it) => it.get(0).map(|_| ()).unwrap_err().to_string(),
    }
}

#[test]
fn bad_coco_files_are_errors_naming_the_annotation_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = write_coco(dir.path(), 4);
    let d = dir.path();
    let unknown = coco_error(d, &json, r#""image_id": 102"#, r#""image_id": 999"#);
    assert!(
        unknown.contains("annotations[1] (id 2)") && unknown.contains("999"),
        "{unknown}"
    );
    let negative = coco_error(d, &json, "[11, 8, 14, 11]", "[11, 8, -3, 11]");
    assert!(
        negative.contains("(id 2)") && negative.contains("-3"),
        "{negative}"
    );
    let nan = coco_error(d, &json, "[11, 8, 14, 11]", "[11, 8, NaN, 11]");
    assert!(
        nan.contains("coco.json") || nan.contains("edited.json"),
        "{nan}"
    );
    let category = coco_error(d, &json, r#""category_id": 5"#, r#""category_id": 6"#);
    assert!(category.contains("category_id 6"), "{category}");
    let missing = coco_error(
        d,
        &json,
        r#""file_name": "3.png""#,
        r#""file_name": "gone.png""#,
    );
    assert!(
        missing.contains("gone.png") && missing.contains("id 103"),
        "{missing}"
    );
    let resized = coco_error(
        d,
        &json,
        r#""width": 40, "height": 30}"#,
        r#""width": 80, "height": 60}"#,
    );
    assert!(
        resized.contains("40x30") && resized.contains("80x60"),
        "{resized}"
    );
    let not_json = coco_error(d, &json, "{", "");
    assert!(not_json.contains("not a COCO detection file"), "{not_json}");
}
