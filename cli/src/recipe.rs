//! The ImageNet training recipes measured by `augflow bench-recipe`: `count` random `u8`
//! images of `height × width × 3` (default 375×500) through a
//! [`pipeline`](augflow::iterators::IteratorBuilder::pipeline) on `flow`, into `f32`
//! batches of 224×224, at each thread count asked for.
//!
//! - `imagenet`: `RandomResizedCrop(224)` + horizontal `RandomFlip` +
//!   `RandomColorJitter(brightness 0.4, contrast 0.4, saturation 0.4)` + `Normalization`
//!   with ImageNet's mean and variance;
//! - `randaugment`: `RandomResizedCrop(224)` + `RandAugment(num_ops=2)` + `Normalization`.

use ndarray::Array4;

use augflow::augment::Augment;
use augflow::{ImageDataGenerator, Result, Sequence};

use crate::workload::{invalid, rate};

/// ImageNet's mean and variance of the channels in `[0, 255]`.
const NORMALIZE: &str = r#"{"class_name": "Normalization", "config": {
    "mean": [123.675, 116.28, 103.53], "variance": [3409.976, 3262.694, 3291.756]}}"#;

/// The recipes by name, as Keras layer lists.
///
/// ```
/// let r = augflow_cli::recipe::recipes()?;
/// assert_eq!(r[0].0, "imagenet");
/// assert_eq!(r[0].1.output_size([375, 500]), [224, 224]);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn recipes() -> Result<Vec<(&'static str, Augment)>> {
    let crop = r#"{"class_name": "RandomResizedCrop", "config": {"size": [224, 224]}}"#;
    let imagenet = format!(
        r#"[{crop}, {{"class_name": "RandomFlip", "config": {{"mode": "horizontal"}}}},
        {{"class_name": "RandomColorJitter", "config": {{"value_range": [0, 255],
          "brightness_factor": 0.4, "contrast_factor": 0.4, "saturation_factor": 0.4}}}},
        {NORMALIZE}]"#
    );
    let randaugment = format!(
        r#"[{crop}, {{"class_name": "RandAugment", "config": {{"num_ops": 2}}}}, {NORMALIZE}]"#
    );
    Ok(vec![
        ("imagenet", Augment::from_json(&imagenet)?),
        ("randaugment", Augment::from_json(&randaugment)?),
    ])
}

/// One measured recipe at one thread count: images per second, median of the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeRow {
    /// The recipe's name (see [`recipes`]).
    pub recipe: &'static str,
    /// Rayon threads used.
    pub threads: usize,
    /// Images per second.
    pub images_per_s: f64,
}

/// Measures the recipes named in `only` (every recipe when it is empty) at every thread
/// count on `count` random `height × width` images in batches of `batch` (median of
/// `repeats` epochs after a warm-up). An unknown name is an error naming it.
///
/// ```
/// let rows = augflow_cli::recipe::run(4, [30, 40], 2, 1, &[1], &[])?;
/// assert_eq!(rows.len(), 2);
/// assert!(rows.iter().all(|r| r.images_per_s > 0.0));
/// let one = augflow_cli::recipe::run(4, [30, 40], 2, 1, &[1], &["imagenet".into()])?;
/// assert_eq!(one[0].recipe, "imagenet");
/// assert!(augflow_cli::recipe::run(4, [30, 40], 2, 1, &[1], &["imagnet".into()]).is_err());
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn run(
    count: usize,
    [height, width]: [usize; 2],
    batch: usize,
    repeats: usize,
    threads: &[usize],
    only: &[String],
) -> Result<Vec<RecipeRow>> {
    let all = recipes()?;
    if let Some(bad) = only.iter().find(|n| !all.iter().any(|(name, _)| name == n)) {
        let names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
        return Err(invalid("recipes", bad, format!("one of {names:?}")));
    }
    let x = Array4::from_shape_fn((count, height, width, 3), |(n, y, x, c)| {
        (n.wrapping_mul(2654435761) ^ y.wrapping_mul(40503) ^ x.wrapping_mul(9973) ^ (c * 77)) as u8
    });
    let datagen = ImageDataGenerator::builder().build()?;
    let mut rows = Vec::new();
    for (name, aug) in all {
        if !only.is_empty() && !only.iter().any(|n| n == name) {
            continue;
        }
        let it = datagen
            .flow(x.clone())
            .batch_size(batch)
            .seed(1)
            .pipeline(aug)
            .build()?;
        for &t in threads {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| invalid("threads", t, format!("a usable thread count ({e})")))?;
            let images_per_s = pool.install(|| {
                rate(count, repeats, || {
                    (0..it.len()).try_for_each(|i| it.get(i).map(|b| drop(std::hint::black_box(b))))
                })
            })?;
            rows.push(RecipeRow {
                recipe: name,
                threads: t,
                images_per_s,
            });
        }
    }
    Ok(rows)
}
