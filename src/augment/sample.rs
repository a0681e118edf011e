//! [`Sample`]: an image with the targets that move with it, and [`Augment::transform`],
//! which runs a pipeline whose geometric ops may change the image size.

use std::borrow::Cow;
use std::sync::Arc;

use ndarray::{Array3, ArrayView3};

use super::config::Op;
use super::engine::{PixelOp, flush, is_pointwise, pointwise, stage};
use super::geometry::{
    BoxFormat, Boxes, Displacement, Keypoints, RandomElasticTransform, Resample, Step, fuse,
};
use super::params::Params;
use super::pipeline::Augment;
use crate::rng::sample_rng;
use crate::transform::Pixel;
use crate::{Error, Result};

/// One image `(H, W, C)` float32, with an optional segmentation mask `(H, W, K)` of class
/// ids, optional boxes and optional keypoints. Geometric ops move all four; colour ops
/// touch the image only.
///
/// ```
/// use augflow::augment::{Boxes, BoxFormat, Sample};
/// use ndarray::Array3;
/// let s = Sample::new(Array3::zeros((4, 6, 3)))
///     .with_mask(Array3::zeros((4, 6, 1)))?
///     .with_boxes(Boxes::new(BoxFormat::Xyxy, vec![[1.0, 1.0, 3.0, 3.0]], vec![0])?);
/// assert!(s.mask.is_some() && s.boxes.is_some());
/// assert!(Sample::new(Array3::zeros((4, 6, 3))).with_mask(Array3::zeros((5, 6, 1))).is_err());
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The pixels.
    pub image: Array3<f32>,
    /// Class ids, resampled with nearest sampling.
    pub mask: Option<Array3<i32>>,
    /// Boxes and their classes.
    pub boxes: Option<Boxes>,
    /// Keypoints, moved by each op's exact geometry.
    pub keypoints: Option<Keypoints>,
}

impl Sample {
    /// An image without targets.
    ///
    /// ```
    /// let s = augflow::augment::Sample::new(ndarray::Array3::zeros((2, 3, 1)));
    /// assert!(s.mask.is_none() && s.boxes.is_none());
    /// ```
    pub fn new(image: Array3<f32>) -> Sample {
        Sample {
            image,
            mask: None,
            boxes: None,
            keypoints: None,
        }
    }

    /// Adds a mask of the image's height and width (an error naming `mask` otherwise).
    ///
    /// ```
    /// use augflow::augment::Sample;
    /// use ndarray::Array3;
    /// let s = Sample::new(Array3::zeros((2, 3, 1))).with_mask(Array3::from_elem((2, 3, 1), 4))?;
    /// assert_eq!(s.mask.unwrap()[[1, 2, 0]], 4);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn with_mask(mut self, mask: Array3<i32>) -> Result<Sample> {
        let (h, w, _) = self.image.dim();
        if mask.dim().0 != h || mask.dim().1 != w {
            return Err(Error::Shape {
                name: "mask",
                shape: mask.shape().to_vec(),
                expected: format!("({h}, {w}, K): the image's height and width"),
            });
        }
        self.mask = Some(mask);
        Ok(self)
    }

    /// Adds boxes.
    ///
    /// ```
    /// use augflow::augment::{Boxes, BoxFormat, Sample};
    /// let b = Boxes::new(BoxFormat::RelXyxy, vec![[0.1, 0.1, 0.5, 0.5]], vec![7])?;
    /// let s = Sample::new(ndarray::Array3::zeros((4, 4, 3))).with_boxes(b);
    /// assert_eq!(s.boxes.unwrap().labels, vec![7]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn with_boxes(mut self, boxes: Boxes) -> Sample {
        self.boxes = Some(boxes);
        self
    }

    /// Adds keypoints; those outside the image are invisible from the start.
    ///
    /// ```
    /// use augflow::augment::{Keypoints, Sample};
    /// let k = Keypoints::new(vec![[1.5, 0.5], [3.0, 0.5]])?;
    /// let s = Sample::new(ndarray::Array3::zeros((2, 3, 1))).with_keypoints(k);
    /// assert_eq!(s.keypoints.unwrap().visible, vec![true, false]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn with_keypoints(mut self, mut keypoints: Keypoints) -> Sample {
        let (h, w, _) = self.image.dim();
        keypoints.clip_to([h, w]);
        self.keypoints = Some(keypoints);
        self
    }
}

/// What moves with the image through a pipeline: the mask's values, boxes and keypoints.
struct Targets {
    mask: Option<Pixels>,
    boxes: Option<Boxes>,
    points: Option<Keypoints>,
}

/// An image after a pipeline, with its mask's values, its boxes and its keypoints.
#[derive(Debug)]
pub(crate) struct Transformed {
    pub(crate) image: Array3<f32>,
    pub(crate) mask: Option<Array3<f32>>,
    pub(crate) boxes: Option<Boxes>,
    pub(crate) points: Option<Keypoints>,
}

/// Row-major pixels and their `(H, W, C)` shape.
struct Pixels {
    data: Vec<f32>,
    shape: [usize; 3],
}

impl Pixels {
    fn new<T: Copy>(a: Array3<T>, f: impl Fn(T) -> f32) -> Pixels {
        let (h, w, c) = a.dim();
        Pixels {
            data: a.iter().map(|v| f(*v)).collect(),
            shape: [h, w, c],
        }
    }

    /// An `f32` image's pixels, moved without a copy when the array is in standard layout.
    fn from_image(a: Array3<f32>) -> Pixels {
        if !a.is_standard_layout() {
            return Pixels::new(a, |v| v);
        }
        let (h, w, c) = a.dim();
        let (data, offset) = a.into_raw_vec_and_offset();
        match offset {
            Some(0) | None => Pixels {
                data,
                shape: [h, w, c],
            },
            Some(o) => Pixels {
                data: data[o..o + h * w * c].to_vec(),
                shape: [h, w, c],
            },
        }
    }

    /// The pixels as an `f32` image, without a copy.
    fn into_image(self) -> Result<Array3<f32>> {
        let [h, w, c] = self.shape;
        Array3::from_shape_vec((h, w, c), self.data).map_err(|e| Error::Shape {
            name: "image",
            shape: vec![h, w, c],
            expected: format!("a consistent buffer ({e})"),
        })
    }

    fn into_array<T>(self, f: impl Fn(f32) -> T) -> Result<Array3<T>> {
        let [h, w, c] = self.shape;
        Array3::from_shape_vec((h, w, c), self.data.into_iter().map(f).collect()).map_err(|e| {
            Error::Shape {
                name: "image",
                shape: self.shape.to_vec(),
                expected: format!("a consistent buffer ({e})"),
            }
        })
    }
}

fn box_format(op: &Op) -> Option<BoxFormat> {
    match op {
        Op::RandomFlip(o) => o.bounding_box_format,
        Op::RandomTranslation(o) => o.bounding_box_format,
        Op::RandomRotation(o) => o.bounding_box_format,
        Op::RandomZoom(o) => o.bounding_box_format,
        Op::RandomShear(o) => o.bounding_box_format,
        Op::RandomPerspective(o) => o.bounding_box_format,
        Op::RandomCrop(o) => o.bounding_box_format,
        Op::CenterCrop(o) => o.bounding_box_format,
        Op::Resizing(o) => o.bounding_box_format,
        Op::RandomResizedCrop(o) => o.bounding_box_format,
        _ => None,
    }
}

/// Moves `boxes` through one geometric op, after checking the op's box format.
fn move_boxes(op: &Op, p: &Params, boxes: &mut Boxes, size: [usize; 2]) -> Result<()> {
    if let Some(f) = box_format(op)
        && f != boxes.format
    {
        return Err(Error::invalid(
            "bounding_box_format",
            format!("{f:?}"),
            format!("the format of the boxes given ({:?})", boxes.format),
        ));
    }
    op.move_boxes(p, boxes, size)
}

/// The image being transformed: the caller's pixels, in their own type, until the first
/// step that needs an `f32` copy (a geometric chain reads them directly).
enum Image<'a, T> {
    Source(&'a [T], [usize; 3]),
    Own(Pixels),
}

impl<T: Pixel> Image<'_, T> {
    fn shape(&self) -> [usize; 3] {
        match self {
            Image::Source(_, shape) => *shape,
            Image::Own(p) => p.shape,
        }
    }

    /// The pixels as `f32`, widened on first use.
    fn own(&mut self) -> &mut Pixels {
        if let Image::Source(src, shape) = self {
            *self = Image::Own(Pixels {
                data: src.iter().map(|v| v.to_f64() as f32).collect(),
                shape: *shape,
            });
        }
        match self {
            Image::Own(p) => p,
            Image::Source(..) => unreachable!("widened above"),
        }
    }
}

/// Resamples the image (and mask) once through the fused `steps`, running the element-wise
/// ops `post` on each output row as it is written; then empties both. Keypoints (already
/// moved op by op) that fall outside the output turn invisible.
fn resample<T: Pixel>(
    steps: &mut Vec<Step>,
    post: &mut Vec<PixelOp>,
    image: &mut Image<'_, T>,
    targets: &mut Targets,
) {
    resample_displaced(steps, None, post, image, targets);
}

/// [`resample`], the output pixels first displaced by `field` (an elastic transform that
/// ends the chain).
fn resample_displaced<T: Pixel>(
    steps: &mut Vec<Step>,
    field: Option<Arc<Displacement>>,
    post: &mut Vec<PixelOp>,
    image: &mut Image<'_, T>,
    targets: &mut Targets,
) {
    if steps.is_empty() {
        return;
    }
    let [h, w, c] = image.shape();
    let plan = Resample {
        field,
        ..fuse(steps, [h, w])
    };
    let data = match image {
        Image::Source(src, shape) => plan.run(src, *shape, post),
        Image::Own(p) => plan.run(&p.data, p.shape, post),
    };
    post.clear();
    *image = Image::Own(Pixels {
        data,
        shape: [plan.out[0], plan.out[1], c],
    });
    if let Some(m) = targets.mask.as_mut() {
        let plan = plan.for_mask();
        m.data = plan.run(&m.data, m.shape, &[]);
        m.shape = [plan.out[0], plan.out[1], m.shape[2]];
    }
    if let Some(k) = targets.points.as_mut() {
        if let Some(field) = &plan.field {
            k.follow_field(field, plan.out);
        }
        k.clip_to(plan.out);
    }
    steps.clear();
}

/// The fused geometric steps not yet run, the element-wise ops that run as their output is
/// written, and the element-wise ops waiting for the next pass over the pixels.
struct Chain<'a> {
    steps: &'a mut Vec<Step>,
    post: &'a mut Vec<PixelOp>,
    pending: &'a mut Vec<PixelOp>,
}

impl Chain<'_> {
    /// An elastic transform: its field ends the chain (one pass for the chain and the field),
    /// and Keras' clip to `value_range` follows it whether or not it applies.
    fn end_with_field<T: Pixel>(
        self,
        o: &RandomElasticTransform,
        p: &Params,
        image: &mut Image<'_, T>,
        targets: &mut Targets,
    ) -> Result<()> {
        let shape = image.shape();
        let size = self.steps.last().map_or([shape[0], shape[1]], |s| s.out);
        let warp = o.warp(p, size)?;
        // Element-wise ops between the chain and the field end the chain first.
        if !self.post.is_empty() {
            resample(self.steps, self.post, image, targets);
        }
        if !self.pending.is_empty() {
            let px = image.own();
            flush(self.pending, &mut px.data, shape[2]);
        }
        match warp {
            Some((mut step, field)) => {
                // A shrinking chain before the field stays antialiased.
                step.antialias = self
                    .steps
                    .iter()
                    .rev()
                    .find(|s| s.kernel.is_some())
                    .is_some_and(|s| s.antialias);
                self.steps.push(step);
                self.post.push(o.clip());
                resample_displaced(self.steps, Some(field), self.post, image, targets);
            }
            None if self.steps.is_empty() => self.pending.push(o.clip()),
            None => self.post.push(o.clip()),
        }
        Ok(())
    }
}

/// The ops and their parameters with every policy replaced by the ops it chose.
fn expand_policies<'a>(
    ops: &'a [Op],
    params: &'a [Params],
) -> Result<Vec<(Cow<'a, Op>, Cow<'a, Params>)>> {
    let mut flat = Vec::with_capacity(ops.len());
    for (op, p) in ops.iter().zip(params) {
        let chosen = match op {
            Op::RandAugment(policy) => policy.expand(p)?,
            Op::TrivialAugmentWide(policy) => policy.expand(p)?,
            _ => {
                flat.push((Cow::Borrowed(op), Cow::Borrowed(p)));
                continue;
            }
        };
        flat.extend(
            chosen
                .into_iter()
                .map(|(o, p)| (Cow::Owned(o), Cow::Owned(p))),
        );
    }
    Ok(flat)
}

impl Augment {
    /// Applies drawn parameters to a sample. Consecutive geometric ops are fused into one
    /// resampling of the image (one of the mask) at the chain's output size, and the
    /// element-wise ops right after them run as its pixels are written; other consecutive
    /// element-wise ops share one pass; boxes move op by op with Keras' rules.
    ///
    /// ```
    /// use augflow::augment::{Augment, Boxes, BoxFormat, Params, Sample};
    /// use ndarray::Array3;
    /// let aug = Augment::from_json(r#"[
    ///     {"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
    ///     {"class_name": "CenterCrop", "config": {"height": 2, "width": 2}}]"#)?;
    /// let image = Array3::from_shape_fn((4, 4, 1), |(y, x, _)| (10 * y + x) as f32);
    /// let boxes = Boxes::new(BoxFormat::Xyxy, vec![[0.0, 0.0, 2.0, 2.0]], vec![1])?;
    /// let params = [Params::RandomFlip { flips: true }, Params::CenterCrop];
    /// let out = aug.transform(&params, Sample::new(image).with_boxes(boxes))?;
    /// assert_eq!(out.image.iter().copied().collect::<Vec<_>>(), vec![12.0, 11.0, 22.0, 21.0]);
    /// assert_eq!(out.boxes.unwrap().boxes, vec![[1.0, 0.0, 2.0, 1.0]]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn transform(&self, params: &[Params], sample: Sample) -> Result<Sample> {
        self.check_params(params)?;
        let Sample {
            image,
            mask,
            boxes,
            mut keypoints,
        } = sample;
        if let Some(k) = keypoints.as_mut() {
            k.check()?;
            let (h, w, _) = image.dim();
            k.clip_to([h, w]);
        }
        let image = Image::<f32>::Own(Pixels::from_image(image));
        let targets = Targets {
            mask: mask.map(|m| Pixels::new(m, |v| v as f32)),
            boxes,
            points: keypoints,
        };
        let (image, t) = self.transform_image(params, image, targets)?;
        Ok(Sample {
            image: image.into_image()?,
            mask: t.mask.map(|m| m.into_array(|v| v as i32)).transpose()?,
            boxes: t.boxes,
            keypoints: t.points,
        })
    }

    /// [`transform`](Self::transform) of an image read in its own pixel type (a pipeline
    /// that starts with a geometric chain never widens the whole source to `f32`, only the
    /// chain's output), with an `(H, W, K)` mask of any values (nearest sampling copies
    /// them, so `u16` ids and soft `f32` masks keep their values), boxes and keypoints.
    pub(crate) fn transform_view_with<T: Pixel>(
        &self,
        params: &[Params],
        image: ArrayView3<'_, T>,
        (mask, boxes, points): (Option<Array3<f32>>, Option<Boxes>, Option<Keypoints>),
    ) -> Result<Transformed> {
        self.check_params(params)?;
        let (h, w, c) = image.dim();
        let standard;
        let src = match image.as_slice() {
            Some(s) => s,
            None => {
                standard = image.as_standard_layout();
                standard.as_slice().unwrap_or(&[])
            }
        };
        let targets = Targets {
            mask: mask.map(Pixels::from_image),
            boxes,
            points,
        };
        let (image, t) = self.transform_image(params, Image::Source(src, [h, w, c]), targets)?;
        Ok(Transformed {
            image: image.into_image()?,
            mask: t.mask.map(Pixels::into_image).transpose()?,
            boxes: t.boxes,
            points: t.points,
        })
    }

    fn check_params(&self, params: &[Params]) -> Result<()> {
        if params.len() != self.ops().len() {
            return Err(Error::LengthMismatch {
                name: "params".into(),
                got: params.len(),
                other: "ops".into(),
                expected: self.ops().len(),
            });
        }
        Ok(())
    }

    /// The op loop of [`transform`](Self::transform).
    fn transform_image<T: Pixel>(
        &self,
        params: &[Params],
        mut image: Image<'_, T>,
        mut targets: Targets,
    ) -> Result<(Pixels, Targets)> {
        let (mut steps, mut pending): (Vec<Step>, _) = (Vec::new(), Vec::new());
        // Element-wise ops right after a geometric chain, run as its pixels are written.
        let mut post = Vec::new();
        for (op, p) in expand_policies(self.ops(), params)? {
            let (op, p) = (op.as_ref(), p.as_ref());
            let shape = image.shape();
            if let Op::RandomElasticTransform(o) = op {
                let chain = Chain {
                    steps: &mut steps,
                    post: &mut post,
                    pending: &mut pending,
                };
                chain.end_with_field(o, p, &mut image, &mut targets)?;
            } else if let Op::AugMix(m) = op {
                resample(&mut steps, &mut post, &mut image, &mut targets);
                let px = image.own();
                flush(&mut pending, &mut px.data, px.shape[2]);
                px.data = m.mix(p, &px.data, px.shape)?;
            } else if op.is_geometric() {
                let size = steps.last().map_or([shape[0], shape[1]], |s| s.out);
                let step = op.step(p, size)?;
                if let Some(b) = targets.boxes.as_mut() {
                    move_boxes(op, p, b, size)?;
                }
                // Element-wise ops between two geometric ops end the first chain.
                if !post.is_empty() {
                    resample(&mut steps, &mut post, &mut image, &mut targets);
                }
                if !pending.is_empty() {
                    let px = image.own();
                    flush(&mut pending, &mut px.data, shape[2]);
                }
                // After the previous chain's pass, which judged the points in its output.
                if let Some(k) = targets.points.as_mut() {
                    k.follow(&step.map);
                }
                steps.push(step);
            } else if !steps.is_empty() && is_pointwise(op) {
                post.extend(pointwise(op, p, shape[2])?);
            } else {
                resample(&mut steps, &mut post, &mut image, &mut targets);
                let px = image.own();
                stage(op, p, &mut px.data, px.shape, &mut pending)?;
            }
        }
        resample(&mut steps, &mut post, &mut image, &mut targets);
        let px = image.own();
        flush(&mut pending, &mut px.data, px.shape[2]);
        let Image::Own(px) = image else {
            unreachable!("owned above")
        };
        Ok((px, targets))
    }

    /// Draws for sample `index` of epoch `epoch` from
    /// [`sample_rng(seed, epoch, index)`](crate::rng::sample_rng) and transforms the sample;
    /// returns it with the draw.
    ///
    /// ```
    /// use augflow::augment::{Augment, Sample};
    /// use ndarray::Array3;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomRotation", "config": {"factor": 0.2}}]"#)?;
    /// let image = Array3::from_shape_fn((6, 6, 1), |(y, x, _)| (y * x) as f32);
    /// let a = aug.run_sample(Sample::new(image.clone()), 3, 1, 4)?;
    /// let b = aug.run_sample(Sample::new(image), 3, 1, 4)?;
    /// assert_eq!(a, b);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn run_sample(
        &self,
        sample: Sample,
        seed: u64,
        epoch: u64,
        index: u64,
    ) -> Result<(Sample, Vec<Params>)> {
        let (h, w, c) = sample.image.dim();
        let params = self.draw(&mut sample_rng(seed, epoch, index), [h, w, c])?;
        let out = self.transform(&params, sample)?;
        Ok((out, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::sample_rng;

    #[test]
    fn reading_u8_pixels_directly_gives_the_widened_images_bits() {
        let aug = Augment::from_json(
            r#"[{"class_name": "RandomResizedCrop", "config": {"size": [24, 20]}},
            {"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
            {"class_name": "RandomColorJitter", "config": {"value_range": [0, 255],
              "brightness_factor": 0.4, "contrast_factor": 0.4, "saturation_factor": 0.4}},
            {"class_name": "Normalization", "config": {"mean": [120, 110, 100], "variance": [3000, 3100, 3200]}}]"#,
        )
        .unwrap();
        let image = Array3::from_shape_fn((37, 45, 3), |(y, x, c)| {
            ((y * 31 + x * 7 + c * 50) % 256) as u8
        });
        for i in 0..8 {
            let params = aug.draw(&mut sample_rng(3, 0, i), [37, 45, 3]).unwrap();
            let view = |v| {
                aug.transform_view_with(&params, v, (None, None, None))
                    .unwrap()
                    .image
            };
            let direct = view(image.view());
            let widened = aug
                .transform(&params, Sample::new(image.mapv(f32::from)))
                .unwrap()
                .image;
            assert_eq!(direct, widened, "sample {i}");
            // A view in another memory order reads the same pixels.
            let fortran = image.t().as_standard_layout().to_owned();
            let back = fortran.t();
            assert_eq!(view(back), widened);
        }
    }
}
