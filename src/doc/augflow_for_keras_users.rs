//! augflow for Keras users: `ImageDataGenerator` and its iterators, argument by argument.
//!
//! augflow keeps Keras' names. A Keras program maps onto it line by line; what changes is
//! that arguments are builder methods, validated once in `build()`, and that batches are a
//! pure function of `(seed, epoch, sample index)`.
//!
//! # A Keras program, translated
//!
//! ```python
//! datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1,
//!                              horizontal_flip=True, rescale=1/255, validation_split=0.2)
//! train = datagen.flow(x, y, batch_size=32, seed=42, subset="training")
//! for i in range(len(train)):
//!     xb, yb = train[i]
//! train.on_epoch_end()
//! ```
//!
//! ```
//! use augflow::prelude::*;
//! use ndarray::{Array1, Array4};
//!
//! let datagen = ImageDataGenerator::builder()
//!     .rotation_range(20.0)
//!     .width_shift_range(0.1)
//!     .horizontal_flip(true)
//!     .rescale(1.0 / 255.0)
//!     .validation_split(0.2)
//!     .build()?;
//! let x = Array4::<u8>::zeros((50, 16, 16, 3));
//! let y = Array1::from_iter((0..50).map(|i| i % 5));
//! let mut train = datagen.flow(x).y(y).batch_size(32).seed(42).subset(Subset::Training).build()?;
//! for i in 0..train.len() {
//!     let Batch { x: xb, y: yb, .. } = train.get(i)?;
//!     assert_eq!(xb.shape()[1..], [16, 16, 3]);
//!     assert!(yb.is_some());
//! }
//! train.on_epoch_end();
//! # Ok::<(), augflow::Error>(())
//! ```
//!
//! # Constructor arguments
//!
//! | Keras argument | augflow | notes |
//! |---|---|---|
//! | `featurewise_center` | `.featurewise_center(bool)` | needs `fit`; without it `standardize` errors (`Error::NotFitted`) where Keras warns on every sample |
//! | `samplewise_center` | `.samplewise_center(bool)` | |
//! | `featurewise_std_normalization` | `.featurewise_std_normalization(bool)` | forces `featurewise_center` (logged) |
//! | `samplewise_std_normalization` | `.samplewise_std_normalization(bool)` | forces `samplewise_center` (logged) |
//! | `zca_whitening` | `.zca_whitening(bool)` | forces `featurewise_center`, clears `featurewise_std_normalization` (logged) |
//! | `zca_epsilon` | `.zca_epsilon(f64)` | default 1e-6 |
//! | `rotation_range` | `.rotation_range(f64)` | degrees, `>= 0` |
//! | `width_shift_range`, `height_shift_range` | `.width_shift_range(impl Into<ShiftRange>)` | `0.1` fraction, `5.0` pixels, `3` integer pixels, `vec![..]` a list |
//! | `brightness_range` | `.brightness_range(lo, hi)` | multiplicative factor; `1.0` = unchanged |
//! | `shear_range` | `.shear_range(f64)` | degrees |
//! | `zoom_range` | `.zoom_range(impl Into<ZoomRange>)` | `z` → `[1-z, 1+z]`, or `(lo, hi)`; `> 1` zooms out |
//! | `channel_shift_range` | `.channel_shift_range(f64)` | |
//! | `fill_mode`, `cval` | `.fill_mode(FillMode::…)`, `.cval(f64)` | scipy's exact semantics |
//! | `horizontal_flip`, `vertical_flip` | `.horizontal_flip(bool)`, `.vertical_flip(bool)` | |
//! | `rescale` | `.rescale(f64)` | after augmentation, as in Keras |
//! | `preprocessing_function` | `.preprocessing_function(closure)` | errors and panics become `Error::UserFunction` |
//! | `data_format` | `.data_format(DataFormat::…)` | |
//! | `validation_split` | `.validation_split(f64)` | `0 <= v < 1` |
//! | `interpolation_order` | `.interpolation_order(0 / 1)` | |
//! | `dtype` | `.dtype(DType::F32 / F64 / U8)` | or `.output::<f64>()` on the iterator; `half::f16`, `bf16` and `u8` (pixel batches, rounded half up as scipy) too |
//! | — | `.geometry(Geometry::Corrected / Keras)` | Keras 2.9's transposed centre on request; corrected by default |
//!
//! # Methods and iterators
//!
//! | Keras | augflow |
//! |---|---|
//! | `get_random_transform(shape, seed)` | `random_transform_params(h, w, &mut rng)` with `rng::sample_rng(seed, epoch, index)` |
//! | `apply_transform(x, params)` | `apply_transform(x.view(), &params)` |
//! | `random_transform(x)` | `random_transform(x.view(), &mut rng)` |
//! | `standardize(x)` | `standardize(x.view_mut())` |
//! | `fit(x, augment, rounds, seed)` | `fit(x.view())`, `fit_with(x.view(), FitOptions { .. })` |
//! | `flow(x, y, batch_size, shuffle, sample_weight, seed, save_to_dir, …, subset)` | `flow(x).y(y).batch_size(..).shuffle(..).sample_weight(..).seed(..).save_to_dir(..).subset(..).build()` |
//! | `flow_from_directory(directory, target_size, color_mode, classes, class_mode, …)` | `flow_from_directory(dir).target_size(h, w).color_mode(..).classes(..).class_mode(..).build()` |
//! | `flow_from_dataframe(df, directory, x_col, y_col, weight_col, …)` | `flow_from_dataframe(csv).directory(..).x_col(..).y_col(..).weight_col(..).build()` |
//! | `iterator[i]`, `len(iterator)`, `on_epoch_end()` | `get(i)`, `len()`, `on_epoch_end()` ([`Sequence`](crate::Sequence)) |
//! | `next(iterator)` | [`Endless::new(&mut it)`](crate::iterators::Endless) |
//! | — | `drop_remainder(true)`: drop the last short batch (tf.data's `drop_remainder`, torch's `drop_last`) |
//!
//! # What augflow does differently
//!
//! - **Reproducible with any number of threads.** Sample `i` of epoch `e` is transformed
//!   with a stream of `(seed, e, i)`; Keras draws from numpy's global generator, so batches
//!   depend on the order threads ask for them (keras#11365).
//! - **Validation batches are not augmented** unless `.augment_validation(true)`
//!   (keras-preprocessing#218).
//! - **Sample weights stay aligned** with their samples under a `validation_split`; Keras
//!   misaligns them.
//! - **Errors instead of silent misbehaviour**: a subset without a split, an empty subset,
//!   `batch_size = 0`, length mismatches, parameters that would produce NaN.
//! - **Corrected geometry by default.** Keras 2.9 pivots about a transposed centre for
//!   non-square images and swaps the shift axes; `Geometry::Keras` reproduces it bit for bit.
//!
//! # Seeing Keras' log messages
//!
//! augflow reports what Keras prints ("Found 2000 images belonging to 2 classes.", override
//! warnings) through the [`log`](https://docs.rs/log) crate. A library user sees them by
//! installing a logger, for example `env_logger::init()` with `RUST_LOG=info`; the `augflow`
//! command line installs one.
