//! `fit`: per-channel mean and std and the ZCA whitening matrix of a dataset (spec §10).

use std::sync::Arc;

use faer::{Mat, Side};
use ndarray::{Array2, ArrayView4, Axis};
use rayon::prelude::*;

use super::{FitStats, ImageDataGenerator};
use crate::rng::{Stream, os_seed, stream_rng};
use crate::transform::{Layout, Pixel, image_dims};
use crate::{Error, Result};

/// Options of [`ImageDataGenerator::fit_with`]: Keras' `augment`, `rounds` and `seed`.
///
/// ```
/// use augflow::FitOptions;
/// let o = FitOptions { augment: true, rounds: 3, seed: Some(7) };
/// assert_eq!(FitOptions::default().rounds, 1);
/// # let _ = o;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitOptions {
    /// Fit on `rounds` randomly augmented copies of the data instead of the data itself.
    pub augment: bool,
    /// Number of augmented copies (with `augment`).
    pub rounds: usize,
    /// Seed of the augmentation; `None` draws one from the OS.
    pub seed: Option<u64>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            augment: false,
            rounds: 1,
            seed: None,
        }
    }
}

impl ImageDataGenerator {
    /// Computes the statistics the featurewise and ZCA steps need from a batch of images
    /// `(N, H, W, C)` (or `(N, C, H, W)` for channels-first): Keras' `fit(x)`.
    ///
    /// As in Keras, `rescale` is applied first, `preprocessing_function` and the samplewise
    /// steps are not. Only the statistics of enabled flags are computed.
    ///
    /// ```
    /// use augflow::ImageDataGenerator;
    /// use ndarray::Array4;
    /// let mut datagen = ImageDataGenerator::builder().featurewise_center(true).build().unwrap();
    /// let x = Array4::from_shape_fn((2, 2, 2, 1), |(n, _, _, _)| (10 * n) as u8);
    /// datagen.fit(x.view()).unwrap();
    /// assert_eq!(datagen.stats().mean.as_deref(), Some(&[5.0_f32][..]));
    /// ```
    pub fn fit<T: Pixel>(&mut self, x: ArrayView4<'_, T>) -> Result<()> {
        self.fit_with(x, FitOptions::default())
    }

    /// [`fit`](Self::fit) with Keras' `augment`, `rounds` and `seed`.
    ///
    /// ZCA works on the smaller side (an `N × N` problem when `N < d`) and refuses with
    /// [`Error::ZcaTooLarge`] when the `d × d` matrix would exceed `zca_memory_budget`.
    pub fn fit_with<T: Pixel>(&mut self, x: ArrayView4<'_, T>, opts: FitOptions) -> Result<()> {
        let cfg = self.config.clone();
        let fmt = cfg.data_format;
        let shape = x.shape().to_vec();
        if shape[0] == 0 {
            return Err(Error::Empty {
                name: "x",
                expected: "fit needs at least one image".into(),
            });
        }
        let (h, w, c) = image_dims(&shape[1..], fmt, "x")?;
        if !matches!(c, 1 | 3 | 4) {
            log::warn!(
                "Expected input to be images following the data format convention \"{fmt}\", i.e. 1, 3 or 4 channels; got shape {shape:?} ({c} channels)."
            );
        }
        if opts.augment && opts.rounds == 0 {
            return Err(Error::invalid("rounds", 0, "an integer >= 1"));
        }
        let d = h * w * c;
        if cfg.zca_whitening {
            let bytes = 8u128 * d as u128 * d as u128;
            if bytes > cfg.zca_memory_budget as u128 {
                return Err(Error::ZcaTooLarge {
                    features: d,
                    bytes,
                    budget: cfg.zca_memory_budget as u128,
                });
            }
        }
        if !(cfg.featurewise_center || cfg.featurewise_std_normalization || cfg.zca_whitening) {
            return Ok(());
        }
        let n0 = shape[0];
        // spec §10 step 4: a float copy, then rescale (f32 multiply).
        let mut data: Vec<f32> = alloc_f32(n0, d, "x", n0)?;
        for img in x.axis_iter(Axis(0)) {
            let img = img.as_standard_layout();
            data.extend(img.iter().map(|v| v.to_f64() as f32));
        }
        if let Some(r) = cfg.active_rescale() {
            let r = r as f32;
            data.par_iter_mut().for_each(|v| *v *= r);
        }
        if opts.augment {
            let seed = opts.seed.unwrap_or_else(os_seed);
            let lay = Layout::new(fmt, h, w, c);
            let rows = opts.rounds.saturating_mul(n0);
            let mut aug = alloc_f32(rows, d, "rounds", opts.rounds)?;
            aug.resize(rows * d, 0.0); // allocated, so rows · d did not overflow
            aug.par_chunks_mut(d)
                .enumerate()
                .try_for_each(|(k, out)| -> Result<()> {
                    let (round, i) = (k / n0, k % n0);
                    let mut rng = stream_rng(seed, Stream::Fit, round as u64, i as u64);
                    let p = self.random_transform_params(h, w, &mut rng);
                    self.transform_slice(&data[i * d..(i + 1) * d], out, lay, &p)
                })?;
            data = aug;
        }
        let n = data.len() / d;
        let chs = Layout::new(fmt, h, w, c).chs;
        let chan = |i: usize| ((i % d) / chs) % c;
        let mut stats = FitStats::default();
        if cfg.featurewise_center {
            let mean = channel_means(&data, c, &chan);
            data.par_iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v -= mean[chan(i)]);
            stats.mean = Some(mean);
        }
        if cfg.featurewise_std_normalization {
            let mut var = vec![0f64; c];
            let mut count = vec![0usize; c];
            for (i, v) in data.iter().enumerate() {
                var[chan(i)] += (*v as f64).powi(2);
                count[chan(i)] += 1;
            }
            let std: Vec<f32> = var
                .iter()
                .zip(&count)
                .map(|(s, &k)| (s / k as f64).sqrt() as f32)
                .collect();
            data.par_iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v /= std[chan(i)] + 1e-6);
            stats.std = Some(std);
        }
        if cfg.zca_whitening {
            stats.zca_whitening_matrix = Some(Arc::new(zca_matrix(&data, n, d, cfg.zca_epsilon)?));
        }
        self.stats = stats;
        Ok(())
    }
}

/// An empty vector with room for `rows × d` values, or an error naming `name` (whose value is
/// `value`) when that many cannot be allocated: the size comes from the user (`rounds`, or
/// the number of images), so it is checked, never left to abort the process.
fn alloc_f32(rows: usize, d: usize, name: &'static str, value: usize) -> Result<Vec<f32>> {
    let mut v = Vec::new();
    let len = rows.checked_mul(d);
    match len.map(|len| v.try_reserve_exact(len)) {
        Some(Ok(())) => Ok(v),
        _ => Err(Error::invalid(
            name,
            value,
            format!(
                "a value whose copies fit in memory: fit needs {rows} x {d} f32 values ({} bytes), which cannot be allocated",
                (rows as u128) * (d as u128) * 4
            ),
        )),
    }
}

fn channel_means(data: &[f32], c: usize, chan: &(impl Fn(usize) -> usize + Sync)) -> Vec<f32> {
    let mut sum = vec![0f64; c];
    let mut count = vec![0usize; c];
    for (i, v) in data.iter().enumerate() {
        sum[chan(i)] += *v as f64;
        count[chan(i)] += 1;
    }
    sum.iter()
        .zip(&count)
        .map(|(s, &k)| (s / k as f64) as f32)
        .collect()
}

/// Keras' ZCA matrix `U · diag(sqrt(n) / (s + eps)) · Uᵀ` with `U, s` the thin SVD of `Fᵀ`
/// (spec §10), from the eigendecomposition of the smaller Gram matrix.
///
/// With `n >= d` every direction is kept, as in Keras. With `n < d` the directions outside
/// the data's span are zeroed: the SVD Keras uses returns numerically arbitrary vectors
/// there, amplified by `sqrt(n) / eps`.
pub(crate) fn zca_matrix(data: &[f32], n: usize, d: usize, eps: f64) -> Result<Array2<f64>> {
    let f = Mat::<f64>::from_fn(n, d, |i, j| data[i * d + j] as f64);
    let sqrt_n = (n as f64).sqrt();
    let evd_err = |e: faer::linalg::evd::EvdError| Error::Numerical {
        what: "ZCA eigendecomposition",
        reason: format!("{e:?}"),
    };
    let (u, s): (Mat<f64>, Vec<f64>) = if n >= d {
        let g = f.transpose() * &f;
        let eig = g.self_adjoint_eigen(Side::Lower).map_err(evd_err)?;
        let s = (0..d).map(|k| eig.S()[k].max(0.0).sqrt()).collect();
        (eig.U().to_owned(), s)
    } else {
        let g = &f * f.transpose();
        let eig = g.self_adjoint_eigen(Side::Lower).map_err(evd_err)?;
        let mu: Vec<f64> = (0..n).map(|k| eig.S()[k].max(0.0)).collect();
        let smax = mu.iter().copied().fold(0.0, f64::max).sqrt();
        let tol = smax * d.max(n) as f64 * f64::EPSILON;
        let keep: Vec<usize> = (0..n).filter(|&k| mu[k].sqrt() > tol).collect();
        let v = Mat::<f64>::from_fn(n, keep.len(), |i, k| eig.U()[(i, keep[k])]);
        let mut u = f.transpose() * &v;
        let s: Vec<f64> = keep.iter().map(|&k| mu[k].sqrt()).collect();
        for (k, sk) in s.iter().enumerate() {
            for i in 0..d {
                u[(i, k)] /= sk;
            }
        }
        (u, s)
    };
    let k = s.len();
    let us = Mat::<f64>::from_fn(d, k, |i, j| u[(i, j)] * (sqrt_n / (s[j] + eps)));
    let w = &us * u.transpose();
    Ok(Array2::from_shape_fn((d, d), |(i, j)| w[(i, j)]))
}
