//! DirectoryIterator: file discovery in Keras' order, class modes, colour modes, cropping,
//! per-class split, determinism, and errors that name the file.

use std::path::{Path, PathBuf};

use augflow::iterators::{Batch, ClassMode, ColorMode, DirectoryIterator, ResizeFilter, Subset};
use augflow::{DataFormat, Error, FillMode, ImageDataGenerator, Sequence};
use image::{ImageFormat, Rgb, RgbImage};
use ndarray::{Axis, s};

/// A 20x16 image whose red channel is flat at `id * 20`, so a batch slot tells which file it
/// is even after augmentation, and whose green and blue channels are textured, so that
/// augmentation shows.
fn textured(id: u8) -> RgbImage {
    RgbImage::from_fn(20, 16, |x, y| {
        Rgb([id * 20, (x * 12 + y * 7) as u8, ((x * y * 5) % 256) as u8])
    })
}

fn write(root: &Path, rel: &str, img: &RgbImage) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let fmt = ImageFormat::from_path(&p).unwrap_or(ImageFormat::Png);
    img.save_with_format(&p, fmt).unwrap();
}

fn save(root: &Path, rel: &str, id: u8) {
    write(root, rel, &textured(id));
}

/// The tree most tests use, with the red value id*20 of each image:
/// cats: A.JPG (1), b.png (2), a/1.png (3), a-b/2.png (4), a/z/3.png (5),
///       plus notes.txt and img.xpng (a real PNG) that must be ignored;
/// dogs: d1.png (6), d2.bmp (7), d3.tif (8).
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    save(r, "cats/A.JPG", 1);
    save(r, "cats/b.png", 2);
    save(r, "cats/a/1.png", 3);
    save(r, "cats/a-b/2.png", 4);
    save(r, "cats/a/z/3.png", 5);
    std::fs::write(r.join("cats/notes.txt"), "not an image").unwrap();
    textured(9)
        .save_with_format(r.join("cats/img.xpng"), ImageFormat::Png)
        .unwrap();
    save(r, "dogs/d1.png", 6);
    save(r, "dogs/d2.bmp", 7);
    save(r, "dogs/d3.tif", 8);
    std::fs::write(r.join("README.md"), "a file beside the class folders").unwrap();
    dir
}

const KERAS_ORDER: [&str; 8] = [
    "cats/A.JPG",
    "cats/b.png",
    "cats/a/1.png",
    "cats/a-b/2.png",
    "cats/a/z/3.png",
    "dogs/d1.png",
    "dogs/d2.bmp",
    "dogs/d3.tif",
];

fn plain() -> ImageDataGenerator {
    ImageDataGenerator::builder().build().unwrap()
}

fn augmenting() -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .rotation_range(25.0)
        .width_shift_range(0.1)
        .zoom_range(0.2)
        .horizontal_flip(true)
        .fill_mode(FillMode::Reflect)
        .rescale(1.0 / 255.0)
        .build()
        .unwrap()
}

fn in_order(root: &Path) -> augflow::iterators::DirectoryBuilder {
    plain()
        .flow_from_directory(root)
        .target_size(8, 10)
        .shuffle(false)
        .batch_size(3)
}

fn all_batches(it: &DirectoryIterator) -> Vec<Batch> {
    (0..it.len()).map(|i| it.get(i).unwrap()).collect()
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn paths(v: &[&str]) -> Vec<PathBuf> {
    v.iter().map(PathBuf::from).collect()
}

/// The id of the image in slot `k` of a channels-last batch, from its red value.
fn id_of(b: &Batch, k: usize) -> u8 {
    (b.x[[k, 0, 0, 0]] / 20.0).round() as u8
}

#[test]
fn finds_images_recursively_in_keras_order_ignoring_other_files() {
    let dir = tree();
    let it = in_order(dir.path()).build().unwrap();
    assert_eq!(it.filenames(), paths(&KERAS_ORDER).as_slice());
    assert_eq!(it.classes(), &[0, 0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(it.class_names(), &["cats", "dogs"]);
    assert_eq!(it.class_indices()["cats"], 0);
    assert_eq!(it.class_indices()["dogs"], 1);
    assert_eq!(it.num_samples(), 8);
    assert_eq!(it.len(), 3);
    assert_eq!(it.filepaths()[2], dir.path().join("cats/a/1.png"));
    // The pixels of each slot come from the file at that position (JPEG is lossy: ±3).
    let ids: Vec<u8> = all_batches(&it)
        .iter()
        .flat_map(|b| (0..b.len()).map(|k| id_of(b, k)).collect::<Vec<_>>())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn given_classes_define_the_indices_and_must_exist() {
    let dir = tree();
    let it = in_order(dir.path())
        .classes(["dogs", "cats"])
        .build()
        .unwrap();
    assert_eq!(it.filenames()[0], PathBuf::from("dogs/d1.png"));
    assert_eq!(it.classes(), &[0, 0, 0, 1, 1, 1, 1, 1]);
    assert_eq!(it.class_indices()["cats"], 1);
    let only = in_order(dir.path()).classes(["dogs"]).build().unwrap();
    assert_eq!(only.num_samples(), 3);
    let err = in_order(dir.path())
        .classes(["dogs", "horses"])
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "classes",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("horses"), "{err}");
}

#[test]
fn categorical_rows_are_one_hot_f32() {
    let dir = tree();
    let it = in_order(dir.path()).batch_size(8).build().unwrap();
    let y = it.get(0).unwrap().y.unwrap().into_array::<f32>().unwrap();
    assert_eq!(y.shape(), &[8, 2]);
    for (row, &c) in y.outer_iter().zip(it.classes()) {
        let want: Vec<f32> = (0..2).map(|k| if k == c { 1.0 } else { 0.0 }).collect();
        assert_eq!(row.iter().copied().collect::<Vec<f32>>(), want);
    }
}

#[test]
fn binary_and_sparse_give_the_class_index_as_f32() {
    let dir = tree();
    for mode in [ClassMode::Binary, ClassMode::Sparse] {
        let it = in_order(dir.path())
            .batch_size(8)
            .class_mode(mode)
            .build()
            .unwrap();
        let y = it.get(0).unwrap().y.unwrap().into_array::<f32>().unwrap();
        assert_eq!(y.as_slice().unwrap(), &[0., 0., 0., 0., 0., 1., 1., 1.]);
    }
}

#[test]
fn binary_needs_two_classes_and_sparse_counts_past_one() {
    let dir = tree();
    save(dir.path(), "emus/e.png", 10);
    let err = in_order(dir.path())
        .class_mode(ClassMode::Binary)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("exactly 2 classes"), "{err}");
    let it = in_order(dir.path())
        .batch_size(9)
        .class_mode(ClassMode::Sparse)
        .build()
        .unwrap();
    let y = it.get(0).unwrap().y.unwrap().into_array::<f32>().unwrap();
    assert_eq!(y[8], 2.0); // cats, dogs, emus
}

#[test]
fn input_mode_returns_the_images_and_none_mode_no_labels() {
    let dir = tree();
    let datagen = ImageDataGenerator::builder()
        .rotation_range(30.0)
        .build()
        .unwrap();
    let it = datagen
        .flow_from_directory(dir.path())
        .target_size(8, 10)
        .class_mode(ClassMode::Input)
        .seed(3)
        .build()
        .unwrap();
    let b = it.get(0).unwrap();
    let y = b.y.unwrap().into_array::<f32>().unwrap();
    assert_eq!(y, b.x.into_dyn());
    let it = in_order(dir.path())
        .class_mode(ClassMode::None)
        .build()
        .unwrap();
    assert!(it.get(0).unwrap().y.is_none());
}

#[test]
fn raw_and_multi_output_are_rejected_for_folders() {
    let dir = tree();
    for mode in [ClassMode::Raw, ClassMode::MultiOutput] {
        let err = in_order(dir.path()).class_mode(mode).build().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    name: "class_mode",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn grayscale_uses_pil_luma_and_rgba_adds_opaque_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c/x.png");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    RgbImage::from_pixel(6, 4, Rgb([200, 100, 50]))
        .save(&p)
        .unwrap();
    let q = dir.path().join("c/y.png");
    image::RgbaImage::from_pixel(6, 4, image::Rgba([10, 20, 30, 128]))
        .save(&q)
        .unwrap();
    let build = |mode| {
        plain()
            .flow_from_directory(dir.path())
            .target_size(4, 6)
            .color_mode(mode)
            .shuffle(false)
            .build()
            .unwrap()
    };
    let g = build(ColorMode::Grayscale).get(0).unwrap().x;
    assert_eq!(g.shape(), &[2, 4, 6, 1]);
    // (200·19595 + 100·38470 + 50·7471 + 32768) >> 16 = 124 and (10·19595 + 20·38470 + 30·7471 + 32768) >> 16 = 18
    assert!(g.slice(s![0, .., .., 0]).iter().all(|&v| v == 124.0));
    assert!(g.slice(s![1, .., .., 0]).iter().all(|&v| v == 18.0));
    let a = build(ColorMode::Rgba).get(0).unwrap().x;
    assert_eq!(a.shape(), &[2, 4, 6, 4]);
    assert_eq!(
        a.slice(s![0, 0, 0, ..]).to_vec(),
        vec![200., 100., 50., 255.]
    );
    assert_eq!(a.slice(s![1, 0, 0, ..]).to_vec(), vec![10., 20., 30., 128.]);
    let rgb = build(ColorMode::Rgb).get(0).unwrap().x;
    assert_eq!(rgb.slice(s![1, 0, 0, ..]).to_vec(), vec![10., 20., 30.]);
}

/// A 20-wide, 10-high grey image whose column `c` has value `10·c`.
fn columns_image(root: &Path) {
    let p = root.join("c/cols.png");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    image::GrayImage::from_fn(20, 10, |x, _| image::Luma([(x * 10) as u8]))
        .save(&p)
        .unwrap();
}

#[test]
fn keep_aspect_ratio_crops_the_centre_before_a_nearest_resize() {
    let dir = tempfile::tempdir().unwrap();
    columns_image(dir.path());
    let row = |keep: bool| {
        let it = plain()
            .flow_from_directory(dir.path())
            .target_size(5, 5)
            .color_mode(ColorMode::Grayscale)
            .keep_aspect_ratio(keep)
            .build()
            .unwrap();
        it.get(0).unwrap().x.slice(s![0, 2, .., 0]).to_vec()
    };
    // Square target on 10x20: crop_h = min(10, 20·5//5) = 10, crop_w = min(20, 10·5//5) = 10,
    // left = (20 − 10)//2 = 5 → columns 5..15; nearest 10 → 5 reads crop columns 1,3,5,7,9.
    assert_eq!(row(true), vec![60., 80., 100., 120., 140.]);
    // Without the crop, 20 → 5 reads columns 2, 6, 10, 14, 18.
    assert_eq!(row(false), vec![20., 60., 100., 140., 180.]);
}

#[test]
fn every_filter_keeps_a_flat_image_flat_and_smooth_filters_blend() {
    let dir = tempfile::tempdir().unwrap();
    columns_image(dir.path());
    write(
        dir.path(),
        "c/flat.png",
        &RgbImage::from_pixel(20, 16, Rgb([100, 100, 155])),
    );
    for f in [
        ResizeFilter::Nearest,
        ResizeFilter::Bilinear,
        ResizeFilter::Bicubic,
        ResizeFilter::Lanczos,
        ResizeFilter::Box,
        ResizeFilter::Hamming,
    ] {
        let it = plain()
            .flow_from_directory(dir.path())
            .target_size(7, 9)
            .interpolation(f)
            .shuffle(false)
            .build()
            .unwrap();
        let x = it.get(0).unwrap().x;
        assert_eq!(x.shape(), &[2, 7, 9, 3]);
        // filenames sorted: cols.png, flat.png
        let flat = x.index_axis(Axis(0), 1);
        for px in flat.lanes(Axis(2)) {
            assert_eq!(px.to_vec(), vec![100., 100., 155.], "{f:?}");
        }
        // Downscaling columns 0..190 to 9: the values grow left to right for every filter.
        let row = x.slice(s![0, 3, .., 0]).to_vec();
        assert!(row.windows(2).all(|w| w[0] < w[1]), "{f:?}: {row:?}");
        if f == ResizeFilter::Box {
            // Box over 20 → 9: output pixel 0 averages source columns [0, 2.22): 0 and 10
            // fully, 20 by 0.22 — about 7.
            assert!((row[0] - 7.0).abs() <= 2.0, "{row:?}");
        }
    }
}

#[test]
fn validation_split_takes_the_first_files_of_each_class() {
    let dir = tree();
    let datagen = ImageDataGenerator::builder()
        .validation_split(0.5)
        .build()
        .unwrap();
    let sub = |s| {
        datagen
            .flow_from_directory(dir.path())
            .target_size(8, 10)
            .subset(s)
            .shuffle(false)
            .build()
            .unwrap()
    };
    // cats: 5 files → int(2.5) = 2 validation; dogs: 3 → int(1.5) = 1.
    let val = sub(Subset::Validation);
    assert_eq!(
        val.filenames(),
        paths(&["cats/A.JPG", "cats/b.png", "dogs/d1.png"]).as_slice()
    );
    assert_eq!(val.classes(), &[0, 0, 1]);
    let train = sub(Subset::Training);
    assert_eq!(
        train.filenames(),
        paths(&[
            "cats/a/1.png",
            "cats/a-b/2.png",
            "cats/a/z/3.png",
            "dogs/d2.bmp",
            "dogs/d3.tif"
        ])
        .as_slice()
    );
    let err = plain()
        .flow_from_directory(dir.path())
        .subset(Subset::Training)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "subset", .. }),
        "{err}"
    );
}

#[test]
fn batches_are_bit_identical_for_1_and_2_threads_and_depend_on_the_seed() {
    let dir = tree();
    // Big enough targets that the second thread steals samples (a pure function of
    // (seed, epoch, index) must not care).
    let build = |seed| {
        augmenting()
            .flow_from_directory(dir.path())
            .target_size(160, 200)
            .batch_size(4)
            .seed(seed)
            .build()
            .unwrap()
    };
    let mut it = build(11);
    for _ in 0..2 {
        let one = in_pool(1, || all_batches(&it));
        let two = in_pool(2, || all_batches(&it));
        assert_eq!(one, two);
        // Asked in reverse order, batch by batch, the same batches come back.
        let rev: Vec<Batch> = (0..it.len()).rev().map(|i| it.get(i).unwrap()).collect();
        assert_eq!(one, rev.into_iter().rev().collect::<Vec<_>>());
        it.on_epoch_end();
    }
    let a = all_batches(&build(11));
    assert_eq!(a, all_batches(&build(11)));
    let b = all_batches(&build(12));
    assert_ne!(a, b);
    // Every file appears exactly once per epoch, whatever the order.
    let mut seen: Vec<usize> = a.iter().flat_map(|b| b.index.clone()).collect();
    seen.sort();
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
}

#[test]
fn an_unseeded_iterator_exposes_a_seed_that_replays_it() {
    let dir = tree();
    let a = augmenting()
        .flow_from_directory(dir.path())
        .target_size(8, 8)
        .build()
        .unwrap();
    let b = augmenting()
        .flow_from_directory(dir.path())
        .target_size(8, 8)
        .seed(a.seed())
        .build()
        .unwrap();
    assert_eq!(all_batches(&a), all_batches(&b));
}

#[test]
fn channels_first_batches_are_the_transposed_channels_last_ones() {
    let dir = tree();
    let last = in_order(dir.path()).build().unwrap().get(1).unwrap().x;
    let datagen = ImageDataGenerator::builder()
        .data_format(DataFormat::ChannelsFirst)
        .build()
        .unwrap();
    let it = datagen
        .flow_from_directory(dir.path())
        .target_size(8, 10)
        .shuffle(false)
        .batch_size(3)
        .build()
        .unwrap();
    assert_eq!(it.image_shape(), [3, 8, 10]);
    let first = it.get(1).unwrap().x;
    assert_eq!(first.shape(), &[3, 3, 8, 10]);
    assert_eq!(first.permuted_axes([0, 2, 3, 1]), last);
}

#[test]
fn f64_output_is_available_on_request() {
    let dir = tree();
    let it = in_order(dir.path()).output::<f64>().build().unwrap();
    let b = it.get(0).unwrap();
    assert_eq!((b.x[[1, 0, 0, 0]] / 20.0).round(), 2.0);
}

#[test]
fn a_truncated_file_fails_its_batch_with_an_error_naming_it() {
    let dir = tree();
    let mut png = Vec::new();
    textured(3)
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    std::fs::write(dir.path().join("dogs/zz_broken.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(dir.path().join("dogs/zz_empty.png"), b"").unwrap();
    let it = in_order(dir.path()).batch_size(4).build().unwrap();
    assert_eq!(it.num_samples(), 10);
    // Batch 0 (files 0..4) and batch 1 (4..8) are fine; batch 2 holds the broken files.
    assert_eq!(it.get(0).unwrap().len(), 4);
    assert_eq!(it.get(1).unwrap().len(), 4);
    let err = in_pool(2, || it.get(2).unwrap_err());
    match &err {
        Error::Image { path, .. } => assert!(path.ends_with("dogs/zz_broken.png"), "{err}"),
        other => panic!("expected Error::Image, got {other}"),
    }
    assert!(err.to_string().contains("zz_broken.png"), "{err}");
    // The empty file alone is an error too (nothing to decode), also naming it.
    let it = in_order(dir.path()).batch_size(1).build().unwrap();
    let err = it.get(9).unwrap_err();
    assert!(err.to_string().contains("zz_empty.png"), "{err}");
}

#[test]
fn empty_folders_and_folders_without_classes_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = plain().flow_from_directory(dir.path()).build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Empty {
                name: "directory",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("sub-folder"), "{err}");
    // Images directly in the folder but no class folder: same error.
    save(dir.path(), "loose.png", 1);
    let err = plain().flow_from_directory(dir.path()).build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Empty {
                name: "directory",
                ..
            }
        ),
        "{err}"
    );
    // Class folders holding no image.
    std::fs::create_dir_all(dir.path().join("a/deeper")).unwrap();
    std::fs::write(dir.path().join("a/deeper/x.txt"), "x").unwrap();
    let err = plain().flow_from_directory(dir.path()).build().unwrap_err();
    assert!(err.to_string().contains("found none"), "{err}");
    // A folder that does not exist.
    let err = plain()
        .flow_from_directory(dir.path().join("nope"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn bad_arguments_are_errors_naming_them() {
    let dir = tree();
    let err = in_order(dir.path()).target_size(0, 5).build().unwrap_err();
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
    let err = in_order(dir.path())
        .target_size(usize::MAX / 2, 3)
        .build()
        .unwrap_err();
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
    let err = in_order(dir.path()).batch_size(0).build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "batch_size",
                ..
            }
        ),
        "{err}"
    );
    let it = in_order(dir.path()).build().unwrap();
    assert!(matches!(
        it.get(3).unwrap_err(),
        Error::IndexOutOfRange { index: 3, len: 3 }
    ));
}

#[cfg(unix)]
#[test]
fn links_to_folders_are_followed_only_with_follow_links() {
    let dir = tree();
    let outside = tempfile::tempdir().unwrap();
    save(outside.path(), "x.png", 11);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("cats/zlink")).unwrap();
    // A link to a file is a file, as for os.walk.
    std::os::unix::fs::symlink(
        dir.path().join("dogs/d1.png"),
        dir.path().join("dogs/d0.png"),
    )
    .unwrap();
    let off = in_order(dir.path()).build().unwrap();
    assert_eq!(off.num_samples(), 9);
    assert!(off.filenames().contains(&PathBuf::from("dogs/d0.png")));
    assert!(!off.filenames().iter().any(|f| f.starts_with("cats/zlink")));
    let on = in_order(dir.path()).follow_links(true).build().unwrap();
    assert_eq!(on.num_samples(), 10);
    assert_eq!(on.filenames()[5], PathBuf::from("cats/zlink/x.png"));
    let b = on.get(1).unwrap(); // files 3..6
    assert_eq!(id_of(&b, 2), 11);
    // A class folder that is itself a link is always a class.
    let other = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path().join("dogs"), other.path().join("hounds")).unwrap();
    let linked = in_order(other.path()).build().unwrap();
    assert_eq!(linked.class_names(), &["hounds"]);
    assert_eq!(linked.num_samples(), 4);
}

/// Every file under `root`, as sorted relative paths with `/` separators.
fn files_under(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn save_to_dir_writes_each_sample_into_its_class_folder() {
    let dir = tree();
    let out = dir.path().join("saved/aug"); // missing: build creates it
    let build = |save: bool, mode: ClassMode| {
        let b = augmenting()
            .flow_from_directory(dir.path())
            .classes(["cats", "dogs"])
            .class_mode(mode)
            .target_size(12, 14)
            .batch_size(3)
            .seed(4);
        if save {
            b.save_options(
                augflow::SaveOptions::new(&out)
                    .prefix("aug")
                    .per_class_subfolders(true),
            )
        } else {
            b
        }
        .build()
        .unwrap()
    };
    // The class comes from the file's folder, whatever the class mode.
    let it = build(true, ClassMode::None);
    let batches = all_batches(&it);
    let want: Vec<String> = (0..8)
        .map(|i| {
            let class = if i < 5 { "cats" } else { "dogs" };
            format!("{class}/aug_e000_i{i:06}.png")
        })
        .collect();
    assert_eq!(files_under(&out), want);
    // Saving does not change the batches.
    assert_eq!(batches, all_batches(&build(false, ClassMode::None)));
    // A saved image is the min-max stretched sample (8-bit truncation, one step of slack).
    let b = &batches[1];
    let (k, i) = (2, b.index[2]);
    let class = if i < 5 { "cats" } else { "dogs" };
    let img = image::open(out.join(class).join(format!("aug_e000_i{i:06}.png")))
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (14, 12));
    let slot = b.x.index_axis(Axis(0), k);
    let (lo, hi) = slot
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, c), &v| (a.min(v), c.max(v)));
    for (r, c, ch) in [(0, 0, 1), (5, 7, 2), (11, 13, 0)] {
        let want = (slot[[r, c, ch]] - lo) / (hi - lo) * 255.0;
        let got = img.get_pixel(c as u32, r as u32)[ch] as f32;
        assert!((got - want).abs() <= 1.0, "({r},{c},{ch}): {got} vs {want}");
    }
}

#[test]
fn save_to_dir_without_class_folders_names_files_by_epoch_and_index() {
    let dir = tree();
    let out = tempfile::tempdir().unwrap();
    let mut it = in_order(dir.path())
        .output::<half::f16>()
        .save_to_dir(out.path(), "x", augflow::SaveFormat::Bmp)
        .build()
        .unwrap();
    all_batches_of(&it);
    it.on_epoch_end();
    it.get(0).unwrap();
    let mut want: Vec<String> = (0..8).map(|i| format!("x_e000_i{i:06}.bmp")).collect();
    want.extend((0..3).map(|i| format!("x_e001_i{i:06}.bmp")));
    assert_eq!(files_under(out.path()), want);
    // An unwritable folder fails at build.
    let file = out.path().join("x_e000_i000000.bmp");
    let err = in_order(dir.path())
        .save_to_dir(file.join("sub"), "", augflow::SaveFormat::Png)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

fn all_batches_of<O: augflow::iterators::BatchElement>(it: &DirectoryIterator<O>) -> Vec<Batch<O>> {
    (0..it.len()).map(|i| it.get(i).unwrap()).collect()
}

#[test]
fn half_precision_batches_are_the_rounded_f32_batches() {
    let dir = tree();
    let build = || {
        augmenting()
            .flow_from_directory(dir.path())
            .target_size(30, 24)
            .batch_size(3)
            .seed(9)
    };
    let wide = all_batches(&build().build().unwrap());
    let f16s = build().output::<half::f16>().build().unwrap();
    let bf16s = build().output::<half::bf16>().build().unwrap();
    for threads in [1, 2] {
        let (h, b) = in_pool(threads, || (all_batches_of(&f16s), all_batches_of(&bf16s)));
        for ((w, h), b) in wide.iter().zip(&h).zip(&b) {
            assert_eq!(h.x, w.x.mapv(half::f16::from_f32));
            assert_eq!(b.x, w.x.mapv(half::bf16::from_f32));
            assert_eq!((&h.y, &b.y), (&w.y, &w.y));
        }
    }
    // Class mode input: y is the f16 image widened to f32.
    let it = build()
        .class_mode(ClassMode::Input)
        .output::<half::f16>()
        .build()
        .unwrap();
    let b = it.get(0).unwrap();
    let y = b.y.unwrap().into_array::<f32>().unwrap();
    assert_eq!(y, b.x.mapv(half::f16::to_f32).into_dyn());
}
