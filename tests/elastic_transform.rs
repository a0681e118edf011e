//! `RandomElasticTransform` in a pipeline: its field ends the fused geometric chain (one
//! pass, the same pixels as the ops one at a time inside the image), masks follow with
//! nearest sampling, boxes stay, draws are a pure function of (seed, epoch, index), and bad
//! configs or parameters are typed errors naming them.

use augflow::Error;
use augflow::augment::{Augment, BoxFormat, Boxes, ElasticNoise, Params, Sample, resample_passes};
use ndarray::Array3;

/// A linear ramp: bilinear sampling reproduces it exactly inside the image.
fn ramp(h: usize, w: usize) -> Array3<f32> {
    Array3::from_shape_fn((h, w, 3), |(y, x, c)| {
        (2 * x + 3 * y + 10 * c) as f32 + 0.25
    })
}

fn elastic(config: &str) -> Augment {
    Augment::from_json(&format!(
        r#"[{{"class_name": "RandomElasticTransform", "config": {config}}}]"#
    ))
    .unwrap()
}

fn applied(seed: u64, s: f32) -> Params {
    Params::RandomElasticTransform {
        apply_transform: true,
        distortion_factor: s,
        noise: ElasticNoise::Seed(seed),
    }
}

#[test]
fn the_field_ends_the_chain_in_one_pass_and_matches_the_ops_one_at_a_time() {
    let rotation =
        r#"{"class_name": "RandomRotation", "config": {"factor": 0.02, "fill_mode": "constant"}}"#;
    let field = r#"{"class_name": "RandomElasticTransform", "config": {"scale": 0.3, "fill_mode": "constant"}}"#;
    let fused = Augment::from_json(&format!("[{rotation}, {field}]")).unwrap();
    let first = Augment::from_json(&format!("[{rotation}]")).unwrap();
    let second = Augment::from_json(&format!("[{field}]")).unwrap();
    let (h, w) = (40, 48);
    let p = [Params::RandomRotation { angle: 4.0 }, applied(9, 0.3)];
    let before = resample_passes();
    let one = fused.transform(&p, Sample::new(ramp(h, w))).unwrap().image;
    assert_eq!(resample_passes() - before, 1);
    let rotated = first
        .transform(&p[..1], Sample::new(ramp(h, w)))
        .unwrap()
        .image;
    let two = second
        .transform(&p[1..], Sample::new(rotated))
        .unwrap()
        .image;
    assert_eq!(resample_passes() - before, 3);
    // Away from the border (where one-at-a-time shows the fill twice) they agree.
    let mut moved = 0;
    for y in 12..h - 12 {
        for x in 12..w - 12 {
            for c in 0..3 {
                let (a, b) = (one[[y, x, c]], two[[y, x, c]]);
                assert!((a - b).abs() < 1e-3, "({y}, {x}, {c}): {a} vs {b}");
                moved += usize::from((a - ramp(h, w)[[y, x, c]]).abs() > 0.5);
            }
        }
    }
    assert!(moved > 100, "the field moved only {moved} values");
}

#[test]
fn a_shrinking_chain_before_the_field_stays_antialiased() {
    let resize =
        r#"{"class_name": "Resizing", "config": {"height": 12, "width": 12, "antialias": true}}"#;
    let field = r#"{"class_name": "RandomElasticTransform", "config": {}}"#;
    let alone = Augment::from_json(&format!("[{resize}]")).unwrap();
    let fused = Augment::from_json(&format!("[{resize}, {field}]")).unwrap();
    // Stripes every third column: 85 on average, aliased to 0 or 127.5 without antialias.
    let board = Array3::from_shape_fn((96, 96, 1), |(_, x, _)| 255.0 * f32::from(x % 3 == 0));
    let still = applied(2, 0.0); // applied, but of zero strength: the resize alone
    let a = alone
        .transform(&[Params::Resizing], Sample::new(board.clone()))
        .unwrap()
        .image;
    let b = fused
        .transform(&[Params::Resizing, still], Sample::new(board))
        .unwrap()
        .image;
    for y in 2..10 {
        for x in 2..10 {
            let (a, b) = (a[[y, x, 0]], b[[y, x, 0]]);
            assert!((a - b).abs() < 1e-2, "({y}, {x}): {a} vs {b}");
            assert!(
                (a - 85.0).abs() < 8.0,
                "the antialiased stripes are gray: {a}"
            );
        }
    }
}

#[test]
fn masks_take_the_field_with_nearest_sampling_and_boxes_stay() {
    let aug = elastic(r#"{"scale": 1.0, "fill_mode": "nearest", "interpolation": "bilinear"}"#);
    let mask = Array3::from_shape_fn((30, 30, 1), |(y, x, _)| ((y / 6 + x / 10) % 4) as i32);
    let boxes = Boxes::new(BoxFormat::Xyxy, vec![[2.0, 3.0, 20.0, 25.0]], vec![5]).unwrap();
    let sample = Sample::new(ramp(30, 30))
        .with_mask(mask.clone())
        .unwrap()
        .with_boxes(boxes.clone());
    let out = aug.transform(&[applied(4, 1.0)], sample).unwrap();
    let m = out.mask.unwrap();
    assert_eq!(m.dim(), mask.dim());
    assert!(m.iter().all(|v| (0..4).contains(v)), "class ids only");
    assert_ne!(m, mask, "the mask moved");
    assert_eq!(out.boxes.unwrap(), boxes);
}

#[test]
fn an_unapplied_draw_only_clips_to_the_value_range() {
    let aug = elastic(r#"{"value_range": [0, 100]}"#);
    let off = Params::RandomElasticTransform {
        apply_transform: false,
        distortion_factor: 0.7,
        noise: ElasticNoise::Seed(1),
    };
    let image = ramp(10, 12);
    let out = aug.transform(&[off], Sample::new(image.clone())).unwrap();
    assert_eq!(out.image, image.mapv(|v| v.clamp(0.0, 100.0)));
}

#[test]
fn draws_depend_only_on_seed_epoch_and_index() {
    let aug = elastic(r#"{"factor": 0.8, "scale": [0.2, 0.9], "fill_mode": "mirror"}"#);
    for (seed, epoch, index) in [(0, 0, 0), (3, 1, 7), (11, 4, 2)] {
        let a = aug.run_sample(Sample::new(ramp(16, 20)), seed, epoch, index);
        let b = aug.run_sample(Sample::new(ramp(16, 20)), seed, epoch, index);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b);
        let Params::RandomElasticTransform {
            distortion_factor, ..
        } = a.1[0]
        else {
            unreachable!()
        };
        assert!((0.2..=0.9).contains(&distortion_factor));
    }
}

#[test]
fn bad_configs_and_parameters_are_typed_errors_naming_them() {
    let json = |config: &str| {
        Augment::from_json(&format!(
            r#"[{{"class_name": "RandomElasticTransform", "config": {config}}}]"#
        ))
    };
    let e = json(r#"{"factor": 1.5}"#).unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { name: "factor", .. }),
        "{e}"
    );
    let e = json(r#"{"scale": [0.5, 0.2]}"#).unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { name: "scale", .. }),
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
    let e = json(r#"{"alpha": 3}"#).unwrap_err();
    assert!(e.to_string().contains("alpha"), "{e}");
    // mirror is the elastic layer's own fill mode.
    let e = Augment::from_json(
        r#"[{"class_name": "RandomRotation", "config": {"factor": 0.1, "fill_mode": "mirror"}}]"#,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                name: "fill_mode",
                ..
            }
        ),
        "{e}"
    );
    let aug = elastic("{}");
    let strong = applied(0, 4.0);
    let e = aug
        .transform(&[strong], Sample::new(ramp(8, 8)))
        .unwrap_err();
    assert!(e.to_string().contains("distortion_factor"), "{e}");
    let short = Params::RandomElasticTransform {
        apply_transform: true,
        distortion_factor: 0.5,
        noise: ElasticNoise::Fields {
            noise_dx: vec![0.0; 63],
            noise_dy: vec![0.0; 64],
        },
    };
    let e = aug
        .transform(&[short], Sample::new(ramp(8, 8)))
        .unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { .. }), "{e}");
}
