//! [`Homography`]: the 3×3 projective map from output pixel to source point that every
//! geometric op contributes to, and that a chain of them composes into.

use crate::transform::Affine;

/// A projective map in pixel-centre coordinates (`x` = column, `y` = row, the centre of the
/// top-left pixel at the origin): `(x, y) ↦ ((m00 x + m01 y + m02) / d, (m10 x + m11 y + m12) / d)`
/// with `d = m20 x + m21 y + m22`.
///
/// A geometric op's matrix sends its **output** pixel to the point of its **input** it
/// samples; a chain `op1, op2` samples the source at `M1 · M2 · p`.
///
/// ```
/// use augflow::augment::Homography;
/// let shift = Homography::translation(2.0, 0.0);
/// let flip = Homography::scale_about(-1.0, 1.0, 4.0, 0.0); // x ↦ 3 - x for width 4
/// assert_eq!((shift * flip).apply(0.0, 5.0), (5.0, 5.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [[f64; 3]; 3]);

impl Homography {
    /// The identity.
    pub const IDENTITY: Homography =
        Homography([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    /// The affine map `x_in = a0 x + a1 y + a2`, `y_in = b0 x + b1 y + b2`.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// let m = Homography::affine([1.0, 0.5, 0.0], [0.0, 1.0, 3.0]);
    /// assert_eq!(m.apply(2.0, 2.0), (3.0, 5.0));
    /// ```
    pub fn affine(a: [f64; 3], b: [f64; 3]) -> Homography {
        Homography([a, b, [0.0, 0.0, 1.0]])
    }

    /// Sampling `tx` pixels right and `ty` down of each output pixel.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// assert_eq!(Homography::translation(1.0, -2.0).apply(0.0, 0.0), (1.0, -2.0));
    /// ```
    pub fn translation(tx: f64, ty: f64) -> Homography {
        Homography::affine([1.0, 0.0, tx], [0.0, 1.0, ty])
    }

    /// Scaling by `(sx, sy)` about the centre of a `w × h` image: the centre pixel position
    /// `((w-1)/2, (h-1)/2)` stays put.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// let m = Homography::scale_about(2.0, 1.0, 5.0, 5.0);
    /// assert_eq!(m.apply(2.0, 2.0), (2.0, 2.0));
    /// assert_eq!(m.apply(3.0, 2.0), (4.0, 2.0));
    /// ```
    pub fn scale_about(sx: f64, sy: f64, w: f64, h: f64) -> Homography {
        let (cx, cy) = ((w - 1.0) / 2.0, (h - 1.0) / 2.0);
        Homography::affine([sx, 0.0, cx - sx * cx], [0.0, sy, cy - sy * cy])
    }

    /// The source point of output pixel `(x, y)`, with the projective division.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// let m = Homography([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 1.0]]);
    /// assert_eq!(m.apply(2.0, 4.0), (1.0, 2.0));
    /// ```
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        let u = m[0][0] * x + m[0][1] * y + m[0][2];
        let v = m[1][0] * x + m[1][1] * y + m[1][2];
        if self.is_affine() {
            return (u, v);
        }
        let d = m[2][0] * x + m[2][1] * y + m[2][2];
        (u / d, v / d)
    }

    /// Whether the last row is `[0, 0, 1]` (no projective division).
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// assert!(Homography::translation(1.0, 2.0).is_affine());
    /// assert!(!Homography([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.1, 0.0, 1.0]]).is_affine());
    /// ```
    pub fn is_affine(&self) -> bool {
        self.0[2] == [0.0, 0.0, 1.0]
    }

    /// Whether each source axis depends only on the same output axis (flips, crops,
    /// resizes, translations, zooms): such maps resample with separable, precomputed taps.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// assert!(Homography::scale_about(-1.0, 2.0, 8.0, 8.0).is_axis_aligned());
    /// assert!(!Homography::affine([1.0, 0.2, 0.0], [0.0, 1.0, 0.0]).is_axis_aligned());
    /// ```
    pub fn is_axis_aligned(&self) -> bool {
        self.is_affine() && self.0[0][1] == 0.0 && self.0[1][0] == 0.0
    }

    /// The inverse map (from an op's input point to the output pixel that samples it);
    /// `None` when the determinant is 0 or the inverse is not finite.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// let m = Homography::affine([2.0, 0.0, 1.0], [0.0, 1.0, -3.0]);
    /// let (x, y) = m.apply(5.0, 7.0);
    /// assert_eq!(m.inverse().unwrap().apply(x, y), (5.0, 7.0));
    /// assert!(Homography::affine([0.0, 0.0, 1.0], [0.0, 1.0, 0.0]).inverse().is_none());
    /// // A crop far into a large image is no less invertible.
    /// let far = Homography::translation(-1e5, 3.0).inverse().unwrap();
    /// assert_eq!(far.apply(0.0, 0.0), (1e5, -3.0));
    /// ```
    pub fn inverse(&self) -> Option<Homography> {
        let m = &self.0;
        let minor = |r0: usize, r1: usize, c0: usize, c1: usize| {
            m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
        };
        let adj = [
            [minor(1, 2, 1, 2), -minor(0, 2, 1, 2), minor(0, 1, 1, 2)],
            [-minor(1, 2, 0, 2), minor(0, 2, 0, 2), -minor(0, 1, 0, 2)],
            [minor(1, 2, 0, 1), -minor(0, 2, 0, 1), minor(0, 1, 0, 1)],
        ];
        let det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
        let mut inv = Homography(adj.map(|row| row.map(|v| v / det)));
        if det == 0.0 || !inv.0.iter().flatten().all(|v| v.is_finite()) {
            return None;
        }
        if m[2] == [0.0, 0.0, 1.0] {
            inv.0[2] = [0.0, 0.0, 1.0]; // exactly affine, so `apply` skips the division
        }
        Some(inv)
    }

    /// The local scale `(|∂source/∂x|, |∂source/∂y|)` of the map at output pixel `(x, y)`:
    /// how many source pixels one output pixel spans along each source axis.
    pub(crate) fn footprint(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        let d = m[2][0] * x + m[2][1] * y + m[2][2];
        let (u, v) = self.apply(x, y);
        let row = |r: usize, s: f64| {
            let dx = (m[r][0] - s * m[2][0]) / d;
            let dy = (m[r][1] - s * m[2][1]) / d;
            dx.abs().max(dy.abs())
        };
        (row(0, u), row(1, v))
    }

    /// The homography sending each `from[i]` to `to[i]` (4 points, no 3 collinear), from the
    /// 8 linear equations with `m22 = 1`; `None` when they are degenerate.
    ///
    /// ```
    /// use augflow::augment::Homography;
    /// let from = [[0.0, 0.0], [3.0, 0.0], [0.0, 2.0], [3.0, 2.0]];
    /// let to = [[0.0, 0.0], [4.0, 0.5], [0.0, 2.0], [3.5, 2.5]];
    /// let m = Homography::from_points(from, to).unwrap();
    /// let (x, y) = m.apply(3.0, 2.0);
    /// assert!((x - 3.5).abs() < 1e-9 && (y - 2.5).abs() < 1e-9);
    /// ```
    pub fn from_points(from: [[f64; 2]; 4], to: [[f64; 2]; 4]) -> Option<Homography> {
        let mut a = [[0.0f64; 9]; 8];
        for (i, (p, q)) in from.iter().zip(&to).enumerate() {
            let [x, y] = *p;
            let [u, v] = *q;
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let h = solve8(a)?;
        Some(Homography([
            [h[0], h[1], h[2]],
            [h[3], h[4], h[5]],
            [h[6], h[7], 1.0],
        ]))
    }
}

/// Gaussian elimination with partial pivoting of an 8×8 system given as its augmented rows.
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut h = [0.0; 8];
    for (i, v) in h.iter_mut().enumerate() {
        *v = a[i][8] / a[i][i];
    }
    h.iter().all(|v| v.is_finite()).then_some(h)
}

impl std::ops::Mul for Homography {
    type Output = Homography;
    fn mul(self, b: Homography) -> Homography {
        let mut out = [[0.0; 3]; 3];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..3).map(|k| self.0[i][k] * b.0[k][j]).sum();
            }
        }
        Homography(out)
    }
}

impl From<Affine> for Homography {
    fn from(a: Affine) -> Homography {
        Homography(a.0)
    }
}
