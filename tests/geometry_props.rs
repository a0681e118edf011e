//! Property tests of the geometric ops: a fused chain resamples once and equals the ops
//! applied one at a time (each with its own exact resampling) within interpolation error;
//! draws are a pure function of (seed, epoch, index); RandomResizedCrop samples as
//! torchvision does.

use augflow::augment::*;
use augflow::rng::sample_rng;
use ndarray::Array3;
use proptest::prelude::*;

fn short(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn pair(lo: f64, hi: f64) -> impl Strategy<Value = Factor> {
    (lo..=hi, lo..=hi).prop_map(|(a, b)| Factor::Range([short(a.min(b)), short(a.max(b))]))
}

/// Geometric ops with moderate scale changes (so that one bilinear pass and several stay
/// within interpolation error of each other); warps fill with the constant 0.
fn geometric_op() -> impl Strategy<Value = Op> {
    let c = Fill::Constant;
    prop_oneof![
        prop_oneof![
            Just(FlipMode::Horizontal),
            Just(FlipMode::Vertical),
            Just(FlipMode::HorizontalAndVertical)
        ]
        .prop_map(|mode| Op::RandomFlip(RandomFlip {
            mode,
            bounding_box_format: None
        })),
        (pair(-0.2, 0.2), pair(-0.2, 0.2)).prop_map(move |(h, w)| Op::RandomTranslation(
            RandomTranslation {
                height_factor: h,
                width_factor: w,
                fill_mode: c,
                interpolation: Kernel::Bilinear,
                fill_value: 0.0,
                bounding_box_format: None
            }
        )),
        pair(-0.1, 0.1).prop_map(move |factor| Op::RandomRotation(RandomRotation {
            factor,
            fill_mode: c,
            interpolation: Kernel::Bilinear,
            fill_value: 0.0,
            bounding_box_format: None
        })),
        (pair(-0.3, 0.3), pair(-0.3, 0.3)).prop_map(move |(h, w)| Op::RandomZoom(RandomZoom {
            height_factor: h,
            width_factor: Some(w),
            fill_mode: c,
            interpolation: Kernel::Bilinear,
            fill_value: 0.0,
            bounding_box_format: None
        })),
        (pair(-0.2, 0.2), pair(-0.2, 0.2)).prop_map(move |(x, y)| Op::RandomShear(RandomShear {
            x_factor: x,
            y_factor: y,
            fill_mode: c,
            interpolation: Kernel::Bilinear,
            fill_value: 0.0,
            bounding_box_format: None
        })),
        (0.0..0.3f64).prop_map(|s| Op::RandomPerspective(RandomPerspective {
            factor: Factor::Scalar(1.0),
            scale: short(s),
            interpolation: Kernel::Bilinear,
            fill_value: 0.0,
            bounding_box_format: None
        })),
        (20usize..40, 20usize..40).prop_map(|(height, width)| Op::CenterCrop(CenterCrop {
            height,
            width,
            bounding_box_format: None
        })),
        (20usize..40, 20usize..40).prop_map(|(height, width)| Op::RandomCrop(RandomCrop {
            height,
            width,
            bounding_box_format: None
        })),
        (24usize..48, 24usize..48).prop_map(|(height, width)| Op::Resizing(Resizing {
            height,
            width,
            interpolation: Kernel::Bilinear,
            crop_to_aspect_ratio: false,
            pad_to_aspect_ratio: false,
            fill_mode: Fill::Constant,
            fill_value: 0.0,
            antialias: false,
            bounding_box_format: None
        })),
        (24usize..48, 24usize..48).prop_map(|(h, w)| Op::RandomResizedCrop(RandomResizedCrop {
            size: [h, w],
            scale: [0.5, 1.0],
            ratio: [3.0 / 4.0, 4.0 / 3.0],
            interpolation: Kernel::Bilinear,
            antialias: false,
            bounding_box_format: None
        })),
    ]
}

/// A smooth picture in channel 0 (wavelengths of 30+ pixels), 1.0 in channel 1, and the
/// column and row of each pixel in channels 2 and 3. Where channel 1 is still 1 after a
/// chain, every resampling read the image only; bilinear sampling reproduces the ramps
/// exactly, so channels 2 and 3 give the source point each output pixel took.
fn smooth_image(h: usize, w: usize) -> Array3<f32> {
    Array3::from_shape_fn((h, w, 4), |(y, x, c)| {
        let (x, y) = (x as f32, y as f32);
        match c {
            0 => 120.0 + 50.0 * (0.17 * x + 0.09 * y).sin() + 30.0 * (0.12 * y).cos(),
            1 => 1.0,
            2 => x,
            _ => y,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_fused_chain_is_one_pass_and_equals_the_ops_one_at_a_time(
        ops in proptest::collection::vec(geometric_op(), 2..5),
        seed: u64,
    ) {
        let mut aug = Augment::new();
        for op in &ops {
            aug = aug.with(op.clone()).unwrap();
        }
        let image = smooth_image(40, 48);
        let before = resample_passes();
        let (fused, params) = aug.run_sample(Sample::new(image.clone()), seed, 0, 0).unwrap();
        prop_assert_eq!(resample_passes() - before, 1);
        let mut step = Sample::new(image);
        for (op, p) in ops.iter().zip(&params) {
            let single = Augment::new().with(op.clone()).unwrap();
            step = single.transform(std::slice::from_ref(p), step).unwrap();
        }
        prop_assert_eq!(resample_passes() - before, 1 + ops.len() as u64);
        prop_assert_eq!(fused.image.dim(), step.image.dim());
        let (h, w, _) = step.image.dim();
        let (mut inside, mut compared) = (0, 0);
        for y in 0..h {
            for x in 0..w {
                let (a, b) = (&step.image, &fused.image);
                if a[[y, x, 1]] < 0.99999 || b[[y, x, 1]] < 0.99999 {
                    continue;
                }
                inside += 1;
                // One at a time, a crop's resize renormalises at the crop's edge (it clamps);
                // the fused pass reads the source pixel there: not interpolation error. (The
                // ramps themselves carry interpolation error after a perspective warp.)
                let same_point = (2..4).all(|c| (a[[y, x, c]] - b[[y, x, c]]).abs() < 0.05);
                if !same_point {
                    continue;
                }
                compared += 1;
                let d = (a[[y, x, 0]] - b[[y, x, 0]]).abs();
                prop_assert!(d < 3.0, "pixel ({}, {}) differs by {} with {:?}", y, x, d, params);
            }
        }
        // Rotations, zooms and crops of a 40x48 image at these strengths keep its middle, and
        // most of it samples the same source point both ways.
        prop_assert!(inside > 0, "nothing inside for {:?}", params);
        prop_assert!(4 * compared >= inside, "{} of {} compared for {:?}", compared, inside, params);
    }

    #[test]
    fn element_wise_ops_written_with_the_resampling_give_the_same_bits(
        first in geometric_op(),
        second in geometric_op(),
        seed: u64,
    ) {
        let brightness = Op::RandomBrightness(RandomBrightness { factor: 0.3.into(), value_range: [0.0, 255.0] });
        let invert = Op::RandomInvert(RandomInvert { factor: 0.5.into(), value_range: [0.0, 255.0] });
        let rescale = Op::Rescaling(Rescaling { scale: Scalars::One(0.5), offset: 1.0 });
        let ops = [first, brightness, invert, second, rescale];
        let mut aug = Augment::new();
        for op in &ops {
            aug = aug.with(op.clone()).unwrap();
        }
        let image = smooth_image(40, 48);
        let (fused, params) = aug.run_sample(Sample::new(image.clone()), seed, 0, 0).unwrap();
        let mut step = Sample::new(image);
        for (op, p) in ops.iter().zip(&params) {
            let single = Augment::new().with(op.clone()).unwrap();
            step = single.transform(std::slice::from_ref(p), step).unwrap();
        }
        prop_assert_eq!(fused.image, step.image);
    }

    #[test]
    fn geometric_draws_depend_only_on_seed_epoch_and_index(
        ops in proptest::collection::vec(geometric_op(), 1..5),
        seed: u64,
        epoch in 0u64..50,
        index in 0u64..5000,
    ) {
        let mut aug = Augment::new();
        for op in &ops {
            aug = aug.with(op.clone()).unwrap();
        }
        let a = aug.draw(&mut sample_rng(seed, epoch, index), [40, 48, 3]).unwrap();
        let aug2 = aug.clone();
        let b = std::thread::spawn(move || aug2.draw(&mut sample_rng(seed, epoch, index), [40, 48, 3]).unwrap())
            .join()
            .unwrap();
        prop_assert_eq!(&a, &b);
        let json = serde_json::to_string(&a).unwrap();
        prop_assert_eq!(serde_json::from_str::<Vec<Params>>(&json).unwrap(), a);
        prop_assert_eq!(Augment::from_json(&aug.to_json()).unwrap(), aug);
    }

    #[test]
    fn random_resized_crop_samples_a_window_of_the_asked_area_and_ratio(
        seed: u64,
        h in 1usize..300,
        w in 1usize..300,
        lo in 0.05f64..1.0,
    ) {
        let op = RandomResizedCrop {
            size: [16, 16],
            scale: [lo, 1.0],
            ratio: [3.0 / 4.0, 4.0 / 3.0],
            interpolation: Kernel::Bilinear,
            antialias: true,
            bounding_box_format: None,
        };
        let p = Op::RandomResizedCrop(op).draw(&mut sample_rng(seed, 0, 0), [h, w, 3]).unwrap();
        let Params::RandomResizedCrop { top, left, height, width } = p else { unreachable!() };
        prop_assert!(height >= 1 && width >= 1 && top + height <= h && left + width <= w);
        let centred = top == (h - height) / 2 && left == (w - width) / 2;
        let area = (height * width) as f64 / (h * w) as f64;
        let ratio = width as f64 / height as f64;
        // A sampled window: area and ratio in range up to the rounding of its sides.
        let sampled = area >= lo * 0.8 - 2.0 / (h.min(w) as f64)
            && ratio >= 0.75 * (1.0 - 1.0 / height as f64) - 1.0 / height as f64
            && ratio <= 4.0 / 3.0 * (1.0 + 1.0 / height as f64) + 1.0 / height as f64;
        prop_assert!(sampled || centred, "{:?} of {}x{}", p, h, w);
    }
}

#[test]
fn random_resized_crop_falls_back_to_the_centre_crop_clamped_to_the_ratios() {
    let op = Op::RandomResizedCrop(RandomResizedCrop {
        size: [8, 8],
        scale: [1.0, 1.0],
        ratio: [2.0, 3.0],
        interpolation: Kernel::Bilinear,
        antialias: true,
        bounding_box_format: None,
    });
    // A square image has no window of full area and ratio >= 2: torchvision's fallback
    // takes the whole width and round(W / 2) rows, centred.
    let p = op.draw(&mut sample_rng(5, 0, 0), [100, 100, 3]).unwrap();
    assert_eq!(
        p,
        Params::RandomResizedCrop {
            top: 25,
            left: 0,
            height: 50,
            width: 100
        }
    );
}

#[test]
fn element_wise_ops_split_geometric_chains_into_one_pass_each() {
    let aug = Augment::from_json(
        r#"[{"class_name": "RandomFlip", "config": {}},
            {"class_name": "RandomRotation", "config": {"factor": 0.1}},
            {"class_name": "RandomBrightness", "config": {"factor": 0.1}},
            {"class_name": "RandomZoom", "config": {"height_factor": 0.1}},
            {"class_name": "CenterCrop", "config": {"height": 10, "width": 12}}]"#,
    )
    .unwrap();
    let before = resample_passes();
    let (out, _) = aug
        .run_sample(Sample::new(smooth_image(20, 20)), 1, 2, 3)
        .unwrap();
    assert_eq!(resample_passes() - before, 2);
    assert_eq!(out.image.dim(), (10, 12, 4));
}

#[test]
fn masks_and_boxes_move_with_the_image() {
    let aug = Augment::from_json(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
            {"class_name": "RandomTranslation", "config": {"height_factor": 0.0, "width_factor": 0.0, "fill_mode": "constant"}},
            {"class_name": "RandomCrop", "config": {"height": 4, "width": 6}}]"#,
    )
    .unwrap();
    let image = Array3::from_shape_fn((8, 10, 1), |(y, x, _)| (10 * y + x) as f32);
    let mask = image.mapv(|v| v as i32);
    let boxes = Boxes::new(BoxFormat::Xyxy, vec![[0.0, 0.0, 2.0, 2.0]], vec![3]).unwrap();
    let params = [
        Params::RandomFlip { flips: true },
        Params::RandomTranslation {
            translations: [1.0, 2.0],
        },
        Params::RandomCrop {
            h_start: 2,
            w_start: 1,
        },
    ];
    let sample = Sample::new(image)
        .with_mask(mask)
        .unwrap()
        .with_boxes(boxes);
    let out = aug.transform(&params, sample).unwrap();
    // Output (0, 0) -> crop (2, 1) -> before the shift (0, 0) -> before the flip (0, 9).
    assert_eq!(out.image[[0, 0, 0]], 9.0);
    assert_eq!(out.mask.as_ref().unwrap()[[0, 0, 0]], 9);
    assert_eq!(out.image.mapv(|v| v as i32), out.mask.unwrap());
    let b = out.boxes.unwrap();
    // Flip: [8, 0, 10, 2]; shift: [9, 2, 11, 4] clipped to [9, 2, 10, 4]; Keras' crop
    // subtracts the row offset from x and the column offset from y.
    let expected = [7.0, 1.0, 8.0, 3.0];
    assert!(
        b.boxes[0]
            .iter()
            .zip(expected)
            .all(|(a, e)| (a - e).abs() < 1e-5),
        "{:?}",
        b.boxes
    );
    assert_eq!(b.labels, vec![3]);
}

#[test]
fn replaying_a_draw_on_the_wrong_image_is_an_error_not_a_panic() {
    let aug = Augment::from_json(
        r#"[{"class_name": "RandomCrop", "config": {"height": 4, "width": 4}}]"#,
    )
    .unwrap();
    let p = [Params::RandomCrop {
        h_start: 50,
        w_start: 0,
    }];
    let err = aug
        .transform(&p, Sample::new(Array3::zeros((8, 8, 3))))
        .unwrap_err();
    assert!(err.to_string().contains("h_start"), "{err}");
    let rrc =
        Augment::from_json(r#"[{"class_name": "RandomResizedCrop", "config": {"size": [4, 4]}}]"#)
            .unwrap();
    let p = [Params::RandomResizedCrop {
        top: 0,
        left: 0,
        height: 9,
        width: 9,
    }];
    assert!(
        rrc.transform(&p, Sample::new(Array3::zeros((8, 8, 3))))
            .is_err()
    );
    let huge = [Params::RandomResizedCrop {
        top: usize::MAX,
        left: 0,
        height: 2,
        width: 2,
    }];
    assert!(
        rrc.transform(&huge, Sample::new(Array3::zeros((8, 8, 3))))
            .is_err()
    );
    let huge = [Params::RandomCrop {
        h_start: usize::MAX,
        w_start: usize::MAX,
    }];
    assert!(
        aug.transform(&huge, Sample::new(Array3::zeros((8, 8, 3))))
            .is_err()
    );
    let too_big = Augment::from_json(
        r#"[{"class_name": "Resizing", "config": {"height": 65536, "width": 65536}}]"#,
    )
    .unwrap_err();
    assert!(too_big.to_string().contains("height"), "{too_big}");
    let mut image = Array3::<f32>::zeros((8, 8, 3));
    let in_place =
        Augment::from_json(r#"[{"class_name": "Resizing", "config": {"height": 4, "width": 4}}]"#)
            .unwrap();
    assert!(
        in_place
            .apply(&[Params::Resizing], image.view_mut())
            .is_err()
    );
}
