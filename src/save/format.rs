//! The image file formats `save_to_dir` may write: Keras' white list.

use serde::{Deserialize, Deserializer, Serialize};

/// An image file format for `save_to_dir` / [`save_image`](crate::save::save_image): exactly
/// Keras' white list `png, jpg, jpeg, bmp, ppm, tif, tiff`.
///
/// Parsing is case-insensitive; the name is also the file extension, so `Jpg` and `Jpeg` (and
/// `Tif` and `Tiff`) write the same bytes under different extensions. Serialized as the
/// lowercase name.
///
/// ```
/// use augflow::SaveFormat;
///
/// let f: SaveFormat = "JPEG".parse().unwrap();
/// assert_eq!(f, SaveFormat::Jpeg);
/// assert_eq!(f.extension(), "jpeg");
/// assert_eq!(SaveFormat::default(), SaveFormat::Png);
/// assert!("gif".parse::<SaveFormat>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SaveFormat {
    /// PNG, lossless (Keras' default).
    #[default]
    Png,
    /// JPEG (quality 75, as Pillow's default), extension `.jpg`. Lossy, no alpha.
    Jpg,
    /// JPEG (quality 75), extension `.jpeg`. Lossy, no alpha.
    Jpeg,
    /// Windows bitmap, lossless, 8 bits per channel.
    Bmp,
    /// Netpbm: PPM (P6) for RGB, PGM (P5) for grey. No alpha.
    Ppm,
    /// TIFF, lossless, extension `.tif`.
    Tif,
    /// TIFF, lossless, extension `.tiff`.
    Tiff,
}

/// The accepted names, for error messages.
const ACCEPTED: &str =
    "one of \"png\", \"jpg\", \"jpeg\", \"bmp\", \"ppm\", \"tif\", \"tiff\" (any case)";

impl SaveFormat {
    /// All seven formats, in Keras' order.
    ///
    /// ```
    /// use augflow::SaveFormat;
    /// assert_eq!(SaveFormat::ALL.len(), 7);
    /// ```
    pub const ALL: [SaveFormat; 7] = [
        SaveFormat::Png,
        SaveFormat::Jpg,
        SaveFormat::Jpeg,
        SaveFormat::Bmp,
        SaveFormat::Ppm,
        SaveFormat::Tif,
        SaveFormat::Tiff,
    ];

    /// The file extension (without the dot), which is also the lowercase name.
    ///
    /// ```
    /// use augflow::SaveFormat;
    /// assert_eq!(SaveFormat::Tif.extension(), "tif");
    /// ```
    pub fn extension(self) -> &'static str {
        match self {
            SaveFormat::Png => "png",
            SaveFormat::Jpg => "jpg",
            SaveFormat::Jpeg => "jpeg",
            SaveFormat::Bmp => "bmp",
            SaveFormat::Ppm => "ppm",
            SaveFormat::Tif => "tif",
            SaveFormat::Tiff => "tiff",
        }
    }

    /// The `image` crate's format that encodes it.
    ///
    /// ```
    /// use augflow::SaveFormat;
    /// assert_eq!(SaveFormat::Jpg.image_format(), image::ImageFormat::Jpeg);
    /// ```
    pub fn image_format(self) -> image::ImageFormat {
        match self {
            SaveFormat::Png => image::ImageFormat::Png,
            SaveFormat::Jpg | SaveFormat::Jpeg => image::ImageFormat::Jpeg,
            SaveFormat::Bmp => image::ImageFormat::Bmp,
            SaveFormat::Ppm => image::ImageFormat::Pnm,
            SaveFormat::Tif | SaveFormat::Tiff => image::ImageFormat::Tiff,
        }
    }

    /// Whether the format stores an alpha channel (RGBA images are converted to RGB otherwise).
    ///
    /// ```
    /// use augflow::SaveFormat;
    /// assert!(SaveFormat::Png.has_alpha());
    /// assert!(!SaveFormat::Jpeg.has_alpha());
    /// ```
    pub fn has_alpha(self) -> bool {
        matches!(
            self,
            SaveFormat::Png | SaveFormat::Bmp | SaveFormat::Tif | SaveFormat::Tiff
        )
    }

    /// Whether the format stores 16-bit grey (other formats get a saturating 8-bit copy).
    ///
    /// ```
    /// use augflow::SaveFormat;
    /// assert!(SaveFormat::Png.has_grey16());
    /// assert!(!SaveFormat::Bmp.has_grey16());
    /// ```
    pub fn has_grey16(self) -> bool {
        matches!(
            self,
            SaveFormat::Png | SaveFormat::Ppm | SaveFormat::Tif | SaveFormat::Tiff
        )
    }
}

impl std::str::FromStr for SaveFormat {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        SaveFormat::ALL
            .into_iter()
            .find(|f| f.extension().eq_ignore_ascii_case(s))
            .ok_or_else(|| crate::Error::invalid("save_format", format!("{s:?}"), ACCEPTED))
    }
}

impl std::fmt::Display for SaveFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

impl<'de> Deserialize<'de> for SaveFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn parses_every_keras_name_in_any_case() {
        for f in SaveFormat::ALL {
            assert_eq!(f.extension().parse::<SaveFormat>().unwrap(), f);
            assert_eq!(
                f.extension().to_uppercase().parse::<SaveFormat>().unwrap(),
                f
            );
        }
        assert_eq!("TiF".parse::<SaveFormat>().unwrap(), SaveFormat::Tif);
    }

    #[test]
    fn unknown_format_error_names_parameter_and_lists_all_seven() {
        for bad in ["gif", "webp", "", ".png", "png ", "pgm"] {
            let err = bad.parse::<SaveFormat>().unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidParameter {
                        name: "save_format",
                        ..
                    }
                ),
                "{err:?}"
            );
            let msg = err.to_string();
            for f in SaveFormat::ALL {
                assert!(msg.contains(&format!("\"{}\"", f.extension())), "{msg}");
            }
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
        }
    }

    #[test]
    fn serde_uses_lowercase_names_and_accepts_any_case() {
        assert_eq!(
            serde_json::to_string(&SaveFormat::Jpeg).unwrap(),
            "\"jpeg\""
        );
        assert_eq!(
            serde_json::from_str::<SaveFormat>("\"TIFF\"").unwrap(),
            SaveFormat::Tiff
        );
        for f in SaveFormat::ALL {
            let s = serde_json::to_string(&f).unwrap();
            assert_eq!(s, format!("\"{}\"", f.extension()));
            assert_eq!(serde_json::from_str::<SaveFormat>(&s).unwrap(), f);
        }
        let err = serde_json::from_str::<SaveFormat>("\"gif\"").unwrap_err();
        assert!(err.to_string().contains("\"tiff\""), "{err}");
    }

    #[test]
    fn display_is_the_extension() {
        assert_eq!(SaveFormat::Ppm.to_string(), "ppm");
    }
}
