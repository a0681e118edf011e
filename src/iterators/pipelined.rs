//! One sample of an iterator with an augmentation pipeline
//! ([`IteratorBuilder::pipeline`](super::IteratorBuilder::pipeline)): the generator's
//! transform (skipped when it is the identity), then the pipeline, both drawn from the
//! sample's stream, written into the batch slot, with the sample's mask, boxes and
//! keypoints moved through both.

use std::mem::MaybeUninit;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

use super::targets::{MaskSlot, SampleTargets, labels_of, missing_mask, write_into_slot};
use super::{BatchElement, BatchOptions, BatchSource};
use crate::augment::{Augment, BoxFormat as KerasBoxFormat, Boxes, Keypoints, Transformed};
use crate::generator::ImageDataGenerator;
use crate::rng::{SampleRng, sample_rng};
use crate::targets::{
    BoxOptions, OutsidePoints, PointMap, SampleMask, transform_boxes, transform_keypoints,
};
use crate::transform::{DataFormat, Geometry, Pixel, TransformParams};
use crate::{Error, Result};

/// What one sample's draws depend on: the seed, the epoch, and whether the generator
/// augments (its random transform; the pipeline always runs).
#[derive(Debug, Clone, Copy)]
pub(super) struct Draws {
    pub(super) seed: u64,
    pub(super) epoch: u64,
    pub(super) augment: bool,
}

/// Loads sample `i`, runs the generator's transform and `aug` on it and writes the result,
/// of `shape` (channels last), into `out`; its mask goes the same way (nearest sampling)
/// into `slot` when the batch has one, its boxes by Keras' rules then `options`' clip and
/// thresholds, its keypoints by each op's exact geometry (those that leave the image, or
/// land on fill, dropped or marked invisible as `options` say). A pipeline that sets the
/// output size takes the image as the source stores it (a file is not resized to
/// `target_size` first), unless the sample has targets: those are given at `target_size`,
/// so the image is read there too.
pub(super) fn pipeline_sample<S: BatchSource, O: BatchElement>(
    source: &S,
    datagen: &ImageDataGenerator,
    (aug, options): (&Augment, &BatchOptions),
    (i, draws, slot): (usize, Draws, Option<MaskSlot<'_>>),
    scratch: &mut S::Scratch,
    shape: [usize; 3],
    out: &mut [MaybeUninit<O>],
) -> Result<SampleTargets> {
    let targets = Targets {
        i,
        mask: source.mask(i)?,
        boxes: source.boxes(i)?,
        points: source.keypoints(i),
        options: &options.box_options,
        outside: options.outside_points,
        mask_cval: options.mask_cval,
    };
    if targets.mask.is_none() && slot.is_some() {
        return Err(missing_mask(i));
    }
    let mut rng = sample_rng(draws.seed, draws.epoch, i as u64);
    let run = |image: ArrayView3<'_, S::Pixel>| -> Result<Transformed> {
        let (h, w, _) = image.dim();
        if datagen.is_identity() {
            // Read in the source's own type: a leading crop or resize widens only its output.
            let moving = targets.before_pipeline([h, w], None)?;
            return run_pipeline(aug, &mut rng, image, moving);
        }
        let (staged, params) = generator_pass(datagen, image, &mut rng, draws.augment)?;
        let moving = targets.before_pipeline([h, w], Some((datagen, &params)))?;
        run_pipeline(aug, &mut rng, staged.view(), moving)
    };
    let has_targets = targets.mask.is_some() || targets.boxes.is_some() || targets.points.is_some();
    let Transformed {
        image,
        mask,
        boxes,
        points,
    } = match aug.fixed_size() {
        Some(_) if !has_targets => source.with_stored_image(i, scratch, run)?,
        _ => source.with_image(i, DataFormat::ChannelsLast, scratch, run)?,
    };
    if image.shape() != shape {
        return Err(Error::Shape {
            name: "image",
            shape: image.shape().to_vec(),
            expected: format!("{shape:?} for sample {i}: the batch's image shape"),
        });
    }
    O::write_f32(image.as_standard_layout().as_slice().unwrap_or(&[]), out);
    Ok(SampleTargets {
        mask: targets.write_mask(mask, slot)?,
        boxes: boxes
            .map(|b| targets.after_pipeline(&b, [shape[0], shape[1]]))
            .transpose()?,
        points: points.map(|k| targets.points_after_pipeline(k)),
    })
}

/// A sample's mask values, boxes and keypoints on their way into a pipeline.
type Moving = (Option<Array3<f32>>, Option<Boxes>, Option<Keypoints>);

/// Draws `aug`'s parameters for `image` and runs it on the image and its targets.
fn run_pipeline<T: Pixel>(
    aug: &Augment,
    rng: &mut SampleRng,
    image: ArrayView3<'_, T>,
    moving: Moving,
) -> Result<Transformed> {
    let (h, w, c) = image.dim();
    let params = aug.draw(rng, [h, w, c])?;
    aug.transform_view_with(&params, image, moving)
}

/// The generator's transform of `image`, in `f32`, and the parameters it drew.
fn generator_pass<T: Pixel>(
    datagen: &ImageDataGenerator,
    image: ArrayView3<'_, T>,
    rng: &mut SampleRng,
    augment: bool,
) -> Result<(Array3<f32>, TransformParams)> {
    let (h, w, c) = image.dim();
    let n = h * w * c;
    let mut buf: Vec<f32> = Vec::with_capacity(n);
    let params =
        datagen.sample_into_uninit(image, &mut buf.spare_capacity_mut()[..n], rng, augment)?;
    // SAFETY: on Ok, sample_into_uninit initialized all `n` elements.
    unsafe { buf.set_len(n) };
    let image = Array3::from_shape_vec((h, w, c), buf).map_err(|e| Error::Shape {
        name: "image",
        shape: vec![h, w, c],
        expected: format!("a consistent buffer ({e})"),
    })?;
    Ok((image, params))
}

/// Sample `i`'s mask and boxes (in `options`' format, pixels of the image as read).
struct Targets<'a, 's> {
    i: usize,
    mask: Option<SampleMask<'s>>,
    boxes: Option<(ArrayView2<'s, f32>, &'s [i64])>,
    points: Option<(ArrayView2<'s, f32>, &'s [i64])>,
    options: &'a BoxOptions,
    outside: OutsidePoints,
    mask_cval: f64,
}

impl Targets<'_, '_> {
    /// The mask's values, the boxes (pixel corners, each labelled with its row) and the
    /// keypoints the pipeline moves, after the generator's `params` when it ran: the mask as
    /// [`move_targets`](super::targets::move_targets) warps it, the boxes moved, clipped and
    /// thresholded as there, every keypoint moved (those it sent off the image invisible).
    /// Errors name `mask` when the mask is not of the image's size.
    fn before_pipeline(
        &self,
        [h, w]: [usize; 2],
        generator: Option<(&ImageDataGenerator, &TransformParams)>,
    ) -> Result<Moving> {
        let points = self.points.map(|(p, _)| {
            let map = generator.map(|(d, params)| PointMap::new(params, h, w, d.geometry()));
            let identity = || PointMap::new(&TransformParams::default(), h, w, Geometry::Corrected);
            let moved = transform_keypoints(
                p,
                map.unwrap_or_else(identity).as_ref(),
                OutsidePoints::MarkInvisible,
            );
            let xy = moved.xy.outer_iter().map(|r| [r[0], r[1]]).collect();
            Keypoints {
                xy,
                visible: moved.visible,
            }
        });
        let (mask, boxes) = self.mask_and_boxes([h, w], generator)?;
        Ok((mask, boxes, points))
    }

    /// The mask and boxes of [`before_pipeline`](Self::before_pipeline).
    fn mask_and_boxes(
        &self,
        [h, w]: [usize; 2],
        generator: Option<(&ImageDataGenerator, &TransformParams)>,
    ) -> Result<(Option<Array3<f32>>, Option<Boxes>)> {
        let mask = match &self.mask {
            Some(m) if m.shape()[..2] != [h, w] => {
                return Err(Error::Shape {
                    name: "mask",
                    shape: m.shape().to_vec(),
                    expected: format!("({h}, {w}, K) for sample {}: its image's size", self.i),
                });
            }
            Some(m) => Some(m.values(generator.map(|(d, p)| (d, p, self.mask_cval)))?),
            None => None,
        };
        let Some((rows, labels)) = self.boxes else {
            return Ok((mask, None));
        };
        let moved = generator.map(|(d, p)| {
            let map = PointMap::new(p, h, w, d.geometry());
            transform_boxes(rows, map.as_ref(), self.options)
        });
        let rows = moved.as_ref().map_or(rows, |(m, _)| m.view());
        let (h, w) = (h as f64, w as f64);
        let corners = rows
            .outer_iter()
            .map(|r| {
                let c = [r[0], r[1], r[2], r[3]].map(f64::from);
                self.options.format.read_corners(c, h, w).map(|v| v as f32)
            })
            .collect();
        // Each box is labelled with its source row, to find its label after the pipeline.
        let rows_of: Vec<i32> = match &moved {
            Some((_, kept)) => kept.iter().map(|&k| row_label(k)).collect::<Result<_>>()?,
            None => (0..labels.len()).map(row_label).collect::<Result<_>>()?,
        };
        Ok((
            mask,
            Some(Boxes::new(KerasBoxFormat::Xyxy, corners, rows_of)?),
        ))
    }

    /// The boxes the pipeline moved to an `h × w` output, clipped, thresholded and written
    /// in `options`' format, with the labels of their source rows (boxes Keras' rules
    /// clipped to nothing, labelled `-1`, are dropped).
    fn after_pipeline(&self, moved: &Boxes, [h, w]: [usize; 2]) -> Result<(Array2<f32>, Vec<i64>)> {
        let labels = self.boxes.map_or(&[][..], |(_, l)| l);
        let (mut values, mut rows) = (Vec::new(), Vec::new());
        for (b, &row) in moved.boxes.iter().zip(&moved.labels) {
            let Ok(row) = usize::try_from(row) else {
                continue;
            };
            let corners = b.map(f64::from);
            let written = self
                .options
                .format
                .write_corners(corners, h as f64, w as f64);
            values.extend(written.map(|v| v as f32));
            rows.push(labels[row]);
        }
        let boxes = Array2::from_shape_vec((rows.len(), 4), values).map_err(|e| Error::Shape {
            name: "boxes",
            shape: vec![rows.len(), 4],
            expected: format!("4 values per box ({e})"),
        })?;
        let identity = PointMap::new(&TransformParams::default(), h, w, Geometry::Corrected);
        let (boxes, kept) = transform_boxes(boxes.view(), identity.as_ref(), self.options);
        Ok((boxes, labels_of(&kept, &rows)))
    }

    /// The keypoints the pipeline moved, with their labels and visibility: those that left
    /// the image or landed on fill are dropped, or kept and marked invisible.
    fn points_after_pipeline(&self, moved: Keypoints) -> (Array2<f32>, Vec<i64>, Vec<bool>) {
        let labels = self.points.map_or(&[][..], |(_, l)| l);
        let keep = |v: bool| v || self.outside == OutsidePoints::MarkInvisible;
        let (mut xy, mut kept, mut visible) = (Vec::new(), Vec::new(), Vec::new());
        for ((p, &v), &label) in moved.xy.iter().zip(&moved.visible).zip(labels) {
            if keep(v) {
                xy.extend(*p);
                kept.push(label);
                visible.push(v);
            }
        }
        let xy = Array2::from_shape_vec((kept.len(), 2), xy).expect("2 values per kept point");
        (xy, kept, visible)
    }

    /// The moved mask `values` in the mask's dtype: written into the batch's `slot` (then
    /// `None`), or as this sample's `(1, H, W, K)` mask.
    fn write_mask(
        &self,
        values: Option<Array3<f32>>,
        slot: Option<MaskSlot<'_>>,
    ) -> Result<Option<crate::DynArray>> {
        let (Some(mask), Some(values)) = (&self.mask, values) else {
            return Ok(None);
        };
        match slot {
            Some(slot) => {
                let values = values.as_standard_layout();
                write_into_slot(mask, values.as_slice().unwrap_or(&[]), slot)?;
                Ok(None)
            }
            None => Ok(Some(mask.with_values(values))),
        }
    }
}

/// Box row `k` as a Keras box label.
fn row_label(k: usize) -> Result<i32> {
    i32::try_from(k).map_err(|_| {
        Error::invalid(
            "boxes",
            format!("{k} boxes in one sample"),
            "at most 2^31 boxes a sample",
        )
    })
}
