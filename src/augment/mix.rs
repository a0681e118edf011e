//! Batch-level ops that mix pairs of samples and their labels: `MixUp` and `CutMix`.

use ndarray::{ArrayViewMut2, ArrayViewMut4, Axis};
use serde::{Deserialize, Serialize};

use super::config::{Factor, invalid};
use super::geometry::{BoxFormat, Boxes};
use crate::rng::{SampleRng, below, uniform, unit_f64};
use crate::{Error, Result};

fn alpha02() -> f64 {
    0.2
}
fn one() -> Factor {
    Factor::Scalar(1.0)
}

/// `MixUp(alpha=0.2)`: `lam · x + (1 - lam) · x[p]` for images and labels, `lam ~ Beta(alpha, alpha)`
/// per sample, `p` a random permutation of the batch.
///
/// ```
/// use augflow::augment::{MixUp, MixUpParams};
/// use ndarray::{Array2, Array4};
/// let mut x = Array4::<f32>::zeros((2, 1, 1, 1));
/// x[[1, 0, 0, 0]] = 10.0;
/// let mut y = Array2::<f32>::eye(2);
/// let p = MixUpParams { mix_weight: vec![0.75, 1.0], permutation_order: vec![1, 0] };
/// MixUp::default().apply(&p, x.view_mut(), Some(y.view_mut()))?;
/// assert_eq!(x[[0, 0, 0, 0]], 2.5);
/// assert_eq!(y.row(0).to_vec(), vec![0.75, 0.25]);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixUp {
    /// The Beta distribution's parameter, > 0.
    #[serde(default = "alpha02")]
    pub alpha: f64,
    /// The format of the boxes given to [`MixUp::mix_boxes`], when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

impl Default for MixUp {
    fn default() -> Self {
        MixUp {
            alpha: 0.2,
            bounding_box_format: None,
        }
    }
}

/// A drawn [`MixUp`] (Keras' transformation keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixUpParams {
    /// `lam` per sample.
    pub mix_weight: Vec<f32>,
    /// The partner of each sample.
    pub permutation_order: Vec<usize>,
}

/// `CutMix(factor=1.0)`: pastes a rectangle of the partner `x[p]` into each image and mixes
/// labels by the rectangle's continuous area.
///
/// ```
/// use augflow::augment::{CutMix, CutMixParams};
/// use ndarray::{Array2, Array4};
/// let mut x = Array4::<f32>::zeros((2, 2, 2, 1));
/// x.index_axis_mut(ndarray::Axis(0), 1).fill(1.0);
/// let mut y = Array2::<f32>::eye(2);
/// let p = CutMixParams { permutation_order: vec![1, 0], rows: vec![[0, 1], [0, 0]],
///     cols: vec![[0, 2], [0, 0]], mix_weight: vec![0.5, 1.0] };
/// CutMix::default().apply(&p, x.view_mut(), Some(y.view_mut()))?;
/// assert_eq!(x.index_axis(ndarray::Axis(0), 0).sum(), 2.0); // the top row came from image 1
/// assert_eq!(y.row(0).to_vec(), vec![0.5, 0.5]);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutMix {
    /// Range of the Beta parameter `a = U(factor) + 1e-6`; `f` means `[0, f]`, within `[0, 1]`.
    #[serde(default = "one")]
    pub factor: Factor,
}

impl Default for CutMix {
    fn default() -> Self {
        CutMix { factor: one() }
    }
}

/// A drawn [`CutMix`]: the partner, the pasted rectangle and the label weight of each sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutMixParams {
    /// The partner of each sample.
    pub permutation_order: Vec<usize>,
    /// First and past-the-end row of each pasted rectangle.
    pub rows: Vec<[usize; 2]>,
    /// First and past-the-end column of each pasted rectangle.
    pub cols: Vec<[usize; 2]>,
    /// `lam = 1 - area / (H · W)` of the continuous rectangle, per sample.
    pub mix_weight: Vec<f32>,
}

/// A standard normal (Box–Muller).
fn normal(rng: &mut SampleRng) -> f64 {
    let u1 = 1.0 - unit_f64(rng);
    let u2 = unit_f64(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The logarithm of a Gamma(a, 1) draw (Marsaglia–Tsang, boosted for `a < 1`); logs keep
/// tiny `a` (CutMix's `U(factor) + 1e-6`) from underflowing.
pub(crate) fn ln_gamma_draw(rng: &mut SampleRng, a: f64) -> f64 {
    if a < 1.0 {
        let u = 1.0 - unit_f64(rng);
        return ln_gamma_draw(rng, a + 1.0) + u.ln() / a;
    }
    let d = a - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - unit_f64(rng);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return (d * v).ln();
        }
    }
}

/// Beta(a, a) = X / (X + Y) = 1 / (1 + exp(ln Y - ln X)).
pub(crate) fn beta(rng: &mut SampleRng, a: f64) -> f64 {
    let (lx, ly) = (ln_gamma_draw(rng, a), ln_gamma_draw(rng, a));
    1.0 / (1.0 + (ly - lx).exp())
}

fn permutation(rng: &mut SampleRng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, below(rng, i as u64 + 1) as usize);
    }
    p
}

fn check_pairs(
    n: usize,
    perm: &[usize],
    weights: usize,
    labels: Option<&ArrayViewMut2<'_, f32>>,
) -> Result<()> {
    for (name, len) in [("permutation_order", perm.len()), ("mix_weight", weights)] {
        if len != n {
            return Err(Error::LengthMismatch {
                name: name.into(),
                got: len,
                other: "images".into(),
                expected: n,
            });
        }
    }
    if let Some(p) = perm.iter().find(|&&p| p >= n) {
        return Err(invalid(
            "permutation_order",
            p,
            "indices below the batch size",
        ));
    }
    if let Some(l) = labels
        && l.nrows() != n
    {
        return Err(Error::LengthMismatch {
            name: "labels".into(),
            got: l.nrows(),
            other: "images".into(),
            expected: n,
        });
    }
    Ok(())
}

/// `lam · y + (1 - lam) · y[p]` row by row.
fn mix_labels(labels: Option<ArrayViewMut2<'_, f32>>, perm: &[usize], lam: &[f32]) {
    if let Some(mut y) = labels {
        let orig = y.to_owned();
        for (i, mut row) in y.axis_iter_mut(Axis(0)).enumerate() {
            let l = lam[i];
            row.zip_mut_with(&orig.row(perm[i]), |a, b| *a = l * *a + (1.0 - l) * *b);
        }
    }
}

impl MixUp {
    /// Draws the partners and weights of a batch of `batch` samples.
    ///
    /// ```
    /// use augflow::augment::MixUp;
    /// let p = MixUp { alpha: 0.4, bounding_box_format: None }.draw(&mut augflow::rng::sample_rng(0, 0, 0), 8)?;
    /// assert!(p.mix_weight.iter().all(|w| (0.0..=1.0).contains(w)));
    /// let mut order = p.permutation_order.clone();
    /// order.sort();
    /// assert_eq!(order, (0..8).collect::<Vec<_>>());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn draw(&self, rng: &mut SampleRng, batch: usize) -> Result<MixUpParams> {
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(invalid("alpha", self.alpha, "a finite number > 0"));
        }
        let permutation_order = permutation(rng, batch);
        let mix_weight = (0..batch).map(|_| beta(rng, self.alpha) as f32).collect();
        Ok(MixUpParams {
            mix_weight,
            permutation_order,
        })
    }

    /// Mixes the images `(N, H, W, C)` and, when given, the labels `(N, K)` in place.
    pub fn apply(
        &self,
        p: &MixUpParams,
        mut images: ArrayViewMut4<'_, f32>,
        labels: Option<ArrayViewMut2<'_, f32>>,
    ) -> Result<()> {
        check_pairs(
            images.len_of(Axis(0)),
            &p.permutation_order,
            p.mix_weight.len(),
            labels.as_ref(),
        )?;
        let orig = images.to_owned();
        for (i, mut img) in images.axis_iter_mut(Axis(0)).enumerate() {
            let l = p.mix_weight[i];
            img.zip_mut_with(&orig.index_axis(Axis(0), p.permutation_order[i]), |a, b| {
                *a = l * *a + (1.0 - l) * *b
            });
        }
        mix_labels(labels, &p.permutation_order, &p.mix_weight);
        Ok(())
    }

    /// The boxes of each image followed by those of its partner `p[i]` (Keras: `(N, 2K, 4)`
    /// from `(N, K, 4)`); every box keeps its label. Keras concatenates the labels along the
    /// batch axis instead (`(2N, K)`, rows that no longer line up with their boxes); here
    /// labels follow their boxes. All images' boxes must share one format.
    ///
    /// ```
    /// use augflow::augment::{BoxFormat, Boxes, MixUp, MixUpParams};
    /// let a = Boxes::new(BoxFormat::Xyxy, vec![[0.0, 0.0, 2.0, 2.0]], vec![1])?;
    /// let b = Boxes::new(BoxFormat::Xyxy, vec![[1.0, 1.0, 3.0, 3.0]], vec![4])?;
    /// let p = MixUpParams { mix_weight: vec![0.7, 0.6], permutation_order: vec![1, 0] };
    /// let mixed = MixUp::default().mix_boxes(&p, &[a, b])?;
    /// assert_eq!(mixed[0].boxes, vec![[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]]);
    /// assert_eq!(mixed[0].labels, vec![1, 4]);
    /// assert_eq!(mixed[1].labels, vec![4, 1]);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn mix_boxes(&self, p: &MixUpParams, boxes: &[Boxes]) -> Result<Vec<Boxes>> {
        check_pairs(boxes.len(), &p.permutation_order, p.mix_weight.len(), None)?;
        let format = self.bounding_box_format.or(boxes.first().map(|b| b.format));
        if let Some(b) = boxes.iter().find(|b| Some(b.format) != format) {
            return Err(invalid(
                "bounding_box_format",
                format!("{:?}", b.format),
                &format!("the format of every image's boxes ({format:?})"),
            ));
        }
        Ok(boxes
            .iter()
            .zip(&p.permutation_order)
            .map(|(own, &j)| {
                let mut out = own.clone();
                out.boxes.extend(&boxes[j].boxes);
                out.labels.extend(&boxes[j].labels);
                out
            })
            .collect())
    }
}

impl CutMix {
    /// Draws the partners, rectangles and weights of a batch of `(N, H, W)` images.
    ///
    /// ```
    /// use augflow::augment::CutMix;
    /// let p = CutMix::default().draw(&mut augflow::rng::sample_rng(0, 0, 0), [4, 32, 48])?;
    /// assert!(p.rows.iter().all(|r| r[0] <= r[1] && r[1] <= 32));
    /// assert!(p.cols.iter().all(|c| c[0] <= c[1] && c[1] <= 48));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn draw(&self, rng: &mut SampleRng, [n, h, w]: [usize; 3]) -> Result<CutMixParams> {
        let r = self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        let permutation_order = permutation(rng, n);
        let a = uniform(rng, r[0], r[1]) + 1e-6;
        let (mut rows, mut cols, mut mix_weight) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let ratio = (1.0 - beta(rng, a)).sqrt();
            let mut span = |len: usize| {
                let length = ratio * len as f64;
                let start = unit_f64(rng) * (len as f64 - length);
                let px = [
                    (start.ceil() as usize).min(len),
                    ((start + length).ceil() as usize).min(len),
                ];
                (px, length)
            };
            let (c, lw) = span(w);
            let (r, lh) = span(h);
            cols.push(c);
            rows.push(r);
            mix_weight.push((1.0 - lw * lh / (w * h).max(1) as f64) as f32);
        }
        Ok(CutMixParams {
            permutation_order,
            rows,
            cols,
            mix_weight,
        })
    }

    /// Pastes the rectangles into the images `(N, H, W, C)` and mixes the labels `(N, K)`.
    pub fn apply(
        &self,
        p: &CutMixParams,
        mut images: ArrayViewMut4<'_, f32>,
        labels: Option<ArrayViewMut2<'_, f32>>,
    ) -> Result<()> {
        let (n, h, w, _) = images.dim();
        check_pairs(n, &p.permutation_order, p.mix_weight.len(), labels.as_ref())?;
        check_pairs(n, &p.permutation_order, p.rows.len(), None)?;
        check_pairs(n, &p.permutation_order, p.cols.len(), None)?;
        let inside = |b: [usize; 2], len: usize| b[0] <= b[1] && b[1] <= len;
        if let Some(i) = (0..n).find(|&i| !inside(p.rows[i], h) || !inside(p.cols[i], w)) {
            return Err(invalid(
                "rows/cols",
                format!("{:?} x {:?}", p.rows[i], p.cols[i]),
                "ordered bounds within the image",
            ));
        }
        let orig = images.to_owned();
        for (i, mut img) in images.axis_iter_mut(Axis(0)).enumerate() {
            let src = orig.index_axis(Axis(0), p.permutation_order[i]);
            for y in p.rows[i][0]..p.rows[i][1] {
                for x in p.cols[i][0]..p.cols[i][1] {
                    img.slice_mut(ndarray::s![y, x, ..])
                        .assign(&src.slice(ndarray::s![y, x, ..]));
                }
            }
        }
        mix_labels(labels, &p.permutation_order, &p.mix_weight);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::sample_rng;

    #[test]
    fn beta_draws_lie_in_the_unit_interval_with_mean_one_half() {
        let mut rng = sample_rng(0, 0, 0);
        let draws: Vec<f64> = (0..4000).map(|_| beta(&mut rng, 0.2)).collect();
        assert!(draws.iter().all(|v| (0.0..=1.0).contains(v)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
    }

    #[test]
    fn a_tiny_beta_parameter_gives_draws_near_0_or_1() {
        let mut rng = sample_rng(0, 0, 1);
        let draws: Vec<f64> = (0..200).map(|_| beta(&mut rng, 1e-6)).collect();
        assert!(draws.iter().all(|v| *v < 0.01 || *v > 0.99), "{draws:?}");
        assert!(draws.iter().any(|v| *v < 0.01) && draws.iter().any(|v| *v > 0.99));
    }

    #[test]
    fn cutmix_weights_match_the_rectangles() {
        let p = CutMix::default()
            .draw(&mut sample_rng(1, 0, 0), [8, 20, 30])
            .unwrap();
        for i in 0..8 {
            let pixels = (p.rows[i][1] - p.rows[i][0]) * (p.cols[i][1] - p.cols[i][0]);
            let from_pixels = 1.0 - pixels as f32 / 600.0;
            assert!((p.mix_weight[i] - from_pixels).abs() < 0.1, "{p:?}");
        }
    }

    #[test]
    fn mixed_boxes_of_another_format_or_batch_size_are_errors() {
        let xyxy = Boxes::new(BoxFormat::Xyxy, vec![[0.0, 0.0, 1.0, 1.0]], vec![0]).unwrap();
        let yxyx = Boxes::new(BoxFormat::Yxyx, vec![[0.0, 0.0, 1.0, 1.0]], vec![0]).unwrap();
        let p = MixUpParams {
            mix_weight: vec![0.5, 0.5],
            permutation_order: vec![1, 0],
        };
        let mixup = MixUp::default();
        let err = mixup.mix_boxes(&p, &[xyxy.clone(), yxyx]).unwrap_err();
        assert!(err.to_string().contains("bounding_box_format"), "{err}");
        let err = mixup
            .mix_boxes(&p, std::slice::from_ref(&xyxy))
            .unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
        let rel = MixUp {
            bounding_box_format: Some(BoxFormat::RelXyxy),
            ..MixUp::default()
        };
        assert!(rel.mix_boxes(&p, &[xyxy.clone(), xyxy]).is_err());
    }

    #[test]
    fn a_partner_outside_the_batch_is_an_error() {
        let mut x = ndarray::Array4::<f32>::zeros((2, 1, 1, 1));
        let p = MixUpParams {
            mix_weight: vec![0.5, 0.5],
            permutation_order: vec![0, 2],
        };
        assert!(MixUp::default().apply(&p, x.view_mut(), None).is_err());
    }
}
