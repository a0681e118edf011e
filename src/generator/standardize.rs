//! `standardize`: preprocessing function, rescale, samplewise and featurewise normalization,
//! ZCA, in Keras' order (spec §9).

use ndarray::{ArrayViewMut3, ArrayViewMut4, Axis};

use super::{ImageDataGenerator, run_user};
use crate::transform::{Geometry, Layout, OutPixel, image_dims};
use crate::{Error, Result};

/// Mean and population std (ddof 0) of `x`, accumulated in `f64`.
pub(crate) fn mean_std<O: OutPixel>(x: &[O]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().map(|v| v.to_f64()).sum::<f64>() / n;
    let var = x.iter().map(|v| (v.to_f64() - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

impl ImageDataGenerator {
    /// Standardizes one image in place, in Keras' order (spec §9): `preprocessing_function`,
    /// `rescale`, samplewise centre, samplewise std, featurewise centre, featurewise std, ZCA.
    ///
    /// Featurewise and ZCA steps need [`fit`](Self::fit): without it they give
    /// [`Error::NotFitted`] (Keras warns on every sample and skips the step).
    ///
    /// ```
    /// use augflow::ImageDataGenerator;
    /// use ndarray::array;
    /// let datagen = ImageDataGenerator::builder().samplewise_center(true).build().unwrap();
    /// let mut x = array![[[1.0_f32], [3.0]]];
    /// datagen.standardize(x.view_mut()).unwrap();
    /// assert_eq!(x, array![[[-1.0], [1.0]]]);
    /// ```
    pub fn standardize<O: OutPixel>(&self, mut x: ArrayViewMut3<'_, O>) -> Result<()> {
        let fmt = self.config.data_format;
        let (h, w, c) = image_dims(x.shape(), fmt, "image")?;
        let lay = Layout::new(fmt, h, w, c);
        self.preprocess(x.view_mut())?;
        if let Some(s) = x.as_slice_mut() {
            return self.standardize_flat(s, lay);
        }
        let mut tmp = x.as_standard_layout().into_owned();
        self.standardize_flat(tmp.as_slice_mut().expect("standard"), lay)?;
        x.assign(&tmp);
        Ok(())
    }

    /// Standardizes a batch `(N, …)` in place, one image at a time, as the iterators do.
    ///
    /// Under [`Geometry::Keras`] the samplewise statistics cover the whole batch, as Keras'
    /// `standardize` does when handed a rank-4 array (spec §9, note).
    ///
    /// ```
    /// use augflow::ImageDataGenerator;
    /// use ndarray::Array4;
    /// let datagen = ImageDataGenerator::builder().samplewise_center(true).build().unwrap();
    /// let mut x = Array4::from_shape_fn((2, 1, 2, 1), |(n, _, c, _)| (10 * n + c) as f32);
    /// datagen.standardize_batch(x.view_mut()).unwrap();
    /// assert_eq!(x.iter().copied().collect::<Vec<_>>(), vec![-0.5, 0.5, -0.5, 0.5]);
    /// ```
    pub fn standardize_batch<O: OutPixel>(&self, mut x: ArrayViewMut4<'_, O>) -> Result<()> {
        if self.config.geometry != Geometry::Keras {
            for img in x.axis_iter_mut(Axis(0)) {
                self.standardize(img)?;
            }
            return Ok(());
        }
        let fmt = self.config.data_format;
        let s = x.shape();
        let (h, w, c) = image_dims(&s[1..], fmt, "image")?;
        let lay = Layout::new(fmt, h, w, c);
        for img in x.axis_iter_mut(Axis(0)) {
            self.preprocess(img)?;
        }
        if let Some(s) = x.as_slice_mut() {
            return self.standardize_flat(s, lay);
        }
        let mut tmp = x.as_standard_layout().into_owned();
        self.standardize_flat(tmp.as_slice_mut().expect("standard"), lay)?;
        x.assign(&tmp);
        Ok(())
    }

    fn preprocess<O: OutPixel>(&self, x: ArrayViewMut3<'_, O>) -> Result<()> {
        if let Some(p) = &self.preprocessing {
            run_user("preprocessing_function", || p.apply(O::image_mut(x)))?;
        }
        Ok(())
    }

    /// Steps 2–7 on contiguous images of layout `lay` (samplewise statistics over all of
    /// them jointly).
    pub(crate) fn standardize_flat<O: OutPixel>(&self, x: &mut [O], lay: Layout) -> Result<()> {
        if let Some(r) = self.config.active_rescale() {
            let r = O::from_f64(r);
            x.iter_mut().for_each(|v| *v *= r);
        }
        self.standardize_after_rescale(x, lay)
    }

    /// Steps 3–7, for an image whose preprocessing and rescale are done (the per-sample path
    /// folds the rescale into the warp when it can).
    pub(crate) fn standardize_after_rescale<O: OutPixel>(
        &self,
        x: &mut [O],
        lay: Layout,
    ) -> Result<()> {
        let cfg = &self.config;
        if cfg.samplewise_center {
            let m = O::from_f64(mean_std(x).0);
            x.iter_mut().for_each(|v| *v -= m);
        }
        if cfg.samplewise_std_normalization {
            let d = O::from_f64(mean_std(x).1) + O::from_f64(1e-6);
            x.iter_mut().for_each(|v| *v /= d);
        }
        let chan = |i: usize| (i / lay.chs) % lay.c;
        let img_len = lay.len();
        if cfg.featurewise_center {
            let mean = self.channel_stat(
                self.stats.mean.as_deref(),
                "featurewise_center",
                "mean",
                lay.c,
            )?;
            let mean: Vec<O> = mean.iter().map(|&m| O::from_f64(m as f64)).collect();
            for img in x.chunks_exact_mut(img_len) {
                img.iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v -= mean[chan(i)]);
            }
        }
        if cfg.featurewise_std_normalization {
            let std = self.channel_stat(
                self.stats.std.as_deref(),
                "featurewise_std_normalization",
                "std",
                lay.c,
            )?;
            // spec §9 step 6: x /= (std + 1e-6), in the image's precision.
            let div: Vec<O> = std
                .iter()
                .map(|&s| O::from_f64(s as f64) + O::from_f64(1e-6))
                .collect();
            for img in x.chunks_exact_mut(img_len) {
                img.iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v /= div[chan(i)]);
            }
        }
        if cfg.zca_whitening {
            let wm = self
                .stats
                .zca_whitening_matrix
                .as_ref()
                .ok_or(Error::NotFitted {
                    what: "zca_whitening",
                })?;
            if wm.shape() != [img_len, img_len] {
                return Err(Error::Shape {
                    name: "zca_whitening_matrix",
                    shape: wm.shape().to_vec(),
                    expected: format!("[{img_len}, {img_len}] for images of {img_len} values"),
                });
            }
            let wm = wm.as_slice().expect("owned standard matrix");
            let mut out = vec![0.0f64; img_len];
            for img in x.chunks_exact_mut(img_len) {
                // flat (1 × d) @ W (d × d), row by row of W for cache-friendly access.
                out.iter_mut().for_each(|o| *o = 0.0);
                for (i, xi) in img.iter().enumerate() {
                    let xi = xi.to_f64();
                    if xi == 0.0 {
                        continue;
                    }
                    let row = &wm[i * img_len..(i + 1) * img_len];
                    out.iter_mut().zip(row).for_each(|(o, w)| *o += xi * w);
                }
                img.iter_mut()
                    .zip(&out)
                    .for_each(|(v, &o)| *v = O::from_f64(o));
            }
        }
        Ok(())
    }

    fn channel_stat<'a>(
        &self,
        stat: Option<&'a [f32]>,
        what: &'static str,
        name: &'static str,
        c: usize,
    ) -> Result<&'a [f32]> {
        let s = stat.ok_or(Error::NotFitted { what })?;
        if s.len() != c {
            return Err(Error::LengthMismatch {
                name: format!("fitted `{name}`"),
                got: s.len(),
                other: "the image's channels".into(),
                expected: c,
            });
        }
        Ok(s)
    }
}
