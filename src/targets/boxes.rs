//! Bounding boxes that move with their image: the four formats albumentations names, checked,
//! mapped corner by corner through the sample's [`PointMap`], clipped and filtered.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::PointMap;
use crate::{Error, Result};

/// How a box's four numbers are written (albumentations' names).
///
/// | format | numbers | unit |
/// |---|---|---|
/// | `PascalVoc` | `x_min, y_min, x_max, y_max` | pixels (corners) |
/// | `Coco` | `x_min, y_min, width, height` | pixels (corners) |
/// | `Yolo` | `x_centre, y_centre, width, height` | fractions of the image |
/// | `Albumentations` | `x_min, y_min, x_max, y_max` | fractions of the image |
///
/// Pixel coordinates are corners: a box `[0, 0, 1, 1]` in `PascalVoc` covers exactly pixel
/// `(0, 0)`, and `[0, 0, W, H]` the whole image.
///
/// ```
/// use augflow::targets::BoxFormat;
/// assert_eq!("coco".parse::<BoxFormat>()?, BoxFormat::Coco);
/// assert!("xyxy".parse::<BoxFormat>().is_err());
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxFormat {
    /// Pixel corners `x_min, y_min, x_max, y_max`.
    #[default]
    PascalVoc,
    /// Pixel `x_min, y_min, width, height`.
    Coco,
    /// Normalised `x_centre, y_centre, width, height`.
    Yolo,
    /// Normalised `x_min, y_min, x_max, y_max`.
    Albumentations,
}

impl std::str::FromStr for BoxFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        BoxFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "box format",
                    format!("{s:?}"),
                    "\"pascal_voc\", \"coco\", \"yolo\" or \"albumentations\"",
                )
            })
    }
}

impl std::fmt::Display for BoxFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl BoxFormat {
    /// Every format.
    pub const ALL: [BoxFormat; 4] = [
        BoxFormat::PascalVoc,
        BoxFormat::Coco,
        BoxFormat::Yolo,
        BoxFormat::Albumentations,
    ];

    /// albumentations' name of the format, as [`FromStr`](std::str::FromStr) reads it:
    /// `pascal_voc`, `coco`, `yolo` or `albumentations`.
    ///
    /// ```
    /// use augflow::targets::BoxFormat;
    /// assert_eq!(BoxFormat::PascalVoc.name(), "pascal_voc");
    /// assert_eq!(BoxFormat::Yolo.to_string(), "yolo");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            BoxFormat::PascalVoc => "pascal_voc",
            BoxFormat::Coco => "coco",
            BoxFormat::Yolo => "yolo",
            BoxFormat::Albumentations => "albumentations",
        }
    }

    /// Pixel corners `[x0, y0, x1, y1]` of a box written in this format for an `h × w` image.
    pub(crate) fn read_corners(self, b: [f64; 4], h: f64, w: f64) -> [f64; 4] {
        match self {
            BoxFormat::PascalVoc => b,
            BoxFormat::Coco => [b[0], b[1], b[0] + b[2], b[1] + b[3]],
            BoxFormat::Yolo => {
                let (hw, hh) = (b[2] / 2.0, b[3] / 2.0);
                [
                    (b[0] - hw) * w,
                    (b[1] - hh) * h,
                    (b[0] + hw) * w,
                    (b[1] + hh) * h,
                ]
            }
            BoxFormat::Albumentations => [b[0] * w, b[1] * h, b[2] * w, b[3] * h],
        }
    }

    /// This format's numbers for pixel corners `[x0, y0, x1, y1]` of an `h × w` image.
    pub(crate) fn write_corners(self, c: [f64; 4], h: f64, w: f64) -> [f64; 4] {
        match self {
            BoxFormat::PascalVoc => c,
            BoxFormat::Coco => [c[0], c[1], c[2] - c[0], c[3] - c[1]],
            BoxFormat::Yolo => [
                (c[0] + c[2]) / 2.0 / w,
                (c[1] + c[3]) / 2.0 / h,
                (c[2] - c[0]) / w,
                (c[3] - c[1]) / h,
            ],
            BoxFormat::Albumentations => [c[0] / w, c[1] / h, c[2] / w, c[3] / h],
        }
    }
}

/// How boxes are read and which survive a transform, as albumentations' `BboxParams`.
///
/// ```
/// use augflow::targets::{BoxFormat, BoxOptions};
/// let o = BoxOptions::new(BoxFormat::Yolo).min_visibility(0.3).min_area(16.0);
/// assert_eq!(o.format, BoxFormat::Yolo);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BoxOptions {
    /// How the boxes are written, in and out.
    pub format: BoxFormat,
    /// Boxes whose visible area, in pixels, falls below this are dropped (default 0).
    pub min_area: f64,
    /// Boxes of which less than this fraction stays in the image are dropped (default 0).
    pub min_visibility: f64,
}

impl BoxOptions {
    /// Boxes in `format`, none dropped unless they leave the image.
    pub fn new(format: BoxFormat) -> Self {
        BoxOptions {
            format,
            ..Default::default()
        }
    }
    /// Sets [`min_area`](Self::min_area).
    pub fn min_area(mut self, pixels: f64) -> Self {
        self.min_area = pixels;
        self
    }
    /// Sets [`min_visibility`](Self::min_visibility).
    pub fn min_visibility(mut self, fraction: f64) -> Self {
        self.min_visibility = fraction;
        self
    }

    /// Refuses thresholds that are NaN, negative, or a visibility above 1.
    pub fn validate(&self) -> Result<()> {
        if !(self.min_area >= 0.0 && self.min_area.is_finite()) {
            return Err(Error::invalid(
                "min_area",
                self.min_area,
                "a finite area in pixels >= 0",
            ));
        }
        if !(0.0..=1.0).contains(&self.min_visibility) {
            return Err(Error::invalid(
                "min_visibility",
                self.min_visibility,
                "a fraction in [0, 1]",
            ));
        }
        Ok(())
    }
}

/// Checks the boxes of sample `sample` of an `h × w` image: shape `(n, 4)`, finite, minimum
/// below maximum, and inside the image (a small tolerance allows rounding).
///
/// ```
/// use augflow::targets::{BoxFormat, check_boxes};
/// let good = ndarray::array![[1.0_f32, 2.0, 5.0, 6.0]];
/// check_boxes(good.view(), BoxFormat::PascalVoc, 8, 8, 0)?;
/// let flipped = ndarray::array![[5.0_f32, 2.0, 1.0, 6.0]];
/// let err = check_boxes(flipped.view(), BoxFormat::PascalVoc, 8, 8, 3).unwrap_err();
/// assert!(err.to_string().contains("sample 3"));
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn check_boxes(
    boxes: ArrayView2<'_, f32>,
    format: BoxFormat,
    h: usize,
    w: usize,
    sample: usize,
) -> Result<()> {
    if boxes.ncols() != 4 {
        return Err(Error::Shape {
            name: "boxes",
            shape: boxes.shape().to_vec(),
            expected: format!("(n, 4) boxes of sample {sample}"),
        });
    }
    let (hf, wf) = (h as f64, w as f64);
    let tolerance = 1e-3 * hf.max(wf).max(1.0);
    for (k, row) in boxes.outer_iter().enumerate() {
        let b = [row[0], row[1], row[2], row[3]].map(f64::from);
        let c = format.read_corners(b, hf, wf);
        let bad = |what: &str| {
            Err(Error::invalid(
                "boxes",
                format!("{b:?} (box {k} of sample {sample}, {format})"),
                format!("{what}, in an image of {h}x{w} (rows x columns)"),
            ))
        };
        if b.iter().any(|v| !v.is_finite()) {
            return bad("finite coordinates");
        }
        if c[2] <= c[0] || c[3] <= c[1] {
            return bad("x_max > x_min and y_max > y_min");
        }
        let inside = c[0] >= -tolerance
            && c[1] >= -tolerance
            && c[2] <= wf + tolerance
            && c[3] <= hf + tolerance;
        if !inside {
            return bad("a box inside the image");
        }
    }
    Ok(())
}

/// The boxes of one sample after its transform: each box's four corners mapped by `map`, the
/// enclosing axis-aligned box taken, clipped to the image, and dropped when its visible area
/// is below `opts.min_area` or its visible fraction below `opts.min_visibility` (or when
/// nothing of it is visible). Returns the kept boxes in `opts.format` and their indices in
/// `boxes`, so labels can follow. A `map` of `None` (a singular transform) keeps no box.
///
/// ```
/// use augflow::targets::{BoxFormat, BoxOptions, PointMap, transform_boxes};
/// use augflow::{Geometry, TransformParams};
///
/// let p = TransformParams { flip_horizontal: true, ..Default::default() };
/// let map = PointMap::new(&p, 10, 10, Geometry::Corrected);
/// let boxes = ndarray::array![[1.0_f32, 2.0, 4.0, 6.0]];
/// let (moved, kept) = transform_boxes(boxes.view(), map.as_ref(), &BoxOptions::new(BoxFormat::PascalVoc));
/// assert_eq!(moved, ndarray::array![[6.0_f32, 2.0, 9.0, 6.0]]);
/// assert_eq!(kept, [0]);
/// ```
pub fn transform_boxes(
    boxes: ArrayView2<'_, f32>,
    map: Option<&PointMap>,
    opts: &BoxOptions,
) -> (Array2<f32>, Vec<usize>) {
    let Some(map) = map else {
        return (Array2::zeros((0, 4)), Vec::new());
    };
    let (h, w) = map.size();
    let mut values = Vec::with_capacity(boxes.len());
    let mut kept = Vec::new();
    for (k, row) in boxes.outer_iter().enumerate() {
        let c = opts
            .format
            .read_corners([row[0], row[1], row[2], row[3]].map(f64::from), h, w);
        let corners =
            [(c[0], c[1]), (c[2], c[1]), (c[0], c[3]), (c[2], c[3])].map(|(x, y)| map.apply(x, y));
        let xs = corners.map(|p| p.0);
        let ys = corners.map(|p| p.1);
        let min = |v: [f64; 4]| v.into_iter().fold(f64::INFINITY, f64::min);
        let max = |v: [f64; 4]| v.into_iter().fold(f64::NEG_INFINITY, f64::max);
        let moved = [min(xs), min(ys), max(xs), max(ys)];
        let clipped = [
            moved[0].clamp(0.0, w),
            moved[1].clamp(0.0, h),
            moved[2].clamp(0.0, w),
            moved[3].clamp(0.0, h),
        ];
        let area = |b: [f64; 4]| (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
        let (visible, whole) = (area(clipped), area(moved));
        if visible <= 0.0 || visible < opts.min_area || visible < opts.min_visibility * whole {
            continue;
        }
        let out = opts.format.write_corners(clipped, h, w);
        values.extend(out.map(|v| v as f32));
        kept.push(k);
    }
    let moved = Array2::from_shape_vec((kept.len(), 4), values).expect("4 values per kept box");
    (moved, kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Geometry, TransformParams};

    fn map(p: TransformParams, h: usize, w: usize) -> Option<PointMap> {
        PointMap::new(&p, h, w, Geometry::Corrected)
    }

    #[test]
    fn every_format_round_trips_through_pixel_corners() {
        let corners = [2.0, 3.0, 6.0, 9.0];
        for f in BoxFormat::ALL {
            assert_eq!(f.name().parse::<BoxFormat>().unwrap(), f);
            let written = f.write_corners(corners, 12.0, 8.0);
            let back = f.read_corners(written, 12.0, 8.0);
            for (a, b) in back.iter().zip(corners) {
                assert!((a - b).abs() < 1e-12, "{f:?}: {back:?}");
            }
        }
        assert_eq!(
            BoxFormat::Yolo.write_corners(corners, 12.0, 8.0),
            [0.5, 0.5, 0.5, 0.5]
        );
    }

    #[test]
    fn a_vertical_flip_mirrors_boxes_exactly_in_every_format() {
        let p = TransformParams {
            flip_vertical: true,
            ..Default::default()
        };
        let m = map(p, 10, 20);
        let (moved, _) = transform_boxes(
            ndarray::array![[0.25_f32, 0.1, 0.5, 0.3]].view(),
            m.as_ref(),
            &BoxOptions::new(BoxFormat::Albumentations),
        );
        let expect = [0.25_f32, 0.7, 0.5, 0.9];
        for (a, b) in moved.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{moved:?}");
        }
    }

    #[test]
    fn boxes_partly_shifted_out_are_clipped_then_filtered_by_visibility_and_area() {
        // tx = 5 moves content 5 pixels left: a box at x 2..6 keeps 0..1 (a quarter).
        let p = TransformParams {
            tx: 5.0,
            ..Default::default()
        };
        let m = map(p, 10, 10);
        let boxes = ndarray::array![
            [2.0_f32, 0.0, 6.0, 4.0],
            [6.0, 0.0, 10.0, 4.0],
            [0.0, 0.0, 3.0, 2.0]
        ];
        let opts = BoxOptions::new(BoxFormat::PascalVoc);
        let (moved, kept) = transform_boxes(boxes.view(), m.as_ref(), &opts);
        assert_eq!(kept, [0, 1]); // the third left the image entirely
        assert_eq!(moved.row(0).to_vec(), [0.0, 0.0, 1.0, 4.0]);
        let (_, kept) = transform_boxes(boxes.view(), m.as_ref(), &opts.min_visibility(0.3));
        assert_eq!(kept, [1]);
        let (_, kept) = transform_boxes(boxes.view(), m.as_ref(), &opts.min_area(5.0));
        assert_eq!(kept, [1]);
    }

    #[test]
    fn a_singular_transform_keeps_no_box() {
        let (moved, kept) = transform_boxes(
            ndarray::array![[1.0_f32, 1.0, 2.0, 2.0]].view(),
            None,
            &BoxOptions::default(),
        );
        assert_eq!((moved.nrows(), kept.len()), (0, 0));
    }

    #[test]
    fn bad_boxes_are_refused_naming_the_sample_box_and_value() {
        let cases = [
            ([f32::NAN, 0.0, 1.0, 1.0], "finite"),
            ([3.0, 0.0, 1.0, 1.0], "x_max > x_min"),
            ([0.0, 0.0, 20.0, 1.0], "inside the image"),
        ];
        for (b, what) in cases {
            let boxes = ndarray::Array2::from_shape_vec((1, 4), b.to_vec()).unwrap();
            let msg = check_boxes(boxes.view(), BoxFormat::PascalVoc, 8, 8, 4)
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("sample 4") && msg.contains("box 0") && msg.contains(what),
                "{msg}"
            );
        }
        let yolo = ndarray::array![[0.5_f32, 0.5, 1.5, 0.2]];
        assert!(check_boxes(yolo.view(), BoxFormat::Yolo, 8, 8, 0).is_err());
        let three = ndarray::Array2::<f32>::zeros((2, 3));
        assert!(matches!(
            check_boxes(three.view(), BoxFormat::Coco, 8, 8, 0),
            Err(Error::Shape { .. })
        ));
    }

    #[test]
    fn thresholds_outside_their_range_are_refused() {
        assert!(
            BoxOptions::default()
                .min_visibility(f64::NAN)
                .validate()
                .is_err()
        );
        assert!(
            BoxOptions::default()
                .min_visibility(1.5)
                .validate()
                .is_err()
        );
        assert!(BoxOptions::default().min_area(-1.0).validate().is_err());
        assert!(BoxOptions::default().min_area(4.0).validate().is_ok());
    }
}
