//! Bounding boxes under Keras 3's formats, and how each geometric layer moves them
//! (conformance README §10), quirks included: boxes follow each op's own rule in order,
//! while the image is resampled once for the whole chain.

use serde::{Deserialize, Serialize};

use super::Homography;
use crate::{Error, Result};

/// Keras 3's `bounding_box_format`. `x` is the column, `y` the row, in pixels; `rel_*`
/// formats divide `x`, `w` by the width and `y`, `h` by the height.
///
/// ```
/// use augflow::augment::BoxFormat;
/// let f: BoxFormat = serde_json::from_str("\"rel_center_xywh\"").unwrap();
/// let xyxy = f.to_xyxy([0.5, 0.5, 0.5, 0.5], 10.0, 20.0);
/// assert_eq!(xyxy, [5.0, 2.5, 15.0, 7.5]);
/// assert_eq!(f.from_xyxy(xyxy, 10.0, 20.0), [0.5, 0.5, 0.5, 0.5]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum BoxFormat {
    Xyxy,
    Yxyx,
    Xywh,
    CenterXywh,
    CenterYxhw,
    RelXyxy,
    RelYxyx,
    RelXywh,
    RelCenterXywh,
    RelCenterYxhw,
}

impl BoxFormat {
    fn relative(self) -> bool {
        matches!(
            self,
            BoxFormat::RelXyxy
                | BoxFormat::RelYxyx
                | BoxFormat::RelXywh
                | BoxFormat::RelCenterXywh
                | BoxFormat::RelCenterYxhw
        )
    }

    /// Pixel `[x1, y1, x2, y2]` of a box of an `h × w` image (float32, as Keras).
    ///
    /// ```
    /// use augflow::augment::BoxFormat;
    /// assert_eq!(BoxFormat::Yxyx.to_xyxy([1.0, 2.0, 3.0, 4.0], 10.0, 10.0), [2.0, 1.0, 4.0, 3.0]);
    /// assert_eq!(BoxFormat::Xywh.to_xyxy([1.0, 2.0, 3.0, 4.0], 10.0, 10.0), [1.0, 2.0, 4.0, 6.0]);
    /// ```
    pub fn to_xyxy(self, b: [f32; 4], h: f32, w: f32) -> [f32; 4] {
        let b = if self.relative() {
            match self {
                BoxFormat::RelYxyx => [b[0] * h, b[1] * w, b[2] * h, b[3] * w],
                BoxFormat::RelCenterYxhw => [b[0] * h, b[1] * w, b[2] * h, b[3] * w],
                _ => [b[0] * w, b[1] * h, b[2] * w, b[3] * h],
            }
        } else {
            b
        };
        match self {
            BoxFormat::Xyxy | BoxFormat::RelXyxy => b,
            BoxFormat::Yxyx | BoxFormat::RelYxyx => [b[1], b[0], b[3], b[2]],
            BoxFormat::Xywh | BoxFormat::RelXywh => [b[0], b[1], b[0] + b[2], b[1] + b[3]],
            BoxFormat::CenterXywh | BoxFormat::RelCenterXywh => centre(b[0], b[1], b[2], b[3]),
            BoxFormat::CenterYxhw | BoxFormat::RelCenterYxhw => centre(b[1], b[0], b[3], b[2]),
        }
    }

    /// This format's numbers for pixel `[x1, y1, x2, y2]` of an `h × w` image.
    ///
    /// ```
    /// use augflow::augment::BoxFormat;
    /// let c = [2.0, 4.0, 6.0, 8.0];
    /// assert_eq!(BoxFormat::CenterXywh.from_xyxy(c, 10.0, 10.0), [4.0, 6.0, 4.0, 4.0]);
    /// assert_eq!(BoxFormat::RelXyxy.from_xyxy(c, 10.0, 20.0), [0.1, 0.4, 0.3, 0.8]);
    /// ```
    pub fn from_xyxy(self, c: [f32; 4], h: f32, w: f32) -> [f32; 4] {
        let (bw, bh) = (c[2] - c[0], c[3] - c[1]);
        let (cx, cy) = (c[0] + bw / 2.0, c[1] + bh / 2.0);
        let (xs, ys) = if self.relative() { (w, h) } else { (1.0, 1.0) };
        match self {
            BoxFormat::Xyxy | BoxFormat::RelXyxy => [c[0] / xs, c[1] / ys, c[2] / xs, c[3] / ys],
            BoxFormat::Yxyx | BoxFormat::RelYxyx => [c[1] / ys, c[0] / xs, c[3] / ys, c[2] / xs],
            BoxFormat::Xywh | BoxFormat::RelXywh => [c[0] / xs, c[1] / ys, bw / xs, bh / ys],
            BoxFormat::CenterXywh | BoxFormat::RelCenterXywh => {
                [cx / xs, cy / ys, bw / xs, bh / ys]
            }
            BoxFormat::CenterYxhw | BoxFormat::RelCenterYxhw => {
                [cy / ys, cx / xs, bh / ys, bw / xs]
            }
        }
    }
}

fn centre(cx: f32, cy: f32, w: f32, h: f32) -> [f32; 4] {
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

/// The boxes of one image: `boxes[i]` in `format`, class `labels[i]` (`-1`: no box, Keras'
/// padding; a box clipped to nothing gets `-1` too).
///
/// ```
/// use augflow::augment::{Boxes, BoxFormat};
/// let b = Boxes::new(BoxFormat::Xyxy, vec![[0.0, 0.0, 4.0, 4.0]], vec![2])?;
/// assert_eq!(b.labels, vec![2]);
/// assert!(Boxes::new(BoxFormat::Xyxy, vec![[0.0; 4]], vec![]).is_err());
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boxes {
    /// How the four numbers are written.
    pub format: BoxFormat,
    /// The boxes.
    pub boxes: Vec<[f32; 4]>,
    /// One class per box.
    pub labels: Vec<i32>,
}

impl Boxes {
    /// Boxes with one label each.
    pub fn new(format: BoxFormat, boxes: Vec<[f32; 4]>, labels: Vec<i32>) -> Result<Boxes> {
        if boxes.len() != labels.len() {
            return Err(Error::LengthMismatch {
                name: "labels".into(),
                got: labels.len(),
                other: "boxes".into(),
                expected: boxes.len(),
            });
        }
        Ok(Boxes {
            format,
            boxes,
            labels,
        })
    }

    /// Converts every box to pixel xyxy (image `[h, w]`), applies `f`, converts back to
    /// `format` with the output size `[oh, ow]`.
    pub(crate) fn map_xyxy(
        &mut self,
        [h, w]: [f32; 2],
        [oh, ow]: [f32; 2],
        format: BoxFormat,
        mut f: impl FnMut(&mut [f32; 4], &mut i32),
    ) {
        for (b, l) in self.boxes.iter_mut().zip(self.labels.iter_mut()) {
            let mut c = self.format.to_xyxy(*b, h, w);
            f(&mut c, l);
            *b = format.from_xyxy(c, oh, ow);
        }
        self.format = format;
    }
}

/// Keras' clip: `x` to `[0, w]`, `y` to `[0, h]`, then label `-1` for an empty box.
pub(crate) fn clip(c: &mut [f32; 4], label: &mut i32, h: f32, w: f32) {
    c[0] = c[0].clamp(0.0, w);
    c[2] = c[2].clamp(0.0, w);
    c[1] = c[1].clamp(0.0, h);
    c[3] = c[3].clamp(0.0, h);
    if (c[2] - c[0]) * (c[3] - c[1]) <= 0.0 {
        *label = -1;
    }
}

/// The min/max box of the four corners mapped by `m`.
pub(crate) fn map_corners(c: &mut [f32; 4], m: &Homography) {
    let pts = [(c[0], c[1]), (c[2], c[1]), (c[0], c[3]), (c[2], c[3])]
        .map(|(x, y)| m.apply(f64::from(x), f64::from(y)));
    let xs = pts.map(|p| p.0);
    let ys = pts.map(|p| p.1);
    let min = |v: [f64; 4]| v.iter().copied().fold(f64::INFINITY, f64::min) as f32;
    let max = |v: [f64; 4]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max) as f32;
    *c = [min(xs), min(ys), max(xs), max(ys)];
}

/// RandomShear's box rule, in relative coordinates (README §10).
pub(crate) fn shear_relative(c: &mut [f32; 4], sx: f32, sy: f32) {
    let [x1, y1, x2, y2] = *c;
    let (nx1, nx2) = if sx < 0.0 {
        (x1 - sx * y1, x2 - sx * y2)
    } else {
        (x1 - sx * y2, x2 - sx * y1)
    };
    let (ny1, ny2) = if sy > 0.0 {
        (y1 - sy * nx2, y2 - sy * nx1)
    } else {
        (y1 - sy * nx1, y2 - sy * nx2)
    };
    *c = [nx1, ny1, nx2, ny2];
}
