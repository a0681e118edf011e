//! Property tests of the core: no panic on any parameters, errors (not panics) on bad input,
//! and the range guarantee of bilinear interpolation with nearest fill.

use augflow::rng::{sample_rng, unit_f64};
use augflow::transform::{Warp, WarpOptions, sampling_map, warp};
use augflow::{
    DataFormat, Error, FillMode, GeneratorConfig, Geometry, ImageDataGenerator, TransformParams,
};
use ndarray::{Array3, Array4};
use proptest::prelude::*;

fn fill_mode() -> impl Strategy<Value = FillMode> {
    prop_oneof![
        Just(FillMode::Nearest),
        Just(FillMode::Constant),
        Just(FillMode::Reflect),
        Just(FillMode::Wrap),
    ]
}

fn data_format() -> impl Strategy<Value = DataFormat> {
    prop_oneof![
        Just(DataFormat::ChannelsLast),
        Just(DataFormat::ChannelsFirst)
    ]
}

fn geometry() -> impl Strategy<Value = Geometry> {
    prop_oneof![Just(Geometry::Corrected), Just(Geometry::Keras)]
}

/// Image dimensions `(h, w, c)` within the documented ranges of the task.
fn dims() -> impl Strategy<Value = (usize, usize, usize)> {
    (
        1usize..40,
        1usize..40,
        prop_oneof![Just(1usize), Just(3), Just(4)],
    )
}

/// Parameters a generator can draw: rotations of any angle, shifts up to twice the image,
/// shears short of 90°, zooms from 0.1 to 3, flips, channel shift, brightness.
fn params() -> impl Strategy<Value = TransformParams> {
    (
        (
            -360.0f64..360.0,
            -80.0f64..80.0,
            -80.0f64..80.0,
            -85.0f64..85.0,
        ),
        (0.1f64..3.0, 0.1f64..3.0, any::<bool>(), any::<bool>()),
        (
            proptest::option::of(-100.0f64..100.0),
            proptest::option::of(0.0f64..2.0),
        ),
    )
        .prop_map(
            |((theta, tx, ty, shear), (zx, zy, fh, fv), (cs, br))| TransformParams {
                theta,
                tx,
                ty,
                shear,
                zx,
                zy,
                flip_horizontal: fh,
                flip_vertical: fv,
                channel_shift_intensity: cs,
                brightness: br,
            },
        )
}

fn image(fmt: DataFormat, (h, w, c): (usize, usize, usize), seed: u64) -> Array3<u8> {
    let mut rng = sample_rng(seed, 0, 0);
    Array3::from_shape_fn(fmt.image_shape(h, w, c), |_| {
        (unit_f64(&mut rng) * 256.0) as u8
    })
}

fn generator(
    fmt: DataFormat,
    fill: FillMode,
    order: u32,
    geometry: Geometry,
    cval: f64,
) -> ImageDataGenerator {
    ImageDataGenerator::new(GeneratorConfig {
        data_format: fmt,
        fill_mode: fill,
        interpolation_order: order,
        geometry,
        cval,
        ..Default::default()
    })
    .expect("valid configuration")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_parameters_within_the_documented_ranges_panic(
        d in dims(), fmt in data_format(), fill in fill_mode(), order in 0u32..2,
        geometry in geometry(), p in params(), cval in -10.0f64..300.0, seed in any::<u64>(),
    ) {
        let g = generator(fmt, fill, order, geometry, cval);
        let x = image(fmt, d, seed);
        let out: Array3<f32> = g.apply_transform(x.view(), &p).expect("valid input");
        prop_assert_eq!(out.shape(), x.shape());
        prop_assert!(out.iter().all(|v| v.is_finite()));
        // Drawing from a generator with every range set also works on this shape.
        let full = ImageDataGenerator::builder()
            .data_format(fmt).fill_mode(fill).interpolation_order(order).geometry(geometry)
            .rotation_range(180.0).width_shift_range(0.5).height_shift_range(3)
            .shear_range(45.0).zoom_range((0.5, 2.0)).channel_shift_range(50.0)
            .brightness_range(0.2, 1.8).horizontal_flip(true).vertical_flip(true)
            .samplewise_std_normalization(true).rescale(1.0 / 255.0)
            .build().expect("valid configuration");
        let mut out64 = Array3::<f64>::zeros(x.raw_dim());
        full.transform_sample_into(x.view(), out64.view_mut(), &mut sample_rng(seed, 1, 2), true)
            .expect("valid input");
        prop_assert!(out64.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn nearest_fill_with_bilinear_stays_within_the_input_range(
        d in dims(), fmt in data_format(), geometry in geometry(), p in params(), seed in any::<u64>(),
    ) {
        // Bilinear weights are non-negative and sum to one; nearest fill only clamps taps.
        // The weights are f32 products of `1 - f` and `f`, so their sum is one within a
        // few ulps: a flat 255 region can read 255.00002 (found by this test), never more.
        let p = TransformParams { channel_shift_intensity: None, brightness: None, ..p };
        let g = generator(fmt, FillMode::Nearest, 1, geometry, 0.0);
        let x = image(fmt, d, seed);
        let lo = *x.iter().min().unwrap() as f32;
        let hi = *x.iter().max().unwrap() as f32;
        let ulps = 4.0 * f32::EPSILON * hi.max(1.0);
        let out: Array3<f32> = g.apply_transform(x.view(), &p).unwrap();
        for &v in &out {
            prop_assert!(lo - ulps <= v && v <= hi + ulps, "{} outside [{}, {}]", v, lo, hi);
        }
    }

    #[test]
    fn non_finite_parameters_are_errors(
        d in dims(), fmt in data_format(), geometry in geometry(), field in 0usize..8,
        bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
    ) {
        let mut p = TransformParams::default();
        let name = match field {
            0 => { p.theta = bad; "theta" }
            1 => { p.tx = bad; "tx" }
            2 => { p.ty = bad; "ty" }
            3 => { p.shear = bad; "shear" }
            4 => { p.zx = bad; "zx" }
            5 => { p.zy = bad; "zy" }
            6 => { p.channel_shift_intensity = Some(bad); "channel_shift_intensity" }
            _ => { p.brightness = Some(bad); "brightness" }
        };
        let g = generator(fmt, FillMode::Nearest, 1, geometry, 0.0);
        let x = image(fmt, d, 0);
        match g.apply_transform::<u8, f32>(x.view(), &p) {
            Err(Error::InvalidParameter { name: got, .. }) => prop_assert_eq!(got, name),
            other => prop_assert!(false, "{}: {:?}", name, other.map(|_| ())),
        }
    }

    #[test]
    fn zero_sized_images_are_errors(
        (h, w, c) in (0usize..5, 0usize..5, 0usize..5).prop_filter("some zero", |(h, w, c)| *h == 0 || *w == 0 || *c == 0),
        fmt in data_format(), p in params(),
    ) {
        let g = ImageDataGenerator::builder().data_format(fmt).featurewise_center(true)
            .rotation_range(30.0).build().unwrap();
        let x = Array3::<f32>::zeros(fmt.image_shape(h, w, c));
        let is_shape = |r: &augflow::Result<()>| matches!(r, Err(Error::Shape { .. }));
        prop_assert!(is_shape(&g.apply_transform::<f32, f32>(x.view(), &p).map(|_| ())));
        prop_assert!(is_shape(&g.random_transform::<f32, f32>(x.view(), &mut sample_rng(0, 0, 0)).map(|_| ())));
        let mut y = x.clone();
        prop_assert!(is_shape(&g.standardize(y.view_mut())));
        let opts = WarpOptions::default().data_format(fmt);
        prop_assert!(is_shape(&warp::<f32, f32>(x.view(), &Warp::default(), &opts).map(|_| ())));
        let batch = Array4::<f32>::zeros((2, x.shape()[0], x.shape()[1], x.shape()[2]));
        let mut g = g;
        prop_assert!(is_shape(&g.fit(batch.view())));
    }

    #[test]
    fn mismatched_output_shapes_are_errors(d in dims(), fmt in data_format(), extra in 1usize..3) {
        let g = generator(fmt, FillMode::Nearest, 1, Geometry::Corrected, 0.0);
        let x = image(fmt, d, 1);
        let s = x.shape();
        let mut out = Array3::<f32>::zeros((s[0], s[1] + extra, s[2]));
        let r = g.apply_transform_into(x.view(), &TransformParams { theta: 10.0, ..Default::default() }, out.view_mut());
        prop_assert!(matches!(r, Err(Error::Shape { name: "output", .. })), "{:?}", r);
    }

    #[test]
    fn extreme_finite_parameters_never_panic(
        d in dims(), fmt in data_format(), fill in fill_mode(), order in 0u32..2, geometry in geometry(),
        big in prop_oneof![Just(1e300), Just(-1e300), Just(1e18), Just(-1e18), Just(1e-300), Just(f64::MAX), Just(f64::MIN)],
        field in 0usize..6,
    ) {
        let mut p = TransformParams::default();
        match field {
            0 => p.theta = big,
            1 => p.tx = big,
            2 => p.ty = big,
            3 => p.shear = big,
            4 => p.zx = big,
            _ => { p.zx = big; p.zy = big; p.theta = 30.0 }
        }
        let g = generator(fmt, fill, order, geometry, 0.0);
        let x = image(fmt, d, 2);
        // Either an error naming a bad value, or an image; never a panic.
        let _ = g.apply_transform::<u8, f32>(x.view(), &p);
        let map = sampling_map(&p, d.0, d.1, geometry);
        let _ = warp::<u8, f64>(x.view(), &Warp { map, ..Default::default() }, &g.warp_options());
    }
}
