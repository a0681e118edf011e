//! Property tests of `augflow::augment`: draws are a pure function of (seed, epoch, index),
//! every op maps finite images to finite images, drawn parameters survive JSON, and the fused
//! pipeline equals the ops applied one at a time.

use augflow::augment::*;
use augflow::rng::sample_rng;
use ndarray::Array3;
use proptest::prelude::*;

fn vr() -> impl Strategy<Value = [f64; 2]> {
    prop_oneof![Just([0.0, 255.0]), Just([0.0, 1.0]), Just([-1.0, 1.0])]
}

/// Factors with at most 6 decimals, as people write them: serde_json (without its
/// `float_roundtrip` feature) may read a 17-digit float back 1 ulp off.
fn short(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn num(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..=hi).prop_map(short)
}

fn pair(lo: f64, hi: f64) -> impl Strategy<Value = Factor> {
    (lo..=hi, lo..=hi).prop_map(|(a, b)| Factor::Range([short(a.min(b)), short(a.max(b))]))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (pair(-1.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomBrightness(
            RandomBrightness {
                factor,
                value_range
            }
        )),
        (pair(0.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomContrast(
            RandomContrast {
                factor,
                value_range
            }
        )),
        (pair(0.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomSaturation(
            RandomSaturation {
                factor,
                value_range
            }
        )),
        (pair(0.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomHue(RandomHue {
            factor,
            value_range
        })),
        (pair(0.0, 1.0), pair(0.0, 1.0), vr()).prop_map(|(b, h, value_range)| {
            Op::RandomColorJitter(RandomColorJitter {
                value_range,
                brightness_factor: Some(b),
                contrast_factor: Some(h),
                saturation_factor: Some(b),
                hue_factor: Some(h),
            })
        }),
        num(0.0, 1.0).prop_map(|factor| Op::RandomGrayscale(RandomGrayscale { factor })),
        (pair(-1.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomColorDegeneration(
            RandomColorDegeneration {
                factor,
                value_range
            }
        )),
        (pair(0.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomSharpness(
            RandomSharpness {
                factor,
                value_range
            }
        )),
        (pair(0.0, 1.0), vr()).prop_map(|(factor, value_range)| Op::RandomInvert(RandomInvert {
            factor,
            value_range
        })),
        (pair(1.0, 8.0), vr()).prop_map(|(factor, value_range)| Op::RandomPosterization(
            RandomPosterization {
                factor,
                value_range
            }
        )),
        (pair(0.0, 1.0), pair(0.0, 1.0), vr()).prop_map(
            |(addition_factor, threshold_factor, value_range)| Op::Solarization(Solarization {
                addition_factor,
                threshold_factor,
                value_range
            })
        ),
        vr().prop_map(|value_range| Op::AutoContrast(AutoContrast { value_range })),
        (vr(), 2usize..=256)
            .prop_map(|(value_range, bins)| Op::Equalization(Equalization { value_range, bins })),
        (pair(0.0, 1.0), 1usize..6, 1usize..6, pair(0.0, 3.0), vr()).prop_map(
            |(factor, kx, ky, sigma, value_range)| Op::RandomGaussianBlur(RandomGaussianBlur {
                factor,
                kernel_size: Size::Pair([kx, ky]),
                sigma,
                value_range
            })
        ),
        (
            pair(0.0, 1.0),
            pair(0.0, 1.0),
            proptest::option::of(num(-300.0, 300.0)),
            vr()
        )
            .prop_map(|(factor, scale, fill, value_range)| Op::RandomErasing(
                RandomErasing {
                    factor,
                    scale,
                    fill_value: fill.map(Scalars::One),
                    value_range
                }
            )),
        (num(-10.0, 10.0), num(-10.0, 10.0)).prop_map(|(s, offset)| Op::Rescaling(Rescaling {
            scale: Scalars::One(s),
            offset
        })),
        (num(-100.0, 100.0), num(0.0, 1000.0), any::<bool>()).prop_map(|(m, v, invert)| {
            Op::Normalization(Normalization {
                axis: serde_json::json!(-1),
                mean: Scalars::One(m),
                variance: Scalars::One(v),
                invert,
            })
        }),
    ]
}

fn image() -> impl Strategy<Value = Array3<f32>> {
    (1usize..9, 1usize..9).prop_flat_map(|(h, w)| {
        proptest::collection::vec(-300.0f32..300.0, h * w * 3)
            .prop_map(move |v| Array3::from_shape_vec((h, w, 3), v).expect("shape"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn draws_depend_only_on_seed_epoch_and_index(ops in proptest::collection::vec(op(), 1..5), seed: u64, epoch in 0u64..100, index in 0u64..10_000) {
        let aug = ops.into_iter().try_fold(Augment::new(), |a, op| a.with(op)).expect("valid ops");
        let a = aug.draw(&mut sample_rng(seed, epoch, index), [16, 12, 3]).expect("draw");
        let b = aug.draw(&mut sample_rng(seed, epoch, index), [16, 12, 3]).expect("draw");
        prop_assert_eq!(a, b);
    }

    #[test]
    fn every_op_maps_finite_images_to_finite_images(op in op(), img in image(), seed: u64) {
        let mut out = img.clone();
        let aug = Augment::new().with(op).expect("valid op");
        aug.run(&mut out, seed, 0, 0).expect("apply");
        prop_assert!(out.iter().all(|v| v.is_finite()), "{:?} gave {:?}", aug, out);
    }

    #[test]
    fn drawn_params_and_ops_round_trip_through_json(op in op(), seed: u64) {
        let p = op.draw(&mut sample_rng(seed, 1, 2), [10, 11, 3]).expect("draw");
        let text = serde_json::to_string(&p).expect("serialize");
        prop_assert_eq!(serde_json::from_str::<Params>(&text).expect("deserialize"), p);
        let aug = Augment::new().with(op).expect("valid op");
        prop_assert_eq!(Augment::from_json(&aug.to_json()).expect("read back"), aug);
    }

    #[test]
    fn the_fused_pipeline_equals_the_ops_one_at_a_time(ops in proptest::collection::vec(op(), 1..6), img in image(), seed: u64) {
        let aug = ops.iter().cloned().try_fold(Augment::new(), |a, op| a.with(op)).expect("valid ops");
        let (h, w, c) = img.dim();
        let params = aug.draw(&mut sample_rng(seed, 0, 0), [h, w, c]).expect("draw");
        let mut fused = img.clone();
        aug.apply(&params, fused.view_mut()).expect("fused");
        let mut stepwise = img;
        for (op, p) in ops.iter().zip(&params) {
            op.apply(p, stepwise.view_mut()).expect("one op");
        }
        // Bit-identical, NaN-free: the same arithmetic per element, only the loop order differs.
        prop_assert_eq!(fused.mapv(f32::to_bits), stepwise.mapv(f32::to_bits));
    }
}

#[test]
fn a_replayed_draw_gives_the_same_image_as_the_run() {
    let aug = Augment::from_json(
        r#"[{"class_name": "RandomColorJitter", "config": {"brightness_factor": 0.3, "contrast_factor": 0.4, "saturation_factor": 0.5, "hue_factor": 0.2}},
            {"class_name": "RandomErasing", "config": {}}]"#,
    )
    .expect("valid pipeline");
    let img = Array3::from_shape_fn((12, 10, 3), |(y, x, c)| {
        ((y * 31 + x * 7 + c * 50) % 256) as f32
    });
    let mut run = img.clone();
    let params = aug.run(&mut run, 5, 2, 9).expect("run");
    let stored: Vec<Params> =
        serde_json::from_str(&serde_json::to_string(&params).unwrap()).unwrap();
    let mut replay = img;
    aug.apply(&stored, replay.view_mut()).expect("replay");
    assert_eq!(run, replay);
}

#[test]
fn different_samples_get_different_draws() {
    let aug = Augment::new()
        .with(Op::RandomContrast(RandomContrast {
            factor: 0.5.into(),
            value_range: [0.0, 255.0],
        }))
        .expect("valid op");
    let draws: std::collections::BTreeSet<String> = (0..20)
        .map(|i| {
            serde_json::to_string(&aug.draw(&mut sample_rng(3, 0, i), [4, 4, 3]).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(draws.len(), 20);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn mixup_and_cutmix_draws_are_deterministic_valid_and_round_trip(seed: u64, n in 1usize..6, h in 1usize..9, w in 1usize..9, alpha in 0.01f64..4.0, f in 0.0f64..=1.0) {
        let mixup = MixUp {
            alpha,
            bounding_box_format: None,
        };
        let a = mixup.draw(&mut sample_rng(seed, 0, 0), n).expect("draw");
        prop_assert_eq!(&a, &mixup.draw(&mut sample_rng(seed, 0, 0), n).expect("draw"));
        let text = serde_json::to_string(&a).expect("json");
        prop_assert_eq!(&serde_json::from_str::<MixUpParams>(&text).expect("json"), &a);
        let cutmix = CutMix { factor: Factor::Scalar(f) };
        let c = cutmix.draw(&mut sample_rng(seed, 0, 0), [n, h, w]).expect("draw");
        prop_assert_eq!(&c, &cutmix.draw(&mut sample_rng(seed, 0, 0), [n, h, w]).expect("draw"));
        let mut x = ndarray::Array4::from_shape_fn((n, h, w, 3), |(i, y, xx, ch)| (i * 50 + y * 3 + xx + ch) as f32);
        let mut labels = ndarray::Array2::<f32>::eye(n);
        mixup.apply(&a, x.view_mut(), Some(labels.view_mut())).expect("mixup");
        cutmix.apply(&c, x.view_mut(), Some(labels.view_mut())).expect("cutmix");
        prop_assert!(x.iter().all(|v| v.is_finite()));
        for row in labels.rows() {
            prop_assert!((row.sum() - 1.0).abs() < 1e-5, "label rows still sum to 1: {:?}", labels);
        }
    }
}
