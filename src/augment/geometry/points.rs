//! Keypoints through a pipeline: each geometric op moves them by the inverse of its map (the
//! exact geometry, whatever rule Keras gives boxes), an elastic field by solving for the
//! output pixel that samples them, and each resampling pass marks those that left the
//! image as no longer showing its content.

use super::{Displacement, Homography};

/// An image's keypoints: `(x, y)` in pixel corners (the crate's convention: pixel `(r, c)`
/// covers `[c, c + 1) × [r, r + 1)`), and whether each still shows the image's content. A
/// point that leaves the image stays in the list, at its moved place, and turns invisible;
/// it stays invisible even if a later op brings it back over the fill.
///
/// ```
/// use augflow::augment::{Augment, Keypoints, Params, Sample};
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}}]"#)?;
/// let sample = Sample::new(Array3::zeros((4, 10, 3)))
///     .with_keypoints(Keypoints::new(vec![[2.5, 1.0], [12.0, 1.0]])?);
/// let out = aug.transform(&[Params::RandomFlip { flips: true }], sample)?;
/// let k = out.keypoints.unwrap();
/// assert_eq!(k.xy, vec![[7.5, 1.0], [-2.0, 1.0]]);
/// assert_eq!(k.visible, vec![true, false]); // the second started outside the image
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Keypoints {
    /// The points `(x, y)`, pixel corners.
    pub xy: Vec<[f32; 2]>,
    /// Whether each point shows the image's content.
    pub visible: Vec<bool>,
}

impl Keypoints {
    /// Points, all visible until [`Sample::with_keypoints`](crate::augment::Sample::with_keypoints)
    /// checks them against the image; an error naming `keypoints` for a coordinate that is
    /// not finite.
    ///
    /// ```
    /// use augflow::augment::Keypoints;
    /// assert!(Keypoints::new(vec![[1.0, 2.0]]).is_ok());
    /// assert!(Keypoints::new(vec![[f32::NAN, 2.0]]).is_err());
    /// ```
    pub fn new(xy: Vec<[f32; 2]>) -> crate::Result<Keypoints> {
        if let Some((k, p)) = xy
            .iter()
            .enumerate()
            .find(|(_, p)| !p.iter().all(|v| v.is_finite()))
        {
            return Err(crate::Error::invalid(
                "keypoints",
                format!("[{}, {}] (point {k})", p[0], p[1]),
                "finite coordinates (x, y)",
            ));
        }
        let visible = vec![true; xy.len()];
        Ok(Keypoints { xy, visible })
    }

    /// An error naming `keypoints.visible` unless there is one flag per point.
    ///
    /// ```
    /// use augflow::augment::Keypoints;
    /// let mut k = Keypoints::new(vec![[1.0, 2.0]])?;
    /// assert!(k.check().is_ok());
    /// k.visible.push(true);
    /// assert!(k.check().is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn check(&self) -> crate::Result<()> {
        if self.visible.len() == self.xy.len() {
            return Ok(());
        }
        Err(crate::Error::LengthMismatch {
            name: "keypoints.visible".into(),
            got: self.visible.len(),
            other: "keypoints.xy".into(),
            expected: self.xy.len(),
        })
    }

    /// Marks the points outside an `h × w` image invisible.
    pub(crate) fn clip_to(&mut self, [h, w]: [usize; 2]) {
        let (h, w) = (h as f32, w as f32);
        for (p, v) in self.xy.iter().zip(self.visible.iter_mut()) {
            *v &= (0.0..w).contains(&p[0]) && (0.0..h).contains(&p[1]);
        }
    }

    /// Moves the points through an op whose map sends its output pixel to the input point
    /// it samples: each lands on the output point that samples it. A singular map leaves
    /// no point at a definite place: all turn invisible and stay where they were.
    pub(crate) fn follow(&mut self, map: &Homography) {
        let Some(inverse) = map.inverse() else {
            self.visible.iter_mut().for_each(|v| *v = false);
            return;
        };
        for (p, v) in self.xy.iter_mut().zip(self.visible.iter_mut()) {
            let (x, y) = inverse.apply(f64::from(p[0]) - 0.5, f64::from(p[1]) - 0.5);
            if x.is_finite() && y.is_finite() {
                *p = [(x + 0.5) as f32, (y + 0.5) as f32];
            } else {
                *v = false;
            }
        }
    }

    /// Moves the points through an elastic field over an `h × w` output, where output pixel
    /// `q` samples `q + d(q)`: each lands on the output pixel that shows it most (the
    /// largest bilinear weight of the point in `q + d(q)`), searched within the field's
    /// largest displacement because a strong draw folds the field; then within half a
    /// pixel of it, on the `q` with `q + d(q)` nearest to it (`d` interpolated
    /// bilinearly). A point no output pixel shows turns invisible; an invisible point moves
    /// by the field at its place (clamped to the image), as the field's output shows fill
    /// there anyway.
    pub(crate) fn follow_field(&mut self, field: &Displacement, [h, w]: [usize; 2]) {
        if h == 0 || w == 0 {
            return;
        }
        let reach = field.largest().ceil() + 1.0;
        for (pt, visible) in self.xy.iter_mut().zip(self.visible.iter_mut()) {
            let p = [f64::from(pt[0]) - 0.5, f64::from(pt[1]) - 0.5];
            let q = if *visible {
                shown_at(field, p, [h, w], reach)
            } else {
                None
            };
            let q = q.unwrap_or_else(|| {
                *visible = false;
                let d = field.at(p, [h, w]);
                [p[0] - d[0], p[1] - d[1]]
            });
            *pt = [(q[0] + 0.5) as f32, (q[1] + 0.5) as f32];
        }
    }
}

/// Where an elastic field shows point `p` (pixel centres) in its `h × w` output (see
/// [`Keypoints::follow_field`]); `None` when no output pixel within `reach` samples within
/// a pixel of it.
fn shown_at(field: &Displacement, p: [f64; 2], [h, w]: [usize; 2], reach: f64) -> Option<[f64; 2]> {
    let miss = |q: [f64; 2]| {
        let d = field.at(q, [h, w]);
        [q[0] + d[0] - p[0], q[1] + d[1] - p[1]]
    };
    let span = |v: f64, n: usize| {
        let lo = (v - reach).floor().clamp(0.0, (n - 1) as f64) as usize;
        let hi = (v + reach).ceil().clamp(0.0, (n - 1) as f64) as usize;
        lo..=hi
    };
    let mut best = (0.0, None);
    for y in span(p[1], h) {
        for x in span(p[0], w) {
            let q = [x as f64, y as f64];
            let shows = shown(miss(q));
            if shows > best.0 {
                best = (shows, Some(q));
            }
        }
    }
    let grid = best.1?;
    let distance = |q: [f64; 2]| {
        let m = miss(q);
        m[0].hypot(m[1])
    };
    let mut near = (distance(grid), grid);
    for _ in 0..16 {
        let d = field.at(near.1, [h, w]);
        let q = [p[0] - d[0], p[1] - d[1]];
        let within = (q[0] - grid[0]).abs() <= 0.5 && (q[1] - grid[1]).abs() <= 0.5;
        if !(within && distance(q) < near.0) {
            break;
        }
        near = (distance(q), q);
    }
    Some(near.1)
}

/// How much an output pixel whose sample lands `e` from a point shows it: the bilinear
/// weight `(1 - |ex|)(1 - |ey|)`, 0 beyond a pixel.
fn shown(e: [f64; 2]) -> f64 {
    (1.0 - e[0].abs()).max(0.0) * (1.0 - e[1].abs()).max(0.0)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_a_map_and_its_inverse_returns_every_point() {
        let m = Homography::affine([0.8, 0.3, 4.0], [-0.2, 1.1, -2.5]);
        let mut k = Keypoints::new(vec![[3.25, 7.5], [0.0, 0.0], [19.0, 11.0]]).unwrap();
        let before = k.clone();
        k.follow(&m);
        k.follow(&m.inverse().unwrap());
        for (a, b) in k.xy.iter().zip(&before.xy) {
            assert!(
                (a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn a_singular_map_hides_every_point_where_it_was() {
        let mut k = Keypoints::new(vec![[1.0, 1.0]]).unwrap();
        k.follow(&Homography::affine([0.0, 0.0, 1.0], [0.0, 1.0, 0.0]));
        assert_eq!((k.xy, k.visible), (vec![[1.0, 1.0]], vec![false]));
    }

    #[test]
    fn points_that_leave_stay_hidden_when_they_come_back() {
        let mut k = Keypoints::new(vec![[1.5, 1.5]]).unwrap();
        k.follow(&Homography::translation(3.0, 0.0));
        k.clip_to([4, 4]);
        k.follow(&Homography::translation(-3.0, 0.0));
        k.clip_to([4, 4]);
        assert_eq!((k.xy, k.visible), (vec![[1.5, 1.5]], vec![false]));
    }
}
