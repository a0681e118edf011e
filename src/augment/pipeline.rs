//! [`Augment`]: a list of ops, drawn per sample and applied with element-wise ops fused.

use ndarray::ArrayViewMut3;
use serde::{Deserialize, Serialize};

use super::config::Op;
use super::engine::{flush, stage, with_pixels};
use super::params::Params;
use super::sample::Sample;
use crate::rng::SampleRng;
use crate::{Error, Result};

/// An augmentation pipeline: Keras 3 layers applied in order to one `(H, W, C)` float32
/// image. Consecutive element-wise ops run in one pass over the pixels, in place.
///
/// Serializes as Keras serializes layers: a JSON list of `{"class_name", "config"}`.
///
/// ```
/// use augflow::augment::{Augment, Op, RandomGrayscale, RandomInvert};
/// use ndarray::Array3;
/// let aug = Augment::new()
///     .with(Op::RandomGrayscale(RandomGrayscale { factor: 1.0 }))?
///     .with(Op::RandomInvert(RandomInvert { factor: [1.0, 1.0].into(), value_range: [0.0, 255.0] }))?;
/// let mut image = Array3::<f32>::from_elem((2, 2, 3), 100.0);
/// aug.run(&mut image, 0, 0, 0)?;
/// assert!(image.iter().all(|v| (v - (255.0 - 99.99)).abs() < 1e-3));
/// let json = aug.to_json();
/// assert_eq!(Augment::from_json(&json)?, aug);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Augment {
    ops: Vec<Op>,
}

impl Augment {
    /// An empty pipeline (the identity).
    ///
    /// ```
    /// let aug = augflow::augment::Augment::new();
    /// assert!(aug.ops().is_empty());
    /// ```
    pub fn new() -> Augment {
        Augment::default()
    }

    /// Appends an op after checking its arguments.
    ///
    /// ```
    /// use augflow::augment::{Augment, Op, RandomHue};
    /// let bad = Op::RandomHue(RandomHue { factor: 2.0.into(), value_range: [0.0, 255.0] });
    /// let err = Augment::new().with(bad).unwrap_err();
    /// assert!(err.to_string().contains("factor"));
    /// ```
    pub fn with(mut self, op: Op) -> Result<Augment> {
        op.validate()?;
        self.ops.push(op);
        Ok(self)
    }

    /// The ops, in order.
    ///
    /// ```
    /// use augflow::augment::{Augment, Op};
    /// let aug = Augment::from_json(r#"[{"class_name": "AutoContrast", "config": {}}]"#)?;
    /// assert!(matches!(aug.ops()[0], Op::AutoContrast(_)));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Reads a JSON list of Keras layers (`[{"class_name": ..., "config": {...}}, ...]`);
    /// configs copied from Keras' `get_config()` are accepted as they are
    /// (see [`Op::from_keras`]).
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// let aug = Augment::from_json(r#"[
    ///     {"class_name": "RandomSharpness", "config": {"factor": [0.2, 0.8]}},
    ///     {"class_name": "Normalization", "config": {"mean": [123.675, 116.28, 103.53],
    ///         "variance": [3409.98, 3262.69, 3291.76]}}]"#)?;
    /// assert_eq!(aug.ops().len(), 2);
    /// assert!(Augment::from_json(r#"[{"class_name": "RandomTwist", "config": {}}]"#).is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Augment> {
        let layers: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| Error::InvalidParameter {
                name: "augment",
                value: text.chars().take(200).collect(),
                expected: format!("a JSON list of {{\"class_name\", \"config\"}} layers ({e})"),
            })?;
        let ops = layers
            .into_iter()
            .map(Op::from_keras)
            .collect::<Result<_>>()?;
        Ok(Augment { ops })
    }

    /// The pipeline as a JSON list of Keras layers.
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomGrayscale", "config": {"factor": 0.2}}]"#)?;
    /// assert_eq!(aug.to_json(), r#"[{"class_name":"RandomGrayscale","config":{"factor":0.2}}]"#);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.ops).unwrap_or_default()
    }

    /// The `[height, width]` the pipeline gives an input of `[height, width]`: the size of
    /// its last op that sets one (a crop or a resize), the input's otherwise. It does not
    /// depend on the draw, so every sample of a batch has it.
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomResizedCrop", "config": {"size": [224, 224]}},
    ///     {"class_name": "RandomFlip", "config": {"mode": "horizontal"}}]"#)?;
    /// assert_eq!(aug.output_size([375, 500]), [224, 224]);
    /// assert_eq!(Augment::new().output_size([375, 500]), [375, 500]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn output_size(&self, input: [usize; 2]) -> [usize; 2] {
        self.fixed_size().unwrap_or(input)
    }

    /// The size the pipeline gives every input, when one of its ops sets it (a crop or a
    /// resize); `None` when the output keeps the input's size.
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// let aug = Augment::from_json(r#"[{"class_name": "CenterCrop", "config": {"height": 8, "width": 6}}]"#)?;
    /// assert_eq!(aug.fixed_size(), Some([8, 6]));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn fixed_size(&self) -> Option<[usize; 2]> {
        self.ops.iter().rev().find_map(Op::sets_size)
    }

    /// Draws every op's parameters for an image of `shape`, in order, from `rng`.
    ///
    /// ```
    /// use augflow::augment::{Augment, Params};
    /// use augflow::rng::sample_rng;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomInvert", "config": {}}]"#)?;
    /// let params = aug.draw(&mut sample_rng(0, 0, 0), [4, 4, 3])?;
    /// assert!(matches!(params[0], Params::RandomInvert { .. }));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn draw(&self, rng: &mut SampleRng, shape: [usize; 3]) -> Result<Vec<Params>> {
        let mut shape = shape;
        let mut params = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let p = op.draw(rng, shape)?;
            if op.is_geometric() {
                let [h, w] = op.step(&p, [shape[0], shape[1]])?.out;
                shape = [h, w, shape[2]];
            }
            params.push(p);
        }
        Ok(params)
    }

    /// Applies drawn parameters (one per op) in place; element-wise ops between reductions
    /// or filters share one pass over the pixels. A pipeline whose geometric ops change the
    /// image size needs [`Augment::transform`] (or [`Augment::run`]) instead.
    ///
    /// ```
    /// use augflow::augment::{Augment, Params};
    /// use ndarray::array;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomBrightness", "config": {"factor": 0.5}},
    ///     {"class_name": "Rescaling", "config": {"scale": 0.5}}]"#)?;
    /// let mut image = array![[[100.0f32, 200.0, 250.0]]];
    /// aug.apply(&[Params::RandomBrightness { rgb_delta: 10.0 }, Params::Rescaling], image.view_mut())?;
    /// assert_eq!(image, array![[[55.0f32, 105.0, 127.5]]]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn apply(&self, params: &[Params], image: ArrayViewMut3<'_, f32>) -> Result<()> {
        if params.len() != self.ops.len() {
            return Err(Error::LengthMismatch {
                name: "params".into(),
                got: params.len(),
                other: "ops".into(),
                expected: self.ops.len(),
            });
        }
        if self.ops.iter().any(Op::needs_transform) {
            return assign_same_shape(image, |owned| {
                Ok(self.transform(params, Sample::new(owned))?.image)
            });
        }
        with_pixels(image, |pixels, shape| {
            let mut pending = Vec::new();
            for (op, p) in self.ops.iter().zip(params) {
                stage(op, p, pixels, shape, &mut pending)?;
            }
            flush(&mut pending, pixels, shape[2]);
            Ok(())
        })
    }

    /// Draws from `rng` and applies; returns the draw. The hook for iterators, which pass
    /// the sample's stream (after the generator's own draws, so the two never share numbers).
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// use augflow::rng::sample_rng;
    /// use ndarray::Array3;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomContrast", "config": {"factor": 0.5}}]"#)?;
    /// let mut a = Array3::from_shape_fn((4, 4, 3), |(y, x, c)| (y * 60 + x * 5 + c) as f32);
    /// let mut b = a.clone();
    /// let pa = aug.apply_with(a.view_mut(), &mut sample_rng(7, 1, 2))?;
    /// let pb = aug.apply_with(b.view_mut(), &mut sample_rng(7, 1, 2))?;
    /// assert_eq!((pa, a), (pb, b));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn apply_with(
        &self,
        image: ArrayViewMut3<'_, f32>,
        rng: &mut SampleRng,
    ) -> Result<Vec<Params>> {
        let (h, w, c) = image.dim();
        let params = self.draw(rng, [h, w, c])?;
        self.apply(&params, image)?;
        Ok(params)
    }

    /// Augments sample `index` of epoch `epoch`, drawing from
    /// [`sample_rng(seed, epoch, index)`](crate::rng::sample_rng): the same triple always gives
    /// the same result. The image is replaced (geometric ops may change its size). Returns
    /// the draw.
    ///
    /// ```
    /// use augflow::augment::Augment;
    /// use ndarray::Array3;
    /// let aug = Augment::from_json(r#"[{"class_name": "RandomHue", "config": {"factor": 0.5}}]"#)?;
    /// let image = Array3::from_shape_fn((4, 4, 3), |(y, x, c)| (y * 60 + x * 5 + c * 30) as f32);
    /// let (mut a, mut b) = (image.clone(), image);
    /// assert_eq!(aug.run(&mut a, 1, 0, 5)?, aug.run(&mut b, 1, 0, 5)?);
    /// assert_eq!(a, b);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn run(
        &self,
        image: &mut ndarray::Array3<f32>,
        seed: u64,
        epoch: u64,
        index: u64,
    ) -> Result<Vec<Params>> {
        let (out, params) = self.run_sample(Sample::new(image.clone()), seed, epoch, index)?;
        *image = out.image;
        Ok(params)
    }
}

/// Runs `f` on a copy of `image` and writes the result back; an error when `f` changed the
/// size (a geometric op with another output size).
pub(crate) fn assign_same_shape(
    mut image: ArrayViewMut3<'_, f32>,
    f: impl FnOnce(ndarray::Array3<f32>) -> Result<ndarray::Array3<f32>>,
) -> Result<()> {
    let out = f(image.to_owned())?;
    if out.dim() != image.dim() {
        return Err(Error::Shape {
            name: "image",
            shape: out.shape().to_vec(),
            expected: format!(
                "the input's shape {:?}: in-place apply cannot change the size; use Augment::transform",
                image.dim()
            ),
        });
    }
    image.assign(&out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_get_config_output_is_accepted_verbatim() {
        let aug = Augment::from_json(
            r#"[{"class_name": "RandomContrast", "config": {"name": "random_contrast", "trainable": true,
                 "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
                 "data_format": "channels_last", "factor": [0, 0.5], "value_range": [0, 255], "seed": 2488}}]"#,
        )
        .unwrap();
        assert_eq!(aug.ops().len(), 1);
    }

    #[test]
    fn unknown_layers_typos_and_channels_first_are_errors_naming_them() {
        let unknown =
            Augment::from_json(r#"[{"class_name": "RandomBlur", "config": {}}]"#).unwrap_err();
        assert!(unknown.to_string().contains("RandomBlur"), "{unknown}");
        let typo =
            Augment::from_json(r#"[{"class_name": "RandomInvert", "config": {"factr": 0.5}}]"#)
                .unwrap_err();
        assert!(typo.to_string().contains("factr"), "{typo}");
        let layout = Augment::from_json(
            r#"[{"class_name": "RandomInvert", "config": {"data_format": "channels_first"}}]"#,
        )
        .unwrap_err();
        assert!(
            matches!(
                layout,
                Error::Unsupported {
                    name: "data_format",
                    ..
                }
            ),
            "{layout}"
        );
        let out_of_range =
            Augment::from_json(r#"[{"class_name": "RandomHue", "config": {"factor": 1.5}}]"#)
                .unwrap_err();
        assert!(
            matches!(out_of_range, Error::InvalidParameter { name: "factor", .. }),
            "{out_of_range}"
        );
        assert!(Augment::from_json("{").is_err());
    }

    #[test]
    fn params_must_match_the_ops_one_to_one() {
        let aug = Augment::from_json(r#"[{"class_name": "AutoContrast", "config": {}}]"#).unwrap();
        let mut img = ndarray::Array3::<f32>::zeros((2, 2, 3));
        let err = aug.apply(&[], img.view_mut()).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
    }
}
