//! `save_to_dir`: every format round-trips, files are written atomically under deterministic
//! names, inputs are never modified, and concurrent saves all land.

use std::collections::HashSet;
use std::path::Path;

use augflow::{DataFormat, Error, SaveFormat, SaveOptions, Saver, array_to_img, save_image};
use ndarray::{Array3, array};

/// A (H, W, C) u8 image with distinct values per pixel and channel.
fn pattern(h: usize, w: usize, c: usize) -> Array3<u8> {
    Array3::from_shape_fn((h, w, c), |(r, col, ch)| {
        ((r * 37 + col * 11 + ch * 73) % 256) as u8
    })
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn no_tmp_left(dir: &Path) {
    let tmp: Vec<_> = entries(dir)
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
}

/// Pixels read back as (H, W, C) u8 with the given channel count.
fn read_back(path: &Path, c: usize) -> Array3<u8> {
    let img = image::open(path).unwrap();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = match c {
        1 => img.to_luma8().into_raw(),
        3 => img.to_rgb8().into_raw(),
        _ => img.to_rgba8().into_raw(),
    };
    Array3::from_shape_vec((h, w, c), raw).unwrap()
}

#[test]
fn every_format_round_trips_for_1_3_and_4_channels() {
    let dir = tempfile::tempdir().unwrap();
    for format in SaveFormat::ALL {
        for c in [1, 3, 4] {
            // 16x16 keeps JPEG's block artefacts small on a smooth-ish pattern.
            let x = Array3::from_shape_fn((16, 16, c), |(r, col, ch)| {
                (r * 8 + col * 4 + ch * 20) as u8
            });
            let path = dir.path().join(format!("c{c}.{}", format.extension()));
            save_image(x.view(), DataFormat::ChannelsLast, &path, format, false).unwrap();
            // Formats without alpha store RGB: compare the colour channels only.
            let kept = if c == 4 && !format.has_alpha() { 3 } else { c };
            let got = read_back(&path, kept);
            let want = x.slice(ndarray::s![.., .., ..kept]).to_owned();
            let max_err = got
                .iter()
                .zip(want.iter())
                .map(|(&a, &b)| (a as i32 - b as i32).abs())
                .max()
                .unwrap();
            match format {
                SaveFormat::Jpg | SaveFormat::Jpeg => {
                    assert!(max_err <= 12, "{format} c={c}: max error {max_err}")
                }
                _ => assert_eq!(max_err, 0, "{format} c={c} must be lossless"),
            }
        }
    }
    no_tmp_left(dir.path());
}

#[test]
fn lossless_formats_keep_alpha_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let x = pattern(5, 7, 4);
    for format in SaveFormat::ALL.into_iter().filter(|f| f.has_alpha()) {
        let path = dir.path().join(format!("a.{}", format.extension()));
        save_image(x.view(), DataFormat::ChannelsLast, &path, format, false).unwrap();
        let img = image::open(&path).unwrap();
        assert!(img.color().has_alpha(), "{format}: {:?}", img.color());
        assert_eq!(read_back(&path, 4), x, "{format}");
    }
}

#[test]
fn jpeg_from_rgba_is_written_as_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let x = Array3::<u8>::from_elem((8, 8, 4), 200);
    let path = dir.path().join("rgba.jpg");
    save_image(
        x.view(),
        DataFormat::ChannelsLast,
        &path,
        SaveFormat::Jpg,
        false,
    )
    .unwrap();
    let img = image::open(&path).unwrap();
    assert_eq!(img.color(), image::ColorType::Rgb8);
    assert!(img.to_rgb8().iter().all(|&p| p.abs_diff(200) <= 2));
}

#[test]
fn channels_first_saves_the_same_picture_as_channels_last() {
    let dir = tempfile::tempdir().unwrap();
    for c in [1, 3, 4] {
        let hwc = pattern(6, 9, c);
        let chw = hwc
            .view()
            .permuted_axes([2, 0, 1])
            .as_standard_layout()
            .into_owned();
        let a = dir.path().join(format!("last{c}.png"));
        let b = dir.path().join(format!("first{c}.png"));
        save_image(
            hwc.view(),
            DataFormat::ChannelsLast,
            &a,
            SaveFormat::Png,
            false,
        )
        .unwrap();
        save_image(
            chw.view(),
            DataFormat::ChannelsFirst,
            &b,
            SaveFormat::Png,
            false,
        )
        .unwrap();
        assert_eq!(read_back(&b, c), hwc, "c={c}");
        assert_eq!(read_back(&a, c), hwc, "c={c}");
    }
}

#[test]
fn saved_png_is_the_keras_min_max_stretch() {
    // x - (-2) = [0, 1, 3, 5, 10, 20]; / 20 * 255 = [0, 12.75, 38.25, 63.75, 127.5, 255]
    // → truncated [0, 12, 38, 63, 127, 255].
    let x = array![[[-2.0_f32], [-1.0], [1.0]], [[3.0], [8.0], [18.0]]];
    let dir = tempfile::tempdir().unwrap();
    let saver = Saver::new(dir.path(), "k", SaveFormat::Png).unwrap();
    let p = saver
        .save(x.view(), DataFormat::ChannelsLast, 0, 0, None)
        .unwrap();
    let img = image::open(&p).unwrap();
    assert_eq!(img.color(), image::ColorType::L8);
    assert_eq!(img.to_luma8().into_raw(), vec![0u8, 12, 38, 63, 127, 255]);
}

#[test]
fn two_channels_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let saver = Saver::new(dir.path(), "", SaveFormat::Png).unwrap();
    let x = Array3::<f32>::zeros((4, 4, 2));
    let err = saver
        .save(x.view(), DataFormat::ChannelsLast, 0, 0, None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "channels",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("Unsupported channel number: 2"),
        "{err}"
    );
    assert!(entries(dir.path()).is_empty());
    assert!(array_to_img(x.view(), DataFormat::ChannelsLast, false).is_err());
}

#[test]
fn unknown_format_error_lists_the_seven_formats() {
    let err = "gif".parse::<SaveFormat>().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "save_format",
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    for name in ["png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff"] {
        assert!(msg.contains(&format!("\"{name}\"")), "{msg}");
    }
}

#[test]
fn saving_never_modifies_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let x = Array3::from_shape_fn((3, 5, 4), |(a, b, c)| {
        (a as f32 - 1.5) * 100.0 + b as f32 * 0.3 + c as f32
    });
    let before = x.clone();
    for format in SaveFormat::ALL {
        for scale in [true, false] {
            for (fmt, view) in [
                (DataFormat::ChannelsLast, x.view()),
                (DataFormat::ChannelsFirst, x.view().permuted_axes([2, 0, 1])),
            ] {
                let saver = SaveOptions::new(dir.path())
                    .format(format)
                    .scale(scale)
                    .build()
                    .unwrap();
                saver.save(view, fmt, 0, 0, None).unwrap();
                let _ = array_to_img(view, fmt, scale).unwrap();
            }
        }
    }
    assert_eq!(x, before);
}

#[test]
fn missing_folder_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b/c");
    let saver = Saver::new(&target, "x", SaveFormat::Bmp).unwrap();
    assert!(target.is_dir());
    let p = saver
        .save(
            pattern(2, 2, 3).view(),
            DataFormat::ChannelsLast,
            0,
            0,
            None,
        )
        .unwrap();
    assert_eq!(p.parent().unwrap(), target);
    assert!(p.is_file());
}

#[test]
fn unwritable_folder_is_an_error_at_construction_naming_it() {
    // Works as root too: nothing can create a folder below a regular file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"not a folder").unwrap();
    for target in [file.join("sub"), file.clone()] {
        let err = Saver::new(&target, "", SaveFormat::Png).unwrap_err();
        match &err {
            Error::Io { path, .. } => assert_eq!(path, &target),
            other => panic!("expected Error::Io, got {other:?}"),
        }
        assert!(err.to_string().contains("plain-file"), "{err}");
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");
}

#[test]
fn no_tmp_file_after_success_or_after_an_encode_error() {
    let dir = tempfile::tempdir().unwrap();
    let saver = Saver::new(dir.path(), "t", SaveFormat::Jpeg).unwrap();
    saver
        .save(
            pattern(4, 4, 3).view(),
            DataFormat::ChannelsLast,
            0,
            0,
            None,
        )
        .unwrap();
    no_tmp_left(dir.path());
    // JPEG cannot encode more than 65535 columns: the encoder fails mid-write.
    let wide = Array3::<u8>::from_elem((1, 70_000, 3), 7);
    let err = saver
        .save(wide.view(), DataFormat::ChannelsLast, 0, 1, None)
        .unwrap_err();
    let expected = dir.path().join("t_e000_i000001.jpeg");
    assert!(
        matches!(&err, Error::Image { path, .. } if path == &expected),
        "{err:?}"
    );
    no_tmp_left(dir.path());
    assert_eq!(entries(dir.path()), vec!["t_e000_i000000.jpeg".to_string()]);
}

#[test]
fn file_names_are_deterministic_and_unique_per_epoch_and_index() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let sa = Saver::new(a.path(), "aug", SaveFormat::Png).unwrap();
    let sb = Saver::new(b.path(), "aug", SaveFormat::Png).unwrap();
    let x = pattern(2, 2, 1);
    let mut names = HashSet::new();
    for epoch in 0..3u64 {
        for index in [0usize, 1, 10, 11] {
            let pa = sa
                .save(x.view(), DataFormat::ChannelsLast, epoch, index, None)
                .unwrap();
            let pb = sb
                .save(x.view(), DataFormat::ChannelsLast, epoch, index, None)
                .unwrap();
            assert_eq!(pa.file_name(), pb.file_name());
            assert!(names.insert(pa.file_name().unwrap().to_owned()));
        }
    }
    assert_eq!(entries(a.path()).len(), 12);
    assert_eq!(entries(a.path()), entries(b.path()));
    assert!(entries(a.path()).contains(&"aug_e002_i000011.png".to_string()));
    // Saving the same (epoch, index) again replaces, it does not add a file.
    sa.save(x.view(), DataFormat::ChannelsLast, 0, 0, None)
        .unwrap();
    assert_eq!(entries(a.path()).len(), 12);
}

#[test]
fn per_class_subfolders_sort_samples_by_label() {
    let dir = tempfile::tempdir().unwrap();
    let saver = SaveOptions::new(dir.path())
        .prefix("p")
        .per_class_subfolders(true)
        .build()
        .unwrap();
    let x = pattern(3, 3, 3);
    let cat = saver
        .save(x.view(), DataFormat::ChannelsLast, 1, 4, Some("cat"))
        .unwrap();
    let esc = saver
        .save(x.view(), DataFormat::ChannelsLast, 1, 5, Some("../up"))
        .unwrap();
    let none = saver
        .save(x.view(), DataFormat::ChannelsLast, 1, 6, None)
        .unwrap();
    assert_eq!(cat, dir.path().join("cat").join("p_e001_i000004.png"));
    assert_eq!(esc, dir.path().join(".._up").join("p_e001_i000005.png"));
    assert_eq!(none, dir.path().join("p_e001_i000006.png"));
    assert_eq!(
        entries(dir.path()),
        vec![".._up", "cat", "p_e001_i000006.png"]
    );
    let err = saver
        .save(x.view(), DataFormat::ChannelsLast, 1, 7, Some(".."))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "class", .. }),
        "{err:?}"
    );
}

#[test]
fn concurrent_saves_from_8_threads_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let saver = SaveOptions::new(dir.path())
        .prefix("mt")
        .per_class_subfolders(true)
        .scale(false)
        .build()
        .unwrap();
    let per_thread = 25;
    std::thread::scope(|s| {
        for t in 0..8usize {
            let saver = &saver;
            s.spawn(move || {
                for k in 0..per_thread {
                    let index = t * per_thread + k;
                    let x = Array3::<u8>::from_elem((4, 4, 3), index as u8);
                    let class = if index % 2 == 0 { Some("even") } else { None };
                    saver
                        .save(x.view(), DataFormat::ChannelsLast, 3, index, class)
                        .unwrap();
                    // Every thread also writes the same file: last writer wins, never a torn one.
                    let y = Array3::<u8>::from_elem((4, 4, 3), t as u8);
                    saver
                        .save(y.view(), DataFormat::ChannelsLast, 9, 0, None)
                        .unwrap();
                }
            });
        }
    });
    let mut count = 0;
    for index in 0..8 * per_thread {
        let class = if index % 2 == 0 { Some("even") } else { None };
        let p = saver.path_for(3, index, class).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (4, 4));
        assert!(
            img.iter().all(|&v| v == index as u8),
            "{p:?} has another sample's pixels"
        );
        count += 1;
    }
    assert_eq!(count, 200);
    assert_eq!(entries(&dir.path().join("even")).len(), 100);
    // 100 unlabelled + the shared file + the "even" folder.
    assert_eq!(entries(dir.path()).len(), 102);
    let shared = image::open(saver.path_for(9, 0, None).unwrap())
        .unwrap()
        .to_rgb8();
    let first = shared.as_raw()[0];
    assert!(first < 8 && shared.iter().all(|&v| v == first));
    no_tmp_left(dir.path());
    no_tmp_left(&dir.path().join("even"));
}
