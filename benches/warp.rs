//! One 224×224×3 `u8` image through augflow's fused warp, against the floor (a plain
//! `u8 -> f32` scaled copy) and imageproc's `warp_into`; plus a ZCA fit of 2,000 32×32×3 images.
//!
//! All single-image paths are single-threaded (imageproc is built without rayon), so the
//! figures compare per-core speed.

use std::hint::black_box;
use std::time::Duration;

use augflow::rng::{sample_rng, unit_f64};
use augflow::transform::Affine;
use augflow::{FillMode, ImageDataGenerator, TransformParams};
use criterion::{Criterion, criterion_group, criterion_main};
use image::RgbImage;
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
use ndarray::{Array3, Array4};

const H: usize = 224;
const W: usize = 224;

fn random_u8(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = sample_rng(seed, 0, 0);
    (0..len)
        .map(|_| (unit_f64(&mut rng) * 256.0) as u8)
        .collect()
}

fn params() -> TransformParams {
    TransformParams {
        theta: 15.0,
        tx: 10.0,
        ty: -8.0,
        shear: 5.0,
        zx: 1.1,
        zy: 0.9,
        flip_horizontal: true,
        ..Default::default()
    }
}

fn single_image(c: &mut Criterion) {
    let pixels = random_u8(H * W * 3, 1);
    let x = Array3::from_shape_vec((H, W, 3), pixels.clone()).unwrap();
    // The kernel build in the name, so reports from different CPUs are not mixed up.
    let name = format!(
        "224x224x3 u8, {} kernel",
        augflow::transform::kernel_build()
    );
    let mut group = c.benchmark_group(name);

    // (a) The floor: a scaled u8 -> f32 copy into a preallocated buffer.
    let mut floor_out = vec![0f32; H * W * 3];
    group.bench_function("floor u8->f32 x1/255 copy", |b| {
        b.iter(|| {
            for (o, &v) in floor_out.iter_mut().zip(black_box(&pixels)) {
                *o = v as f32 * (1.0 / 255.0);
            }
            black_box(&floor_out);
        })
    });

    // (b) augflow: rotation + shift + shear + zoom + horizontal flip, nearest fill, bilinear.
    let datagen = ImageDataGenerator::builder()
        .fill_mode(FillMode::Nearest)
        .interpolation_order(1)
        .build()
        .unwrap();
    let p = params();
    let mut out = Array3::<f32>::zeros((H, W, 3));
    group.bench_function("augflow apply_transform_into f32", |b| {
        b.iter(|| {
            datagen
                .apply_transform_into(black_box(x.view()), black_box(&p), out.view_mut())
                .unwrap();
            black_box(&out);
        })
    });

    // (c) imageproc: the same pull map (corrected geometry: true centre, then the flip),
    // bilinear, edge replication, u8 out.
    let (cx, cy) = ((W as f64 - 1.0) / 2.0, (H as f64 - 1.0) / 2.0);
    let flip = Affine([
        [-1.0, 0.0, W as f64 - 1.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
    ]);
    let pull = Affine::translation(cx, cy)
        * Affine::keras_matrix(&p).unwrap()
        * Affine::translation(-cx, -cy)
        * flip;
    let m = pull.0;
    let pull = Projection::from_matrix([
        m[0][0] as f32,
        m[0][1] as f32,
        m[0][2] as f32,
        m[1][0] as f32,
        m[1][1] as f32,
        m[1][2] as f32,
        0.0,
        0.0,
        1.0,
    ])
    .unwrap();
    // imageproc's projection maps input to output; warp_into inverts it back to the pull map.
    let push = pull.invert();
    let img = RgbImage::from_raw(W as u32, H as u32, pixels.clone()).unwrap();
    let mut img_out = RgbImage::new(W as u32, H as u32);
    group.bench_function("imageproc warp_into bilinear u8", |b| {
        b.iter(|| {
            warp_into(
                black_box(&img),
                push,
                Interpolation::Bilinear,
                Border::Replicate,
                &mut img_out,
            );
            black_box(&img_out);
        })
    });
    group.finish();
}

fn zca_fit(c: &mut Criterion) {
    let (n, h, w, ch) = (2000, 32, 32, 3);
    let x = Array4::from_shape_vec((n, h, w, ch), random_u8(n * h * w * ch, 2)).unwrap();
    let mut datagen = ImageDataGenerator::builder()
        .zca_whitening(true)
        .rescale(1.0 / 255.0)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("fit");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("zca 2000x32x32x3", |b| {
        b.iter(|| datagen.fit(black_box(x.view())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, single_image, zca_fit);
criterion_main!(benches);
