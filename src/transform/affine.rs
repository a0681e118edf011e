//! The affine matrix of one augmentation, built exactly as Keras 2.9 builds it (spec §5.2),
//! and the output→input sampling map the warp kernel consumes.

use serde::{Deserialize, Serialize};

use super::TransformParams;

/// How the matrix is centred and which shift range feeds which axis.
///
/// | | `Corrected` (default) | `Keras` (Keras 2.9, bit for bit) |
/// |---|---|---|
/// | pivot of rotation, shear, zoom | true centre `((H-1)/2, (W-1)/2)` | `(row W/2-0.5, col H/2-0.5)`: transposed for `H != W` (spec §5.4) |
/// | `width_shift_range` moves content | horizontally (`tx`, scaled by W) | vertically (`ty`, scaled by W) |
/// | `height_shift_range` moves content | vertically (`ty`, scaled by H) | horizontally (`tx`, scaled by H) |
/// | brightness | plain factor, no quantisation | Keras' 8-bit round trip through PIL (spec §8) |
///
/// Both keep Keras' signs: positive `theta` turns content counter-clockwise on screen,
/// positive `tx`/`ty` move it left/up, `zx`/`zy > 1` zoom out. For square images both
/// geometries build the same matrix.
///
/// ```
/// use augflow::{Geometry, TransformParams, transform::sampling_map};
/// let p = TransformParams { theta: 180.0, ..Default::default() };
/// // 3 rows x 4 columns: Keras turns around (row 1.5, col 1), the true centre is (1, 1.5).
/// let keras = sampling_map(&p, 3, 4, Geometry::Keras).unwrap();
/// let fixed = sampling_map(&p, 3, 4, Geometry::Corrected).unwrap();
/// assert!((keras.offset[0] - 3.0).abs() < 1e-12 && (keras.offset[1] - 2.0).abs() < 1e-12);
/// assert!((fixed.offset[0] - 2.0).abs() < 1e-12 && (fixed.offset[1] - 3.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Geometry {
    /// True image centre; `width_shift_range` shifts horizontally; brightness unquantised.
    #[default]
    Corrected,
    /// Keras 2.9's geometry, quirks included; with [`Kernel::Exact`], Keras' numbers bit for
    /// bit (what the conformance suite checks).
    Keras,
}

/// Which arithmetic resamples bilinear `float32` output: a choice separate from the
/// [`Geometry`], which decides where each pixel samples.
///
/// [`Kernel::Fast`] (the default) computes the same sampling points and taps as scipy, with
/// the weights in `f32` and fused multiply–adds: within about `1e-4` of scipy's values on a
/// 0..255 scale, and several times faster. [`Kernel::Exact`] reproduces scipy's `f64`
/// arithmetic bit for bit; with [`Geometry::Keras`] it gives Keras 2.9's numbers exactly
/// (what the conformance suite checks). Nearest interpolation and `float64` output are
/// always exact.
///
/// ```
/// use augflow::{Geometry, ImageDataGenerator, Kernel};
/// let keras_bits = ImageDataGenerator::builder()
///     .geometry(Geometry::Keras)
///     .kernel(Kernel::Exact)
///     .build()?;
/// assert!(!keras_bits.warp_options().fast);
/// let keras_fast = ImageDataGenerator::builder().geometry(Geometry::Keras).build()?;
/// assert!(keras_fast.warp_options().fast);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `f32` weights with fused multiply–adds (within about `1e-4` of scipy on 0..255).
    #[default]
    Fast,
    /// scipy's `f64` arithmetic, bit for bit.
    Exact,
}

/// A homogeneous 3×3 matrix in `(x = column, y = row)` coordinates.
///
/// Products use the fused multiply–add chain that numpy's BLAS uses on x86-64
/// (spec §5.2), so matrices match Keras to the last bit.
///
/// ```
/// use augflow::transform::Affine;
/// let m = Affine::translation(2.0, 3.0) * Affine::zoom(2.0, 2.0);
/// assert_eq!(m.apply(1.0, 1.0), (4.0, 5.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [[f64; 3]; 3]);

impl Affine {
    /// The identity.
    pub const IDENTITY: Affine = Affine([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    /// Rotation by `theta` degrees: `[[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]]` (spec §5.2).
    pub fn rotation(theta_deg: f64) -> Affine {
        // numpy's deg2rad is x * (pi / 180), as is to_radians.
        let t = theta_deg.to_radians();
        let (s, c) = (t.sin(), t.cos());
        Affine([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    }

    /// Translation by `(tx, ty)`.
    pub fn translation(tx: f64, ty: f64) -> Affine {
        Affine([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])
    }

    /// Keras' shear by `shear` degrees: `[[1, -sin, 0], [0, cos, 0], [0, 0, 1]]`.
    pub fn shear(shear_deg: f64) -> Affine {
        let s = shear_deg.to_radians();
        Affine([[1.0, -s.sin(), 0.0], [0.0, s.cos(), 0.0], [0.0, 0.0, 1.0]])
    }

    /// Scaling by `(zx, zy)`.
    pub fn zoom(zx: f64, zy: f64) -> Affine {
        Affine([[zx, 0.0, 0.0], [0.0, zy, 0.0], [0.0, 0.0, 1.0]])
    }

    /// Applies the matrix to the point `(x, y)`.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        (
            m[0][0] * x + m[0][1] * y + m[0][2],
            m[1][0] * x + m[1][1] * y + m[1][2],
        )
    }

    /// Keras' un-centred matrix `R · T · Sh · Z`, with only the active factors multiplied
    /// in, left to right (spec §5.2). `None` when no factor is active.
    pub fn keras_matrix(p: &TransformParams) -> Option<Affine> {
        let mut m: Option<Affine> = None;
        let mut push = |f: Affine| {
            m = Some(match m {
                None => f,
                Some(acc) => acc * f,
            })
        };
        if p.theta != 0.0 {
            push(Affine::rotation(p.theta));
        }
        if p.tx != 0.0 || p.ty != 0.0 {
            push(Affine::translation(p.tx, p.ty));
        }
        if p.shear != 0.0 {
            push(Affine::shear(p.shear));
        }
        if p.zx != 1.0 || p.zy != 1.0 {
            push(Affine::zoom(p.zx, p.zy));
        }
        m
    }
}

impl std::ops::Mul for Affine {
    type Output = Affine;
    fn mul(self, b: Affine) -> Affine {
        let (a, b) = (&self.0, &b.0);
        let mut out = [[0.0; 3]; 3];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                // spec §5.2: acc = fma(a_i0, b_0j, 0); fma(a_i1, b_1j, acc); fma(a_i2, b_2j, acc)
                let mut acc = a[i][0] * b[0][j];
                acc = a[i][1].mul_add(b[1][j], acc);
                acc = a[i][2].mul_add(b[2][j], acc);
                *v = acc;
            }
        }
        Affine(out)
    }
}

/// Where each output pixel samples the input: `input (row, col) = a · (r, c) + offset`,
/// the `(matrix, offset)` pair scipy's `affine_transform` receives (spec §5.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingMap {
    /// Row-major 2×2 matrix over `(row, col)`.
    pub a: [[f64; 2]; 2],
    /// Input `(row, col)` of output pixel `(0, 0)`.
    pub offset: [f64; 2],
}

/// The sampling map of `params` for an `h × w` image, or `None` when no geometric factor
/// is active (the image is then copied, never resampled — spec §5.2).
///
/// ```
/// use augflow::{Geometry, TransformParams, transform::sampling_map};
/// let p = TransformParams { tx: 1.0, ..Default::default() };
/// let m = sampling_map(&p, 3, 4, Geometry::Keras).unwrap();
/// // tx > 0 samples one column to the right: content moves left (spec §20 G1).
/// assert_eq!(m.offset, [0.0, 1.0]);
/// assert!(sampling_map(&TransformParams::default(), 3, 4, Geometry::Keras).is_none());
/// ```
pub fn sampling_map(
    params: &TransformParams,
    h: usize,
    w: usize,
    geometry: Geometry,
) -> Option<SamplingMap> {
    let m = Affine::keras_matrix(params)?;
    // Pivot in (x, y). Keras pairs H with x (spec §5.4: the transposed centre).
    let (px, py) = match geometry {
        Geometry::Keras => (h as f64 / 2.0 - 0.5, w as f64 / 2.0 - 0.5),
        Geometry::Corrected => ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0),
    };
    let mc = (Affine::translation(px, py) * m) * Affine::translation(-px, -py);
    let c = &mc.0;
    // Axis swap P·Mc·P: the kernel works in (row, col) = (y, x).
    Some(SamplingMap {
        a: [[c[1][1], c[1][0]], [c[0][1], c[0][0]]],
        offset: [c[1][2], c[0][2]],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_order_is_rotation_then_shift_then_shear_then_zoom() {
        let p = TransformParams {
            theta: 30.0,
            tx: 2.0,
            ty: -1.0,
            shear: 10.0,
            zx: 1.2,
            zy: 0.8,
            ..Default::default()
        };
        let m = Affine::keras_matrix(&p).unwrap();
        let expect = Affine::rotation(30.0)
            * Affine::translation(2.0, -1.0)
            * Affine::shear(10.0)
            * Affine::zoom(1.2, 0.8);
        assert_eq!(m, expect);
    }

    #[test]
    fn square_images_have_the_same_map_in_both_geometries() {
        let p = TransformParams {
            theta: 17.0,
            zx: 1.1,
            ..Default::default()
        };
        assert_eq!(
            sampling_map(&p, 64, 64, Geometry::Keras),
            sampling_map(&p, 64, 64, Geometry::Corrected)
        );
    }

    #[test]
    fn corrected_rotation_turns_about_the_true_centre() {
        let p = TransformParams {
            theta: 180.0,
            ..Default::default()
        };
        let m = sampling_map(&p, 3, 4, Geometry::Corrected).unwrap();
        // Output (0, 0) samples input (2, 3), the opposite corner.
        assert!((m.offset[0] - 2.0).abs() < 1e-12);
        assert!((m.offset[1] - 3.0).abs() < 1e-12);
    }
}
