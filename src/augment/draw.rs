//! `Op::draw`: one op's random parameters for one image, from the sample's stream.

use rand_chacha::rand_core::Rng;

use super::config::{Op, RandomErasing};
use super::params::{ErasingFill, Params};
use crate::rng::{SampleRng, below, uniform, unit_f64};
use crate::{Error, Result};

fn u32f(rng: &mut SampleRng, r: [f64; 2]) -> f32 {
    uniform(rng, r[0], r[1]) as f32
}

/// `U(0, 1) < U(lower, upper)`: Keras' two-draw probability of the "apply" flags.
fn flag(rng: &mut SampleRng, r: [f64; 2]) -> bool {
    let threshold = uniform(rng, r[0], r[1]);
    unit_f64(rng) < threshold
}

impl Op {
    /// Draws this op's parameters for one image of shape `(height, width, channels)`.
    ///
    /// Pure: the same stream state gives the same parameters. Use the sample's stream
    /// ([`crate::rng::sample_rng`]) so that draws are reproducible per (seed, epoch, index).
    ///
    /// ```
    /// use augflow::augment::{Op, Params, RandomContrast};
    /// use augflow::rng::sample_rng;
    /// let op = Op::RandomContrast(RandomContrast { factor: 0.5.into(), value_range: [0.0, 255.0] });
    /// let p = op.draw(&mut sample_rng(1, 0, 3), [32, 32, 3])?;
    /// let Params::RandomContrast { contrast_factor } = p else { unreachable!() };
    /// assert!((1.0..=1.5).contains(&contrast_factor));
    /// assert_eq!(p, op.draw(&mut sample_rng(1, 0, 3), [32, 32, 3])?);
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn draw(&self, rng: &mut SampleRng, shape: [usize; 3]) -> Result<Params> {
        self.validate()?;
        Ok(match self {
            Op::RandomBrightness(o) => {
                let delta = uniform(rng, o.factor.range(None)[0], o.factor.range(None)[1]);
                Params::RandomBrightness {
                    rgb_delta: (delta * (o.value_range[1] - o.value_range[0])) as f32,
                }
            }
            Op::RandomContrast(o) => {
                let r = o.factor.range(Some(0.0));
                Params::RandomContrast {
                    contrast_factor: u32f(rng, [1.0 - r[0], 1.0 + r[1]]),
                }
            }
            Op::RandomSaturation(o) => {
                let u = uniform(
                    rng,
                    o.factor.range(Some(0.0))[0],
                    o.factor.range(Some(0.0))[1],
                );
                Params::RandomSaturation {
                    factor: (u / (1.0 - u + 1e-7)) as f32,
                }
            }
            Op::RandomHue(o) => {
                let negative = below(rng, 2) == 1;
                let dh = u32f(rng, o.factor.range(Some(0.0))) * 0.5;
                Params::RandomHue {
                    factor: if negative { -dh } else { dh },
                }
            }
            Op::RandomColorJitter(o) => {
                let (mut b, mut c, mut s, mut h) = (None, None, None, None);
                for part in o.parts() {
                    match part.draw(rng, shape)? {
                        Params::RandomBrightness { rgb_delta } => b = Some(rgb_delta),
                        Params::RandomContrast { contrast_factor } => c = Some(contrast_factor),
                        Params::RandomSaturation { factor } => s = Some(factor),
                        Params::RandomHue { factor } => h = Some(factor),
                        _ => {}
                    }
                }
                Params::RandomColorJitter {
                    random_brightness: b,
                    random_contrast: c,
                    random_saturation: s,
                    random_hue: h,
                }
            }
            Op::RandomGrayscale(o) => Params::RandomGrayscale {
                should_apply: unit_f64(rng) < o.factor,
            },
            Op::RandomColorDegeneration(o) => Params::RandomColorDegeneration {
                factor: u32f(rng, o.factor.range(None)),
            },
            Op::RandomSharpness(o) => Params::RandomSharpness {
                factor: u32f(rng, o.factor.range(Some(0.0))),
            },
            Op::RandomInvert(o) => Params::RandomInvert {
                apply_inversion: flag(rng, o.factor.range(Some(0.0))),
            },
            Op::RandomPosterization(o) => {
                let r = o.factor.range(Some(1.0));
                let (lo, hi) = (r[0] as u64, r[1] as u64);
                let bits = if hi > lo {
                    lo + below(rng, hi - lo)
                } else {
                    lo
                };
                Params::RandomPosterization {
                    shift_factor: 8 - bits.min(8) as u8,
                }
            }
            Op::Solarization(o) => {
                let a = o.addition_factor.range(Some(0.0));
                let t = o.threshold_factor.range(Some(0.0));
                Params::Solarization {
                    additions: u32f(rng, [a[0], a[1] * 255.0]),
                    thresholds: u32f(rng, [t[0], t[1] * 255.0]),
                }
            }
            Op::AutoContrast(_) => Params::AutoContrast,
            Op::Equalization(_) => Params::Equalization,
            Op::RandomGaussianBlur(o) => {
                let apply = flag(rng, o.factor.range(Some(0.0)));
                let s = o.sigma.range(Some(0.0));
                let sx = u32f(rng, s) + 1e-6;
                let sy = u32f(rng, s) + 1e-6;
                Params::RandomGaussianBlur {
                    should_apply_blur: apply,
                    blur_factor: [sx, sy],
                }
            }
            Op::RandomErasing(o) => o.draw(rng, shape)?,
            Op::Rescaling(_) => Params::Rescaling,
            Op::Normalization(_) => Params::Normalization,
            Op::RandAugment(o) => o.draw(rng, shape)?,
            Op::AugMix(o) => o.draw(rng, shape)?,
            Op::TrivialAugmentWide(o) => o.draw(rng),
            geometric => geometric
                .draw_geometric(rng, [shape[0], shape[1]])
                .ok_or_else(|| {
                    Error::invalid("op", format!("{geometric:?}"), "an op with a draw")
                })?,
        })
    }
}

impl RandomErasing {
    fn draw(&self, rng: &mut SampleRng, [h, w, c]: [usize; 3]) -> Result<Params> {
        let apply = flag(rng, self.factor.range(Some(0.0)));
        let scale = self.scale.range(Some(0.0));
        let mut span = |len: usize| {
            let length = uniform(rng, scale[0], scale[1]).sqrt() * len as f64;
            let start = unit_f64(rng) * (len as f64 - length);
            let end = start + length;
            [
                (start.ceil() as usize).min(len),
                (end.ceil() as usize).min(len),
            ]
        };
        let cols = span(w);
        let rows = span(h);
        let [lo, hi] = self.value_range;
        let fill_value = match &self.fill_value {
            None => ErasingFill::Noise(rng.next_u64()),
            Some(s) => {
                let values = s.per_channel(c).ok_or_else(|| Error::InvalidParameter {
                    name: "fill_value",
                    value: format!("{s:?}"),
                    expected: format!("one value or {c} values (one per channel)"),
                })?;
                ErasingFill::Constant(values.iter().map(|v| v.clamp(lo, hi) as f32).collect())
            }
        };
        Ok(Params::RandomErasing {
            apply_erasing: apply,
            rows,
            cols,
            fill_value,
        })
    }
}
