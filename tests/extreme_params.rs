//! Extreme generator parameters: refused at `build()` with the argument's name when they could
//! produce non-finite pixels or a singular matrix; otherwise finite output from finite input.

use augflow::generator::{ANGLE_LIMIT, PIXEL_LIMIT, SHIFT_LIMIT, ZOOM_LIMIT};
use augflow::rng::sample_rng;
use augflow::{
    Error, FillMode, FitOptions, GeneratorConfig, Geometry, ImageDataGenerator, Sequence,
    ShiftRange, ZoomRange,
};
use ndarray::{Array3, Array4};
use proptest::prelude::*;

fn invalid_name(r: augflow::Result<ImageDataGenerator>) -> &'static str {
    match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        Err(e) => panic!("expected InvalidParameter, got {e}"),
        Ok(_) => panic!("built"),
    }
}

#[test]
fn huge_factors_are_refused_at_build_naming_the_argument() {
    let b = ImageDataGenerator::builder;
    assert_eq!(invalid_name(b().rescale(1e308).build()), "rescale");
    assert_eq!(
        invalid_name(b().brightness_range(-1e308, 1e308).build()),
        "brightness_range"
    );
    assert_eq!(invalid_name(b().cval(1e300).build()), "cval");
    assert_eq!(
        invalid_name(b().channel_shift_range(1e308).build()),
        "channel_shift_range"
    );
}

#[test]
fn huge_ranges_are_refused_at_build_not_at_the_first_batch() {
    let b = ImageDataGenerator::builder;
    assert_eq!(
        invalid_name(b().rotation_range(1e308).build()),
        "rotation_range"
    );
    assert_eq!(invalid_name(b().shear_range(1e308).build()), "shear_range");
    assert_eq!(
        invalid_name(b().width_shift_range(1e308).build()),
        "width_shift_range"
    );
    assert_eq!(
        invalid_name(b().height_shift_range(vec![1.0, -1e308]).build()),
        "height_shift_range"
    );
    assert_eq!(invalid_name(b().zoom_range(1e308).build()), "zoom_range");
    assert_eq!(
        invalid_name(b().zoom_range((0.5, 1e308)).build()),
        "zoom_range"
    );
}

#[test]
fn zoom_ranges_through_zero_are_refused_as_singular() {
    // Keras' zoom_range = 1.0 is [0, 2]: a draw of 0 collapses the image to a line.
    for z in [
        ZoomRange::Scalar(1.0),
        ZoomRange::Scalar(1.5),
        ZoomRange::Pair(0.0, 1.0),
    ] {
        let err = ImageDataGenerator::builder()
            .zoom_range(z)
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidParameter {
                name: "zoom_range",
                ..
            }
        ));
        assert!(err.to_string().contains("[1e-6, 1e6]"), "{err}");
    }
    // Reversed pairs and scalars under 1 stay accepted.
    for z in [
        ZoomRange::Scalar(0.9),
        ZoomRange::Pair(2.0, 0.5),
        ZoomRange::Scalar(-0.2),
    ] {
        ImageDataGenerator::builder().zoom_range(z).build().unwrap();
    }
}

#[test]
fn a_usize_max_shift_is_reported_with_its_value_not_as_minus_one() {
    let err = ImageDataGenerator::builder()
        .width_shift_range(usize::MAX)
        .build()
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(
        err,
        Error::InvalidParameter {
            name: "width_shift_range",
            ..
        }
    ));
    assert!(msg.contains("got 18446744073709552000"), "{msg}");
    assert!(!msg.contains("-1"), "{msg}");
    assert_eq!(ShiftRange::from(7usize), ShiftRange::Int(7));
    assert_eq!(ShiftRange::from(7u64), ShiftRange::Int(7));
}

#[test]
fn limits_themselves_are_accepted_and_give_finite_pixels() {
    let datagen = ImageDataGenerator::builder()
        .rotation_range(ANGLE_LIMIT)
        .shear_range(ANGLE_LIMIT)
        .width_shift_range(SHIFT_LIMIT)
        .height_shift_range(SHIFT_LIMIT as i64)
        .zoom_range((1.0 / ZOOM_LIMIT, ZOOM_LIMIT))
        .rescale(-PIXEL_LIMIT)
        .brightness_range(-PIXEL_LIMIT, PIXEL_LIMIT)
        .cval(PIXEL_LIMIT)
        .channel_shift_range(PIXEL_LIMIT)
        .samplewise_std_normalization(true)
        .build()
        .unwrap();
    for (k, fill) in [
        FillMode::Reflect,
        FillMode::Wrap,
        FillMode::Constant,
        FillMode::Nearest,
    ]
    .into_iter()
    .enumerate()
    {
        let mut cfg = datagen.config().clone();
        cfg.fill_mode = fill;
        let g = ImageDataGenerator::new(cfg).unwrap();
        assert_finite_output(&g, &image(9, 40, PIXEL_LIMIT as f32), k as u64).unwrap();
    }
}

#[test]
fn fit_rounds_that_cannot_be_allocated_are_an_error_not_an_abort() {
    let mut datagen = ImageDataGenerator::builder()
        .featurewise_center(true)
        .rotation_range(10.0)
        .build()
        .unwrap();
    let x = Array4::<u8>::from_elem((2, 3, 3, 1), 5);
    for rounds in [1usize << 62, usize::MAX] {
        let opts = FitOptions {
            augment: true,
            rounds,
            seed: Some(1),
        };
        let err = datagen.fit_with(x.view(), opts).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "rounds", .. }),
            "{err}"
        );
        assert!(err.to_string().contains(&rounds.to_string()), "{err}");
    }
    assert_eq!(datagen.stats().mean, None);
    datagen
        .fit_with(
            x.view(),
            FitOptions {
                augment: true,
                rounds: 3,
                seed: Some(1),
            },
        )
        .unwrap();
    assert_eq!(datagen.stats().mean.as_deref(), Some(&[5.0f32][..]));
}

/// A magnitude anywhere from 1e-3 to 1e308, either sign: most are refused, some accepted.
fn extreme() -> impl Strategy<Value = f64> {
    (-3i32..=308, 1.0f64..10.0, any::<bool>()).prop_map(|(e, m, neg)| {
        let v = (m * 10f64.powi(e)).min(f64::MAX);
        if neg { -v } else { v }
    })
}

/// A magnitude within `limit`, log-spread, either sign: always accepted where signs are.
fn within(limit: f64) -> impl Strategy<Value = f64> {
    (0.0f64..=1.0, any::<bool>()).prop_map(move |(t, neg)| {
        let v = limit.powf(t) * if t == 1.0 { 1.0 } else { 0.999 };
        if neg { -v } else { v }
    })
}

fn value(limit: f64) -> impl Strategy<Value = f64> {
    prop_oneof![extreme(), within(limit), Just(0.0)]
}

fn config() -> impl Strategy<Value = GeneratorConfig> {
    let geometry = (
        value(ANGLE_LIMIT),
        value(ANGLE_LIMIT),
        value(SHIFT_LIMIT),
        value(SHIFT_LIMIT),
        (value(ZOOM_LIMIT), value(ZOOM_LIMIT)),
        prop_oneof![
            Just(FillMode::Nearest),
            Just(FillMode::Constant),
            Just(FillMode::Reflect),
            Just(FillMode::Wrap)
        ],
        0u32..2,
        prop_oneof![Just(Geometry::Corrected), Just(Geometry::Keras)],
    );
    let photometric = (
        value(PIXEL_LIMIT),
        value(PIXEL_LIMIT),
        proptest::option::of((value(PIXEL_LIMIT), value(PIXEL_LIMIT))),
        proptest::option::of(value(PIXEL_LIMIT)),
        any::<(bool, bool)>(),
    );
    (geometry, photometric).prop_map(
        |((rot, shear, ws, hs, (z0, z1), fill, order, geo), (cval, cs, bright, rescale, sw))| {
            GeneratorConfig {
                rotation_range: rot.abs(),
                shear_range: shear.abs(),
                width_shift_range: ShiftRange::Float(ws),
                height_shift_range: ShiftRange::List(vec![hs, 1.0]),
                zoom_range: ZoomRange::Pair(z0.abs(), z1.abs()),
                fill_mode: fill,
                interpolation_order: order,
                geometry: geo,
                cval,
                channel_shift_range: cs.abs(),
                brightness_range: bright.map(|(a, b)| [a, b]),
                rescale,
                samplewise_center: sw.0,
                samplewise_std_normalization: sw.1,
                horizontal_flip: true,
                ..Default::default()
            }
        },
    )
}

/// The fields a refusal may name for `cfg`.
const FIELDS: [&str; 9] = [
    "rotation_range",
    "shear_range",
    "width_shift_range",
    "height_shift_range",
    "zoom_range",
    "cval",
    "channel_shift_range",
    "brightness_range",
    "rescale",
];

fn accepted_config() -> impl Strategy<Value = GeneratorConfig> {
    (
        (
            within(ANGLE_LIMIT),
            within(ANGLE_LIMIT),
            within(SHIFT_LIMIT),
            within(SHIFT_LIMIT),
        ),
        (
            within(ZOOM_LIMIT),
            within(ZOOM_LIMIT),
            within(PIXEL_LIMIT),
            within(PIXEL_LIMIT),
        ),
        (
            within(PIXEL_LIMIT),
            within(PIXEL_LIMIT),
            within(PIXEL_LIMIT),
        ),
        (0u32..2, any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |((rot, shear, ws, hs), (z0, z1, cval, cs), (b0, b1, r), (order, keras, reflect))| {
                GeneratorConfig {
                    rotation_range: rot.abs(),
                    shear_range: shear.abs(),
                    width_shift_range: ShiftRange::Float(ws),
                    height_shift_range: ShiftRange::Float(hs),
                    zoom_range: ZoomRange::Pair(z0.abs(), 1.0 / z1.abs()),
                    fill_mode: if reflect {
                        FillMode::Reflect
                    } else {
                        FillMode::Wrap
                    },
                    interpolation_order: order,
                    geometry: if keras {
                        Geometry::Keras
                    } else {
                        Geometry::Corrected
                    },
                    cval,
                    channel_shift_range: cs.abs(),
                    brightness_range: Some([b0, b1]),
                    rescale: Some(r),
                    samplewise_std_normalization: true,
                    vertical_flip: true,
                    ..Default::default()
                }
            },
        )
}

/// Draws, warps and standardizes `x` four times, in f32 and f64: every pixel finite.
fn assert_finite_output(
    datagen: &ImageDataGenerator,
    x: &Array3<f32>,
    seed: u64,
) -> Result<(), TestCaseError> {
    for draw in 0..4 {
        let mut rng = sample_rng(seed, 0, draw);
        let mut out: Array3<f32> = datagen.random_transform(x.view(), &mut rng).unwrap();
        datagen.standardize(out.view_mut()).unwrap();
        prop_assert!(
            out.iter().all(|v| v.is_finite()),
            "f32 draw {}: {:?}",
            draw,
            out
        );
        let mut rng = sample_rng(seed, 0, draw);
        let mut out: Array3<f64> = datagen.random_transform(x.view(), &mut rng).unwrap();
        datagen.standardize(out.view_mut()).unwrap();
        prop_assert!(
            out.iter().all(|v| v.is_finite()),
            "f64 draw {}: {:?}",
            draw,
            out
        );
    }
    Ok(())
}

fn image(h: usize, w: usize, scale: f32) -> Array3<f32> {
    Array3::from_shape_fn((h, w, 3), |(r, c, k)| {
        let t = ((r * 7 + c * 13 + k * 5) % 17) as f32 / 8.0 - 1.0;
        t * scale
    })
}

fn scale() -> impl Strategy<Value = f32> {
    prop_oneof![Just(1.0f32), Just(255.0), Just(PIXEL_LIMIT as f32)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Parameters anywhere within the limits build, and give finite pixels from finite input.
    #[test]
    fn extreme_accepted_parameters_give_finite_pixels(
        cfg in accepted_config(),
        seed in any::<u64>(),
        (h, w) in (1usize..24, 1usize..48),
        scale in scale(),
    ) {
        let datagen = ImageDataGenerator::new(cfg).unwrap();
        let x = image(h, w, scale);
        assert_finite_output(&datagen, &x, seed)?;
        // The iterators' path (rescale folded into the warp where it can be) too.
        let batch = ndarray::stack![ndarray::Axis(0), x, x];
        let it = datagen.flow(batch).seed(seed).build().unwrap();
        let b = it.get(0).unwrap();
        prop_assert!(b.x.iter().all(|v| v.is_finite()), "flow: {:?}", b.x);
    }

    /// Every configuration is either refused at `build()`, naming one of its fields, or gives
    /// finite pixels (f32 and f64, after standardization) from finite input within
    /// `PIXEL_LIMIT`, on every draw.
    #[test]
    fn extreme_parameters_never_give_non_finite_pixels(
        cfg in config(),
        seed in any::<u64>(),
        (h, w) in (1usize..12, 1usize..12),
        scale in scale(),
    ) {
        let datagen = match ImageDataGenerator::new(cfg) {
            Err(Error::InvalidParameter { name, .. }) => {
                prop_assert!(FIELDS.contains(&name), "refused naming {}", name);
                return Ok(());
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(g) => g,
        };
        assert_finite_output(&datagen, &image(h, w, scale), seed)?;
    }
}

#[test]
fn explicit_warp_parameters_that_overflow_are_refused_naming_the_key() {
    use augflow::TransformParams;
    let x = Array3::from_shape_fn((7, 9, 3), |(r, c, k)| (r * 31 + c * 7 + k) as f32);
    let datagen = ImageDataGenerator::builder()
        .geometry(Geometry::Keras)
        .build()
        .unwrap();
    // A zoom of 1e300 gave NaN pixels with nearest fill (weights overflow).
    for (p, name) in [
        (
            TransformParams {
                zx: 1e300,
                ..Default::default()
            },
            "zx",
        ),
        (
            TransformParams {
                zy: -1e300,
                ..Default::default()
            },
            "zy",
        ),
        (
            TransformParams {
                ty: 1e300,
                ..Default::default()
            },
            "ty",
        ),
        (
            TransformParams {
                brightness: Some(1e308),
                ..Default::default()
            },
            "brightness",
        ),
    ] {
        let err = datagen
            .apply_transform::<f32, f32>(x.view(), &p)
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: n, .. } if n == name),
            "{err}"
        );
    }
    let ok = TransformParams {
        zx: ZOOM_LIMIT,
        tx: 1e12,
        ..Default::default()
    };
    let out: Array3<f32> = datagen.apply_transform(x.view(), &ok).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
}
