//! From augmented values back to viewable 8-bit pixels.

use augflow::GeneratorConfig;
use ndarray::{Array3, ArrayView3};

/// How augmented values become 0..=255 pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shown {
    /// Multiply by this and saturate: undoes `rescale` and maps the data's range to 0..=255,
    /// so brightness and channel shifts stay visible.
    Scaled(f32),
    /// Min–max stretch per image, as Keras' `save_to_dir` (used when the generator
    /// standardizes, since values are then centred on 0).
    MinMax,
}

impl Shown {
    /// The mapping for the output of a generator with config `c`, on data whose values times
    /// `value_scale` span 0..=255.
    pub fn for_config(c: &GeneratorConfig, value_scale: f32) -> Shown {
        if c.samplewise_center
            || c.samplewise_std_normalization
            || c.featurewise_center
            || c.featurewise_std_normalization
            || c.zca_whitening
        {
            Shown::MinMax
        } else {
            let r = c.active_rescale().unwrap_or(1.0) as f32;
            Shown::Scaled(value_scale / r)
        }
    }

    /// A short description for the summary line.
    pub fn describe(self) -> String {
        match self {
            Shown::Scaled(1.0) => "pixel values as they are".into(),
            Shown::Scaled(f) => format!("pixel values x {f}"),
            Shown::MinMax => "min-max stretched per image (the generator standardizes)".into(),
        }
    }
}

/// Converts one `(H, W, C)` image to 8 bits with `shown`.
pub fn to_u8(img: ArrayView3<'_, f32>, shown: Shown) -> Array3<u8> {
    let (factor, offset) = match shown {
        Shown::Scaled(f) => (f, 0.0),
        Shown::MinMax => {
            let (lo, hi) = img
                .iter()
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            if lo.is_finite() && hi > lo {
                (255.0 / (hi - lo), -lo)
            } else {
                (0.0, 0.0)
            }
        }
    };
    img.mapv(|v| ((v + offset) * factor).round().clamp(0.0, 255.0) as u8)
}

/// Bilinear resize of an `(H, W, C)` image to `h × w` (pixel centres aligned).
pub fn resize_f32(img: ArrayView3<'_, f32>, h: usize, w: usize) -> Array3<f32> {
    let (sh, sw, c) = img.dim();
    if (sh, sw) == (h, w) {
        return img.to_owned();
    }
    let coord = |o: usize, n_out: usize, n_in: usize| -> (usize, usize, f32) {
        let s = ((o as f32 + 0.5) * n_in as f32 / n_out as f32 - 0.5).clamp(0.0, (n_in - 1) as f32);
        let i0 = s.floor() as usize;
        (i0, (i0 + 1).min(n_in - 1), s - i0 as f32)
    };
    let mut out = Array3::<f32>::zeros((h, w, c));
    for r in 0..h {
        let (r0, r1, fr) = coord(r, h, sh);
        for col in 0..w {
            let (c0, c1, fc) = coord(col, w, sw);
            for k in 0..c {
                let top = img[[r0, c0, k]] * (1.0 - fc) + img[[r0, c1, k]] * fc;
                let bot = img[[r1, c0, k]] * (1.0 - fc) + img[[r1, c1, k]] * fc;
                out[[r, col, k]] = top * (1.0 - fr) + bot * fr;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn scaled_undoes_rescale_and_saturates() {
        let c = GeneratorConfig {
            rescale: Some(1.0 / 255.0),
            ..Default::default()
        };
        let s = Shown::for_config(&c, 1.0);
        let x = array![[[0.0_f32, 0.2, 1.2]]];
        assert_eq!(to_u8(x.view(), s), array![[[0_u8, 51, 255]]]);
    }

    #[test]
    fn standardized_output_is_stretched() {
        let c = GeneratorConfig {
            samplewise_center: true,
            ..Default::default()
        };
        assert_eq!(Shown::for_config(&c, 1.0), Shown::MinMax);
        let x = array![[[-1.0_f32], [1.0]]];
        assert_eq!(to_u8(x.view(), Shown::MinMax), array![[[0_u8], [255]]]);
        let flat = array![[[3.0_f32], [3.0]]];
        assert_eq!(to_u8(flat.view(), Shown::MinMax), array![[[0_u8], [0]]]);
    }

    #[test]
    fn resize_keeps_flat_images_flat_and_identity_is_a_copy() {
        let x = Array3::<f32>::from_elem((5, 7, 2), 3.0);
        let y = resize_f32(x.view(), 3, 4);
        assert_eq!(y.dim(), (3, 4, 2));
        assert!(y.iter().all(|&v| (v - 3.0).abs() < 1e-6));
        assert_eq!(resize_f32(x.view(), 5, 7), x);
    }
}
