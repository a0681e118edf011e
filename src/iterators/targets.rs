//! The targets of a batch's samples (masks, boxes, keypoints), moved through each sample's
//! draw by the engine and gathered into the batch.

use ndarray::Array2;

use super::{BatchOptions, BatchSource};
use crate::generator::ImageDataGenerator;
use crate::targets::{BatchBoxes, BatchKeypoints, PointMap, transform_boxes, transform_keypoints};
use crate::transform::TransformParams;
use crate::{DynArray, Error, Result};

/// One sample's targets after its draw: its mask `(1, H, W, K)`, its boxes and their
/// labels, its keypoints with their labels and visibility.
#[derive(Debug, Default)]
pub(super) struct SampleTargets {
    mask: Option<DynArray>,
    boxes: Option<(Array2<f32>, Vec<i64>)>,
    points: Option<(Array2<f32>, Vec<i64>, Vec<bool>)>,
}

/// A batch's targets, for the sources that have them.
#[derive(Debug, Default)]
pub(super) struct BatchTargets {
    pub(super) masks: Option<DynArray>,
    pub(super) boxes: Option<BatchBoxes>,
    pub(super) keypoints: Option<BatchKeypoints>,
}

/// Moves sample `i`'s targets through `params`, the draw its `h × w` image got.
pub(super) fn move_targets<S: BatchSource>(
    source: &S,
    i: usize,
    datagen: &ImageDataGenerator,
    params: &TransformParams,
    options: &BatchOptions,
    (h, w): (usize, usize),
) -> Result<SampleTargets> {
    let mask = source
        .mask(i)?
        .map(|m| m.warp(datagen, params, options.mask_cval))
        .transpose()?;
    let (boxes, points) = (source.boxes(i)?, source.keypoints(i));
    if boxes.is_none() && points.is_none() {
        return Ok(SampleTargets {
            mask,
            ..Default::default()
        });
    }
    let map = PointMap::new(params, h, w, datagen.geometry());
    // The labels of the rows a transform kept.
    let labels_of = |kept: &[usize], labels: &[i64]| kept.iter().map(|&k| labels[k]).collect();
    let boxes = boxes.map(|(b, labels)| {
        let (moved, kept) = transform_boxes(b, map.as_ref(), &options.box_options);
        (moved, labels_of(&kept, labels))
    });
    let points = points.map(|(p, labels)| {
        let moved = transform_keypoints(p, map.as_ref(), options.outside_points);
        (moved.xy, labels_of(&moved.kept, labels), moved.visible)
    });
    Ok(SampleTargets {
        mask,
        boxes,
        points,
    })
}

/// Gathers the samples' targets into the batch's: masks stacked, boxes and keypoints ragged.
pub(super) fn gather(samples: Vec<SampleTargets>) -> Result<BatchTargets> {
    let mut masks = Vec::new();
    let mut boxes = BatchBoxes {
        boxes: Vec::new(),
        labels: Vec::new(),
    };
    let mut points = BatchKeypoints::default();
    let (mut has_masks, mut has_boxes, mut has_points) = (false, false, false);
    for s in samples {
        if let Some(m) = s.mask {
            masks.push(m);
            has_masks = true;
        }
        if let Some((b, l)) = s.boxes {
            boxes.boxes.push(b);
            boxes.labels.push(l);
            has_boxes = true;
        }
        if let Some((p, l, v)) = s.points {
            points.points.push(p);
            points.labels.push(l);
            points.visible.push(v);
            has_points = true;
        }
    }
    if let Some(other) = masks.iter().find(|m| m.dtype() != masks[0].dtype()) {
        return Err(Error::invalid(
            "masks",
            format!(
                "a batch of {} and {} masks",
                masks[0].dtype(),
                other.dtype()
            ),
            "masks of one dtype (mask files of one bit depth)",
        ));
    }
    Ok(BatchTargets {
        masks: has_masks.then(|| DynArray::concat(&masks)).transpose()?,
        boxes: has_boxes.then_some(boxes),
        keypoints: has_points.then_some(points),
    })
}
