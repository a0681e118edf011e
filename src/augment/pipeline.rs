//! [`Augment`]: a list of ops, drawn per sample and applied with element-wise ops fused.

use ndarray::ArrayViewMut3;
use serde::{Deserialize, Serialize};

use super::config::Op;
use super::engine::{flush, stage, with_pixels};
use super::params::Params;
use crate::rng::{SampleRng, sample_rng};
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
    pub fn new() -> Augment {
        Augment::default()
    }

    /// Appends an op after checking its arguments.
    pub fn with(mut self, op: Op) -> Result<Augment> {
        op.validate()?;
        self.ops.push(op);
        Ok(self)
    }

    /// The ops, in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Reads a JSON list of Keras layers (`[{"class_name": ..., "config": {...}}, ...]`);
    /// configs copied from Keras' `get_config()` are accepted as they are
    /// (see [`Op::from_keras`]).
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
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.ops).unwrap_or_default()
    }

    /// Draws every op's parameters for an image of `shape`, in order, from `rng`.
    pub fn draw(&self, rng: &mut SampleRng, shape: [usize; 3]) -> Result<Vec<Params>> {
        self.ops.iter().map(|op| op.draw(rng, shape)).collect()
    }

    /// Applies drawn parameters (one per op) in place; element-wise ops between reductions
    /// or filters share one pass over the pixels.
    pub fn apply(&self, params: &[Params], image: ArrayViewMut3<'_, f32>) -> Result<()> {
        if params.len() != self.ops.len() {
            return Err(Error::LengthMismatch {
                name: "params".into(),
                got: params.len(),
                other: "ops".into(),
                expected: self.ops.len(),
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
    /// the sample's stream.
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

    /// Augments sample `index` of epoch `epoch` in place, drawing from
    /// [`sample_rng(seed, epoch, index)`](crate::rng::sample_rng): the same triple always gives
    /// the same result. Returns the draw.
    pub fn run(
        &self,
        image: &mut ndarray::Array3<f32>,
        seed: u64,
        epoch: u64,
        index: u64,
    ) -> Result<Vec<Params>> {
        self.apply_with(image.view_mut(), &mut sample_rng(seed, epoch, index))
    }
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
