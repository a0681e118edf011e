//! The draws of the geometric ops, from the sample's stream (README §8 "Draw", and
//! torchvision's `RandomResizedCrop.get_params`).

use super::layers::{RandomCrop, RandomPerspective, RandomResizedCrop};
use super::steps::aspect_window;
use crate::augment::{Op, Params};
use crate::rng::{SampleRng, below, uniform, unit_f64};

fn u32f(rng: &mut SampleRng, r: [f64; 2]) -> f32 {
    uniform(rng, r[0], r[1]) as f32
}

impl Op {
    /// The draw of a geometric op for an `[h, w]` input; `None` for the other ops.
    pub(crate) fn draw_geometric(&self, rng: &mut SampleRng, [h, w]: [usize; 2]) -> Option<Params> {
        let (hf, wf) = (h as f64, w as f64);
        Some(match self {
            Op::RandomFlip(_) => Params::RandomFlip {
                flips: unit_f64(rng) <= 0.5,
            },
            Op::RandomTranslation(o) => {
                let ty = uniform(
                    rng,
                    o.height_factor.range(None)[0],
                    o.height_factor.range(None)[1],
                );
                let tx = uniform(
                    rng,
                    o.width_factor.range(None)[0],
                    o.width_factor.range(None)[1],
                );
                Params::RandomTranslation {
                    translations: [(tx * wf) as f32, (ty * hf) as f32],
                }
            }
            Op::RandomRotation(o) => Params::RandomRotation {
                angle: (uniform(rng, o.factor.range(None)[0], o.factor.range(None)[1]) * 360.0)
                    as f32,
            },
            Op::RandomZoom(o) => {
                let zy = 1.0 + u32f(rng, o.height_factor.range(None));
                let zx = match o.width_factor {
                    Some(f) => 1.0 + u32f(rng, f.range(None)),
                    None => zy,
                };
                Params::RandomZoom {
                    height_zoom: zy,
                    width_zoom: zx,
                }
            }
            Op::RandomShear(o) => {
                let sign = if below(rng, 2) == 0 { 1.0 } else { -1.0 };
                let sx = u32f(rng, o.x_factor.range(None)) * sign;
                let sy = u32f(rng, o.y_factor.range(None)) * sign;
                Params::RandomShear {
                    shear_factor: [sx, sy],
                }
            }
            Op::RandomPerspective(o) => o.draw(rng, [h, w]),
            Op::RandomCrop(o) => o.draw(rng, [h, w]),
            Op::RandomElasticTransform(o) => o.draw(rng),
            Op::CenterCrop(_) => Params::CenterCrop,
            Op::Resizing(_) => Params::Resizing,
            Op::RandomResizedCrop(o) => o.draw(rng, [h, w]),
            _ => return None,
        })
    }
}

impl RandomPerspective {
    fn draw(&self, rng: &mut SampleRng, [h, w]: [usize; 2]) -> Params {
        let r = self.factor.range(Some(0.0));
        let threshold = uniform(rng, r[0], r[1]);
        let apply = unit_f64(rng) < threshold;
        let (x1, y1) = (w.saturating_sub(1) as f32, h.saturating_sub(1) as f32);
        let start = [[0.0, 0.0], [x1, 0.0], [0.0, y1], [x1, y1]];
        let half = self.scale / 2.0;
        let end = start.map(|p| p.map(|v| v + v * uniform(rng, -half, half) as f32));
        Params::RandomPerspective {
            apply_perspective: apply,
            start_points: start,
            end_points: end,
        }
    }
}

impl RandomCrop {
    fn draw(&self, rng: &mut SampleRng, [h, w]: [usize; 2]) -> Params {
        let (th, tw) = (self.height, self.width);
        if h > th && w > tw {
            return Params::RandomCrop {
                h_start: below(rng, (h - th + 1) as u64) as usize,
                w_start: below(rng, (w - tw + 1) as u64) as usize,
            };
        }
        let [_, _, top, left] = aspect_window([h, w], [th, tw]);
        Params::RandomCrop {
            h_start: top as usize,
            w_start: left as usize,
        }
    }
}

impl RandomResizedCrop {
    /// torchvision's sampling: 10 tries of an area fraction and a log-uniform ratio, then
    /// the centre crop clamped to the ratio range.
    fn draw(&self, rng: &mut SampleRng, [h, w]: [usize; 2]) -> Params {
        let area = (h * w) as f64;
        let log_ratio = [self.ratio[0].ln(), self.ratio[1].ln()];
        for _ in 0..10 {
            let target = area * uniform(rng, self.scale[0], self.scale[1]);
            let aspect = uniform(rng, log_ratio[0], log_ratio[1]).exp();
            let cw = (target * aspect).sqrt().round_ties_even();
            let ch = (target / aspect).sqrt().round_ties_even();
            if cw > 0.0 && cw <= w as f64 && ch > 0.0 && ch <= h as f64 {
                let (ch, cw) = (ch as usize, cw as usize);
                return Params::RandomResizedCrop {
                    top: below(rng, (h - ch + 1) as u64) as usize,
                    left: below(rng, (w - cw + 1) as u64) as usize,
                    height: ch,
                    width: cw,
                };
            }
        }
        let in_ratio = w as f64 / h.max(1) as f64;
        let (ch, cw) = if in_ratio < self.ratio[0] {
            ((w as f64 / self.ratio[0]).round_ties_even() as usize, w)
        } else if in_ratio > self.ratio[1] {
            (h, (h as f64 * self.ratio[1]).round_ties_even() as usize)
        } else {
            (h, w)
        };
        let (ch, cw) = (ch.clamp(1, h.max(1)), cw.clamp(1, w.max(1)));
        Params::RandomResizedCrop {
            top: h.saturating_sub(ch) / 2,
            left: w.saturating_sub(cw) / 2,
            height: ch,
            width: cw,
        }
    }
}
