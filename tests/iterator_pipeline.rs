//! Iterators with a Keras 3 augmentation pipeline (`IteratorBuilder::pipeline`): the batch
//! takes the pipeline's size, a sample is a pure function of (seed, epoch, index), files
//! are resampled from their stored size, and what a pipeline cannot move is refused.

use augflow::augment::{Augment, Sample};
use augflow::iterators::{ClassMode, LoadOptions, load_img};
use augflow::{DataFormat, Error, ImageDataGenerator, Sequence};
use image::{Rgb, RgbImage};
use ndarray::{Array3, Array4, Axis, s};

fn recipe(size: usize) -> Augment {
    Augment::from_json(&format!(
        r#"[{{"class_name": "RandomResizedCrop", "config": {{"size": [{size}, {size}]}}}},
            {{"class_name": "RandomFlip", "config": {{"mode": "horizontal"}}}},
            {{"class_name": "RandomColorJitter", "config": {{"value_range": [0, 255],
              "brightness_factor": 0.4, "contrast_factor": 0.4, "saturation_factor": 0.4}}}},
            {{"class_name": "Normalization", "config": {{"mean": [123.675, 116.28, 103.53],
              "variance": [3409.976, 3262.694, 3291.756]}}}}]"#
    ))
    .unwrap()
}

fn images(n: usize, h: usize, w: usize) -> Array4<u8> {
    Array4::from_shape_fn((n, h, w, 3), |(i, y, x, c)| {
        ((i * 37 + y * 5 + x * 3 + c * 70 + (x * y) % 11) % 256) as u8
    })
}

fn widen(x: ndarray::ArrayView3<'_, u8>) -> Array3<f32> {
    x.mapv(f32::from)
}

#[test]
fn flow_batches_take_the_pipeline_size_and_are_each_samples_own_draw() {
    let x = images(7, 30, 40);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = datagen
        .flow(x.clone())
        .batch_size(3)
        .seed(11)
        .pipeline(recipe(12))
        .build()
        .unwrap();
    assert_eq!(it.image_shape(), [12, 12, 3]);
    let b = it.get(1).unwrap();
    assert_eq!(b.x.shape(), &[3, 12, 12, 3]);
    for (k, &i) in b.index.iter().enumerate() {
        let sample = Sample::new(widen(x.index_axis(Axis(0), i)));
        let (want, _) = recipe(12).run_sample(sample, 11, 0, i as u64).unwrap();
        assert_eq!(b.x.index_axis(Axis(0), k), want.image, "sample {i}");
    }
}

#[test]
fn pipeline_batches_do_not_depend_on_threads_or_batch_size() {
    let x = images(9, 33, 27);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let build = |batch: usize| {
        let it = datagen.flow(x.clone()).batch_size(batch).seed(5);
        let mut it = it.pipeline(recipe(10)).build().unwrap();
        it.set_epoch(3);
        it
    };
    let by_index = |batch: usize, threads: usize| {
        let it = build(batch);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut rows = vec![None; 9];
        for b in pool.install(|| it.epoch().collect::<Result<Vec<_>, _>>().unwrap()) {
            for (k, &i) in b.index.iter().enumerate() {
                rows[i] = Some(b.x.index_axis(Axis(0), k).to_owned());
            }
        }
        rows
    };
    let one = by_index(9, 1);
    assert_eq!(by_index(2, 4), one);
    assert_eq!(by_index(4, 3), one);
    // Another epoch draws again.
    let it = build(9);
    let mut next = it.clone();
    next.on_epoch_end();
    assert_ne!(it.get(0).unwrap().x, next.get(0).unwrap().x);
}

#[test]
fn the_pipeline_runs_after_the_generators_transform() {
    let x = images(4, 10, 10);
    let datagen = ImageDataGenerator::builder().rescale(0.5).build().unwrap();
    let crop = Augment::from_json(
        r#"[{"class_name": "CenterCrop", "config": {"height": 4, "width": 6}}]"#,
    )
    .unwrap();
    let it = datagen
        .flow(x.clone())
        .shuffle(false)
        .pipeline(crop)
        .build()
        .unwrap();
    let b = it.get(0).unwrap();
    let want = x.slice(s![.., 3..7, 2..8, ..]).mapv(|v| f32::from(v) * 0.5);
    assert_eq!(b.x, want);
}

fn write_tree(sizes: &[(u32, u32)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("c")).unwrap();
    for (k, &(w, h)) in sizes.iter().enumerate() {
        let img = RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 9 + k as u32 * 40) as u8,
                (y * 7) as u8,
                ((x * y) % 200) as u8,
            ])
        });
        img.save(dir.path().join(format!("c/{k}.png"))).unwrap();
    }
    dir
}

#[test]
fn files_are_resampled_from_their_stored_size_when_the_pipeline_sets_it() {
    let dir = write_tree(&[(40, 30), (23, 51), (64, 64)]);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = datagen
        .flow_from_directory(dir.path())
        .target_size(8, 8)
        .class_mode(ClassMode::None)
        .shuffle(false)
        .seed(2)
        .pipeline(recipe(16))
        .build()
        .unwrap();
    let b = it.get(0).unwrap();
    assert_eq!(b.x.shape(), &[3, 16, 16, 3]);
    for i in 0..3 {
        let stored = load_img(dir.path().join(format!("c/{i}.png")), &LoadOptions::new()).unwrap();
        let (want, _) = recipe(16)
            .run_sample(Sample::new(widen(stored.view())), 2, 0, i)
            .unwrap();
        assert_eq!(b.x.index_axis(Axis(0), i as usize), want.image, "file {i}");
    }
}

#[test]
fn files_go_to_target_size_first_when_the_pipeline_keeps_the_size() {
    let dir = write_tree(&[(40, 30), (23, 51)]);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let flip =
        Augment::from_json(r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}}]"#)
            .unwrap();
    let it = datagen
        .flow_from_directory(dir.path())
        .target_size(9, 7)
        .class_mode(ClassMode::None)
        .shuffle(false)
        .seed(4)
        .pipeline(flip.clone())
        .build()
        .unwrap();
    let b = it.get(0).unwrap();
    assert_eq!(b.x.shape(), &[2, 9, 7, 3]);
    let load = LoadOptions::new().target_size(9, 7);
    for i in 0..2 {
        let resized = load_img(dir.path().join(format!("c/{i}.png")), &load).unwrap();
        let (want, _) = flip
            .run_sample(Sample::new(widen(resized.view())), 4, 0, i)
            .unwrap();
        assert_eq!(b.x.index_axis(Axis(0), i as usize), want.image, "file {i}");
    }
}

#[test]
fn channels_first_is_refused_with_a_pipeline() {
    let first = ImageDataGenerator::builder()
        .data_format(DataFormat::ChannelsFirst)
        .build()
        .unwrap();
    let err = first
        .flow(Array4::<u8>::zeros((2, 3, 8, 8)))
        .pipeline(recipe(4))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                name: "data_format",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_state_resumes_only_with_the_same_pipeline() {
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let build = |aug: Option<Augment>| {
        let b = datagen.flow(images(6, 30, 40)).batch_size(2).seed(3);
        match aug {
            Some(aug) => b.pipeline(aug).build().unwrap(),
            None => b.build().unwrap(),
        }
    };
    let mut it = build(Some(recipe(16)));
    it.on_epoch_end();
    let state = it.state(1);
    let mut same = build(Some(recipe(16)));
    assert_eq!(same.restore(&state).unwrap(), 1);
    assert_eq!(same.get(1).unwrap(), it.get(1).unwrap());
    for mut other in [build(Some(recipe(12))), build(None)] {
        let err = other.restore(&state).unwrap_err();
        assert!(err.to_string().contains("pipeline"), "{err}");
    }
    // Without a pipeline the configuration has no such entry: older states still match.
    assert!(!build(None).state(0).config.contains_key("pipeline"));
}
