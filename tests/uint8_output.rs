//! `uint8` batches (`output::<u8>()`, `dtype: "uint8"`) and batch-buffer reuse
//! (`Sequence::get_into`).

use augflow::transform::WarpOut;
use augflow::{
    DType, Error, FillMode, GeneratorConfig, Geometry, ImageDataGenerator, Kernel, Sequence,
};
use ndarray::{Array1, Array3, Array4};

/// `n` images `side × side × c` of varied pixels, with runs of 0 and 255 for saturation.
fn images(n: usize, side: usize, c: usize) -> Array4<u8> {
    Array4::from_shape_fn((n, side, side, c), |(i, r, col, k)| {
        let v = (i * 37 + r * 11 + col * 5 + k * 71) % 300;
        v.min(255) as u8
    })
}

fn generator(geometry: Geometry, kernel: Kernel, fill: FillMode, cval: f64) -> ImageDataGenerator {
    ImageDataGenerator::builder()
        .rotation_range(35.0)
        .width_shift_range(0.15)
        .height_shift_range(0.1)
        .shear_range(8.0)
        .zoom_range(0.2)
        .horizontal_flip(true)
        .vertical_flip(true)
        .fill_mode(fill)
        .cval(cval)
        .geometry(geometry)
        .kernel(kernel)
        .build()
        .unwrap()
}

/// The `u8` batch and the `f32` and `f64` batches of the same seed, batch 0.
fn three_batches(
    datagen: &ImageDataGenerator,
    x: &Array4<u8>,
) -> (Array4<u8>, Array4<f32>, Array4<f64>) {
    let flow = || datagen.flow(x.clone()).batch_size(x.shape()[0]).seed(11);
    let bytes = flow().output::<u8>().build().unwrap().get(0).unwrap().x;
    let single = flow().build().unwrap().get(0).unwrap().x;
    let double = flow().output::<f64>().build().unwrap().get(0).unwrap().x;
    (bytes, single, double)
}

#[test]
fn u8_batches_are_the_float_batches_rounded_half_up_and_saturated() {
    let x = images(6, 29, 3);
    for geometry in [Geometry::Corrected, Geometry::Keras] {
        for (fill, cval) in [(FillMode::Nearest, 0.0), (FillMode::Constant, 300.0)] {
            // The exact kernel rounds scipy's f64 value, as scipy writes an integer output.
            let exact = generator(geometry, Kernel::Exact, fill, cval);
            let (bytes, _, double) = three_batches(&exact, &x);
            assert_eq!(
                bytes,
                double.mapv(u8::from_f64),
                "{geometry:?} {fill:?} exact"
            );
            // The fast kernel rounds its f32 value; under nearest fill every pixel is fast,
            // elsewhere border pixels are computed exactly.
            let fast = generator(geometry, Kernel::Fast, fill, cval);
            let (bytes, single, double) = three_batches(&fast, &x);
            for ((&b, &s), &d) in bytes.iter().zip(&single).zip(&double) {
                let from_fast = b == u8::from_f32(s);
                let border = fill != FillMode::Nearest && b == u8::from_f64(d);
                assert!(
                    from_fast || border,
                    "{geometry:?} {fill:?}: {b} from {s} / {d}"
                );
            }
            if fill == FillMode::Constant {
                // cval 300 saturates to 255 where the fill shows.
                assert!(single.iter().any(|&v| v == 300.0));
                assert!(
                    bytes
                        .iter()
                        .zip(&single)
                        .all(|(&b, &s)| s < 255.5 || b == 255)
                );
            }
        }
    }
}

#[test]
fn u8_batches_of_every_layout_match_the_rounded_f32_batch() {
    for c in [1, 2, 3, 4] {
        for format in [
            augflow::DataFormat::ChannelsLast,
            augflow::DataFormat::ChannelsFirst,
        ] {
            let datagen = ImageDataGenerator::builder()
                .rotation_range(25.0)
                .zoom_range(0.3)
                .data_format(format)
                .build()
                .unwrap();
            let mut x = images(3, 37, c);
            if format == augflow::DataFormat::ChannelsFirst {
                x = x
                    .permuted_axes([0, 3, 1, 2])
                    .as_standard_layout()
                    .into_owned();
            }
            let (bytes, single, _) = three_batches(&datagen, &x);
            assert_eq!(bytes, single.mapv(u8::from_f32), "{c} channels, {format:?}");
        }
    }
}

#[test]
fn u8_batches_from_float_images_round_and_saturate() {
    // Quarter steps make exact halves; -2 and 260 leave the u8 range.
    let x = Array4::from_shape_fn((4, 21, 21, 3), |(i, r, c, k)| {
        ((i * 131 + r * 47 + c * 29 + k * 7) % 1048) as f32 / 4.0 - 2.0
    });
    let datagen = generator(Geometry::Corrected, Kernel::Fast, FillMode::Nearest, 0.0);
    let flow = || datagen.flow(x.clone()).batch_size(4).seed(2);
    let bytes = flow().output::<u8>().build().unwrap().get(0).unwrap().x;
    let single = flow().build().unwrap().get(0).unwrap().x;
    assert_eq!(bytes, single.mapv(u8::from_f32));
    assert!(bytes.iter().any(|&b| b == 0) && bytes.iter().any(|&b| b == 255));
}

#[test]
fn photometric_steps_and_preprocessing_run_as_for_f32_then_round() {
    let datagen = ImageDataGenerator::builder()
        .rotation_range(20.0)
        .channel_shift_range(40.0)
        .brightness_range(0.6, 1.5)
        .preprocessing_function(|mut x: ndarray::ArrayViewMut3<'_, f32>| {
            x.mapv_inplace(|v| v * 1.1 - 3.0);
            Ok(())
        })
        .build()
        .unwrap();
    let x = images(5, 19, 3);
    let (bytes, single, _) = three_batches(&datagen, &x);
    assert_eq!(bytes, single.mapv(u8::from_f32));
}

#[test]
fn rescale_and_normalization_with_u8_are_refused_naming_dtype() {
    let refused = |e: Error| matches!(e, Error::InvalidParameter { name: "dtype", .. });
    let err = ImageDataGenerator::builder()
        .dtype(DType::U8)
        .rescale(1.0 / 255.0)
        .build()
        .unwrap_err();
    assert!(refused(err));
    let cfg: GeneratorConfig =
        serde_json::from_str(r#"{"dtype": "uint8", "samplewise_center": true}"#).unwrap();
    assert!(refused(ImageDataGenerator::new(cfg).unwrap_err()));
    // An explicit u8 output on a float generator that rescales.
    let datagen = ImageDataGenerator::builder()
        .featurewise_std_normalization(true)
        .build()
        .unwrap();
    let err = datagen
        .flow(images(2, 4, 3))
        .output::<u8>()
        .build()
        .unwrap_err();
    assert!(refused(err));
}

#[test]
fn a_uint8_generator_serves_u8_batches() {
    let cfg: GeneratorConfig =
        serde_json::from_str(r#"{"dtype": "uint8", "rotation_range": 10}"#).unwrap();
    let datagen = ImageDataGenerator::new(cfg).unwrap();
    // The default f32 output does not match the generator's dtype.
    let err = datagen.flow(images(2, 4, 3)).build().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter { name: "dtype", expected, .. } if expected.contains("output::<u8>")),
        "{err}"
    );
    let it = datagen
        .flow(images(2, 4, 3))
        .output::<u8>()
        .build()
        .unwrap();
    assert_eq!(it.get(0).unwrap().x.shape(), &[2, 4, 4, 3]);
}

#[test]
fn u8_batches_are_the_same_for_any_thread_count() {
    let datagen = generator(Geometry::Corrected, Kernel::Fast, FillMode::Reflect, 0.0);
    let x = images(13, 33, 3);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let it = datagen
                .flow(x.clone())
                .batch_size(5)
                .seed(9)
                .output::<u8>()
                .build()
                .unwrap();
            (0..it.len())
                .map(|i| it.get(i).unwrap().x)
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(8));
}

#[test]
fn reused_buffers_give_the_same_batches_as_fresh_ones() {
    let datagen = generator(Geometry::Keras, Kernel::Fast, FillMode::Nearest, 0.0);
    let x = images(11, 24, 3);
    let masks = Array3::from_shape_fn((11, 24, 24), |(i, r, c)| ((i + r + c) % 3) as u8);
    let it = datagen
        .flow(x.clone())
        .y(Array1::from_iter(0..11_i64))
        .masks(masks)
        .batch_size(4)
        .seed(3)
        .output::<u8>()
        .build()
        .unwrap();
    let mut batch = it.get(2).unwrap(); // the short last batch first: the buffer grows
    let mut buffers = Vec::new();
    for i in [0, 1, 2, 0] {
        it.get_into(i, &mut batch).unwrap();
        assert_eq!(batch, it.get(i).unwrap(), "batch {i}");
        buffers.push(batch.x.as_ptr());
    }
    assert!(
        buffers.windows(2).skip(1).all(|w| w[0] == w[1]),
        "{buffers:?}"
    );
    // f32 batches too, and an error leaves a usable batch.
    let wide = datagen.flow(x).batch_size(4).seed(3).build().unwrap();
    let mut b = wide.get(0).unwrap();
    wide.get_into(1, &mut b).unwrap();
    assert_eq!(b, wide.get(1).unwrap());
    assert!(matches!(
        wide.get_into(3, &mut b),
        Err(Error::IndexOutOfRange { .. })
    ));
    wide.get_into(2, &mut b).unwrap();
    assert_eq!(b, wide.get(2).unwrap());
}
