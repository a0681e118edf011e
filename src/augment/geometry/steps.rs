//! What one geometric op does with its drawn parameters: the [`Step`] it adds to the fused
//! map (matrix, output size, kernel, border), and how it moves boxes (README §8, §10).

use super::boxes::{BoxFormat, Boxes, clip, map_corners, shear_relative};
use super::layers::{CenterCrop, FlipMode, RandomCrop, Resizing};
use super::resample::Border;
use super::{Fill, Homography, Kernel};
use crate::augment::{Op, Params};
use crate::{Error, Result};

/// One op's share of a fused resampling: its map (output → its input), output `[h, w]`, and
/// the kernel and border it asks for (`None`: it works with whatever its neighbours use).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub map: Homography,
    pub out: [usize; 2],
    pub kernel: Option<Kernel>,
    pub antialias: bool,
    pub border: Option<Border>,
}

impl Step {
    fn warp(map: Homography, out: [usize; 2], kernel: Kernel, mode: Fill, value: f64) -> Step {
        Step {
            map,
            out,
            kernel: Some(kernel),
            antialias: false,
            border: Some(Border::Fill { mode, value }),
        }
    }

    /// The window `rows × cols` (first index, length) of the input resized to `out`:
    /// pixel centres map as `x_in = left + (x + 0.5)·cw/ow - 0.5`. A window the size of
    /// `out` is a plain crop and asks for no kernel.
    fn crop_resize(rows: [i64; 2], cols: [i64; 2], out: [usize; 2], kernel: Kernel) -> Step {
        let sx = cols[1] as f64 / out[1] as f64;
        let sy = rows[1] as f64 / out[0] as f64;
        let map = Homography::affine(
            [sx, 0.0, cols[0] as f64 + 0.5 * sx - 0.5],
            [0.0, sy, rows[0] as f64 + 0.5 * sy - 0.5],
        );
        let plain = sx == 1.0 && sy == 1.0;
        Step {
            map,
            out,
            kernel: (!plain).then_some(kernel),
            antialias: false,
            border: (!plain).then_some(Border::Window {
                x: [cols[0], cols[0] + cols[1] - 1],
                y: [rows[0], rows[0] + rows[1] - 1],
                value: 0.0,
            }),
        }
    }
}

/// Keras' centre crop to the target aspect ratio: `(ch, cw, top, left)` (README §8.7).
pub(crate) fn aspect_window([h, w]: [usize; 2], [th, tw]: [usize; 2]) -> [i64; 4] {
    let (hf, wf) = (h as f64, w as f64);
    let ch = ((wf * th as f64 / tw as f64) as i64).min(h as i64).max(1);
    let cw = ((hf * tw as f64 / th as f64) as i64).min(w as i64).max(1);
    let top = ((h as i64 - ch) as f64 / 2.0) as i64;
    let left = ((w as i64 - cw) as f64 / 2.0) as i64;
    [ch, cw, top, left]
}

fn mismatch(op: &Op, params: &Params) -> Error {
    Error::InvalidParameter {
        name: "params",
        value: format!("{params:?}"),
        expected: format!("the parameters of {op:?}"),
    }
}

fn f(v: f32) -> f64 {
    f64::from(v)
}

impl Op {
    /// Whether the op moves pixels (and so masks and boxes).
    pub(crate) fn is_geometric(&self) -> bool {
        matches!(
            self,
            Op::RandomFlip(_)
                | Op::RandomTranslation(_)
                | Op::RandomRotation(_)
                | Op::RandomZoom(_)
                | Op::RandomShear(_)
                | Op::RandomPerspective(_)
                | Op::RandomCrop(_)
                | Op::CenterCrop(_)
                | Op::Resizing(_)
                | Op::RandomResizedCrop(_)
        )
    }

    /// Whether the op runs through [`Augment::transform`](crate::augment::Augment::transform)
    /// (geometric ops and policies, which expand into ops).
    pub(crate) fn needs_transform(&self) -> bool {
        self.is_geometric()
            || matches!(
                self,
                Op::RandAugment(_)
                    | Op::AugMix(_)
                    | Op::TrivialAugmentWide(_)
                    | Op::RandomElasticTransform(_)
            )
    }

    /// The output size the op gives every input, whatever the draw: `Some` for the ops that
    /// set the size (crops, resizes), `None` for those that keep their input's size.
    pub(crate) fn sets_size(&self) -> Option<[usize; 2]> {
        match self {
            Op::RandomCrop(o) => Some([o.height, o.width]),
            Op::CenterCrop(o) => Some([o.height, o.width]),
            Op::Resizing(o) => Some([o.height, o.width]),
            Op::RandomResizedCrop(o) => Some(o.size),
            _ => None,
        }
    }

    /// The step of a geometric op on an input of `[h, w]`; an error for other ops or
    /// parameters that do not fit the image.
    pub(crate) fn step(&self, params: &Params, [h, w]: [usize; 2]) -> Result<Step> {
        let same = [h, w];
        let (hf, wf) = (h as f64, w as f64);
        Ok(match (self, params) {
            (Op::RandomFlip(o), Params::RandomFlip { flips }) => {
                let (fx, fy) = match (flips, o.mode) {
                    (false, _) => (false, false),
                    (true, FlipMode::Horizontal) => (true, false),
                    (true, FlipMode::Vertical) => (false, true),
                    (true, FlipMode::HorizontalAndVertical) => (true, true),
                };
                let axis = |on: bool, n: f64| if on { [-1.0, n - 1.0] } else { [1.0, 0.0] };
                let (ax, ay) = (axis(fx, wf), axis(fy, hf));
                Step {
                    map: Homography::affine([ax[0], 0.0, ax[1]], [0.0, ay[0], ay[1]]),
                    out: same,
                    kernel: None,
                    antialias: false,
                    border: None,
                }
            }
            (Op::RandomTranslation(o), Params::RandomTranslation { translations: t }) => {
                let map = Homography::translation(-f(t[0]), -f(t[1]));
                Step::warp(map, same, o.interpolation, o.fill_mode, o.fill_value)
            }
            (Op::RandomRotation(o), Params::RandomRotation { angle }) => {
                let th = f(*angle).to_radians();
                let (s, c) = th.sin_cos();
                let (cx, cy) = ((wf - 1.0) / 2.0, (hf - 1.0) / 2.0);
                let map =
                    Homography::affine([c, -s, cx - cx * c + cy * s], [s, c, cy - cx * s - cy * c]);
                Step::warp(map, same, o.interpolation, o.fill_mode, o.fill_value)
            }
            (
                Op::RandomZoom(o),
                Params::RandomZoom {
                    height_zoom,
                    width_zoom,
                },
            ) => {
                let (zx, zy) = (*width_zoom, *height_zoom);
                let ox = (w as f32 - 1.0) / 2.0 * (1.0 - zx);
                let oy = (h as f32 - 1.0) / 2.0 * (1.0 - zy);
                let map = Homography::affine([f(zx), 0.0, f(ox)], [0.0, f(zy), f(oy)]);
                Step::warp(map, same, o.interpolation, o.fill_mode, o.fill_value)
            }
            (Op::RandomShear(o), Params::RandomShear { shear_factor: s }) => {
                let map = Homography::affine([1.0, f(s[0]), 0.0], [f(s[1]), 1.0, 0.0]);
                Step::warp(map, same, o.interpolation, o.fill_mode, o.fill_value)
            }
            (
                Op::RandomPerspective(o),
                Params::RandomPerspective {
                    apply_perspective,
                    start_points,
                    end_points,
                },
            ) => {
                if !apply_perspective {
                    return Ok(identity(same));
                }
                let pts = |p: &[[f32; 2]; 4]| p.map(|q| [f(q[0]), f(q[1])]);
                let map = Homography::from_points(pts(end_points), pts(start_points)).ok_or_else(
                    || {
                        Error::invalid(
                            "end_points",
                            format!("{end_points:?}"),
                            "4 corners, no 3 on one line",
                        )
                    },
                )?;
                Step::warp(map, same, o.interpolation, Fill::Constant, o.fill_value)
            }
            (Op::RandomCrop(o), Params::RandomCrop { h_start, w_start }) => {
                o.step(*h_start, *w_start, same)?
            }
            (Op::CenterCrop(o), Params::CenterCrop) => o.step(same),
            (Op::Resizing(o), Params::Resizing) => o.step(same),
            (
                Op::RandomResizedCrop(o),
                Params::RandomResizedCrop {
                    top,
                    left,
                    height,
                    width,
                },
            ) => {
                let inside =
                    |a: usize, b: usize, n: usize| a.checked_add(b).is_some_and(|e| e <= n);
                let fits = *height > 0
                    && *width > 0
                    && inside(*top, *height, h)
                    && inside(*left, *width, w);
                if !fits {
                    return Err(Error::invalid(
                        "params",
                        format!("{params:?}"),
                        format!("a non-empty window inside the {h}x{w} image"),
                    ));
                }
                let rows = [*top as i64, *height as i64];
                let cols = [*left as i64, *width as i64];
                let mut step = Step::crop_resize(rows, cols, o.size, o.interpolation);
                step.antialias = o.antialias;
                step
            }
            _ => return Err(mismatch(self, params)),
        })
    }
}

fn identity(out: [usize; 2]) -> Step {
    Step {
        map: Homography::IDENTITY,
        out,
        kernel: None,
        antialias: false,
        border: None,
    }
}

impl RandomCrop {
    fn step(&self, h_start: usize, w_start: usize, [h, w]: [usize; 2]) -> Result<Step> {
        let (th, tw) = (self.height, self.width);
        if h_start >= h || w_start >= w {
            return Err(Error::invalid(
                "h_start",
                format!("[{h_start}, {w_start}]"),
                format!("a first row and column inside the {h}x{w} image"),
            ));
        }
        // Both starts are inside the image, so the sums below cannot overflow.
        let rows = [
            h_start as i64,
            (h_start + th).min(h) as i64 - h_start as i64,
        ];
        let cols = [
            w_start as i64,
            (w_start + tw).min(w) as i64 - w_start as i64,
        ];
        Ok(Step::crop_resize(rows, cols, [th, tw], Kernel::Bilinear))
    }
}

impl CenterCrop {
    fn step(&self, [h, w]: [usize; 2]) -> Step {
        let (th, tw) = (self.height, self.width);
        if h >= th && w >= tw {
            let rows = [((h - th) / 2) as i64, th as i64];
            let cols = [((w - tw) / 2) as i64, tw as i64];
            return Step::crop_resize(rows, cols, [th, tw], Kernel::Bilinear);
        }
        let [ch, cw, top, left] = aspect_window([h, w], [th, tw]);
        Step::crop_resize([top, ch], [left, cw], [th, tw], Kernel::Bilinear)
    }
}

impl Resizing {
    /// The padding `(rows above and below, columns left and right)` of pad_to_aspect_ratio.
    fn padding(&self, [h, w]: [usize; 2]) -> (i64, i64) {
        let (hf, wf) = (h as f64, w as f64);
        let ph = ((wf * self.height as f64 / self.width as f64) as i64).max(h as i64);
        let pw = ((hf * self.width as f64 / self.height as f64) as i64).max(w as i64);
        let t = ((ph - h as i64) as f64 / 2.0) as i64;
        let l = ((pw - w as i64) as f64 / 2.0) as i64;
        if t > 0 { (t, 0) } else { (0, l.max(0)) }
    }

    fn step(&self, [h, w]: [usize; 2]) -> Step {
        let out = [self.height, self.width];
        let (rows, cols) = if self.crop_to_aspect_ratio {
            let [ch, cw, top, left] = aspect_window([h, w], out);
            ([top, ch], [left, cw])
        } else if self.pad_to_aspect_ratio {
            let (t, l) = self.padding([h, w]);
            ([-t, h as i64 + 2 * t], [-l, w as i64 + 2 * l])
        } else {
            ([0, h as i64], [0, w as i64])
        };
        let mut step = Step::crop_resize(rows, cols, out, self.interpolation);
        step.kernel = Some(self.interpolation);
        step.antialias = self.antialias;
        step.border = Some(Border::Window {
            x: [cols[0], cols[0] + cols[1] - 1],
            y: [rows[0], rows[0] + rows[1] - 1],
            value: self.fill_value,
        });
        step
    }

    fn move_boxes(&self, boxes: &mut Boxes, [h, w]: [usize; 2]) {
        let (hf, wf) = (h as f32, w as f32);
        let (th, tw) = (self.height as f32, self.width as f32);
        let empty: Vec<bool> = boxes
            .boxes
            .iter()
            .map(|b| b.iter().all(|v| *v == -1.0) || b.iter().all(|v| *v == 0.0))
            .collect();
        let (sx, sy, ox, oy) = if self.pad_to_aspect_ratio {
            let r = (th / hf).min(tw / wf);
            (
                r,
                r,
                ((tw - wf * r) / 2.0).floor(),
                ((th - hf * r) / 2.0).floor(),
            )
        } else if self.crop_to_aspect_ratio {
            let (nw, nh) = if wf / hf > tw / th {
                (th * wf / hf, th)
            } else {
                (tw, tw * hf / wf)
            };
            let (ox, oy) = (((nw - tw) / 2.0).floor(), ((nh - th) / 2.0).floor());
            (nw / wf, nh / hf, -ox, -oy)
        } else {
            (tw / wf, th / hf, 0.0, 0.0)
        };
        let mut i = 0;
        boxes.map_xyxy([hf, wf], [th, tw], boxes.format, |c, l| {
            *c = if empty[i] {
                [0.0; 4]
            } else {
                [
                    c[0] * sx + ox,
                    c[1] * sy + oy,
                    c[2] * sx + ox,
                    c[3] * sy + oy,
                ]
            };
            clip(c, l, th, tw);
            i += 1;
        });
    }
}

fn relative(c: &mut [f32; 4], h: f32, w: f32) {
    *c = [c[0] / w, c[1] / h, c[2] / w, c[3] / h];
}

fn absolute(c: &mut [f32; 4], h: f32, w: f32) {
    *c = [c[0] * w, c[1] * h, c[2] * w, c[3] * h];
}

impl Op {
    /// Moves one image's boxes as this geometric op moves its pixels, with Keras' rule for
    /// the layer (README §10); the input image is `[h, w]`.
    pub(crate) fn move_boxes(
        &self,
        params: &Params,
        boxes: &mut Boxes,
        [h, w]: [usize; 2],
    ) -> Result<()> {
        let (hf, wf) = (h as f32, w as f32);
        let size = [hf, wf];
        let fmt = boxes.format;
        match (self, params) {
            (Op::RandomFlip(o), Params::RandomFlip { flips }) => {
                let (fx, fy) = match o.mode {
                    FlipMode::Horizontal => (*flips, false),
                    FlipMode::Vertical => (false, *flips),
                    FlipMode::HorizontalAndVertical => (*flips, *flips),
                };
                boxes.map_xyxy(size, size, fmt, |c, l| {
                    relative(c, hf, wf);
                    if fx {
                        *c = [1.0 - c[2], c[1], 1.0 - c[0], c[3]];
                    }
                    if fy {
                        *c = [c[0], 1.0 - c[3], c[2], 1.0 - c[1]];
                    }
                    clip(c, l, hf, wf);
                    absolute(c, hf, wf);
                });
            }
            (Op::RandomTranslation(_), Params::RandomTranslation { translations: t }) => {
                boxes.map_xyxy(size, size, fmt, |c, l| {
                    *c = [c[0] + t[0], c[1] + t[1], c[2] + t[0], c[3] + t[1]];
                    clip(c, l, hf, wf);
                });
            }
            (Op::RandomRotation(_), Params::RandomRotation { angle }) => {
                // Keras reads the numbers as xyxy whatever the format.
                let (s, c) = f(*angle).to_radians().sin_cos();
                let (cx, cy) = ((f64::from(wf) - 1.0) / 2.0, (f64::from(hf) - 1.0) / 2.0);
                let content =
                    Homography::affine([c, s, cx - c * cx - s * cy], [-s, c, cy + s * cx - c * cy]);
                boxes.format = BoxFormat::Xyxy;
                boxes.map_xyxy(size, size, fmt, |b, l| {
                    map_corners(b, &content);
                    clip(b, l, hf, wf);
                });
            }
            (
                Op::RandomZoom(_),
                Params::RandomZoom {
                    height_zoom,
                    width_zoom,
                },
            ) => {
                let xs = (wf - 1.0) / 2.0 * (1.0 - width_zoom);
                let xe = width_zoom * wf + xs;
                let ys = (hf - 1.0) / 2.0 * (1.0 - height_zoom);
                let ye = height_zoom * hf + ys;
                boxes.map_xyxy(size, size, fmt, |c, l| {
                    let x = |v: f32| (v.clamp(xs.min(xe), xe.max(xs)) - xs) / (xe - xs);
                    let y = |v: f32| (v.clamp(ys.min(ye), ye.max(ys)) - ys) / (ye - ys);
                    *c = [x(c[0]), y(c[1]), x(c[2]), y(c[3])];
                    clip(c, l, 1.0, 1.0);
                    absolute(c, hf, wf);
                });
            }
            (Op::RandomShear(_), Params::RandomShear { shear_factor: s }) => {
                boxes.map_xyxy(size, size, fmt, |c, l| {
                    relative(c, hf, wf);
                    shear_relative(c, s[0], s[1]);
                    clip(c, l, 1.0, 1.0);
                    absolute(c, hf, wf);
                });
            }
            (
                Op::RandomPerspective(_),
                Params::RandomPerspective {
                    apply_perspective,
                    start_points,
                    end_points,
                },
            ) => {
                let pts = |p: &[[f32; 2]; 4]| p.map(|q| [f(q[0]), f(q[1])]);
                let content = if *apply_perspective {
                    Homography::from_points(pts(start_points), pts(end_points))
                } else {
                    Some(Homography::IDENTITY)
                };
                let content = content.ok_or_else(|| mismatch(self, params))?;
                // Keras leaves the result in xyxy.
                boxes.map_xyxy(size, size, BoxFormat::Xyxy, |c, l| {
                    map_corners(c, &content);
                    clip(c, l, hf, wf);
                });
            }
            (Op::RandomCrop(o), Params::RandomCrop { h_start, w_start }) => {
                // Keras converts with the target size and swaps the offsets (README §10).
                let t = [o.height as f32, o.width as f32];
                let (hs, ws) = (*h_start as f32, *w_start as f32);
                boxes.map_xyxy(t, t, fmt, |c, _| {
                    *c = [
                        (c[0] - hs).max(0.0),
                        (c[1] - ws).max(0.0),
                        (c[2] - hs).max(0.0),
                        (c[3] - ws).max(0.0),
                    ];
                });
            }
            (Op::CenterCrop(o), Params::CenterCrop) => {
                let (th, tw) = (o.height, o.width);
                let [ch, cw, top, left] = if h >= th && w >= tw {
                    [
                        th as i64,
                        tw as i64,
                        ((h - th) / 2) as i64,
                        ((w - tw) / 2) as i64,
                    ]
                } else {
                    aspect_window([h, w], [th, tw])
                };
                let (sx, sy) = (tw as f32 / cw as f32, th as f32 / ch as f32);
                let (top, left, ch, cw) = (top as f32, left as f32, ch as f32, cw as f32);
                let t = [th as f32, tw as f32];
                boxes.map_xyxy(size, t, fmt, |c, l| {
                    let x = |v: f32| (v.clamp(left, left + cw) - left) * sx;
                    let y = |v: f32| (v.clamp(top, top + ch) - top) * sy;
                    *c = [x(c[0]), y(c[1]), x(c[2]), y(c[3])];
                    clip(c, l, t[0], t[1]);
                });
            }
            (Op::Resizing(o), Params::Resizing) => o.move_boxes(boxes, [h, w]),
            (
                Op::RandomResizedCrop(o),
                Params::RandomResizedCrop {
                    top,
                    left,
                    height,
                    width,
                },
            ) => {
                let t = [o.size[0] as f32, o.size[1] as f32];
                let (sx, sy) = (t[1] / *width as f32, t[0] / *height as f32);
                let (top, left) = (*top as f32, *left as f32);
                boxes.map_xyxy(size, t, fmt, |c, l| {
                    *c = [
                        (c[0] - left) * sx,
                        (c[1] - top) * sy,
                        (c[2] - left) * sx,
                        (c[3] - top) * sy,
                    ];
                    clip(c, l, t[0], t[1]);
                });
            }
            _ => return Err(mismatch(self, params)),
        }
        Ok(())
    }
}
