//! RGB ↔ HSV exactly as Keras 3's `keras.ops.image.rgb_to_hsv` / `hsv_to_rgb`, in float32.

/// `(h, s, v)` of one pixel, on the values as given (no scaling); hue in `[0, 1)`.
///
/// Keras' arithmetic: values below `f32::EPSILON` in magnitude become 0, `hue` uses
/// `1 / (6 · range)` as a multiplier, red wins ties, then green.
///
/// ```
/// use augflow::augment::rgb_to_hsv;
/// assert_eq!(rgb_to_hsv([1.0, 0.0, 0.0]), [0.0, 1.0, 1.0]);
/// let [h, s, v] = rgb_to_hsv([0.0, 0.5, 0.5]);
/// assert!((h - 0.5).abs() < 1e-6 && s == 1.0 && v == 0.5);
/// ```
pub fn rgb_to_hsv(rgb: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(|x| if x.abs() < f32::EPSILON { 0.0 } else { x });
    let value = r.max(g).max(b);
    let minimum = r.min(g).min(b);
    let range = value - minimum;
    let safe_value = if value > 0.0 { value } else { 1.0 };
    let safe_range = if range > 0.0 { range } else { 1.0 };
    let saturation = if value > 0.0 { range / safe_value } else { 0.0 };
    let norm = 1.0 / (6.0 * safe_range);
    let mut hue = if value == g {
        norm * (b - r) + 2.0 / 6.0
    } else {
        norm * (r - g) + 4.0 / 6.0
    };
    if value == r {
        hue = norm * (g - b);
    }
    let wrap = if hue < 0.0 { 1.0 } else { 0.0 };
    let hue = if range > 0.0 { hue } else { 0.0 } + wrap;
    [hue, saturation, value]
}

/// RGB of one `(h, s, v)` pixel (Keras' formula, hue taken modulo 1).
///
/// ```
/// use augflow::augment::{hsv_to_rgb, rgb_to_hsv};
/// let rgb = [0.2f32, 0.7, 0.4];
/// let back = hsv_to_rgb(rgb_to_hsv(rgb));
/// assert!(rgb.iter().zip(back).all(|(a, b)| (a - b).abs() < 1e-6));
/// ```
pub fn hsv_to_rgb([h, s, v]: [f32; 3]) -> [f32; 3] {
    let dh = h.rem_euclid(1.0) * 6.0;
    let dr = ((dh - 3.0).abs() - 1.0).clamp(0.0, 1.0);
    let dg = (2.0 - (dh - 2.0).abs()).clamp(0.0, 1.0);
    let db = (2.0 - (dh - 4.0).abs()).clamp(0.0, 1.0);
    let one_minus_s = 1.0 - s;
    [
        v * (one_minus_s + s * dr),
        v * (one_minus_s + s * dg),
        v * (one_minus_s + s * db),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_and_secondary_hues_are_sixths() {
        assert_eq!(rgb_to_hsv([0.0, 1.0, 0.0])[0], 2.0 / 6.0);
        assert_eq!(rgb_to_hsv([0.0, 0.0, 1.0])[0], 4.0 / 6.0);
        let magenta = rgb_to_hsv([1.0, 0.0, 1.0])[0];
        assert!((magenta - 5.0 / 6.0).abs() < 1e-6);
    }

    #[test]
    fn gray_has_zero_hue_and_saturation() {
        assert_eq!(rgb_to_hsv([0.3, 0.3, 0.3]), [0.0, 0.0, 0.3]);
        assert_eq!(rgb_to_hsv([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0]);
    }
}
