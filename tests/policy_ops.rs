//! The policies beside RandAugment: torchvision's `TrivialAugmentWide` and Keras 3's
//! `AugMix`. Draws are a pure function of (seed, epoch, index) and lie in torchvision's
//! ranges; the identity op leaves the image bit-identical; the drawn warps fuse with the
//! pipeline's geometric chain; the ops follow torchvision's formulas; bad configs and
//! parameters are typed errors naming them.

use augflow::Error;
use augflow::augment::{Augment, ChainStep, Params, Sample, resample_passes};
use augflow::rng::sample_rng;
use ndarray::Array3;
use proptest::prelude::*;

const OPS: [&str; 14] = [
    "Identity",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
    "Rotate",
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
];

fn trivial(config: &str) -> Augment {
    Augment::from_json(&format!(
        r#"[{{"class_name": "TrivialAugmentWide", "config": {config}}}]"#
    ))
    .unwrap()
}

fn image(h: usize, w: usize) -> Array3<f32> {
    Array3::from_shape_fn((h, w, 3), |(y, x, c)| {
        ((y * 37 + x * 11 + c * 70) % 255) as f32 + 0.5
    })
}

/// torchvision's magnitudes of `op` with `n` bins (`_augmentation_space`), and whether
/// the op's sign is drawn; `None` for the ops without a magnitude.
fn torchvision_magnitudes(op: &str, n: usize) -> Option<(Vec<f32>, bool)> {
    let linspace = |a: f32, b: f32| -> Vec<f32> {
        (0..n)
            .map(|i| a + (b - a) * i as f32 / (n - 1) as f32)
            .collect()
    };
    Some(match op {
        "ShearX" | "ShearY" | "Brightness" | "Color" | "Contrast" | "Sharpness" => {
            (linspace(0.0, 0.99), true)
        }
        "TranslateX" | "TranslateY" => (linspace(0.0, 32.0), true),
        "Rotate" => (linspace(0.0, 135.0), true),
        "Solarize" => (linspace(255.0, 0.0), false),
        "Posterize" => {
            let per = (n - 1) as f64 / 6.0;
            let bits = (0..n).map(|i| 8.0 - (i as f64 / per).round_ties_even() as f32);
            (bits.collect(), false)
        }
        _ => return None,
    })
}

fn drawn(p: &Params) -> (&str, f32) {
    let Params::TrivialAugmentWide { op_name, magnitude } = p else {
        panic!("not TrivialAugmentWide's parameters: {p:?}")
    };
    (op_name.as_str(), *magnitude)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn trivial_draws_are_a_pure_function_of_seed_epoch_and_index(
        seed in any::<u64>(), epoch in 0u64..100, index in 0u64..10_000,
    ) {
        let aug = trivial(r#"{"interpolation": "bilinear"}"#);
        let a = aug.run_sample(Sample::new(image(12, 14)), seed, epoch, index).unwrap();
        let b = aug.run_sample(Sample::new(image(12, 14)), seed, epoch, index).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn every_drawn_magnitude_is_one_of_torchvisions_bins(seed in any::<u64>(), bins in 2usize..64) {
        let aug = trivial(&format!(r#"{{"num_magnitude_bins": {bins}}}"#));
        for i in 0..40 {
            let p = aug.draw(&mut sample_rng(seed, 0, i), [8, 8, 3]).unwrap();
            let (op, m) = drawn(&p[0]);
            prop_assert!(OPS.contains(&op), "{}", op);
            match torchvision_magnitudes(op, bins) {
                None => prop_assert_eq!(m, 0.0),
                Some((values, signed)) => {
                    prop_assert!(signed || m >= 0.0, "{} {}", op, m);
                    let close = values.iter().any(|v| (v - m.abs()).abs() <= 1e-4 * v.abs().max(1.0));
                    prop_assert!(close, "{} {} not in {:?}", op, m, values);
                }
            }
        }
    }
}

/// Regression: with 24 bins a forward-stepped `linspace(255, 0)` ended at -1.5e-5, a
/// negative solarize threshold (CI's proptest found it). Both ends must be exact.
#[test]
fn linspace_bins_end_exactly_on_the_ranges_ends() {
    for bins in [2usize, 7, 24, 31, 100, 1000] {
        let aug = trivial(&format!(r#"{{"num_magnitude_bins": {bins}}}"#));
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for i in 0..(bins as u64 * 14 * 30) {
            let p = aug.draw(&mut sample_rng(3, 0, i), [8, 8, 3]).unwrap();
            if let ("Solarize", m) = drawn(&p[0]) {
                (lo, hi) = (lo.min(m), hi.max(m));
            }
        }
        assert_eq!((lo, hi), (0.0, 255.0), "{bins} bins");
    }
}

#[test]
fn every_op_is_drawn_and_signed_ops_take_both_signs() {
    let aug = trivial("{}");
    let mut seen = std::collections::BTreeMap::<String, [bool; 2]>::new();
    for i in 0..3000 {
        let p = aug.draw(&mut sample_rng(5, 0, i), [8, 8, 3]).unwrap();
        let (op, m) = drawn(&p[0]);
        let e = seen.entry(op.to_string()).or_default();
        e[usize::from(m < 0.0)] = true;
    }
    assert_eq!(seen.len(), 14, "{seen:?}");
    for op in ["ShearX", "TranslateY", "Rotate", "Brightness", "Sharpness"] {
        assert_eq!(seen[op], [true, true], "{op}");
    }
    assert_eq!(seen["Solarize"], [true, false]);
}

#[test]
fn the_identity_op_leaves_the_image_bit_identical() {
    let aug = trivial("{}");
    let identity = Params::TrivialAugmentWide {
        op_name: "Identity".into(),
        magnitude: 0.0,
    };
    let before = resample_passes();
    let out = aug
        .transform(&[identity], Sample::new(image(9, 13)))
        .unwrap();
    assert_eq!(out.image, image(9, 13));
    assert_eq!(resample_passes(), before, "no resampling pass");
}

#[test]
fn drawn_warps_fuse_with_the_pipelines_geometric_chain() {
    let aug = Augment::from_json(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
            {"class_name": "TrivialAugmentWide", "config": {"interpolation": "bilinear"}},
            {"class_name": "CenterCrop", "config": {"height": 10, "width": 10}}]"#,
    )
    .unwrap();
    for (op_name, magnitude) in [("ShearX", -0.3), ("TranslateY", 5.0), ("Rotate", 30.0)] {
        let p = [
            Params::RandomFlip { flips: true },
            Params::TrivialAugmentWide {
                op_name: op_name.into(),
                magnitude,
            },
            Params::CenterCrop,
        ];
        let before = resample_passes();
        let out = aug.transform(&p, Sample::new(image(16, 20))).unwrap();
        assert_eq!(resample_passes() - before, 1, "{op_name}");
        assert_eq!(out.image.dim(), (10, 10, 3));
    }
}

fn one_op(op_name: &str, magnitude: f32, x: Array3<f32>) -> Array3<f32> {
    let p = Params::TrivialAugmentWide {
        op_name: op_name.into(),
        magnitude,
    };
    trivial("{}").transform(&[p], Sample::new(x)).unwrap().image
}

#[test]
fn the_ops_follow_torchvisions_formulas() {
    let x = image(6, 7);
    // Brightness: the image times 1 + m, clamped to 0..255.
    let bright = one_op("Brightness", 0.5, x.clone());
    assert_eq!(bright, x.mapv(|v| (v * 1.5).min(255.0)));
    // Solarize: values at or above the threshold are inverted.
    let solar = one_op("Solarize", 128.0, x.clone());
    assert_eq!(solar, x.mapv(|v| if v >= 128.0 { 255.0 - v } else { v }));
    // Posterize: keep the high bits of the integer part.
    let poster = one_op("Posterize", 2.0, x.clone());
    assert_eq!(poster, x.mapv(|v| f32::from((v as u8) & 0xC0)));
    // TranslateX: torchvision moves by int(m) whole pixels, filling with 0.
    let moved = one_op("TranslateX", 2.7, x.clone());
    assert_eq!(moved[[3, 4, 1]], x[[3, 2, 1]]);
    assert_eq!(moved[[3, 1, 1]], 0.0);
    // Color at -1 + ... : a negative magnitude pushes towards gray.
    let gray = one_op("Color", -0.99, x.clone());
    let spread = |a: &Array3<f32>| (a[[2, 2, 0]] - a[[2, 2, 2]]).abs();
    assert!(spread(&gray) < 0.05 * spread(&x));
}

#[test]
fn bad_trivial_configs_and_parameters_are_typed_errors_naming_them() {
    let json = |config: &str| {
        Augment::from_json(&format!(
            r#"[{{"class_name": "TrivialAugmentWide", "config": {config}}}]"#
        ))
    };
    let e = json(r#"{"num_magnitude_bins": 1}"#).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "num_magnitude_bins",
                ..
            }
        ),
        "{e}"
    );
    let e = json(r#"{"interpolation": "bicubic"}"#).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                name: "interpolation",
                ..
            }
        ),
        "{e}"
    );
    let e = json(r#"{"fill": [0, 10, 20]}"#).unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { name: "fill", .. }),
        "{e}"
    );
    let e = json(r#"{"magnitude_bins": 31}"#).unwrap_err();
    assert!(e.to_string().contains("magnitude_bins"), "{e}");
    let aug = trivial("{}");
    let twist = Params::TrivialAugmentWide {
        op_name: "Twist".into(),
        magnitude: 0.0,
    };
    let e = aug
        .transform(&[twist], Sample::new(image(4, 4)))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "op_name",
                ..
            }
        ),
        "{e}"
    );
    let wide = Params::TrivialAugmentWide {
        op_name: "Rotate".into(),
        magnitude: 200.0,
    };
    let e = aug
        .transform(&[wide], Sample::new(image(4, 4)))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "magnitude",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn augmix_draws_replay_and_depend_only_on_seed_epoch_and_index() {
    let aug = Augment::from_json(
        r#"[{"class_name": "AugMix", "config": {"num_chains": 2, "chain_depth": 3, "alpha": 0.5}}]"#,
    )
    .unwrap();
    for index in 0..6 {
        let (a, pa) = aug
            .run_sample(Sample::new(image(12, 10)), 3, 1, index)
            .unwrap();
        let (b, pb) = aug
            .run_sample(Sample::new(image(12, 10)), 3, 1, index)
            .unwrap();
        assert_eq!((&a, &pa), (&b, &pb));
        // The draw, printed and read back, replays to the same bits.
        let text = serde_json::to_string(&pa).unwrap();
        let back: Vec<Params> = serde_json::from_str(&text).unwrap();
        let replay = aug.transform(&back, Sample::new(image(12, 10))).unwrap();
        assert_eq!(replay.image, a.image);
        assert!(a.image.iter().all(|v| (0.0..=255.0).contains(v)));
    }
}

#[test]
fn augmix_chains_fuse_their_warps_and_bad_configs_name_the_parameter() {
    let aug = Augment::from_json(r#"[{"class_name": "AugMix", "config": {}}]"#).unwrap();
    let step = |layer_name: &str, transformation: Params| ChainStep {
        layer_name: layer_name.into(),
        transformation,
    };
    let p = Params::AugMix {
        chain_mixing_weights: vec![1.0],
        weight_sample: 0.25,
        chain_transforms: vec![vec![
            step(
                "random_shear",
                Params::RandomShear {
                    shear_factor: [0.1, 0.0],
                },
            ),
            step("random_rotation", Params::RandomRotation { angle: 5.0 }),
        ]],
    };
    let before = resample_passes();
    aug.transform(&[p], Sample::new(image(8, 8))).unwrap();
    assert_eq!(
        resample_passes() - before,
        1,
        "one pass for the chain's two warps"
    );
    for (config, name) in [
        (r#"{"num_chains": 0}"#, "num_chains"),
        (r#"{"alpha": -1}"#, "alpha"),
        (r#"{"factor": 2}"#, "factor"),
    ] {
        let e = Augment::from_json(&format!(
            r#"[{{"class_name": "AugMix", "config": {config}}}]"#
        ))
        .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter { name: n, .. } if *n == name),
            "{e}"
        );
    }
}
