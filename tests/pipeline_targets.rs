//! Masks and boxes go through an iterator's augmentation pipeline with their images (after
//! the generator's own transform when it has one): a mask stays the thresholded image, a
//! box lands on its rectangle, flips move boxes exactly, and batches do not depend on the
//! thread count or the order batches are asked for. Keypoints land on their bright pixels.

use augflow::augment::{Augment, ElasticNoise, Keypoints, Params, Sample};
use augflow::targets::{BoxFormat, BoxOptions, OutsidePoints};
use augflow::{FillMode, ImageDataGenerator, Sequence};
use ndarray::{Array2, Array4, Axis, Ix3, array};

mod common;
use common::{bright_bounds, brightest, on_an_edge};

fn pipeline(json: &str) -> Augment {
    Augment::from_json(json).unwrap()
}

/// Flips, a rotation and a resized crop to 24 × 24, filling with zeros (class 0).
fn warping() -> Augment {
    pipeline(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal_and_vertical"}},
            {"class_name": "RandomRotation", "config": {"factor": 0.08, "fill_mode": "constant"}},
            {"class_name": "RandomResizedCrop", "config": {"size": [24, 24], "scale": [0.5, 1.0]}}]"#,
    )
}

/// The generators a pipeline runs after: the identity, and one that warps.
fn generators() -> [ImageDataGenerator; 2] {
    let warps = ImageDataGenerator::builder()
        .rotation_range(20.0)
        .zoom_range(0.1)
        .horizontal_flip(true)
        .fill_mode(FillMode::Constant)
        .build()
        .unwrap();
    [ImageDataGenerator::builder().build().unwrap(), warps]
}

/// Sample `i`'s bright rectangle: `x0, y0, width, height`.
fn spot(i: usize) -> (usize, usize, usize, usize) {
    (5 + i % 9, 4 + i % 7, 10 + i % 5, 8 + i % 4)
}

/// `n` images of `h × w` (one channel), each black with its bright rectangle.
fn rectangles(n: usize, h: usize, w: usize) -> Array4<u8> {
    Array4::from_shape_fn((n, h, w, 1), |(i, r, c, _)| {
        let (x0, y0, bw, bh) = spot(i);
        u8::from((x0..x0 + bw).contains(&c) && (y0..y0 + bh).contains(&r)) * 255
    })
}

/// Each sample's rectangle as a pascal_voc box, labelled `100 + i`.
fn spot_boxes(n: usize) -> (Vec<Array2<f32>>, Vec<Vec<i64>>) {
    let boxes = (0..n)
        .map(|i| {
            let (x0, y0, bw, bh) = spot(i);
            array![[x0 as f32, y0 as f32, (x0 + bw) as f32, (y0 + bh) as f32]]
        })
        .collect();
    (boxes, (0..n).map(|i| vec![100 + i as i64]).collect())
}

#[test]
fn a_mask_stays_the_thresholded_image_through_a_pipeline() {
    let (n, h, w) = (8, 30, 34);
    let x = rectangles(n, h, w);
    let masks = x.index_axis(Axis(3), 0).mapv(|v| u8::from(v > 127) * 7);
    for datagen in generators() {
        let it = datagen
            .flow(x.clone())
            .masks(masks.clone())
            .batch_size(3)
            .seed(6)
            .pipeline(warping())
            .build()
            .unwrap();
        for b in 0..it.len() {
            let batch = it.get(b).unwrap();
            let m = batch.masks.unwrap().into_array::<u8>().unwrap();
            assert_eq!(m.shape(), &[batch.x.shape()[0], 24, 24, 1]);
            for s in 0..batch.x.shape()[0] {
                let image = batch.x.index_axis(Axis(0), s).mapv(|v| v > 127.5);
                let mask = m.index_axis(Axis(0), s).to_owned();
                let mask = mask.into_dimensionality::<Ix3>().unwrap();
                for ((r, c, _), &v) in mask.indexed_iter() {
                    assert!(v == 0 || v == 7, "class ids only, got {v}");
                    let edge = on_an_edge(&image, r, c) || on_an_edge(&mask.mapv(|v| v == 7), r, c);
                    assert!(
                        image[[r, c, 0]] == (v == 7) || edge,
                        "batch {b} sample {s} pixel ({r}, {c}): mask {v}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_box_lands_on_its_rectangle_through_a_pipeline() {
    let (n, h, w) = (12, 30, 34);
    let (boxes, labels) = spot_boxes(n);
    let crop = pipeline(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal_and_vertical"}},
            {"class_name": "RandomResizedCrop", "config": {"size": [40, 40], "scale": [0.6, 1.0]}}]"#,
    );
    for (rotates, datagen) in generators().into_iter().enumerate() {
        let it = datagen
            .flow(rectangles(n, h, w))
            .boxes(boxes.clone(), labels.clone())
            .box_options(BoxOptions::new(BoxFormat::PascalVoc).min_visibility(1.0))
            .batch_size(5)
            .seed(4)
            .pipeline(crop.clone())
            .build()
            .unwrap();
        let mut kept = 0;
        for b in 0..it.len() {
            let batch = it.get(b).unwrap();
            let moved = batch.boxes.unwrap();
            for (s, &i) in batch.index.iter().enumerate() {
                if moved.boxes[s].nrows() == 0 {
                    assert!(moved.labels[s].is_empty());
                    continue; // cropped: dropped under min_visibility 1
                }
                kept += 1;
                assert_eq!(moved.labels[s], [100 + i as i64]);
                let m = moved.boxes[s].row(0).map(|&v| f64::from(v));
                let image = batch.x.index_axis(Axis(0), s).to_owned();
                let seen = bright_bounds(&image).expect("a whole box is in view");
                for k in 0..4 {
                    // A rotated rectangle lies inside its box; an unrotated one fills it.
                    let inside = if k < 2 {
                        seen[k] >= m[k] - 1.0
                    } else {
                        seen[k] <= m[k] + 1.0
                    };
                    assert!(inside, "sample {i}: box {m:?}, rectangle {seen:?}");
                    if rotates == 0 {
                        let near = (seen[k] - m[k]).abs() <= 1.0;
                        assert!(near, "sample {i}: box {m:?}, rectangle {seen:?}");
                    }
                }
            }
        }
        assert!(kept >= n / 3, "only {kept} boxes stayed whole");
    }
}

/// `horizontal_and_vertical` flips both ways at once, or not at all.
#[test]
fn flips_in_a_pipeline_move_boxes_exactly() {
    let (n, h, w) = (10, 20, 26);
    let (boxes, labels) = spot_boxes(n);
    let x = rectangles(n, h, w);
    let flip = pipeline(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal_and_vertical"}}]"#,
    );
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = datagen
        .flow(x.clone())
        .boxes(boxes.clone(), labels)
        .batch_size(n)
        .seed(2)
        .pipeline(flip)
        .build()
        .unwrap();
    let batch = it.get(0).unwrap();
    let moved = batch.boxes.unwrap();
    let mut seen_flips = [false; 4];
    for (s, &i) in batch.index.iter().enumerate() {
        let out = batch.x.index_axis(Axis(0), s).mapv(|v| v as u8);
        let source = x.index_axis(Axis(0), i);
        let b = boxes[i].row(0).to_vec();
        let (hf, vf) = (
            source.slice(ndarray::s![.., ..;-1, ..]),
            source.slice(ndarray::s![..;-1, .., ..]),
        );
        let (fw, fh) = (w as f32, h as f32);
        let (kind, want) = if out == source {
            (0, b.clone())
        } else if out == hf {
            (1, vec![fw - b[2], b[1], fw - b[0], b[3]])
        } else if out == vf {
            (2, vec![b[0], fh - b[3], b[2], fh - b[1]])
        } else {
            assert_eq!(
                out,
                source.slice(ndarray::s![..;-1, ..;-1, ..]),
                "sample {i}"
            );
            (3, vec![fw - b[2], fh - b[3], fw - b[0], fh - b[1]])
        };
        seen_flips[kind] = true;
        // Exact up to f32 rounding: Keras flips boxes in relative coordinates.
        let got = moved.boxes[s].row(0).to_vec();
        let close = got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-4);
        assert!(close, "sample {i}: {got:?}, want {want:?}");
    }
    assert!(
        seen_flips.iter().filter(|&&f| f).count() >= 2,
        "{seen_flips:?}"
    );
}

#[test]
fn pipeline_targets_do_not_depend_on_threads_or_request_order() {
    let (n, h, w) = (9, 30, 34);
    let x = rectangles(n, h, w);
    let masks = x.index_axis(Axis(3), 0).mapv(|v| u8::from(v > 127) * 3);
    let (boxes, labels) = spot_boxes(n);
    for datagen in generators() {
        let it = datagen
            .flow(x.clone())
            .masks(masks.clone())
            .boxes(boxes.clone(), labels.clone())
            .batch_size(4)
            .seed(8)
            .pipeline(warping())
            .build()
            .unwrap();
        let run = |threads: usize, order: &[usize]| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut got: Vec<_> = order
                .iter()
                .map(|&b| (b, pool.install(|| it.get(b).unwrap())))
                .collect();
            got.sort_by_key(|(b, _)| *b);
            got.into_iter()
                .map(|(_, batch)| (batch.x, batch.masks, batch.boxes))
                .collect::<Vec<_>>()
        };
        let one = run(1, &[0, 1, 2]);
        assert!(one.iter().all(|(_, m, b)| m.is_some() && b.is_some()));
        assert_eq!(run(2, &[2, 0, 1]), one);
    }
}

/// Each sample's single bright pixel and its keypoint (its centre).
fn dots(n: usize, h: usize, w: usize) -> (Array4<u8>, Vec<Array2<f32>>) {
    let at = |i: usize| (4 + (i * 7) % (w - 8), 4 + (i * 5) % (h - 8)); // column, row
    let x = Array4::from_shape_fn((n, h, w, 1), |(i, r, c, _)| u8::from(at(i) == (c, r)) * 255);
    let points = (0..n)
        .map(|i| array![[at(i).0 as f32 + 0.5, at(i).1 as f32 + 0.5]])
        .collect();
    (x, points)
}

/// Runs `aug` after each of `datagens` over 24 images with one bright pixel each: every
/// kept keypoint is within a pixel of its image's brightest pixel, labels follow, and
/// `MarkInvisible` keeps every point, flagged as `Drop` decides. Returns the kept count.
fn keypoints_follow_their_dots(aug: &Augment, datagens: &[ImageDataGenerator]) -> usize {
    let (n, h, w) = (24, 30, 34);
    let (x, points) = dots(n, h, w);
    let labels: Vec<Vec<i64>> = (0..n).map(|i| vec![50 + i as i64]).collect();
    let mut kept = 0;
    for datagen in datagens {
        let build = |policy| {
            datagen
                .flow(x.clone())
                .keypoints(points.clone(), labels.clone())
                .outside_points(policy)
                .batch_size(5)
                .seed(11)
                .pipeline(aug.clone())
                .build()
                .unwrap()
        };
        let (dropping, marking) = (
            build(OutsidePoints::Drop),
            build(OutsidePoints::MarkInvisible),
        );
        for b in 0..dropping.len() {
            let batch = dropping.get(b).unwrap();
            let all = marking.get(b).unwrap().keypoints.unwrap();
            let moved = batch.keypoints.unwrap();
            for (s, &i) in batch.index.iter().enumerate() {
                assert_eq!(all.points[s].nrows(), 1, "MarkInvisible keeps every point");
                if moved.points[s].nrows() == 0 {
                    assert_eq!(all.visible[s], [false]);
                    continue;
                }
                assert_eq!(moved.points[s], all.points[s]);
                assert_eq!(
                    (moved.labels[s][0], moved.visible[s][0]),
                    (50 + i as i64, true)
                );
                let (px, py) = (moved.points[s][[0, 0]], moved.points[s][[0, 1]]);
                let spot = brightest(
                    batch
                        .x
                        .index_axis(Axis(0), s)
                        .into_dimensionality()
                        .unwrap(),
                );
                let Some(spot) = spot else {
                    panic!("sample {i}: a visible point at ({px}, {py}) on no dot")
                };
                kept += 1;
                let (dx, dy) = (px - (spot.1 as f32 + 0.5), py - (spot.0 as f32 + 0.5));
                assert!(
                    dx.abs() <= 1.0 && dy.abs() <= 1.0,
                    "sample {i}: point ({px}, {py}), brightest pixel (row {}, col {})",
                    spot.0,
                    spot.1
                );
            }
        }
    }
    kept
}

#[test]
fn a_keypoint_lands_on_its_dot_through_a_warping_pipeline() {
    let kept = keypoints_follow_their_dots(&warping(), &generators());
    assert!(kept > 16, "only {kept} of 48 points kept");
}

#[test]
fn a_keypoint_lands_on_its_dot_through_perspective_translation_and_zoom() {
    let aug = pipeline(
        r#"[{"class_name": "RandomTranslation", "config": {"height_factor": 0.4, "width_factor": 0.4, "fill_mode": "constant"}},
            {"class_name": "RandomZoom", "config": {"height_factor": [-0.2, 0.2], "fill_mode": "constant"}},
            {"class_name": "RandomPerspective", "config": {"factor": 1.0, "scale": 0.3}}]"#,
    );
    // The pipeline alone: a generator's warp first spreads the dot, and a strong zoom-out
    // can then leave its brightest pixel more than a pixel from the point.
    let alone = &generators()[..1];
    let kept = keypoints_follow_their_dots(&aug, alone);
    assert!(
        (5..24).contains(&kept),
        "{kept} of 24 points kept: translations this large drop some"
    );
}

#[test]
fn a_keypoint_lands_on_its_dot_through_an_elastic_field() {
    let aug = pipeline(
        r#"[{"class_name": "RandomElasticTransform", "config": {"factor": 1.0, "scale": 1.0, "fill_mode": "constant"}}]"#,
    );
    // The pipeline alone: a strong field stretches a dot the generator spread.
    let kept = keypoints_follow_their_dots(&aug, &generators()[..1]);
    assert!(kept > 12, "only {kept} of 24 points kept");
}

#[test]
fn flips_in_a_pipeline_mirror_keypoints_exactly() {
    let aug = pipeline(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal_and_vertical"}}]"#,
    );
    let (x, points) = dots(6, 12, 16);
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = datagen
        .flow(x)
        .keypoints(points.clone(), vec![vec![1]; 6])
        .batch_size(6)
        .seed(3)
        .pipeline(aug)
        .build()
        .unwrap();
    let batch = it.get(0).unwrap();
    let moved = batch.keypoints.unwrap();
    let mut flipped = 0;
    for (s, &i) in batch.index.iter().enumerate() {
        let (p, q) = (points[i].row(0), moved.points[s].row(0));
        if (p[0], p[1]) != (q[0], q[1]) {
            assert_eq!((q[0], q[1]), (16.0 - p[0], 12.0 - p[1]), "sample {i}");
            flipped += 1;
        }
    }
    assert!(flipped > 0, "no sample flipped");
}

/// `aug` applied with explicit `params` to a `h × w` one-channel image (all 0) carrying
/// `points`: their moved places and visibility.
fn moved_points(
    aug: &Augment,
    params: &[Params],
    [h, w]: [usize; 2],
    points: Vec<[f32; 2]>,
) -> (Vec<[f32; 2]>, Vec<bool>) {
    let sample = Sample::new(ndarray::Array3::zeros((h, w, 1)))
        .with_keypoints(Keypoints::new(points).unwrap());
    let k = aug.transform(params, sample).unwrap().keypoints.unwrap();
    (k.xy, k.visible)
}

/// Regression (review): a colour op between two geometric ops ends the first chain, whose
/// pass must judge the points in its own output, not in the next op's.
#[test]
fn a_pass_between_geometric_ops_judges_points_in_its_own_output() {
    let resize = pipeline(
        r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
            {"class_name": "Rescaling", "config": {"scale": 2.0}},
            {"class_name": "Resizing", "config": {"height": 8, "width": 20}}]"#,
    );
    let params = [
        Params::RandomFlip { flips: false },
        Params::Rescaling,
        Params::Resizing,
    ];
    let (xy, visible) = moved_points(&resize, &params, [4, 10], vec![[9.5, 3.5]]);
    assert_eq!((xy, visible), (vec![[19.0, 7.0]], vec![true]));
    let there_and_back = pipeline(
        r#"[{"class_name": "RandomTranslation", "config": {"height_factor": 0.0, "width_factor": 0.5, "fill_mode": "constant"}},
            {"class_name": "Rescaling", "config": {"scale": 2.0}},
            {"class_name": "RandomTranslation", "config": {"height_factor": 0.0, "width_factor": 0.5, "fill_mode": "constant"}}]"#,
    );
    let shift = |tx| Params::RandomTranslation {
        translations: [tx, 0.0],
    };
    let params = [shift(4.0), Params::Rescaling, shift(-4.0)];
    let (xy, visible) = moved_points(&there_and_back, &params, [8, 10], vec![[8.5, 5.5]]);
    assert_eq!(
        (xy, visible),
        (vec![[8.5, 5.5]], vec![false]),
        "it crossed the fill"
    );
}

/// Regression (review): the inverse of a crop far into a large image was taken for singular.
#[test]
fn a_crop_far_into_a_wide_image_keeps_its_points() {
    let crop = pipeline(r#"[{"class_name": "RandomCrop", "config": {"height": 2, "width": 100}}]"#);
    let params = [Params::RandomCrop {
        h_start: 0,
        w_start: 10_100,
    }];
    let (xy, visible) = moved_points(&crop, &params, [2, 10_300], vec![[10_150.5, 0.5]]);
    assert_eq!((xy, visible), (vec![[50.5, 0.5]], vec![true]));
}

/// Regression (review): a uniform elastic shift of 4 pixels shows no output pixel of the
/// source's first columns, so a point there turns invisible; one further in moves by 4;
/// an invisible point keeps its own place, shifted.
#[test]
fn an_elastic_field_hides_the_points_it_pushes_out() {
    let elastic = pipeline(
        r#"[{"class_name": "RandomElasticTransform", "config": {"factor": 1.0, "scale": 1.0, "fill_mode": "constant"}}]"#,
    );
    let (h, w) = (20, 40);
    let params = [Params::RandomElasticTransform {
        apply_transform: true,
        distortion_factor: 1.0,
        noise: ElasticNoise::Fields {
            noise_dx: vec![1.0; h * w],
            noise_dy: vec![0.0; h * w],
        },
    }];
    let points = vec![[1.5, 10.5], [20.5, 10.5], [-30.0, 10.5]];
    let (xy, visible) = moved_points(&elastic, &params, [h, w], points);
    assert_eq!(visible, [false, true, false]);
    assert!(
        (xy[1][0] - 16.5).abs() < 1e-3 && (xy[1][1] - 10.5).abs() < 1e-3,
        "{xy:?}"
    );
    assert!(
        xy[2][0] < -30.0,
        "an invisible point keeps its place: {xy:?}"
    );
}

/// Regression (review): points set through the public field are judged against the image
/// even when no op resamples it.
#[test]
fn points_outside_the_image_are_invisible_without_a_geometric_op() {
    let colour = pipeline(r#"[{"class_name": "Rescaling", "config": {"scale": 2.0}}]"#);
    let mut sample = Sample::new(ndarray::Array3::zeros((4, 4, 1)));
    sample.keypoints = Some(Keypoints::new(vec![[-5.0, -5.0], [1.0, 1.0]]).unwrap());
    let out = colour.transform(&[Params::Rescaling], sample).unwrap();
    assert_eq!(out.keypoints.unwrap().visible, [false, true]);
}
