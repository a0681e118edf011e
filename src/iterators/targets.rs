//! The targets of a batch's samples (masks, boxes, keypoints), moved through each sample's
//! draw by the engine and gathered into the batch.

use std::mem::MaybeUninit;

use ndarray::{Array2, Array4};

use super::engine::{memory_error, new_batch};
use super::{BatchOptions, BatchSource};
use crate::generator::ImageDataGenerator;
use crate::targets::{
    BatchBoxes, BatchKeypoints, MaskLayout, MaskValue, PointMap, SampleMask, transform_boxes,
    transform_keypoints, warp_mask_into,
};
use crate::transform::TransformParams;
use crate::{DType, DataFormat, DynArray, Error, Result};

/// One sample's targets after its draw: its mask `(1, H, W, K)`, its boxes and their
/// labels, its keypoints with their labels and visibility.
#[derive(Debug, Default)]
pub(super) struct SampleTargets {
    pub(super) mask: Option<DynArray>,
    pub(super) boxes: Option<(Array2<f32>, Vec<i64>)>,
    pub(super) points: Option<(Array2<f32>, Vec<i64>, Vec<bool>)>,
}

/// A batch's targets, for the sources that have them.
#[derive(Debug, Default)]
pub(super) struct BatchTargets {
    pub(super) masks: Option<DynArray>,
    pub(super) boxes: Option<BatchBoxes>,
    pub(super) keypoints: Option<BatchKeypoints>,
}

/// Moves sample `i`'s targets through `params`, the draw its `h × w` image got; its mask
/// goes into `slot` when the batch has one (see [`MaskBatch`]).
pub(super) fn move_targets<S: BatchSource>(
    source: &S,
    (i, slot): (usize, Option<MaskSlot<'_>>),
    datagen: &ImageDataGenerator,
    params: &TransformParams,
    options: &BatchOptions,
    (h, w): (usize, usize),
) -> Result<SampleTargets> {
    let mask = match (source.mask(i)?, slot) {
        (None, None) => None,
        // The batch's slot would stay unwritten: refused, never assumed written.
        (None, Some(_)) => return Err(missing_mask(i)),
        (Some(m), Some(slot)) => {
            warp_into_slot(&m, slot, datagen, params, options.mask_cval)?;
            None
        }
        (Some(m), None) => Some(m.warp(datagen, params, options.mask_cval)?),
    };
    let (boxes, points) = (source.boxes(i)?, source.keypoints(i));
    if boxes.is_none() && points.is_none() {
        return Ok(SampleTargets {
            mask,
            ..Default::default()
        });
    }
    let map = PointMap::new(params, h, w, datagen.geometry());
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

/// The error for sample `i` of a source whose `mask_layout` promised a mask it lacks: the
/// batch's slot would stay unwritten, so it is refused, never assumed written.
pub(super) fn missing_mask(i: usize) -> Error {
    Error::invalid(
        "masks",
        format!("no mask for sample {i}"),
        "a mask for every sample of a source whose mask_layout gives one",
    )
}

/// The labels of the rows a transform kept.
pub(super) fn labels_of(kept: &[usize], labels: &[i64]) -> Vec<i64> {
    kept.iter().map(|&k| labels[k]).collect()
}

/// Gathers the samples' targets into the batch's: masks stacked (or already written into
/// `written`, whose every slot the samples filled) in the batch's layout (`(N, K, H, W)`
/// under channels-first), boxes and keypoints ragged.
///
/// # Safety
/// Every slot of `written` was written by [`move_targets`] (all samples succeeded).
pub(super) unsafe fn gather(
    samples: Vec<SampleTargets>,
    written: Option<MaskBatch>,
    format: DataFormat,
) -> Result<BatchTargets> {
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
    let masks = match written {
        // SAFETY: the caller's guarantee.
        Some(batch) => Some(unsafe { batch.assume_init() }),
        None => has_masks.then(|| DynArray::concat(&masks)).transpose()?,
    };
    Ok(BatchTargets {
        masks: match format {
            DataFormat::ChannelsLast => masks,
            DataFormat::ChannelsFirst => masks.map(DynArray::into_channels_first),
        },
        boxes: has_boxes.then_some(boxes),
        keypoints: has_points.then_some(points),
    })
}

/// A batch's masks, written in place by each sample's draw, for sources whose masks all have
/// one dtype and shape ([`BatchSource::mask_layout`]): no per-sample array, no stacking copy.
pub(super) enum MaskBatch {
    U8(Array4<MaybeUninit<u8>>),
    U16(Array4<MaybeUninit<u16>>),
    F32(Array4<MaybeUninit<f32>>),
}

/// One sample's part of a [`MaskBatch`].
pub(super) enum MaskSlot<'a> {
    U8(&'a mut [MaybeUninit<u8>]),
    U16(&'a mut [MaybeUninit<u16>]),
    F32(&'a mut [MaybeUninit<f32>]),
}

impl MaskBatch {
    /// The uninitialised masks of `n` samples of `layout`; errors name `batch_size` when
    /// they do not fit in memory, and `masks` for a dtype masks cannot have.
    pub(super) fn new(layout: &MaskLayout, n: usize) -> Result<Self> {
        let shape = layout.shape;
        let too_big = |bytes, ty| memory_error("batch_size", shape, n, bytes, ty);
        Ok(match layout.dtype {
            DType::U8 => MaskBatch::U8(new_batch(n, shape).map_err(|b| too_big(b, "uint8"))?),
            DType::U16 => MaskBatch::U16(new_batch(n, shape).map_err(|b| too_big(b, "uint16"))?),
            DType::F32 => MaskBatch::F32(new_batch(n, shape).map_err(|b| too_big(b, "float32"))?),
            other => {
                return Err(Error::invalid(
                    "masks",
                    format!("masks of {other}"),
                    "masks of uint8, uint16 or float32",
                ));
            }
        })
    }

    /// Every sample's slot, in order.
    pub(super) fn slots(&mut self) -> Vec<MaskSlot<'_>> {
        fn each<T>(a: &mut Array4<MaybeUninit<T>>) -> impl Iterator<Item = &mut [MaybeUninit<T>]> {
            let per_sample = a.len() / a.shape()[0].max(1);
            let all = a.as_slice_mut().expect("a new batch is contiguous");
            all.chunks_exact_mut(per_sample.max(1))
        }
        match self {
            MaskBatch::U8(a) => each(a).map(MaskSlot::U8).collect(),
            MaskBatch::U16(a) => each(a).map(MaskSlot::U16).collect(),
            MaskBatch::F32(a) => each(a).map(MaskSlot::F32).collect(),
        }
    }

    /// The written masks.
    ///
    /// # Safety
    /// Every slot was written.
    unsafe fn assume_init(self) -> DynArray {
        // SAFETY: the caller's guarantee.
        unsafe {
            match self {
                MaskBatch::U8(a) => a.assume_init().into(),
                MaskBatch::U16(a) => a.assume_init().into(),
                MaskBatch::F32(a) => a.assume_init().into(),
            }
        }
    }
}

/// `mask` moved through `params` into `slot`; a mask whose dtype is not the batch's (a
/// source whose `mask_layout` was wrong) is an error naming `masks`.
fn warp_into_slot(
    mask: &SampleMask<'_>,
    slot: MaskSlot<'_>,
    datagen: &ImageDataGenerator,
    params: &TransformParams,
    cval: f64,
) -> Result<()> {
    let (d, p) = (datagen, params);
    match (mask, slot) {
        (SampleMask::U8(m), MaskSlot::U8(s)) => warp_mask_into(d, m.view(), p, cval, s),
        (SampleMask::U16(m), MaskSlot::U16(s)) => warp_mask_into(d, m.view(), p, cval, s),
        (SampleMask::F32(m), MaskSlot::F32(s)) => warp_mask_into(d, m.view(), p, cval, s),
        _ => Err(dtype_mismatch()),
    }
}

/// `values`, moved from `mask` (see [`SampleMask::values`]), written into `slot` in the
/// mask's dtype; errors as [`warp_into_slot`] does.
pub(super) fn write_into_slot(
    mask: &SampleMask<'_>,
    values: &[f32],
    slot: MaskSlot<'_>,
) -> Result<()> {
    fn write<M: MaskValue>(values: &[f32], slot: &mut [MaybeUninit<M>]) -> Result<()> {
        if values.len() != slot.len() {
            return Err(Error::Shape {
                name: "mask",
                shape: vec![values.len()],
                expected: format!("{} values: the batch's mask size", slot.len()),
            });
        }
        for (s, &v) in slot.iter_mut().zip(values) {
            s.write(M::from_sample(v));
        }
        Ok(())
    }
    match (mask, slot) {
        (SampleMask::U8(_), MaskSlot::U8(s)) => write(values, s),
        (SampleMask::U16(_), MaskSlot::U16(s)) => write(values, s),
        (SampleMask::F32(_), MaskSlot::F32(s)) => write(values, s),
        _ => Err(dtype_mismatch()),
    }
}

fn dtype_mismatch() -> Error {
    Error::invalid(
        "masks",
        "a mask whose dtype differs from the source's mask_layout",
        "every mask of the dtype the source's mask_layout gives",
    )
}
