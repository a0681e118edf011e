//! Behaviour tests of the core: transforms, parameter draws, validation, standardize and fit.
//!
//! Expected values come from the spec (`reference-semantics.md`, cited by section) or from
//! first principles (a flip is a reversal, a quarter turn is a transpose plus a reversal).

use augflow::rng::{SampleRng, sample_rng, unit_f64};
use augflow::transform::{OutPixel, Pixel, Warp, WarpOptions, warp};
use augflow::{
    BoxError, DataFormat, Error, FillMode, FitOptions, GeneratorConfig, Geometry,
    ImageDataGenerator, ImageDataGeneratorBuilder, Interpolation, ShiftRange, TransformParams,
};
use ndarray::{Array2, Array3, Array4, ArrayView3, ArrayViewMut3, Axis, array, s};

const FORMATS: [DataFormat; 2] = [DataFormat::ChannelsLast, DataFormat::ChannelsFirst];
const GEOMETRIES: [Geometry; 2] = [Geometry::Corrected, Geometry::Keras];

fn build(
    f: impl FnOnce(ImageDataGeneratorBuilder) -> ImageDataGeneratorBuilder,
) -> ImageDataGenerator {
    f(ImageDataGenerator::builder())
        .build()
        .expect("valid configuration")
}

/// An `h × w × c` (channels-last) image of integers in `0..=255`, so it is exact as `u8`.
fn random_image(h: usize, w: usize, c: usize, seed: u64) -> Array3<f32> {
    let mut rng = sample_rng(seed, 99, 0);
    Array3::from_shape_fn((h, w, c), |_| (unit_f64(&mut rng) * 256.0).floor() as f32)
}

/// The same pixels in the layout of `fmt`, as a standard-layout array.
fn to_format<T: Clone>(x: &Array3<T>, fmt: DataFormat) -> Array3<T> {
    match fmt {
        DataFormat::ChannelsLast => x.clone(),
        DataFormat::ChannelsFirst => x
            .view()
            .permuted_axes([2, 0, 1])
            .as_standard_layout()
            .into_owned(),
    }
}

/// Back to channels-last from the layout of `fmt`.
fn from_format<T: Clone>(x: &Array3<T>, fmt: DataFormat) -> Array3<T> {
    match fmt {
        DataFormat::ChannelsLast => x.clone(),
        DataFormat::ChannelsFirst => x
            .view()
            .permuted_axes([1, 2, 0])
            .as_standard_layout()
            .into_owned(),
    }
}

fn max_abs_diff(a: &Array3<f32>, b: &Array3<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn apply<T: Pixel>(
    g: &ImageDataGenerator,
    x: ArrayView3<'_, T>,
    p: &TransformParams,
) -> Array3<f32> {
    g.apply_transform(x, p).expect("apply_transform")
}

// ---------------------------------------------------------------------------------------------
// Identity and flips
// ---------------------------------------------------------------------------------------------

fn check_identity_is_exact<T: Pixel, O: OutPixel>(values: &[T]) {
    let (h, w, c) = (3, 5, 2);
    for fmt in FORMATS {
        let shape = fmt.image_shape(h, w, c);
        let x = Array3::from_shape_fn(shape, |(i, j, k)| {
            values[(i * 7 + j * 3 + k) % values.len()]
        });
        for geometry in GEOMETRIES {
            let g = build(|b| b.data_format(fmt).geometry(geometry).rotation_range(0.0));
            let out: Array3<O> = g
                .apply_transform(x.view(), &TransformParams::default())
                .unwrap();
            assert_eq!(out.shape(), x.shape());
            for (o, i) in out.iter().zip(&x) {
                assert!(
                    o.to_f64().to_bits() == i.to_f64().to_bits(),
                    "{fmt} {geometry:?} {}: {} became {}",
                    O::NAME,
                    i.to_f64(),
                    o.to_f64()
                );
            }
        }
    }
}

#[test]
fn identity_parameters_return_the_input_bit_exactly() {
    let u8s = [0u8, 1, 17, 128, 254, 255];
    let u16s = [0u16, 1, 300, 4095, 65534, 65535];
    // f32 values, including a subnormal and a negative zero-crossing value.
    let f32s = [0.0f32, -1.5, 0.1, 1e-40, 3.4e38, -255.0, 0.333_333_34];
    // f64 values that f32 represents exactly, for the f32 output...
    let f64_in_f32 = [0.0f64, -2.25, 0.5, 1024.0, -1e-3f32 as f64];
    // ...and arbitrary ones for the f64 output.
    let f64s = [0.1f64, -1e-300, 1e300, std::f64::consts::PI, -0.0];
    check_identity_is_exact::<u8, f32>(&u8s);
    check_identity_is_exact::<u8, f64>(&u8s);
    check_identity_is_exact::<u16, f32>(&u16s);
    check_identity_is_exact::<u16, f64>(&u16s);
    check_identity_is_exact::<f32, f32>(&f32s);
    check_identity_is_exact::<f32, f64>(&f32s);
    check_identity_is_exact::<f64, f32>(&f64_in_f32);
    check_identity_is_exact::<f64, f64>(&f64s);
}

#[test]
fn flips_are_exact_reversals_alone_and_combined() {
    let x_hwc = random_image(4, 7, 3, 1);
    for fmt in FORMATS {
        let x = to_format(&x_hwc, fmt);
        let g = build(|b| b.data_format(fmt));
        let (row, col) = match fmt {
            DataFormat::ChannelsLast => (0, 1),
            DataFormat::ChannelsFirst => (1, 2),
        };
        let rev = |a: &Array3<f32>, axes: &[usize]| {
            let mut v = a.view();
            for &ax in axes {
                v.invert_axis(Axis(ax));
            }
            v.to_owned()
        };
        let hflip = TransformParams {
            flip_horizontal: true,
            ..Default::default()
        };
        let vflip = TransformParams {
            flip_vertical: true,
            ..Default::default()
        };
        let both = TransformParams {
            flip_horizontal: true,
            flip_vertical: true,
            ..Default::default()
        };
        assert_eq!(
            apply(&g, x.view(), &hflip),
            rev(&x, &[col]),
            "{fmt} horizontal"
        );
        assert_eq!(
            apply(&g, x.view(), &vflip),
            rev(&x, &[row]),
            "{fmt} vertical"
        );
        assert_eq!(
            apply(&g, x.view(), &both),
            rev(&x, &[row, col]),
            "{fmt} both"
        );
    }
    // The same with ndarray's slicing, literally, in channels-last.
    let g = build(|b| b);
    let hflip = TransformParams {
        flip_horizontal: true,
        ..Default::default()
    };
    let vflip = TransformParams {
        flip_vertical: true,
        ..Default::default()
    };
    assert_eq!(
        apply(&g, x_hwc.view(), &hflip),
        x_hwc.slice(s![.., ..;-1, ..])
    );
    assert_eq!(
        apply(&g, x_hwc.view(), &vflip),
        x_hwc.slice(s![..;-1, .., ..])
    );
    // A u8 image flipped twice (two calls) is the original.
    let x_u8 = x_hwc.mapv(|v| v as u8);
    let once: Array3<f32> = g.apply_transform(x_u8.view(), &hflip).unwrap();
    let twice = apply(&g, once.view(), &hflip);
    assert_eq!(twice, x_hwc);
}

#[test]
fn flips_after_a_warp_reverse_the_warped_image() {
    // spec §4: the flips come after the warp, the channel shift and before brightness; all of
    // those are pointwise given the image's min and max, so a flip is still a pure reversal.
    let x = random_image(9, 13, 3, 2);
    for geometry in GEOMETRIES {
        let g = build(|b| b.geometry(geometry).fill_mode(FillMode::Reflect));
        let base = TransformParams {
            theta: 23.0,
            tx: 1.7,
            ty: -2.2,
            shear: 8.0,
            zx: 0.9,
            zy: 1.15,
            channel_shift_intensity: Some(12.0),
            brightness: Some(0.8),
            ..Default::default()
        };
        let plain = apply(&g, x.view(), &base);
        let h = apply(
            &g,
            x.view(),
            &TransformParams {
                flip_horizontal: true,
                ..base
            },
        );
        let v = apply(
            &g,
            x.view(),
            &TransformParams {
                flip_vertical: true,
                ..base
            },
        );
        let hv = apply(
            &g,
            x.view(),
            &TransformParams {
                flip_horizontal: true,
                flip_vertical: true,
                ..base
            },
        );
        assert_eq!(h, plain.slice(s![.., ..;-1, ..]), "{geometry:?}");
        assert_eq!(v, plain.slice(s![..;-1, .., ..]), "{geometry:?}");
        assert_eq!(hv, plain.slice(s![..;-1, ..;-1, ..]), "{geometry:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------

#[test]
fn quarter_turn_counter_clockwise_is_a_transpose_then_a_row_reversal() {
    // spec §5.4: theta > 0 turns the content counter-clockwise; the 4x4 arange example.
    let arange = Array3::from_shape_fn((4, 4, 1), |(r, c, _)| (4 * r + c) as f32);
    let spec = array![
        [3., 7., 11., 15.],
        [2., 6., 10., 14.],
        [1., 5., 9., 13.],
        [0., 4., 8., 12.]
    ];
    let quarter = TransformParams {
        theta: 90.0,
        ..Default::default()
    };
    let three_quarters = TransformParams {
        theta: -90.0,
        ..Default::default()
    };
    for geometry in GEOMETRIES {
        let g = build(|b| b.geometry(geometry).interpolation_order(0));
        let out = apply(&g, arange.view(), &quarter);
        assert_eq!(out.index_axis(Axis(2), 0), spec, "{geometry:?}");
        for n in [4, 5, 6] {
            let x = random_image(n, n, 3, n as u64);
            // Counter-clockwise: out(r, c) = in(c, n-1-r) = transpose, then reverse the rows.
            let t = x.view().permuted_axes([1, 0, 2]);
            let want_ccw = t.slice(s![..;-1, .., ..]).to_owned();
            // Clockwise: out(r, c) = in(n-1-c, r) = transpose, then reverse the columns.
            let want_cw = t.slice(s![.., ..;-1, ..]).to_owned();
            assert_eq!(
                apply(&g, x.view(), &quarter),
                want_ccw,
                "{geometry:?} n={n}"
            );
            assert_eq!(
                apply(&g, x.view(), &three_quarters),
                want_cw,
                "{geometry:?} n={n}"
            );
        }
    }
}

#[test]
fn corrected_half_turn_of_an_odd_non_square_image_is_about_its_true_centre() {
    // A 180° turn about the true centre ((H-1)/2, (W-1)/2) maps (r, c) to (H-1-r, W-1-c):
    // the centre pixel stays, corners go to the opposite corners.
    let (h, w) = (5, 9);
    let x = random_image(h, w, 3, 3);
    let p = TransformParams {
        theta: 180.0,
        ..Default::default()
    };
    let want = x.slice(s![..;-1, ..;-1, ..]).to_owned();
    let g0 = build(|b| b.interpolation_order(0));
    let out = apply(&g0, x.view(), &p);
    assert_eq!(out, want);
    assert_eq!(out.slice(s![2, 4, ..]), x.slice(s![2, 4, ..]));
    assert_eq!(out.slice(s![0, 0, ..]), x.slice(s![4, 8, ..]));
    assert_eq!(out.slice(s![0, 8, ..]), x.slice(s![4, 0, ..]));
    // Bilinear: the sample points are integers up to sin(pi) ≈ 1e-16.
    let g1 = build(|b| b.interpolation_order(1));
    assert!(max_abs_diff(&apply(&g1, x.view(), &p), &want) < 1e-3);
    // Keras' transposed centre (spec §5.4) does not keep the centre pixel of this image.
    let gk = build(|b| b.interpolation_order(0).geometry(Geometry::Keras));
    assert_ne!(apply(&gk, x.view(), &p), want);
}

#[test]
fn keras_geometry_reproduces_the_spec_golden_examples() {
    // spec §20 G1 on a 3x4 arange, ImageDataGenerator() defaults (nearest, order 1).
    let g = build(|b| b.geometry(Geometry::Keras));
    let arange = Array3::from_shape_fn((3, 4, 1), |(r, c, _)| (4 * r + c) as f32);
    let out = apply(
        &g,
        arange.view(),
        &TransformParams {
            theta: 180.0,
            ..Default::default()
        },
    );
    let want = array![[10., 9., 8., 8.], [10., 9., 8., 8.], [6., 5., 4., 4.]];
    let got = out.index_axis(Axis(2), 0).to_owned();
    assert!(
        got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-4),
        "{got}"
    );

    // Order 0: zx = 2 squeezes horizontally about Keras' centre, zy = 2 changes nothing.
    let g0 = build(|b| b.geometry(Geometry::Keras).interpolation_order(0));
    let out = apply(
        &g0,
        arange.view(),
        &TransformParams {
            zx: 2.0,
            ..Default::default()
        },
    );
    assert_eq!(
        out.index_axis(Axis(2), 0),
        array![[0., 1., 3., 3.], [4., 5., 7., 7.], [8., 9., 11., 11.]]
    );
    let out = apply(
        &g0,
        arange.view(),
        &TransformParams {
            zy: 2.0,
            ..Default::default()
        },
    );
    assert_eq!(out, arange);
}

#[test]
fn tx_moves_content_left_and_ty_moves_it_up_in_both_geometries() {
    // spec §20 G1: a 1 at (1, 1) of a 3x4 image; tx = 1 moves it to (1, 0), ty = 1 to (0, 1).
    let mut dot = Array3::<f32>::zeros((3, 4, 1));
    dot[[1, 1, 0]] = 1.0;
    for geometry in GEOMETRIES {
        let g = build(|b| b.geometry(geometry));
        let out = apply(
            &g,
            dot.view(),
            &TransformParams {
                tx: 1.0,
                ..Default::default()
            },
        );
        assert_eq!(bright_spot(&out), (1, 0), "{geometry:?} tx");
        assert!((out[[1, 0, 0]] - 1.0).abs() < 1e-6 && out.sum() > 0.999 && out.sum() < 1.001);
        let out = apply(
            &g,
            dot.view(),
            &TransformParams {
                ty: 1.0,
                ..Default::default()
            },
        );
        assert_eq!(bright_spot(&out), (0, 1), "{geometry:?} ty");
    }
}

/// Row and column of the brightest pixel of channel 0.
fn bright_spot(x: &Array3<f32>) -> (usize, usize) {
    let mut best = (0, 0);
    for r in 0..x.shape()[0] {
        for c in 0..x.shape()[1] {
            if x[[r, c, 0]] > x[[best.0, best.1, 0]] {
                best = (r, c);
            }
        }
    }
    best
}

/// Applies drawn shifts to a dark image with one bright dot and returns the dot's moves
/// `(d_row, d_col)` over many seeds.
fn dot_moves(g: &ImageDataGenerator) -> Vec<(isize, isize)> {
    let (h, w, r0, c0) = (15, 21, 7, 10);
    let mut x = Array3::<u8>::zeros((h, w, 1));
    x[[r0, c0, 0]] = 255;
    (0..64)
        .map(|seed| {
            let p = g.random_transform_params(h, w, &mut sample_rng(seed, 0, 0));
            let out: Array3<f32> = g.apply_transform(x.view(), &p).unwrap();
            let (r, c) = bright_spot(&out);
            assert_eq!(
                out[[r, c, 0]],
                255.0,
                "an integer shift at order 0 keeps the dot whole"
            );
            (r as isize - r0 as isize, c as isize - c0 as isize)
        })
        .collect()
}

#[test]
fn corrected_width_shift_moves_content_horizontally_and_height_shift_vertically() {
    let gw = build(|b| b.width_shift_range(4).interpolation_order(0));
    let moves = dot_moves(&gw);
    assert!(moves.iter().all(|&(dr, _)| dr == 0), "{moves:?}");
    assert!(moves.iter().any(|&(_, dc)| dc > 0) && moves.iter().any(|&(_, dc)| dc < 0));
    assert!(moves.iter().all(|&(_, dc)| dc.abs() <= 3));

    let gh = build(|b| b.height_shift_range(4).interpolation_order(0));
    let moves = dot_moves(&gh);
    assert!(moves.iter().all(|&(_, dc)| dc == 0), "{moves:?}");
    assert!(moves.iter().any(|&(dr, _)| dr > 0) && moves.iter().any(|&(dr, _)| dr < 0));
    assert!(moves.iter().all(|&(dr, _)| dr.abs() <= 3));
}

#[test]
fn keras_geometry_keeps_the_swapped_shift_axes() {
    // spec §5.4 (keras#17398): in Keras 2.9 height_shift_range moves content sideways.
    let gh = build(|b| {
        b.height_shift_range(4)
            .interpolation_order(0)
            .geometry(Geometry::Keras)
    });
    let moves = dot_moves(&gh);
    assert!(moves.iter().all(|&(dr, _)| dr == 0), "{moves:?}");
    assert!(moves.iter().any(|&(_, dc)| dc != 0));
    let gw = build(|b| {
        b.width_shift_range(4)
            .interpolation_order(0)
            .geometry(Geometry::Keras)
    });
    let moves = dot_moves(&gw);
    assert!(moves.iter().all(|&(_, dc)| dc == 0), "{moves:?}");
    assert!(moves.iter().any(|&(dr, _)| dr != 0));
}

fn full_generator(fmt: DataFormat, geometry: Geometry) -> ImageDataGenerator {
    build(|b| {
        b.data_format(fmt)
            .geometry(geometry)
            .rotation_range(40.0)
            .width_shift_range(0.2)
            .height_shift_range(0.15)
            .shear_range(15.0)
            .zoom_range(0.3)
            .horizontal_flip(true)
            .vertical_flip(true)
            .channel_shift_range(30.0)
            .brightness_range(0.5, 1.5)
    })
}

#[test]
fn channels_first_gives_the_same_pixels_as_channels_last() {
    for geometry in GEOMETRIES {
        for fill in [
            FillMode::Nearest,
            FillMode::Constant,
            FillMode::Reflect,
            FillMode::Wrap,
        ] {
            for c in [1, 3, 4] {
                let x = random_image(7, 11, c, c as u64);
                let cl = ImageDataGenerator::new(GeneratorConfig {
                    fill_mode: fill,
                    cval: 77.0,
                    ..full_generator(DataFormat::ChannelsLast, geometry)
                        .config()
                        .clone()
                })
                .unwrap();
                let cf = ImageDataGenerator::new(GeneratorConfig {
                    data_format: DataFormat::ChannelsFirst,
                    ..cl.config().clone()
                })
                .unwrap();
                let xf = to_format(&x, DataFormat::ChannelsFirst);
                for seed in 0..8 {
                    let p = cl.random_transform_params(7, 11, &mut sample_rng(seed, 0, 0));
                    let a = apply(&cl, x.view(), &p);
                    let b = from_format(&apply(&cf, xf.view(), &p), DataFormat::ChannelsFirst);
                    assert_eq!(a, b, "{geometry:?} {fill} c={c} {p:?}");
                }
            }
        }
    }
}

#[test]
fn u8_input_gives_the_same_result_as_the_same_values_in_f32() {
    let x = random_image(10, 13, 3, 4);
    let x8 = x.mapv(|v| v as u8);
    for geometry in GEOMETRIES {
        for order in [0, 1] {
            let g = ImageDataGenerator::new(GeneratorConfig {
                interpolation_order: order,
                fill_mode: FillMode::Reflect,
                ..full_generator(DataFormat::ChannelsLast, geometry)
                    .config()
                    .clone()
            })
            .unwrap();
            for seed in 0..8 {
                let p = g.random_transform_params(10, 13, &mut sample_rng(seed, 1, 2));
                assert_eq!(
                    apply(&g, x8.view(), &p),
                    apply(&g, x.view(), &p),
                    "{geometry:?} {p:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random parameters (spec §3)
// ---------------------------------------------------------------------------------------------

fn draws(g: &ImageDataGenerator, h: usize, w: usize, n: usize) -> Vec<TransformParams> {
    let mut rng: SampleRng = sample_rng(2024, 0, 0);
    (0..n)
        .map(|_| g.random_transform_params(h, w, &mut rng))
        .collect()
}

#[test]
fn rotation_draws_stay_within_the_range_and_cover_it() {
    let g = build(|b| b.rotation_range(25.0));
    let ps = draws(&g, 8, 8, 2000);
    assert!(ps.iter().all(|p| p.theta.abs() <= 25.0));
    assert!(ps.iter().any(|p| p.theta > 23.0) && ps.iter().any(|p| p.theta < -23.0));
    let mean = ps.iter().map(|p| p.theta).sum::<f64>() / ps.len() as f64;
    assert!(
        mean.abs() < 1.5,
        "uniform in [-25, 25] has mean 0, got {mean}"
    );
    assert!(
        ps.iter()
            .all(|p| p.tx == 0.0 && p.ty == 0.0 && p.shear == 0.0 && p.zx == 1.0)
    );
}

#[test]
fn int_shift_ranges_give_integers_from_minus_to_plus_n_minus_one() {
    // spec §3.2: Int(n) draws k in 0..n with a random sign.
    let g = build(|b| {
        b.width_shift_range(4)
            .height_shift_range(ShiftRange::Int(1))
    });
    let ps = draws(&g, 30, 40, 3000);
    let mut seen = std::collections::BTreeSet::new();
    for p in &ps {
        assert_eq!(p.tx.fract(), 0.0);
        assert!(p.tx.abs() <= 3.0, "{}", p.tx);
        assert_eq!(p.ty, 0.0, "Int(1) never shifts");
        seen.insert(p.tx as i64);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec![-3, -2, -1, 0, 1, 2, 3]
    );
    // P(0) = 1/n = 0.25 (both signs of k = 0).
    let zeros = ps.iter().filter(|p| p.tx == 0.0).count() as f64 / ps.len() as f64;
    assert!((zeros - 0.25).abs() < 0.04, "{zeros}");
}

#[test]
fn float_shift_ranges_are_fractions_below_one_and_pixels_from_one() {
    let g = build(|b| b.width_shift_range(0.2).height_shift_range(3.0));
    let ps = draws(&g, 30, 50, 2000);
    // 0.2 of W = 50 is 10 pixels; 3.0 is 3 pixels whatever H.
    assert!(ps.iter().all(|p| p.tx.abs() <= 10.0 && p.ty.abs() <= 3.0));
    assert!(ps.iter().any(|p| p.tx.abs() > 9.5) && ps.iter().any(|p| p.ty.abs() > 2.9));
    assert!(ps.iter().any(|p| p.tx.fract() != 0.0), "continuous");
}

#[test]
fn list_shift_ranges_give_signed_entries_scaled_when_all_below_one() {
    let set = |ps: &[TransformParams], f: fn(&TransformParams) -> f64| {
        let mut v: Vec<f64> = ps.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    // All entries < 1: fractions of the dimension (W = 40, H = 20).
    let g = build(|b| {
        b.width_shift_range(vec![0.1, 0.25])
            .height_shift_range([0.5])
    });
    let ps = draws(&g, 20, 40, 1000);
    assert_eq!(set(&ps, |p| p.tx), vec![-10.0, -4.0, 4.0, 10.0]);
    assert_eq!(set(&ps, |p| p.ty), vec![-10.0, 10.0]);
    // One entry >= 1: every entry is in pixels.
    let g = build(|b| b.width_shift_range(vec![0.5, 3.0]));
    let ps = draws(&g, 20, 40, 1000);
    assert_eq!(set(&ps, |p| p.tx), vec![-3.0, -0.5, 0.5, 3.0]);
}

#[test]
fn keras_geometry_draws_tx_from_height_shift_range_times_height() {
    // spec §3.1 steps 2-3: tx from height_shift_range · H, ty from width_shift_range · W.
    let g = build(|b| b.geometry(Geometry::Keras).height_shift_range(0.5));
    let ps = draws(&g, 10, 1000, 500);
    assert!(ps.iter().all(|p| p.tx.abs() <= 5.0 && p.ty == 0.0));
    assert!(ps.iter().any(|p| p.tx.abs() > 4.5));
}

#[test]
fn zoom_draws_stay_within_the_bounds_and_are_independent() {
    for (g, lo, hi) in [
        (build(|b| b.zoom_range(0.2)), 0.8, 1.2),
        (build(|b| b.zoom_range((0.5, 0.9))), 0.5, 0.9),
    ] {
        let ps = draws(&g, 8, 8, 2000);
        for p in &ps {
            assert!(
                (lo..=hi).contains(&p.zx) && (lo..=hi).contains(&p.zy),
                "{p:?}"
            );
        }
        assert!(ps.iter().any(|p| p.zx < lo + 0.02) && ps.iter().any(|p| p.zx > hi - 0.02));
        assert!(
            ps.iter().any(|p| (p.zx - p.zy).abs() > 0.1),
            "zx and zy are drawn separately"
        );
    }
}

#[test]
fn flips_happen_about_half_the_time_and_never_when_disabled() {
    let g = build(|b| b.horizontal_flip(true).vertical_flip(true));
    let ps = draws(&g, 8, 8, 4000);
    let h = ps.iter().filter(|p| p.flip_horizontal).count() as f64 / 4000.0;
    let v = ps.iter().filter(|p| p.flip_vertical).count() as f64 / 4000.0;
    let both = ps
        .iter()
        .filter(|p| p.flip_horizontal && p.flip_vertical)
        .count() as f64
        / 4000.0;
    assert!((h - 0.5).abs() < 0.03 && (v - 0.5).abs() < 0.03, "{h} {v}");
    assert!((both - 0.25).abs() < 0.03, "independent flips: {both}");
    let off = draws(&build(|b| b.horizontal_flip(true)), 8, 8, 500);
    assert!(off.iter().all(|p| !p.flip_vertical));
    assert!(off.iter().any(|p| p.flip_horizontal));
}

#[test]
fn channel_shift_and_brightness_draws_stay_within_range() {
    let g = build(|b| b.channel_shift_range(20.0).brightness_range(0.6, 1.3));
    let ps = draws(&g, 8, 8, 1000);
    for p in &ps {
        let c = p
            .channel_shift_intensity
            .expect("drawn when the range is set");
        let b = p.brightness.expect("drawn when the range is set");
        assert!(c.abs() <= 20.0 && (0.6..=1.3).contains(&b), "{p:?}");
    }
    let none = draws(&build(|b| b.rotation_range(5.0)), 8, 8, 10);
    assert!(
        none.iter()
            .all(|p| p.channel_shift_intensity.is_none() && p.brightness.is_none())
    );
}

#[test]
fn the_same_rng_seed_gives_the_same_parameters() {
    let g = full_generator(DataFormat::ChannelsLast, Geometry::Corrected);
    for i in 0..20 {
        let a = g.random_transform_params(32, 48, &mut sample_rng(7, 3, i));
        let b = g.random_transform_params(32, 48, &mut sample_rng(7, 3, i));
        let other = g.random_transform_params(32, 48, &mut sample_rng(8, 3, i));
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}

// ---------------------------------------------------------------------------------------------
// Builder validation (spec §2) and Keras' overrides
// ---------------------------------------------------------------------------------------------

type Setter = fn(ImageDataGeneratorBuilder, f64) -> ImageDataGeneratorBuilder;

#[test]
fn nan_and_infinite_values_of_every_float_parameter_are_rejected_by_name() {
    let setters: [(&str, Setter); 15] = [
        ("zca_epsilon", |b, v| b.zca_epsilon(v)),
        ("rotation_range", |b, v| b.rotation_range(v)),
        ("width_shift_range", |b, v| b.width_shift_range(v)),
        ("width_shift_range", |b, v| {
            b.width_shift_range(vec![0.1, v])
        }),
        ("height_shift_range", |b, v| b.height_shift_range(v)),
        ("height_shift_range", |b, v| b.height_shift_range(vec![v])),
        ("brightness_range", |b, v| b.brightness_range(v, 1.0)),
        ("brightness_range", |b, v| b.brightness_range(0.5, v)),
        ("shear_range", |b, v| b.shear_range(v)),
        ("zoom_range", |b, v| b.zoom_range(v)),
        ("zoom_range", |b, v| b.zoom_range((0.9, v))),
        ("channel_shift_range", |b, v| b.channel_shift_range(v)),
        ("cval", |b, v| b.cval(v)),
        ("rescale", |b, v| b.rescale(v)),
        ("validation_split", |b, v| b.validation_split(v)),
    ];
    for (name, set) in setters {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            match set(ImageDataGenerator::builder(), v).build() {
                Err(Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name, "{v}"),
                other => panic!("{name} = {v}: expected InvalidParameter, got {other:?}"),
            }
        }
    }
}

fn invalid_name(r: augflow::Result<ImageDataGenerator>) -> &'static str {
    match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn negative_ranges_are_rejected_by_name() {
    assert_eq!(
        invalid_name(ImageDataGenerator::builder().rotation_range(-10.0).build()),
        "rotation_range"
    );
    assert_eq!(
        invalid_name(ImageDataGenerator::builder().shear_range(-1.0).build()),
        "shear_range"
    );
    assert_eq!(
        invalid_name(
            ImageDataGenerator::builder()
                .channel_shift_range(-5.0)
                .build()
        ),
        "channel_shift_range"
    );
    assert_eq!(
        invalid_name(ImageDataGenerator::builder().width_shift_range(-3).build()),
        "width_shift_range"
    );
    let err = ImageDataGenerator::builder()
        .rotation_range(-10.0)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("-10"),
        "the message shows the value: {err}"
    );
}

#[test]
fn validation_split_must_be_in_zero_to_one() {
    for v in [1.0, 1.5, -0.1, -1e-9] {
        assert_eq!(
            invalid_name(ImageDataGenerator::builder().validation_split(v).build()),
            "validation_split",
            "{v}"
        );
    }
    for v in [0.0, 0.2, 0.999] {
        assert!(
            ImageDataGenerator::builder()
                .validation_split(v)
                .build()
                .is_ok(),
            "{v}"
        );
    }
}

#[test]
fn interpolation_order_2_is_unsupported_and_7_is_invalid() {
    match ImageDataGenerator::builder().interpolation_order(2).build() {
        Err(Error::Unsupported {
            name: "interpolation_order",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        invalid_name(ImageDataGenerator::builder().interpolation_order(7).build()),
        "interpolation_order"
    );
    assert_eq!(
        Interpolation::from_order(0).unwrap(),
        Interpolation::Nearest
    );
    assert_eq!(
        Interpolation::from_order(1).unwrap(),
        Interpolation::Bilinear
    );
}

#[test]
fn bad_fill_mode_strings_are_rejected() {
    match "bogus".parse::<FillMode>() {
        Err(Error::InvalidParameter {
            name: "fill_mode",
            value,
            ..
        }) => assert!(value.contains("bogus")),
        other => panic!("{other:?}"),
    }
    // scipy-only modes Keras does not document.
    match "mirror".parse::<FillMode>() {
        Err(Error::Unsupported {
            name: "fill_mode", ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let json = serde_json::from_str::<GeneratorConfig>(r#"{"fill_mode": "bogus"}"#).unwrap_err();
    assert!(json.to_string().contains("bogus"), "{json}");
}

#[test]
fn unknown_keys_in_a_json_config_are_rejected_with_their_name() {
    let err =
        serde_json::from_str::<GeneratorConfig>(r#"{"rotation_range": 10, "rotaton_range": 10}"#)
            .unwrap_err();
    assert!(err.to_string().contains("rotaton_range"), "{err}");
    let ok: GeneratorConfig =
        serde_json::from_str(r#"{"rotation_range": 10, "width_shift_range": 3}"#).unwrap();
    assert_eq!(ok.width_shift_range, ShiftRange::Int(3));
}

#[test]
fn keras_overrides_are_applied() {
    // spec §2 step 8.
    let g = build(|b| b.zca_whitening(true).featurewise_std_normalization(true));
    assert!(g.config().featurewise_center && !g.config().featurewise_std_normalization);
    let g = build(|b| b.zca_whitening(true));
    assert!(g.config().featurewise_center);
    let g = build(|b| b.samplewise_std_normalization(true));
    assert!(g.config().samplewise_center);
    let g = build(|b| b.featurewise_std_normalization(true));
    assert!(g.config().featurewise_center && g.config().featurewise_std_normalization);
}

// ---------------------------------------------------------------------------------------------
// standardize (spec §9)
// ---------------------------------------------------------------------------------------------

#[test]
fn standardize_without_fit_reports_the_missing_statistics() {
    for (g, what) in [
        (build(|b| b.featurewise_center(true)), "featurewise_center"),
        (
            build(|b| b.featurewise_std_normalization(true)),
            "featurewise_center",
        ),
        (build(|b| b.zca_whitening(true)), "featurewise_center"),
    ] {
        let mut x = Array3::<f32>::ones((4, 4, 3));
        match g.standardize(x.view_mut()) {
            Err(Error::NotFitted { what: got }) => assert_eq!(got, what),
            other => panic!("{what}: {other:?}"),
        }
    }
    // With the mean provided, the next missing statistic is named.
    let mut g = build(|b| b.zca_whitening(true));
    g.set_stats(augflow::FitStats {
        mean: Some(vec![0.0; 3]),
        ..Default::default()
    });
    let mut x = Array3::<f32>::ones((4, 4, 3));
    assert!(matches!(
        g.standardize(x.view_mut()),
        Err(Error::NotFitted {
            what: "zca_whitening"
        })
    ));
    let mut g = build(|b| b.featurewise_std_normalization(true));
    g.set_stats(augflow::FitStats {
        mean: Some(vec![0.0; 3]),
        ..Default::default()
    });
    assert!(matches!(
        g.standardize(x.view_mut()),
        Err(Error::NotFitted {
            what: "featurewise_std_normalization"
        })
    ));
}

#[test]
fn preprocessing_function_errors_and_panics_become_user_function_errors() {
    let failing = build(|b| {
        b.preprocessing_function(|_x: ArrayViewMut3<f32>| -> Result<(), BoxError> {
            Err("no good".into())
        })
    });
    let mut x = Array3::<f32>::zeros((2, 2, 3));
    match failing.standardize(x.view_mut()) {
        Err(Error::UserFunction { what, message }) => {
            assert!(
                what.contains("preprocessing_function") && message.contains("no good"),
                "{what}: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let panicking = build(|b| {
        b.preprocessing_function(|_x: ArrayViewMut3<f32>| -> Result<(), BoxError> {
            panic!("boom")
        })
    });
    match panicking.standardize(x.view_mut()) {
        Err(Error::UserFunction { message, .. }) => assert!(message.contains("boom"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn preprocessing_runs_before_rescale() {
    let g = build(|b| {
        b.rescale(0.5)
            .preprocessing_function(|mut x: ArrayViewMut3<f32>| -> Result<(), BoxError> {
                x.mapv_inplace(|v| v + 10.0);
                Ok(())
            })
    });
    let mut x = Array3::<f32>::from_elem((2, 2, 1), 4.0);
    g.standardize(x.view_mut()).unwrap();
    // (4 + 10) · 0.5 = 7; the other order would give 4 · 0.5 + 10 = 12.
    assert!(x.iter().all(|&v| v == 7.0), "{x}");
    let mut x64 = Array3::<f64>::from_elem((2, 2, 1), 4.0);
    g.standardize(x64.view_mut()).unwrap();
    assert!(x64.iter().all(|&v| v == 7.0), "{x64}");
}

#[test]
fn samplewise_steps_give_zero_mean_and_unit_std_per_image() {
    let g = build(|b| b.samplewise_std_normalization(true));
    let mut x = random_image(6, 5, 3, 9);
    g.standardize(x.view_mut()).unwrap();
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(
        mean.abs() < 1e-5 && (std - 1.0).abs() < 1e-4,
        "{mean} {std}"
    );
}

// ---------------------------------------------------------------------------------------------
// fit (spec §10)
// ---------------------------------------------------------------------------------------------

fn random_batch(n: usize, h: usize, w: usize, c: usize, seed: u64) -> Array4<f32> {
    let mut rng = sample_rng(seed, 77, 0);
    Array4::from_shape_fn((n, h, w, c), |_| {
        (unit_f64(&mut rng) * 256.0).floor() as f32
    })
}

#[test]
fn featurewise_mean_and_std_equal_a_direct_computation() {
    let x = random_batch(6, 5, 4, 3, 1);
    let rescale = 1.0 / 255.0;
    // Per channel, over samples, rows and columns, after rescale (f32 multiply, spec §10.4).
    let mut mean = [0f64; 3];
    let mut std = [0f64; 3];
    for ch in 0..3 {
        let v: Vec<f64> = x
            .slice(s![.., .., .., ch])
            .iter()
            .map(|&p| (p * rescale as f32) as f64)
            .collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        mean[ch] = m;
        std[ch] = (v.iter().map(|p| (p - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    }
    for fmt in FORMATS {
        let xf = match fmt {
            DataFormat::ChannelsLast => x.clone(),
            DataFormat::ChannelsFirst => x
                .view()
                .permuted_axes([0, 3, 1, 2])
                .as_standard_layout()
                .into_owned(),
        };
        let mut g = build(|b| {
            b.data_format(fmt)
                .featurewise_std_normalization(true)
                .rescale(rescale)
        });
        g.fit(xf.view()).unwrap();
        let (gm, gs) = (
            g.stats().mean.clone().unwrap(),
            g.stats().std.clone().unwrap(),
        );
        for ch in 0..3 {
            assert!(
                (gm[ch] as f64 - mean[ch]).abs() < 1e-6,
                "{fmt} mean {gm:?} vs {mean:?}"
            );
            assert!(
                (gs[ch] as f64 - std[ch]).abs() < 1e-6,
                "{fmt} std {gs:?} vs {std:?}"
            );
        }
        // Standardizing the training images then gives mean 0 and std 1 per channel.
        let mut y = xf.clone();
        for img in y.axis_iter_mut(Axis(0)) {
            g.standardize(img).unwrap();
        }
        let y = match fmt {
            DataFormat::ChannelsLast => y,
            DataFormat::ChannelsFirst => y.view().permuted_axes([0, 2, 3, 1]).to_owned(),
        };
        for ch in 0..3 {
            let v: Vec<f64> = y
                .slice(s![.., .., .., ch])
                .iter()
                .map(|&p| p as f64)
                .collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|p| (p - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            assert!(
                m.abs() < 1e-4 && (sd - 1.0).abs() < 1e-4,
                "{fmt} channel {ch}: {m} {sd}"
            );
        }
    }
}

#[test]
fn zca_with_fewer_images_than_features_whitens_the_data_span() {
    // 20 images of 8x8x3: n = 20 < d = 192.
    let (n, d) = (20, 8 * 8 * 3);
    let x = random_batch(n, 8, 8, 3, 5);
    let mut g = build(|b| b.zca_whitening(true));
    g.fit(x.view()).unwrap();
    let w = g.stats().zca_whitening_matrix.clone().expect("ZCA matrix");
    assert_eq!(w.shape(), [d, d]);
    let asym = (&*w - &w.t()).iter().fold(0f64, |m, v| m.max(v.abs()));
    let scale = w.iter().fold(0f64, |m, v| m.max(v.abs()));
    assert!(asym <= 1e-9 * scale, "W is symmetric: {asym} vs {scale}");

    // F: the images with the per-channel mean removed (zca forces featurewise_center), one
    // row per image in C order; C = FᵀF / n (spec §10.8).
    let mut f = Array2::<f64>::zeros((n, d));
    for ch in 0..3 {
        let m = x
            .slice(s![.., .., .., ch])
            .iter()
            .map(|&v| v as f64)
            .sum::<f64>()
            / (n * 64) as f64;
        for i in 0..n {
            for (k, v) in x.slice(s![i, .., .., ch]).iter().enumerate() {
                f[[i, k * 3 + ch]] = *v as f64 - m;
            }
        }
    }
    let c = f.t().dot(&f) / n as f64;
    // W·C·W is the covariance of the whitened data: the orthogonal projector on the span
    // of the n (independent) images: idempotent, trace n, fixing every image.
    let p = w.dot(&c).dot(&*w);
    let idem = (&p.dot(&p) - &p).iter().fold(0f64, |m, v| m.max(v.abs()));
    assert!(idem < 1e-6, "P² = P: {idem}");
    let trace: f64 = p.diag().sum();
    assert!(
        (trace - n as f64).abs() < 1e-4,
        "unit variance along {n} directions: trace {trace}"
    );
    let fixed = (&f.dot(&p) - &f).iter().fold(0f64, |m, v| m.max(v.abs()));
    assert!(
        fixed < 1e-6 * 255.0,
        "the projector fixes the data: {fixed}"
    );
    // Whitened images are uncorrelated with unit variance: (F W)(F W)ᵀ / n ... = P on the data.
    let z = f.dot(&*w);
    let zz = z.t().dot(&z) / n as f64;
    assert!((&zz - &p).iter().all(|v| v.abs() < 1e-6));
}

#[test]
fn zca_over_the_memory_budget_is_refused_with_its_size() {
    let x = random_batch(4, 8, 8, 3, 6);
    let mut g = build(|b| b.zca_whitening(true).zca_memory_budget(1000));
    match g.fit(x.view()) {
        Err(Error::ZcaTooLarge {
            features,
            bytes,
            budget,
        }) => {
            // d = 8·8·3 = 192 features; a d×d f64 matrix is 8·192² bytes.
            assert_eq!((features, bytes, budget), (192, 8 * 192 * 192, 1000));
            let msg = Error::ZcaTooLarge {
                features,
                bytes,
                budget,
            }
            .to_string();
            assert!(msg.contains("192") && msg.contains("294912"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    assert!(g.stats().zca_whitening_matrix.is_none());
}

#[test]
fn fit_on_an_empty_batch_is_an_error() {
    let mut g = build(|b| b.featurewise_center(true));
    let empty = Array4::<f32>::zeros((0, 4, 4, 3));
    assert!(matches!(
        g.fit(empty.view()),
        Err(Error::Empty { name: "x", .. })
    ));
    for shape in [(2, 0, 4, 3), (2, 4, 0, 3), (2, 4, 4, 0)] {
        let x = Array4::<f32>::zeros(shape);
        assert!(
            matches!(g.fit(x.view()), Err(Error::Shape { .. })),
            "{shape:?}"
        );
    }
}

#[test]
fn fit_with_augment_and_a_seed_is_deterministic() {
    let x = random_batch(5, 9, 9, 3, 7);
    let make = || {
        build(|b| {
            b.featurewise_std_normalization(true)
                .rotation_range(30.0)
                .zoom_range(0.3)
                .fill_mode(FillMode::Constant)
        })
    };
    let fit = |seed| {
        let mut g = make();
        g.fit_with(
            x.view(),
            FitOptions {
                augment: true,
                rounds: 3,
                seed: Some(seed),
            },
        )
        .unwrap();
        g.stats().clone()
    };
    let a = fit(11);
    assert_eq!(a, fit(11));
    assert_ne!(a, fit(12), "the seed drives the augmentation");
    let mut plain = make();
    plain.fit(x.view()).unwrap();
    assert_ne!(&a, plain.stats(), "augment changes the statistics");
}

// ---------------------------------------------------------------------------------------------
// Errors on bad images and parameters
// ---------------------------------------------------------------------------------------------

#[test]
fn non_finite_transform_parameters_are_rejected_by_name() {
    let g = build(|b| b);
    let x = Array3::<u8>::zeros((4, 4, 3));
    let cases: [(&str, TransformParams); 8] = [
        (
            "theta",
            TransformParams {
                theta: f64::NAN,
                ..Default::default()
            },
        ),
        (
            "tx",
            TransformParams {
                tx: f64::INFINITY,
                ..Default::default()
            },
        ),
        (
            "ty",
            TransformParams {
                ty: f64::NEG_INFINITY,
                ..Default::default()
            },
        ),
        (
            "shear",
            TransformParams {
                shear: f64::NAN,
                ..Default::default()
            },
        ),
        (
            "zx",
            TransformParams {
                zx: f64::NAN,
                ..Default::default()
            },
        ),
        (
            "zy",
            TransformParams {
                zy: f64::INFINITY,
                ..Default::default()
            },
        ),
        (
            "channel_shift_intensity",
            TransformParams {
                channel_shift_intensity: Some(f64::NAN),
                ..Default::default()
            },
        ),
        (
            "brightness",
            TransformParams {
                brightness: Some(f64::INFINITY),
                ..Default::default()
            },
        ),
    ];
    for (name, p) in cases {
        match g.apply_transform::<u8, f32>(x.view(), &p) {
            Err(Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn warp_rejects_a_non_finite_map_and_mismatched_output() {
    let x = Array3::<f32>::zeros((3, 3, 1));
    let map = augflow::transform::SamplingMap {
        a: [[1.0, 0.0], [0.0, f64::NAN]],
        offset: [0.0, 0.0],
    };
    let res: augflow::Result<Array3<f32>> = warp(
        x.view(),
        &Warp {
            map: Some(map),
            ..Default::default()
        },
        &WarpOptions::default(),
    );
    assert!(
        matches!(
            res,
            Err(Error::InvalidParameter {
                name: "sampling map",
                ..
            })
        ),
        "{res:?}"
    );
    let g = build(|b| b);
    let mut out = Array3::<f32>::zeros((3, 4, 1));
    let err = g.apply_transform_into(x.view(), &TransformParams::default(), out.view_mut());
    assert!(
        matches!(err, Err(Error::Shape { name: "output", .. })),
        "{err:?}"
    );
}
