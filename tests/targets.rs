//! Targets land where the warped image shows them: a box drawn as a filled rectangle and a
//! keypoint drawn as one bright pixel are warped with the image, and the transformed box and
//! point agree with what the warped image shows, within a pixel. Random transforms, flips,
//! sizes and both geometries.

use augflow::targets::{
    BoxFormat, BoxOptions, OutsidePoints, PointMap, transform_boxes, transform_keypoints, warp_mask,
};
use augflow::{FillMode, Geometry, ImageDataGenerator, TransformParams};
use ndarray::{Array2, Array3};
use proptest::prelude::*;

mod common;
use common::{bright_bounds, brightest, on_an_edge};

/// Random transforms with shears up to `shear` degrees and zooms in `0.8..1.25`.
fn params(shear: f64) -> impl Strategy<Value = TransformParams> {
    (
        -180.0..180.0_f64,
        (-6.0..6.0_f64, -6.0..6.0_f64),
        -shear..=shear,
        (0.8..1.25_f64, 0.8..1.25_f64),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(theta, (tx, ty), shear, (zx, zy), (fh, fv))| TransformParams {
                theta,
                tx,
                ty,
                shear,
                zx,
                zy,
                flip_horizontal: fh,
                flip_vertical: fv,
                ..Default::default()
            },
        )
}

/// The image warped with nearest sampling: an output pixel is bright exactly when its centre
/// maps into a bright input pixel, the test the targets' point map answers for points.
fn warp(image: &Array3<u8>, p: &TransformParams, geometry: Geometry) -> Array3<f32> {
    let datagen = ImageDataGenerator::builder()
        .interpolation_order(0)
        .fill_mode(FillMode::Constant)
        .cval(0.0)
        .geometry(geometry)
        .build()
        .unwrap();
    datagen.apply_transform(image.view(), p).unwrap()
}

/// An image size, where a rectangle sits (fractions) and its size.
type Scene = ((usize, usize), (f64, f64), (usize, usize));

fn scene() -> impl Strategy<Value = Scene> {
    (
        (16_usize..40, 16_usize..40),
        (0.0..1.0_f64, 0.0..1.0_f64),
        (4_usize..12, 4_usize..12),
    )
}

/// Draws the scene's rectangle at `scale` times its size (shifts scaled too), warps it with
/// `p`, and returns the transformed box and the bounds of the warped rectangle's pixels, in
/// units of the unscaled scene; rejects the case unless the box stays whole inside the image.
fn box_and_rectangle(
    p: &TransformParams,
    keras: bool,
    ((h, w), corner, size): Scene,
    scale: usize,
) -> Result<([f64; 4], [f64; 4]), TestCaseError> {
    let geometry = if keras {
        Geometry::Keras
    } else {
        Geometry::Corrected
    };
    let (bw, bh) = (size.0.min(w - 2), size.1.min(h - 2));
    let x0 = (corner.0 * (w - bw) as f64) as usize;
    let y0 = (corner.1 * (h - bh) as f64) as usize;
    let [h, w, x0, y0, bw, bh] = [h, w, x0, y0, bw, bh].map(|v| v * scale);
    let p = TransformParams {
        tx: p.tx * scale as f64,
        ty: p.ty * scale as f64,
        ..*p
    };
    let mut image = Array3::<u8>::zeros((h, w, 1));
    image
        .slice_mut(ndarray::s![y0..y0 + bh, x0..x0 + bw, ..])
        .fill(255);
    let corners = [x0, y0, x0 + bw, y0 + bh].map(|v| v as f32);
    let boxes = Array2::from_shape_vec((1, 4), corners.to_vec()).unwrap();
    let map = PointMap::new(&p, h, w, geometry);
    let opts = BoxOptions::new(BoxFormat::PascalVoc).min_visibility(1.0);
    let (moved, kept) = transform_boxes(boxes.view(), map.as_ref(), &opts);
    if kept != [0] {
        return Err(TestCaseError::reject("the box leaves the image"));
    }
    let m = moved.row(0).map(|&v| f64::from(v));
    let boxed = [m[0], m[1], m[2], m[3]];
    if !(boxed[0] > 0.0 && boxed[1] > 0.0 && boxed[2] < w as f64 && boxed[3] < h as f64) {
        return Err(TestCaseError::reject("the box touches the border"));
    }
    let seen = bright_bounds(&warp(&image, &p, geometry)).expect("the rectangle is in view");
    let unscale = |b: [f64; 4]| b.map(|v| v / scale as f64);
    Ok((unscale(boxed), unscale(seen)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Each edge within a pixel. The rectangle is drawn and warped on a 4× finer grid: on the
    /// image's own grid, a sharp corner's tip can fall between pixel centres by more than a
    /// pixel, which says nothing of where the box went (the next test bounds the other
    /// direction on the image's own grid).
    #[test]
    fn a_box_lands_on_its_warped_rectangle(
        p in params(25.0), keras in any::<bool>(), scene in scene(),
    ) {
        let (boxed, seen) = box_and_rectangle(&p, keras, scene, 4)?;
        for k in 0..4 {
            prop_assert!(
                (boxed[k] - seen[k]).abs() <= 1.0,
                "edge {k}: box {boxed:?}, warped rectangle {seen:?}"
            );
        }
    }

    /// For any shear, the warped rectangle never shows outside its box by more than half a
    /// pixel (its pixels are those whose centres land inside the transformed rectangle).
    #[test]
    fn a_warped_rectangle_stays_inside_its_box(
        p in params(40.0), keras in any::<bool>(), scene in scene(),
    ) {
        let (boxed, seen) = box_and_rectangle(&p, keras, scene, 1)?;
        let inside = seen[0] >= boxed[0] - 0.5 - 1e-6
            && seen[1] >= boxed[1] - 0.5 - 1e-6
            && seen[2] <= boxed[2] + 0.5 + 1e-6
            && seen[3] <= boxed[3] + 0.5 + 1e-6;
        prop_assert!(inside, "box {boxed:?}, warped rectangle {seen:?}");
    }

    #[test]
    fn a_keypoint_lands_on_its_warped_bright_pixel(
        p in params(25.0), keras in any::<bool>(),
        (h, w) in (12_usize..40, 12_usize..40),
        at in (0.0..1.0_f64, 0.0..1.0_f64),
    ) {
        let geometry = if keras { Geometry::Keras } else { Geometry::Corrected };
        let (c, r) = ((at.0 * w as f64) as usize, (at.1 * h as f64) as usize);
        let mut image = Array3::<u8>::zeros((h, w, 1));
        image[[r, c, 0]] = 255;
        let point = Array2::from_shape_vec((1, 2), vec![c as f32 + 0.5, r as f32 + 0.5]).unwrap();
        let map = PointMap::new(&p, h, w, geometry);
        let moved = transform_keypoints(point.view(), map.as_ref(), OutsidePoints::Drop);
        prop_assume!(moved.kept == [0]);
        let warped = warp(&image, &p, geometry);
        let (mut best, mut at) = (0.0_f32, (0, 0));
        for ((rr, cc, _), &v) in warped.indexed_iter() {
            if v > best {
                (best, at) = (v, (rr, cc));
            }
        }
        // The spot can fall between samples when zooming out.
        prop_assume!(best > 0.0);
        let (x, y) = (f64::from(moved.xy[[0, 0]]), f64::from(moved.xy[[0, 1]]));
        prop_assert!(
            (x - (at.1 as f64 + 0.5)).abs() <= 1.0 && (y - (at.0 as f64 + 0.5)).abs() <= 1.0,
            "point ({x}, {y}), brightest warped pixel (row {}, col {})", at.0, at.1
        );
    }
}

/// Keras' documented pattern for segmentation: two generators with the same augmentation
/// arguments and the same seed, one over the images and one over the masks (nearest
/// sampling, so class ids are never blended). Sample `i` of epoch `e` gets the same draw in
/// both, so a mask equal to the thresholded image stays the thresholded warped image, but for
/// a one-pixel band along edges where bilinear and nearest sampling round differently.
#[test]
fn the_keras_two_generator_pattern_moves_masks_with_their_images() {
    use augflow::Sequence;
    let (n, h, w) = (12, 24, 32);
    let mut x = ndarray::Array4::<u8>::zeros((n, h, w, 1));
    for i in 0..n {
        let (r0, c0) = (2 + i % 7, 3 + (i * 5) % 13);
        x.slice_mut(ndarray::s![i, r0..r0 + 9, c0..c0 + 12, ..])
            .fill(255);
    }
    let masks = x.mapv(|v| u8::from(v > 127));
    let generator = |order: u32| {
        ImageDataGenerator::builder()
            .rotation_range(30.0)
            .width_shift_range(0.1)
            .height_shift_range(0.1)
            .zoom_range(0.1)
            .horizontal_flip(true)
            .fill_mode(FillMode::Constant)
            .interpolation_order(order)
            .build()
            .unwrap()
    };
    let (images, labels) = (generator(1), generator(0));
    let mut it_x = images.flow(x).batch_size(5).seed(21).build().unwrap();
    let mut it_m = labels.flow(masks).batch_size(5).seed(21).build().unwrap();
    for epoch in 0..2 {
        for b in 0..it_x.len() {
            let (bx, bm) = (it_x.get(b).unwrap().x, it_m.get(b).unwrap().x);
            let thresholded = bx.mapv(|v| v > 127.5);
            for ((s, r, c, _), &m) in bm.indexed_iter() {
                if thresholded[[s, r, c, 0]] == (m > 0.5) {
                    continue;
                }
                let image = thresholded.index_axis(ndarray::Axis(0), s);
                let mask = bm.index_axis(ndarray::Axis(0), s).mapv(|v| v > 0.5);
                assert!(
                    on_an_edge(&image.to_owned(), r, c) || on_an_edge(&mask, r, c),
                    "epoch {epoch} batch {b} sample {s}: mask and image disagree away from an edge"
                );
            }
        }
        it_x.on_epoch_end();
        it_m.on_epoch_end();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A mask equal to the thresholded image stays the thresholded warped image, under every
    /// fill mode and both geometries, but for a one-pixel band along edges and along the
    /// image's border (bilinear and nearest sampling round differently there, and the
    /// border's neighbours lie outside the output).
    #[test]
    fn a_mask_stays_the_thresholded_warped_image(
        p in params(25.0), keras in any::<bool>(), fill in 0_usize..4,
        (h, w) in (12_usize..36, 12_usize..36), seed in any::<u64>(),
    ) {
        let fill = [FillMode::Constant, FillMode::Nearest, FillMode::Reflect, FillMode::Wrap][fill];
        let datagen = ImageDataGenerator::builder()
            .fill_mode(fill)
            .geometry(if keras { Geometry::Keras } else { Geometry::Corrected })
            .build()
            .unwrap();
        // Blocks of 0 or 255, so edges are sparse and the band rule is meaningful.
        let image = Array3::from_shape_fn((h, w, 1), |(r, c, _)| {
            let cell = (r / 5 * 31 + c / 6 * 17) as u64 ^ seed;
            if cell.count_ones().is_multiple_of(2) { 255_u8 } else { 0 }
        });
        let mask = image.mapv(|v| u8::from(v > 127));
        let warped: Array3<f32> = datagen.apply_transform(image.view(), &p).unwrap();
        let moved = warp_mask(&datagen, mask.view(), &p, 0.0).unwrap();
        let thresholded = warped.mapv(|v| v > 127.5);
        for ((r, c, _), &m) in moved.indexed_iter() {
            let border = r == 0 || c == 0 || r == h - 1 || c == w - 1;
            if thresholded[[r, c, 0]] == (m == 1) || border {
                continue;
            }
            let near_edge = on_an_edge(&thresholded, r, c) || on_an_edge(&moved.mapv(|v| v == 1), r, c);
            prop_assert!(
                near_edge,
                "pixel ({r}, {c}): mask {m}, warped image {}", warped[[r, c, 0]]
            );
        }
    }
}

/// `flow(x).masks(m)`: each batch's masks went through their images' draws. A mask equal to
/// the thresholded image stays the thresholded batch image (edge band aside), photometric
/// steps leave masks alone, and the bits are the same at any thread count.
#[test]
fn flow_moves_each_mask_with_its_image() {
    use augflow::Sequence;
    let (n, h, w) = (10, 20, 28);
    let x = ndarray::Array4::from_shape_fn((n, h, w, 1), |(i, r, c, _)| {
        let inside = (3 + i % 5..12 + i % 5).contains(&r) && (4 + i..16 + i).contains(&c);
        if inside { 255_u8 } else { 0 }
    });
    let masks = x
        .index_axis(ndarray::Axis(3), 0)
        .mapv(|v| u8::from(v > 127) * 7);
    let datagen = ImageDataGenerator::builder()
        .rotation_range(40.0)
        .zoom_range(0.2)
        .width_shift_range(0.1)
        .horizontal_flip(true)
        .vertical_flip(true)
        .channel_shift_range(10.0)
        .fill_mode(FillMode::Constant)
        .build()
        .unwrap();
    let it = datagen
        .flow(x)
        .masks(masks)
        .mask_cval(255.0)
        .batch_size(4)
        .seed(9)
        .build()
        .unwrap();
    let in_pool = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| it.get(1).unwrap())
    };
    let (one, two) = (in_pool(1), in_pool(2));
    assert_eq!(one.masks, two.masks);
    for b in 0..it.len() {
        let batch = it.get(b).unwrap();
        let m = batch.masks.unwrap().into_array::<u8>().unwrap();
        assert_eq!(m.shape(), &[batch.x.shape()[0], h, w, 1]);
        assert!(
            m.iter().all(|&v| v == 0 || v == 7 || v == 255),
            "ids or the fill only"
        );
        for s in 0..batch.x.shape()[0] {
            let image = batch.x.index_axis(ndarray::Axis(0), s).mapv(|v| v > 127.5);
            let mask = m
                .index_axis(ndarray::Axis(0), s)
                .to_owned()
                .into_dimensionality::<ndarray::Ix3>()
                .unwrap();
            for ((r, c, _), &v) in mask.indexed_iter() {
                let (seen, marked) = (image[[r, c, 0]], v == 7);
                let fill = v == 255 && !seen; // outside the input: the image shows cval 0 there
                let edge = on_an_edge(&image, r, c) || on_an_edge(&mask.mapv(|v| v == 7), r, c);
                assert!(
                    seen == marked || fill || edge,
                    "batch {b} sample {s} pixel ({r}, {c}): mask {v}"
                );
            }
        }
    }
}

#[test]
fn channels_first_masks_come_back_in_the_batch_layout_with_the_same_draws() {
    use augflow::{DataFormat, Sequence};
    let (n, h, w) = (6, 9, 13);
    let x = ndarray::Array4::from_shape_fn((n, h, w, 3), |(i, r, c, k)| {
        (i * 40 + r * 7 + c * 3 + k) as u8
    });
    let masks = ndarray::Array4::from_shape_fn((n, h, w, 2), |(i, r, c, k)| {
        ((i + r * w + c) * (k + 1) % 251) as u8
    });
    let batch = |format: DataFormat| {
        let datagen = ImageDataGenerator::builder()
            .rotation_range(30.0)
            .zoom_range(0.2)
            .horizontal_flip(true)
            .data_format(format)
            .build()
            .unwrap();
        let (x, m) = match format {
            DataFormat::ChannelsLast => (x.clone(), masks.clone()),
            DataFormat::ChannelsFirst => (
                x.view()
                    .permuted_axes([0, 3, 1, 2])
                    .as_standard_layout()
                    .to_owned(),
                masks
                    .view()
                    .permuted_axes([0, 3, 1, 2])
                    .as_standard_layout()
                    .to_owned(),
            ),
        };
        let it = datagen
            .flow(x)
            .masks(m)
            .batch_size(4)
            .seed(3)
            .build()
            .unwrap();
        it.get(0)
            .unwrap()
            .masks
            .unwrap()
            .into_array::<u8>()
            .unwrap()
    };
    let last = batch(DataFormat::ChannelsLast);
    let first = batch(DataFormat::ChannelsFirst);
    assert_eq!(last.shape(), &[4, h, w, 2]);
    assert_eq!(first.shape(), &[4, 2, h, w]);
    assert_eq!(
        first.view().permuted_axes(ndarray::IxDyn(&[0, 2, 3, 1])),
        last.view()
    );
    // A channels-last shape is refused under channels-first, naming what is accepted.
    let datagen = ImageDataGenerator::builder()
        .data_format(DataFormat::ChannelsFirst)
        .build()
        .unwrap();
    let x = ndarray::Array4::<u8>::zeros((n, 3, h, w));
    let err = datagen
        .flow(x)
        .masks(masks.clone())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("masks") && err.contains(&format!("({n}, K, {h}, {w})")),
        "{err}"
    );
}

#[test]
fn bad_masks_are_refused_when_the_iterator_is_built() {
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let x = ndarray::Array4::<u8>::zeros((3, 8, 8, 3));
    let build = |m: augflow::DynArray, cval: f64| {
        datagen
            .flow(x.clone())
            .masks(m)
            .mask_cval(cval)
            .build()
            .map(|_| ())
            .unwrap_err()
    };
    let small = augflow::DynArray::from(ndarray::Array3::<u8>::zeros((3, 8, 7)));
    let err = build(small, 0.0);
    assert!(
        matches!(err, augflow::Error::Shape { name: "masks", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("(3, 8, 8)"), "{err}");
    let few = augflow::DynArray::from(ndarray::Array3::<u8>::zeros((2, 8, 8)));
    assert!(matches!(
        build(few, 0.0),
        augflow::Error::Shape { name: "masks", .. }
    ));
    let ids64 = augflow::DynArray::from(ndarray::Array3::<i64>::zeros((3, 8, 8)));
    let err = build(ids64, 0.0);
    assert!(err.to_string().contains("uint8 or uint16"), "{err}");
    let ids = augflow::DynArray::from(ndarray::Array3::<u8>::zeros((3, 8, 8)));
    let err = build(ids, 256.0);
    assert!(
        matches!(
            err,
            augflow::Error::InvalidParameter {
                name: "mask_cval",
                ..
            }
        ),
        "{err}"
    );
}

/// `flow(x).boxes(..)`: each batch's boxes went through their images' draws. Every image
/// holds one bright rectangle at its box; after the batch, the warped rectangle lies inside
/// its moved box (within half a pixel) and, with axis-aligned transforms, fills it to within
/// a pixel on each edge. Labels follow their boxes; the bits are the same at any thread count.
#[test]
fn flow_moves_each_box_with_its_image() {
    use augflow::Sequence;
    let (n, h, w) = (12, 24, 30);
    let spot = |i: usize| (4 + i % 9, 3 + i % 7, 9 + i % 5, 7 + i % 4); // x0, y0, bw, bh
    let x = ndarray::Array4::from_shape_fn((n, h, w, 1), |(i, r, c, _)| {
        let (x0, y0, bw, bh) = spot(i);
        u8::from((x0..x0 + bw).contains(&c) && (y0..y0 + bh).contains(&r)) * 255
    });
    let boxes: Vec<Array2<f32>> = (0..n)
        .map(|i| {
            let (x0, y0, bw, bh) = spot(i);
            ndarray::array![[x0 as f32, y0 as f32, (x0 + bw) as f32, (y0 + bh) as f32]]
        })
        .collect();
    let labels: Vec<Vec<i64>> = (0..n).map(|i| vec![100 + i as i64]).collect();
    for rotation in [0.0, 35.0] {
        let datagen = ImageDataGenerator::builder()
            .rotation_range(rotation)
            .zoom_range(0.15)
            .width_shift_range(0.15)
            .height_shift_range(0.15)
            .horizontal_flip(true)
            .vertical_flip(true)
            .interpolation_order(0)
            .fill_mode(FillMode::Constant)
            .build()
            .unwrap();
        let it = datagen
            .flow(x.clone())
            .boxes(boxes.clone(), labels.clone())
            .box_options(BoxOptions::new(BoxFormat::PascalVoc).min_visibility(1.0))
            .batch_size(5)
            .seed(4)
            .build()
            .unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(
            pool.install(|| it.get(0).unwrap().boxes),
            it.get(0).unwrap().boxes
        );
        let mut kept = 0;
        for b in 0..it.len() {
            let batch = it.get(b).unwrap();
            let moved = batch.boxes.unwrap();
            for (s, &i) in batch.index.iter().enumerate() {
                if moved.boxes[s].nrows() == 0 {
                    assert!(moved.labels[s].is_empty());
                    continue; // partly out of view: dropped under min_visibility 1
                }
                kept += 1;
                assert_eq!(moved.labels[s], [100 + i as i64]);
                let m = moved.boxes[s].row(0).map(|&v| f64::from(v));
                let image = batch.x.index_axis(ndarray::Axis(0), s).to_owned();
                let seen = bright_bounds(&image).expect("a whole box is in view");
                for k in 0..4 {
                    let inside = if k < 2 {
                        seen[k] >= m[k] - 0.5
                    } else {
                        seen[k] <= m[k] + 0.5
                    };
                    assert!(
                        inside,
                        "rotation {rotation}, sample {i}: box {m:?}, rectangle {seen:?}"
                    );
                    if rotation == 0.0 {
                        assert!(
                            (seen[k] - m[k]).abs() <= 1.0,
                            "sample {i}: box {m:?}, rectangle {seen:?}"
                        );
                    }
                }
            }
        }
        assert!(kept >= n / 2, "only {kept} boxes stayed whole");
    }
}

#[test]
fn bad_boxes_are_refused_when_the_iterator_is_built() {
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let x = ndarray::Array4::<u8>::zeros((2, 8, 8, 3));
    let ok = || vec![ndarray::array![[1.0_f32, 1.0, 3.0, 3.0]]; 2];
    let build = |b: Vec<Array2<f32>>, l: Vec<Vec<i64>>| {
        datagen
            .flow(x.clone())
            .boxes(b, l)
            .build()
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert!(build(ok(), vec![vec![0]]).contains("boxes_labels"));
    assert!(build(ok()[..1].to_vec(), vec![vec![0]; 2]).contains("boxes"));
    assert!(build(ok(), vec![vec![0], vec![0, 1]]).contains("boxes_labels[1]"));
    let mut flipped = ok();
    flipped[1] = ndarray::array![[5.0_f32, 1.0, 2.0, 3.0]];
    let msg = build(flipped, vec![vec![0]; 2]);
    assert!(
        msg.contains("sample 1") && msg.contains("x_max > x_min"),
        "{msg}"
    );
    let nan = datagen
        .flow(x.clone())
        .boxes(ok(), vec![vec![0]; 2])
        .box_options(BoxOptions::default().min_visibility(f64::NAN))
        .build()
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(
        nan,
        augflow::Error::InvalidParameter {
            name: "min_visibility",
            ..
        }
    ));
}

/// `flow(x).keypoints(..)`: each image holds one bright pixel at its keypoint; after the
/// batch, each kept point is within a pixel of its image's brightest pixel, labels follow,
/// and with `MarkInvisible` every point is kept, flagged by whether it is in the image.
#[test]
fn flow_moves_each_keypoint_with_its_image() {
    use augflow::Sequence;
    let (n, h, w) = (16, 20, 26);
    let at = |i: usize| (3 + (i * 7) % 20, 2 + (i * 5) % 16); // column, row
    let x = ndarray::Array4::from_shape_fn((n, h, w, 1), |(i, r, c, _)| {
        u8::from(at(i) == (c, r)) * 255
    });
    let points: Vec<Array2<f32>> = (0..n)
        .map(|i| ndarray::array![[at(i).0 as f32 + 0.5, at(i).1 as f32 + 0.5]])
        .collect();
    let labels: Vec<Vec<i64>> = (0..n).map(|i| vec![i as i64]).collect();
    let datagen = ImageDataGenerator::builder()
        .rotation_range(60.0)
        .width_shift_range(0.3)
        .horizontal_flip(true)
        .fill_mode(FillMode::Constant)
        .build()
        .unwrap();
    let build = |policy| {
        datagen
            .flow(x.clone())
            .keypoints(points.clone(), labels.clone())
            .outside_points(policy)
            .batch_size(6)
            .seed(2)
            .build()
            .unwrap()
    };
    let (dropping, marking) = (
        build(OutsidePoints::Drop),
        build(OutsidePoints::MarkInvisible),
    );
    let (mut kept, mut hidden) = (0, 0);
    for b in 0..dropping.len() {
        let batch = dropping.get(b).unwrap();
        let all = marking.get(b).unwrap().keypoints.unwrap();
        let moved = batch.keypoints.unwrap();
        for (s, &i) in batch.index.iter().enumerate() {
            assert_eq!(all.points[s].nrows(), 1, "MarkInvisible keeps every point");
            if moved.points[s].nrows() == 0 {
                assert_eq!(all.visible[s], [false]);
                hidden += 1;
                continue;
            }
            kept += 1;
            assert_eq!((moved.labels[s][0], moved.visible[s][0]), (i as i64, true));
            let image = batch.x.index_axis(ndarray::Axis(0), s);
            let Some(spot) = brightest(image.into_dimensionality().unwrap()) else {
                continue; // the bright pixel fell between samples
            };
            let (px, py) = (
                moved.points[s][[0, 0]] as f64,
                moved.points[s][[0, 1]] as f64,
            );
            assert!(
                (px - (spot.1 as f64 + 0.5)).abs() <= 1.0
                    && (py - (spot.0 as f64 + 0.5)).abs() <= 1.0,
                "sample {i}: point ({px}, {py}), brightest pixel (row {}, col {})",
                spot.0,
                spot.1
            );
        }
    }
    assert!(
        kept > n / 2 && kept + hidden == n,
        "{kept} kept, {hidden} hidden"
    );
    let err = datagen
        .flow(x.clone())
        .keypoints(vec![ndarray::array![[f32::NAN, 1.0]]; n], labels.clone())
        .build()
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("sample 0"), "{err}");
}

/// A source that promises masks of one layout (`mask_layout`) but has none: the engine must
/// refuse the batch rather than hand out the unwritten mask slots.
#[derive(Debug, Clone)]
struct LayoutWithoutMasks;

impl augflow::iterators::BatchSource for LayoutWithoutMasks {
    type Pixel = u8;
    type Scratch = ();
    fn num_samples(&self) -> usize {
        3
    }
    fn image_shape(&self, _: augflow::DataFormat) -> [usize; 3] {
        [4, 4, 1]
    }
    fn new_scratch(&self) {}
    fn with_image<R>(
        &self,
        i: usize,
        _: augflow::DataFormat,
        _: &mut (),
        f: impl FnOnce(ndarray::ArrayView3<'_, u8>) -> augflow::Result<R>,
    ) -> augflow::Result<R> {
        f(Array3::from_elem((4, 4, 1), i as u8).view())
    }
    fn labels(&self, _: &[usize]) -> augflow::Result<augflow::iterators::Labels> {
        Ok(augflow::iterators::Labels::default())
    }
    fn mask_layout(&self) -> Option<augflow::targets::MaskLayout> {
        Some(augflow::targets::MaskLayout {
            dtype: augflow::DType::U8,
            shape: [4, 4, 1],
        })
    }
}

#[test]
fn a_source_whose_layout_promises_masks_it_does_not_have_is_refused() {
    use augflow::Sequence;
    let datagen = ImageDataGenerator::builder().build().unwrap();
    let it = augflow::iterators::IteratorBuilder::new(&datagen, LayoutWithoutMasks)
        .batch_size(3)
        .build()
        .unwrap();
    let err = it.get(0).unwrap_err();
    assert!(err.to_string().contains("no mask for sample"), "{err}");
}
