//! Generator settings from flags named like Keras' arguments and from JSON/TOML config files.

use std::path::{Path, PathBuf};

use augflow::{
    DataFormat, FillMode, GeneratorConfig, Geometry, ImageDataGenerator, Kernel, ShiftRange,
    ZoomRange,
};
use clap::Args;
use serde::Serialize;

use super::{CliResult, fail, parse_number, parse_pair};

/// The `ImageDataGenerator` arguments, as flags (Keras' names with dashes).
///
/// A flag given on the command line overrides the same key of `--config`. Every field but
/// `config` is named like its `GeneratorConfig` key and serializes like it: that is how the
/// flags are applied (see [`GenArgs::resolve`]), so a new flag is one new field.
#[derive(Args, Serialize, Debug, Clone, Default)]
#[command(next_help_heading = "Augmentation (Keras' ImageDataGenerator arguments)")]
pub struct GenArgs {
    /// JSON or TOML file with Keras' ImageDataGenerator argument names (flags override it)
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Rotation range in degrees
    #[arg(long, value_name = "DEG", value_parser = parse_number, allow_negative_numbers = true)]
    pub rotation_range: Option<f64>,
    /// Horizontal shift: fraction (<1), pixels (>=1, integer = integer pixels), or a list A,B,…
    #[arg(long, value_name = "R", value_parser = parse_shift, allow_negative_numbers = true)]
    pub width_shift_range: Option<ShiftRange>,
    /// Vertical shift: as --width-shift-range
    #[arg(long, value_name = "R", value_parser = parse_shift, allow_negative_numbers = true)]
    pub height_shift_range: Option<ShiftRange>,
    /// Shear range in degrees
    #[arg(long, value_name = "DEG", value_parser = parse_number, allow_negative_numbers = true)]
    pub shear_range: Option<f64>,
    /// Zoom range: Z for [1-Z, 1+Z], or LO,HI
    #[arg(long, value_name = "Z|LO,HI", value_parser = parse_zoom, allow_negative_numbers = true)]
    pub zoom_range: Option<ZoomRange>,
    /// Channel shift range (in the data's units, e.g. 0..255)
    #[arg(long, value_name = "C", value_parser = parse_number, allow_negative_numbers = true)]
    pub channel_shift_range: Option<f64>,
    /// Brightness factor range LO,HI (1 = unchanged)
    #[arg(long, value_name = "LO,HI", value_parser = parse_pair, allow_negative_numbers = true)]
    pub brightness_range: Option<[f64; 2]>,
    /// Flip left-right with probability 1/2 (`--horizontal-flip=false` turns it off)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub horizontal_flip: Option<bool>,
    /// Flip up-down with probability 1/2
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub vertical_flip: Option<bool>,
    /// How points outside the image are filled: nearest, constant, reflect or wrap
    #[arg(long, value_name = "MODE", value_parser = parse_fill)]
    pub fill_mode: Option<FillMode>,
    /// Fill value for --fill-mode constant
    #[arg(long, value_name = "V", value_parser = parse_number, allow_negative_numbers = true)]
    pub cval: Option<f64>,
    /// Multiply values by this after augmentation (e.g. 1/255)
    #[arg(long, value_name = "F", value_parser = parse_number, allow_negative_numbers = true)]
    pub rescale: Option<f64>,
    /// 0 = nearest, 1 = bilinear
    #[arg(long, value_name = "N")]
    pub interpolation_order: Option<u32>,
    /// corrected (true centre, default) or keras (Keras 2.9's geometry)
    #[arg(long, value_name = "G", value_parser = parse_geometry)]
    pub geometry: Option<Geometry>,
    /// fast (default) or exact (scipy's arithmetic; with --geometry keras, Keras 2.9 bit for bit)
    #[arg(long, value_name = "K", value_parser = parse_kernel)]
    pub kernel: Option<Kernel>,
    /// Subtract each image's mean
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub samplewise_center: Option<bool>,
    /// Divide each image by its std
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub samplewise_std_normalization: Option<bool>,
    /// Subtract the dataset mean (fitted on the inputs)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub featurewise_center: Option<bool>,
    /// Divide by the dataset std (fitted on the inputs)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub featurewise_std_normalization: Option<bool>,
}

fn parse_shift(s: &str) -> Result<ShiftRange, String> {
    let s = s.trim();
    if s.contains(',') {
        return s
            .split(',')
            .map(parse_number)
            .collect::<Result<Vec<_>, _>>()
            .map(ShiftRange::List);
    }
    // Keras tells an int (pixels, integer draws) from a float by its type; here by its spelling.
    if let Ok(n) = s.parse::<i64>() {
        return Ok(ShiftRange::Int(n));
    }
    parse_number(s).map(ShiftRange::Float)
}

fn parse_zoom(s: &str) -> Result<ZoomRange, String> {
    if s.contains(',') {
        parse_pair(s).map(ZoomRange::from)
    } else {
        parse_number(s).map(ZoomRange::Scalar)
    }
}

fn parse_fill(s: &str) -> Result<FillMode, String> {
    s.parse::<FillMode>().map_err(|e| e.to_string())
}

fn parse_kernel(s: &str) -> Result<Kernel, String> {
    match s {
        "fast" => Ok(Kernel::Fast),
        "exact" => Ok(Kernel::Exact),
        _ => Err(format!("expected \"fast\" or \"exact\", got {s:?}")),
    }
}

fn parse_geometry(s: &str) -> Result<Geometry, String> {
    match s {
        "corrected" => Ok(Geometry::Corrected),
        "keras" => Ok(Geometry::Keras),
        _ => Err(format!("expected \"corrected\" or \"keras\", got {s:?}")),
    }
}

/// The augmentation used when neither a config file nor a generator flag is given: the
/// standard workload's augmentation, with Keras' default fill (nearest), as the benchmark.
pub fn default_config() -> GeneratorConfig {
    GeneratorConfig {
        rotation_range: 20.0,
        width_shift_range: ShiftRange::Float(0.1),
        height_shift_range: ShiftRange::Float(0.1),
        shear_range: 10.0,
        zoom_range: ZoomRange::Scalar(0.1),
        horizontal_flip: true,
        fill_mode: FillMode::Nearest,
        ..GeneratorConfig::default()
    }
}

/// Reads a `GeneratorConfig` from a JSON or TOML file (by extension; otherwise by content).
pub fn read_config_file(path: &Path) -> CliResult<GeneratorConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read config file {}: {e}", path.display())),
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let json = match ext.as_deref() {
        Some("json") => true,
        Some("toml") => false,
        _ => text.trim_start().starts_with('{'),
    };
    let parsed = if json {
        serde_json::from_str::<GeneratorConfig>(&text).map_err(|e| {
            let at = format!("line {}, column {}", e.line(), e.column());
            explain(&e.to_string(), &at)
        })
    } else {
        toml::from_str::<GeneratorConfig>(&text).map_err(|e| {
            let at = match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                }
                None => "somewhere".into(),
            };
            explain(e.message(), &at)
        })
    };
    parsed.map_err(|m| super::CliError(format!("bad config file {}: {m}", path.display())))
}

/// Turns a serde message into a short one naming the key, with a suggestion for typos.
fn explain(message: &str, at: &str) -> String {
    let message = message.lines().next().unwrap_or(message);
    // serde: "unknown field `rotation`, expected one of `a`, `b`, … at line 1 column 2"
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        let hint = closest_key(key)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_else(|| "; keys are Keras' ImageDataGenerator argument names".into());
        return format!("unknown key `{key}` ({at}){hint}");
    }
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .trim_end_matches('.');
    format!("{message} ({at})")
}

/// The config key closest to `key` (edit distance), when it is close enough to be a typo.
fn closest_key(key: &str) -> Option<String> {
    let keys = serde_json::to_value(GeneratorConfig::default()).ok()?;
    let keys = keys.as_object()?;
    let key_l = key.to_ascii_lowercase().replace('-', "_");
    keys.keys()
        .map(|k| (edit_distance(&key_l, k), k))
        .filter(|(d, k)| *d <= 3 || k.starts_with(&key_l))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Where the settings came from, for the summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No config and no flag: [`default_config`].
    Defaults,
    /// Keras' defaults plus the flags.
    Flags,
    /// The file, plus the flags that override it.
    File(PathBuf),
}

impl GenArgs {
    /// The generator flags that were given (not `--config`), as `GeneratorConfig` keys and
    /// values: each flag is declared once, in the struct, and read here through serde. (TOML
    /// values, unlike JSON, keep a NaN, which `ImageDataGenerator::new` then refuses by name.)
    fn overrides(&self) -> CliResult<toml::Table> {
        toml::Table::try_from(self)
            .map_err(|e| super::CliError(format!("internal: flags as a table: {e}")))
    }

    /// The configuration these arguments describe: the file (or the defaults), then the flags.
    pub fn resolve(&self) -> CliResult<(GeneratorConfig, Origin)> {
        let flags = self.overrides()?;
        let (base, origin) = match &self.config {
            Some(p) => (read_config_file(p)?, Origin::File(p.clone())),
            None if !flags.is_empty() => (GeneratorConfig::default(), Origin::Flags),
            None => (default_config(), Origin::Defaults),
        };
        let mut merged = toml::Table::try_from(&base)
            .map_err(|e| super::CliError(format!("internal: config as a table: {e}")))?;
        merged.extend(flags);
        let c: GeneratorConfig = merged
            .try_into()
            .map_err(|e| super::CliError(format!("internal: flags over the config: {e}")))?;
        if c.data_format != DataFormat::ChannelsLast {
            return fail(format!(
                "data_format {:?} is not supported by the command line, which reads images as (N, H, W, C); use \"channels_last\"",
                c.data_format.to_string()
            ));
        }
        Ok((c, origin))
    }
}

/// Whether `c` draws any random transform (geometry, flips, channel shift, brightness).
pub fn augments(c: &GeneratorConfig) -> bool {
    c.rotation_range != 0.0
        || !c.width_shift_range.is_off()
        || !c.height_shift_range.is_off()
        || c.shear_range != 0.0
        || !c.zoom_range.is_off()
        || c.horizontal_flip
        || c.vertical_flip
        || c.channel_shift_range != 0.0
        || c.brightness_range.is_some()
}

/// Builds the generator (validating every value; errors name the Keras parameter).
pub fn build_generator(c: &GeneratorConfig) -> CliResult<ImageDataGenerator> {
    Ok(ImageDataGenerator::new(c.clone())?)
}

/// `key=value` for every setting that differs from Keras' defaults, e.g.
/// `rotation_range=20 horizontal_flip=true fill_mode="reflect"`.
pub fn describe(c: &GeneratorConfig) -> String {
    let (Ok(serde_json::Value::Object(v)), Ok(serde_json::Value::Object(d))) = (
        serde_json::to_value(c),
        serde_json::to_value(GeneratorConfig::default()),
    ) else {
        return format!("{c:?}");
    };
    let parts: Vec<String> = v
        .iter()
        .filter(|(k, val)| d.get(*k) != Some(val))
        .map(|(k, val)| format!("{k}={val}"))
        .collect();
    if parts.is_empty() {
        "none (Keras' defaults: no augmentation)".into()
    } else {
        parts.join(" ")
    }
}

/// One line saying which augmentation is used and where it came from.
pub fn summary(c: &GeneratorConfig, origin: &Origin) -> String {
    let from = match origin {
        Origin::Defaults => {
            "the default preview augmentation; set flags or --config to change it".to_string()
        }
        Origin::Flags => {
            "flags over Keras' defaults: an argument not given is off, as in Keras".to_string()
        }
        Origin::File(p) => format!("{} and flags", p.display()),
    };
    let line = format!("augmentation ({from}): {}", describe(c));
    if augments(c) {
        line
    } else {
        format!(
            "{line}\nnote: no augmentation is active: every image comes out as it went in{}. Add flags such as --rotation-range 20 --horizontal-flip, or give no generator flag for the default augmentation",
            match origin {
                Origin::Flags =>
                    " (once a generator flag is given, the default augmentation is off)",
                _ => "",
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_spellings_follow_keras_types() {
        assert_eq!(parse_shift("3").unwrap(), ShiftRange::Int(3));
        assert_eq!(parse_shift("0.1").unwrap(), ShiftRange::Float(0.1));
        assert_eq!(parse_shift("3.0").unwrap(), ShiftRange::Float(3.0));
        assert_eq!(
            parse_shift("2,4").unwrap(),
            ShiftRange::List(vec![2.0, 4.0])
        );
        assert!(parse_shift("x").is_err());
    }

    #[test]
    fn zoom_is_scalar_or_pair() {
        assert_eq!(parse_zoom("0.1").unwrap(), ZoomRange::Scalar(0.1));
        assert_eq!(parse_zoom("0.8,1.2").unwrap(), ZoomRange::Pair(0.8, 1.2));
    }

    #[test]
    fn no_flags_give_the_default_preset_and_flags_start_from_keras() {
        let (c, o) = GenArgs::default().resolve().unwrap();
        assert_eq!((c, o), (default_config(), Origin::Defaults));
        let args = GenArgs {
            vertical_flip: Some(true),
            ..Default::default()
        };
        let (c, o) = args.resolve().unwrap();
        assert_eq!(o, Origin::Flags);
        assert!(c.vertical_flip && c.rotation_range == 0.0);
    }

    #[test]
    fn every_flag_reaches_its_config_key() {
        let args = GenArgs {
            config: None,
            rotation_range: Some(7.0),
            width_shift_range: Some(ShiftRange::Int(2)),
            height_shift_range: Some(ShiftRange::List(vec![1.0, 3.0])),
            shear_range: Some(3.0),
            zoom_range: Some(ZoomRange::Pair(0.8, 1.2)),
            channel_shift_range: Some(5.0),
            brightness_range: Some([0.5, 1.5]),
            horizontal_flip: Some(false),
            vertical_flip: Some(true),
            fill_mode: Some(FillMode::Wrap),
            cval: Some(9.0),
            rescale: Some(0.5),
            interpolation_order: Some(0),
            geometry: Some(Geometry::Keras),
            kernel: Some(Kernel::Exact),
            samplewise_center: Some(true),
            samplewise_std_normalization: Some(true),
            featurewise_center: Some(true),
            featurewise_std_normalization: Some(true),
        };
        let (c, o) = args.resolve().unwrap();
        assert_eq!(o, Origin::Flags);
        let expected = GeneratorConfig {
            rotation_range: 7.0,
            width_shift_range: ShiftRange::Int(2),
            height_shift_range: ShiftRange::List(vec![1.0, 3.0]),
            shear_range: 3.0,
            zoom_range: ZoomRange::Pair(0.8, 1.2),
            channel_shift_range: 5.0,
            brightness_range: Some([0.5, 1.5]),
            horizontal_flip: false,
            vertical_flip: true,
            fill_mode: FillMode::Wrap,
            cval: 9.0,
            rescale: Some(0.5),
            interpolation_order: 0,
            geometry: Geometry::Keras,
            kernel: Kernel::Exact,
            samplewise_center: true,
            samplewise_std_normalization: true,
            featurewise_center: true,
            featurewise_std_normalization: true,
            ..GeneratorConfig::default()
        };
        assert_eq!(c, expected);
    }

    #[test]
    fn flags_that_augment_nothing_say_so_plainly() {
        let args = GenArgs {
            rescale: Some(1.0 / 255.0),
            ..Default::default()
        };
        let (c, o) = args.resolve().unwrap();
        let s = summary(&c, &o);
        assert!(s.contains("no augmentation is active"), "{s}");
        assert!(s.contains("the default augmentation is off"), "{s}");
        let args = GenArgs {
            rotation_range: Some(10.0),
            ..Default::default()
        };
        let (c, o) = args.resolve().unwrap();
        assert!(!summary(&c, &o).contains("no augmentation"));
        assert!(!summary(&default_config(), &Origin::Defaults).contains("no augmentation"));
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "rotation_range = 30\nfill_mode = \"wrap\"\n").unwrap();
        let args = GenArgs {
            config: Some(p),
            rotation_range: Some(5.0),
            ..Default::default()
        };
        let (c, _) = args.resolve().unwrap();
        assert_eq!(c.rotation_range, 5.0);
        assert_eq!(c.fill_mode, FillMode::Wrap);
    }

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        let m = explain(
            "unknown field `rotation`, expected one of `a`, `b` at line 1 column 12",
            "line 1, column 12",
        );
        assert_eq!(
            m,
            "unknown key `rotation` (line 1, column 12); did you mean `rotation_range`?"
        );
        assert!(explain("unknown field `zzzzzzzzzzzzzzz`, expected", "x").contains("Keras'"));
    }

    #[test]
    fn describe_lists_only_changed_settings() {
        let d = describe(&default_config());
        assert!(d.contains("rotation_range=20.0"), "{d}");
        assert!(!d.contains("fill_mode"), "{d}"); // nearest, as Keras
        assert!(!d.contains("cval"), "{d}");
    }
}
