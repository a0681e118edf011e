//! The drawn parameters of one op for one image, under Keras 3's transformation keys.

use serde::{Deserialize, Serialize};

use super::augmix::ChainStep;
use super::geometry::ElasticNoise;

/// What [`RandomErasing`](super::RandomErasing) writes into the erased rectangle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasingFill {
    /// One value per channel (a constant fill is repeated).
    Constant(Vec<f32>),
    /// Gaussian noise `N(0, 1) · hi`, clipped, drawn from a stream seeded by this number.
    Noise(u64),
}

/// The explicit transformation of one op for one image: what `draw` returns and `apply` takes.
///
/// Serialized with the op's Keras class name and Keras' transformation keys, one value per
/// image, e.g. `{"class_name": "RandomContrast", "contrast_factor": 1.2}`.
///
/// ```
/// use augflow::augment::Params;
/// let p = Params::RandomContrast { contrast_factor: 1.25 };
/// let json = serde_json::to_string(&p).unwrap();
/// assert_eq!(json, r#"{"class_name":"RandomContrast","contrast_factor":1.25}"#);
/// assert_eq!(serde_json::from_str::<Params>(&json).unwrap(), p);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", deny_unknown_fields)]
pub enum Params {
    /// The value added, in value units.
    RandomBrightness {
        /// `U(factor) · (hi - lo)`.
        rgb_delta: f32,
    },
    /// The contrast multiplier.
    RandomContrast {
        /// `c` in `(x - mean) · c + mean`.
        contrast_factor: f32,
    },
    /// The saturation multiplier.
    RandomSaturation {
        /// `k` in `S' = S · k`.
        factor: f32,
    },
    /// The hue shift, in turns.
    RandomHue {
        /// `dh` in `[-0.5, 0.5]`.
        factor: f32,
    },
    /// The sub-layers' transformations (Keras nests them under these keys); `None` when the
    /// sub-layer is not configured.
    RandomColorJitter {
        /// [`Params::RandomBrightness`]'s `rgb_delta`.
        random_brightness: Option<f32>,
        /// [`Params::RandomContrast`]'s `contrast_factor`.
        random_contrast: Option<f32>,
        /// [`Params::RandomSaturation`]'s `factor`.
        random_saturation: Option<f32>,
        /// [`Params::RandomHue`]'s `factor`.
        random_hue: Option<f32>,
    },
    /// Whether the image turns gray.
    RandomGrayscale {
        /// The flag.
        should_apply: bool,
    },
    /// The blend factor towards gray.
    RandomColorDegeneration {
        /// `f` in `x + f · (gray - x)`.
        factor: f32,
    },
    /// The sharpness draw.
    RandomSharpness {
        /// `u`: `x + (1 - 2u) · (blur - x)`.
        factor: f32,
    },
    /// Whether the image is inverted.
    RandomInvert {
        /// The flag.
        apply_inversion: bool,
    },
    /// The bits dropped.
    RandomPosterization {
        /// `8 - bits`.
        shift_factor: u8,
    },
    /// Addition and threshold, on the 0..255 scale.
    Solarization {
        /// Added before the threshold.
        additions: f32,
        /// Values at or above are inverted.
        thresholds: f32,
    },
    /// No random part.
    AutoContrast,
    /// No random part.
    Equalization,
    /// Whether to blur, and the sigmas.
    RandomGaussianBlur {
        /// The flag.
        should_apply_blur: bool,
        /// `[sigma along width, sigma along height]`.
        blur_factor: [f32; 2],
    },
    /// The erased rectangle `rows[0]..rows[1]` × `cols[0]..cols[1]` and its fill (Keras stores
    /// the full mask and fill arrays; the rectangle and fill rule are equivalent).
    RandomErasing {
        /// The flag.
        apply_erasing: bool,
        /// First and past-the-end row.
        rows: [usize; 2],
        /// First and past-the-end column.
        cols: [usize; 2],
        /// What is written.
        fill_value: ErasingFill,
    },
    /// No random part.
    Rescaling,
    /// No random part.
    Normalization,
    /// Whether the image is mirrored (on the axes of the op's mode).
    RandomFlip {
        /// The flag.
        flips: bool,
    },
    /// The shift of the content, in pixels.
    RandomTranslation {
        /// `[tx, ty]`: right and down.
        translations: [f32; 2],
    },
    /// The turn of the content.
    RandomRotation {
        /// Degrees, counter-clockwise on screen.
        angle: f32,
    },
    /// The zoom factors (above 1 zooms out).
    RandomZoom {
        /// Along the height.
        height_zoom: f32,
        /// Along the width.
        width_zoom: f32,
    },
    /// The shear factors.
    RandomShear {
        /// `[sx, sy]`: `x_in = x + sx·y`, `y_in = sy·x + y`.
        shear_factor: [f32; 2],
    },
    /// Whether to warp, and the corners `(x, y)`: top-left, top-right, bottom-left,
    /// bottom-right; the content at `start_points` moves to `end_points`.
    RandomPerspective {
        /// The flag.
        apply_perspective: bool,
        /// The image corners.
        start_points: [[f32; 2]; 4],
        /// Where they go.
        end_points: [[f32; 2]; 4],
    },
    /// The window's first row and column (Keras' `[h_start, w_start]` pair).
    RandomCrop {
        /// First row.
        h_start: usize,
        /// First column.
        w_start: usize,
    },
    /// No random part.
    CenterCrop,
    /// No random part.
    Resizing,
    /// The chosen ops (indices into RandAugment's eleven) and their parameters, in order.
    RandAugment {
        /// The op indices.
        layer_idxes: Vec<u8>,
        /// One op's parameters per index.
        transforms: Vec<Params>,
    },
    /// torchvision's drawn op and its signed magnitude (its bin's value).
    TrivialAugmentWide {
        /// One of torchvision's fourteen op names, e.g. `ShearX`.
        op_name: String,
        /// The magnitude: shear factor, pixels, degrees, enhance delta, bits or threshold.
        magnitude: f32,
    },
    /// AugMix's chains and weights (Keras' keys).
    AugMix {
        /// `Dirichlet(alpha)`: one weight per chain.
        chain_mixing_weights: Vec<f32>,
        /// `Beta(alpha, alpha)`: the weight of the original image.
        weight_sample: f32,
        /// Each chain's steps, in order.
        chain_transforms: Vec<Vec<ChainStep>>,
    },
    /// Whether to displace, the strength `s` and the noise behind the displacement field.
    RandomElasticTransform {
        /// The flag.
        apply_transform: bool,
        /// `s`: `alpha = max(H, W)·0.1·s`, `sigma = min(H, W)·0.05·s`.
        distortion_factor: f32,
        /// The standard normal fields (a seed, or the fields themselves).
        noise: ElasticNoise,
    },
    /// torchvision's `(i, j, h, w)`: the window resized to the output size.
    RandomResizedCrop {
        /// First row.
        top: usize,
        /// First column.
        left: usize,
        /// Rows of the window.
        height: usize,
        /// Columns of the window.
        width: usize,
    },
}
