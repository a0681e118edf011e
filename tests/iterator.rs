//! NumpyArrayIterator: determinism, subsets, alignment and errors.

use augflow::iterators::{Batch, Endless, NumpyArrayIterator, Subset};
use augflow::{Error, FillMode, ImageDataGenerator, Sequence};
use ndarray::{Array1, Array4, Axis};

/// 20 x 37: rows hold two sixteen-pixel steps of the widest kernel and a remainder.
fn images(n: usize) -> Array4<u8> {
    Array4::from_shape_fn((n, 20, 37, 3), |(i, r, c, k)| {
        ((i * 37 + r * 11 + c * 5 + k * 3) % 256) as u8
    })
}

fn standard() -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .rotation_range(20.0)
        .width_shift_range(0.1)
        .height_shift_range(0.1)
        .shear_range(10.0)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .fill_mode(FillMode::Nearest)
        .rescale(1.0 / 255.0)
        .build()
        .unwrap()
}

fn flow(n: usize, bs: usize, seed: u64) -> NumpyArrayIterator<u8> {
    let y = Array1::from_iter(0..n as i64);
    standard()
        .flow(images(n))
        .y(y)
        .batch_size(bs)
        .seed(seed)
        .build()
        .unwrap()
}

fn all_batches(it: &NumpyArrayIterator<u8>) -> Vec<Batch> {
    (0..it.len()).map(|i| it.get(i).unwrap()).collect()
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn batches_are_bit_identical_for_1_2_and_4_threads() {
    let it = flow(21, 8, 7);
    let one = in_pool(1, || all_batches(&it));
    assert_eq!(one, in_pool(2, || all_batches(&it)));
    assert_eq!(one, in_pool(4, || all_batches(&it)));
}

#[test]
fn asking_batches_in_reverse_order_gives_the_same_batches() {
    let it = flow(21, 8, 7);
    let forward = all_batches(&it);
    let mut backward: Vec<Batch> = (0..it.len()).rev().map(|i| it.get(i).unwrap()).collect();
    backward.reverse();
    assert_eq!(forward, backward);
}

#[test]
fn a_sample_gets_the_same_pixels_whatever_the_batch_size() {
    let small = flow(40, 8, 3);
    let large = flow(40, 32, 3);
    let pixels = |it: &NumpyArrayIterator<u8>| {
        let mut by_sample = vec![None; 40];
        for b in all_batches(it) {
            for (k, &i) in b.index.iter().enumerate() {
                by_sample[i] = Some(b.x.index_axis(Axis(0), k).to_owned());
            }
        }
        by_sample
    };
    assert_eq!(pixels(&small), pixels(&large));
}

#[test]
fn each_epoch_is_a_new_permutation_with_new_transforms() {
    let mut it = flow(20, 20, 5);
    let e0 = it.get(0).unwrap();
    it.on_epoch_end();
    let e1 = it.get(0).unwrap();
    let mut sorted = e1.index.clone();
    sorted.sort();
    assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    assert_ne!(e0.index, e1.index);
    // The same sample is augmented differently in the next epoch.
    let pos0 = e0.index.iter().position(|&i| i == 0).unwrap();
    let pos1 = e1.index.iter().position(|&i| i == 0).unwrap();
    assert_ne!(
        e0.x.index_axis(Axis(0), pos0),
        e1.x.index_axis(Axis(0), pos1)
    );
    // And set_epoch replays an epoch exactly.
    it.set_epoch(0);
    assert_eq!(it.get(0).unwrap(), e0);
}

#[test]
fn labels_weights_and_extras_stay_aligned_with_their_images() {
    let n = 13;
    let x = Array4::from_shape_fn((n, 2, 2, 1), |(i, _, _, _)| i as f32);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = datagen
        .flow(x)
        .y(Array1::from_iter((0..n).map(|i| i as i64 * 10)))
        .sample_weight(Array1::from_iter((0..n).map(|i| i as f64 / 2.0)))
        .extra(Array1::from_iter((0..n).map(|i| i as u8)))
        .batch_size(5)
        .seed(11)
        .build()
        .unwrap();
    for b in it.epoch() {
        let b = b.unwrap();
        let y: Vec<i64> =
            b.y.unwrap()
                .into_array::<i64>()
                .unwrap()
                .into_iter()
                .collect();
        let w: Vec<f64> = b
            .sample_weight
            .unwrap()
            .into_array::<f64>()
            .unwrap()
            .into_iter()
            .collect();
        let e: Vec<u8> = b.extras[0]
            .clone()
            .into_array::<u8>()
            .unwrap()
            .into_iter()
            .collect();
        for (k, &i) in b.index.iter().enumerate() {
            assert_eq!(b.x[[k, 0, 0, 0]], i as f32);
            assert_eq!((y[k], w[k], e[k]), (i as i64 * 10, i as f64 / 2.0, i as u8));
        }
    }
}

fn split_gen(split: f64) -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .validation_split(split)
        .build()
        .unwrap()
}

#[test]
fn validation_is_the_head_and_training_the_tail_with_aligned_weights() {
    let n = 10;
    let x = Array4::from_shape_fn((n, 1, 1, 1), |(i, _, _, _)| i as f32);
    let y = Array1::from_iter((0..n).map(|i| (i % 2) as i64));
    let w = Array1::from_iter((0..n).map(|i| i as f64));
    let build = |s| {
        split_gen(0.3)
            .flow(x.clone())
            .y(y.clone())
            .sample_weight(w.clone())
            .shuffle(false)
            .subset(s)
            .build()
            .unwrap()
    };
    let val = build(Subset::Validation);
    let train = build(Subset::Training);
    assert_eq!(val.members(), &[0, 1, 2]);
    assert_eq!(train.members(), &[3, 4, 5, 6, 7, 8, 9]);
    let b = train.get(0).unwrap();
    let weights: Vec<f64> = b
        .sample_weight
        .unwrap()
        .into_array::<f64>()
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(weights, vec![3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]); // Keras would give 0..7
}

#[test]
fn class_split_check_and_its_escape_hatch() {
    let x = Array4::<u8>::zeros((10, 1, 1, 1));
    let sorted = Array1::from_iter((0..10).map(|i| (i / 5) as i64)); // 0,0,0,0,0,1,1,1,1,1
    let err = split_gen(0.5)
        .flow(x.clone())
        .y(sorted.clone())
        .subset(Subset::Training)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::ClassSplit { .. }), "{err}");
    assert!(
        split_gen(0.5)
            .flow(x.clone())
            .y(sorted.clone())
            .subset(Subset::Training)
            .ignore_class_split(true)
            .build()
            .is_ok()
    );
    // Shuffling before the split mixes the classes, so the check passes.
    let it = split_gen(0.5)
        .flow(x)
        .y(sorted)
        .subset(Subset::Validation)
        .shuffle_before_split(1)
        .build()
        .unwrap();
    assert_eq!(it.num_samples(), 5);
}

#[test]
fn validation_batches_are_not_augmented_unless_asked() {
    let x = images(10);
    let datagen = ImageDataGenerator::builder()
        .rotation_range(40.0)
        .validation_split(0.5)
        .build()
        .unwrap();
    let val = datagen
        .flow(x.clone())
        .subset(Subset::Validation)
        .shuffle(false)
        .seed(1)
        .build()
        .unwrap();
    let b = val.get(0).unwrap();
    assert_eq!(
        b.x,
        x.slice(ndarray::s![0..5, .., .., ..]).mapv(|v| v as f32)
    );
    let aug = datagen
        .flow(x.clone())
        .subset(Subset::Validation)
        .shuffle(false)
        .seed(1)
        .augment_validation(true)
        .build()
        .unwrap();
    assert_ne!(aug.get(0).unwrap().x, b.x);
}

#[test]
fn construction_errors_name_the_problem() {
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let x = Array4::<u8>::zeros((4, 2, 2, 3));
    let err = datagen
        .flow(x.clone())
        .y(Array1::<i64>::zeros(3))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::LengthMismatch { name, got: 3, expected: 4, .. } if name == "y"),
        "{err}"
    );
    let err = datagen
        .flow(x.clone())
        .sample_weight(Array1::<f32>::zeros(5))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::LengthMismatch { name, .. } if name == "sample_weight"),
        "{err}"
    );
    let err = datagen
        .flow(x.clone())
        .extra(Array1::<u8>::zeros(2))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::LengthMismatch { name, .. } if name == "extras[0]"),
        "{err}"
    );
    let err = datagen.flow(x.clone()).batch_size(0).build().unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidParameter {
            name: "batch_size",
            ..
        }
    ));
    let err = datagen
        .flow(Array4::<u8>::zeros((0, 2, 2, 3)))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Empty { name: "x", .. }));
    let err = datagen
        .flow(Array4::<u8>::zeros((2, 0, 2, 3)))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Shape { name: "x", .. }));
    let err = datagen
        .flow(x.clone())
        .subset(Subset::Training)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { name: "subset", .. }),
        "{err}"
    );
    let err = split_gen(0.2)
        .flow(x.clone())
        .subset(Subset::Validation)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Empty { name: "subset", .. }), "{err}");
    let it = datagen.flow(x).batch_size(3).build().unwrap();
    let err = it.get(2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Asked to retrieve element 2, but the Sequence has length 2"
    );
}

#[test]
fn f64_output_and_dtype_mismatch() {
    let x = images(3);
    let it = standard()
        .flow(x.clone())
        .output::<f64>()
        .seed(2)
        .build()
        .unwrap();
    let b64 = it.get(0).unwrap();
    let b32 = standard().flow(x).seed(2).build().unwrap().get(0).unwrap();
    for (a, b) in b64.x.iter().zip(b32.x.iter()) {
        assert!((a - *b as f64).abs() < 1e-5);
    }
    let f64_gen = ImageDataGenerator::builder()
        .dtype(augflow::DType::F64)
        .build()
        .unwrap();
    let err = f64_gen.flow(images(2)).build().unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "dtype", .. }));
}

#[test]
fn endless_iteration_crosses_epochs_like_keras_next() {
    let mut it = flow(10, 4, 9);
    let first_epoch: Vec<Vec<usize>> = (0..3).map(|i| it.get(i).unwrap().index).collect();
    let sizes: Vec<usize> = Endless::new(&mut it)
        .take(6)
        .map(|b| b.unwrap().len())
        .collect();
    assert_eq!(sizes, vec![4, 4, 2, 4, 4, 2]);
    assert_eq!(it.current_epoch(), 1);
    it.reset();
    let again: Vec<Vec<usize>> = (0..3).map(|i| it.get(i).unwrap().index).collect();
    assert_eq!(first_epoch, again);
}

#[test]
fn unseeded_iterators_report_a_seed_that_replays_them() {
    let a = standard().flow(images(6)).build().unwrap();
    let b = standard().flow(images(6)).seed(a.seed()).build().unwrap();
    assert_eq!(a.get(0).unwrap(), b.get(0).unwrap());
}

#[test]
fn channels_first_batches_hold_the_same_pixels_permuted() {
    let x = images(4);
    let xf = x
        .clone()
        .permuted_axes([0, 3, 1, 2])
        .as_standard_layout()
        .into_owned();
    let last = standard().flow(x).seed(4).build().unwrap().get(0).unwrap();
    let cf = ImageDataGenerator::new(augflow::GeneratorConfig {
        data_format: augflow::DataFormat::ChannelsFirst,
        ..standard().config().clone()
    })
    .unwrap();
    let first = cf.flow(xf).seed(4).build().unwrap().get(0).unwrap();
    assert_eq!(first.index, last.index);
    assert_eq!(first.x.permuted_axes([0, 2, 3, 1]), last.x);
}

#[test]
fn save_to_dir_writes_every_sample_once_with_deterministic_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("aug"); // missing: build creates it
    let y = Array1::from_iter((0..6).map(|i| (i % 2) as i64));
    let it = standard()
        .flow(images(6))
        .y(y)
        .batch_size(4)
        .seed(3)
        .save_options(
            augflow::SaveOptions::new(&out)
                .prefix("cat")
                .format(augflow::SaveFormat::Png)
                .per_class_subfolders(true),
        )
        .build()
        .unwrap();
    let batches = all_batches(&it);
    let mut names: Vec<String> = Vec::new();
    for class in ["0", "1"] {
        for e in std::fs::read_dir(out.join(class)).unwrap() {
            names.push(format!(
                "{class}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    names.sort();
    let mut want: Vec<String> = (0..6)
        .map(|i| format!("{}/cat_e000_i{i:06}.png", i % 2))
        .collect();
    want.sort();
    assert_eq!(names, want);
    // The batch is not modified by saving: same as without saving.
    let plain = standard()
        .flow(images(6))
        .batch_size(4)
        .seed(3)
        .build()
        .unwrap();
    assert_eq!(batches[0].x, plain.get(0).unwrap().x);
    // A saved image is the min-max stretched sample.
    let k = batches[0].index[0];
    let img = image::open(
        out.join((k % 2).to_string())
            .join(format!("cat_e000_i{k:06}.png")),
    )
    .unwrap()
    .to_rgb8();
    let slot = batches[0].x.index_axis(Axis(0), 0);
    let (lo, hi) = slot
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let want_px = ((slot[[0, 0, 0]] - lo) / (hi - lo) * 255.0) as u8;
    assert!((img.get_pixel(0, 0)[0] as i32 - want_px as i32).abs() <= 1);
}

#[test]
fn an_unwritable_save_folder_fails_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, b"x").unwrap();
    let err = standard()
        .flow(images(2))
        .save_to_dir(file.join("sub"), "", augflow::SaveFormat::Jpg)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn f16_and_bf16_batches_are_the_f32_batches_rounded_at_1_and_2_threads() {
    use half::{bf16, f16};
    let it32 = flow(21, 8, 5);
    let y = Array1::from_iter(0..21_i64);
    let build = || {
        standard()
            .flow(images(21))
            .y(y.clone())
            .batch_size(8)
            .seed(5)
    };
    let it16 = build().output::<f16>().build().unwrap();
    let itb = build().output::<bf16>().build().unwrap();
    let wide = all_batches(&it32);
    for threads in [1, 2] {
        let (halves, brains) = in_pool(threads, || {
            let h: Vec<Batch<f16>> = (0..it16.len()).map(|i| it16.get(i).unwrap()).collect();
            let b: Vec<Batch<bf16>> = (0..itb.len()).map(|i| itb.get(i).unwrap()).collect();
            (h, b)
        });
        assert_eq!(halves.len(), wide.len());
        for ((w, h), b) in wide.iter().zip(&halves).zip(&brains) {
            assert_eq!(h.x, w.x.mapv(f16::from_f32), "f16 at {threads} threads");
            assert_eq!(b.x, w.x.mapv(bf16::from_f32), "bf16 at {threads} threads");
            assert_eq!((&h.index, &h.y), (&w.index, &w.y));
        }
    }
    // The rounding is real: f16 does not hold every f32 value of the batch.
    assert!(wide[0].x.iter().any(|&v| f16::from_f32(v).to_f32() != v));
}

#[test]
fn iterator_batches_equal_the_public_per_sample_path_bit_for_bit() {
    // The iterator folds rescale into the warp when nothing runs in between; the public
    // `transform_sample_into` rescales in a separate pass. Both must give the same bits,
    // in both geometries, with and without photometric steps.
    for geometry in [augflow::Geometry::Corrected, augflow::Geometry::Keras] {
        for photometric in [false, true] {
            let mut cfg = standard().config().clone();
            cfg.geometry = geometry;
            if photometric {
                cfg.channel_shift_range = 20.0;
            }
            let datagen = ImageDataGenerator::new(cfg).unwrap();
            let x = images(9);
            let it = datagen
                .flow(x.clone())
                .batch_size(9)
                .seed(21)
                .build()
                .unwrap();
            let b = it.get(0).unwrap();
            for (k, &i) in b.index.iter().enumerate() {
                let mut out = ndarray::Array3::<f32>::zeros((20, 37, 3));
                let mut rng = augflow::rng::sample_rng(21, 0, i as u64);
                datagen
                    .transform_sample_into(x.index_axis(Axis(0), i), out.view_mut(), &mut rng, true)
                    .unwrap();
                let got = b.x.index_axis(Axis(0), k);
                assert!(
                    got.iter()
                        .zip(out.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{geometry:?} photometric={photometric} sample {i}"
                );
            }
        }
    }
}
