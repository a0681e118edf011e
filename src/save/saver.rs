//! `save_to_dir`: where augmented samples are written and under which names.

use std::path::{Path, PathBuf};

use ndarray::ArrayView3;
use serde::{Deserialize, Serialize};

use super::write::{TempFile, write_image_atomic};
use super::{SaveFormat, array_to_img};
use crate::transform::{DataFormat, Pixel};
use crate::{Error, Result};

/// Keras' `save_to_dir`, `save_prefix`, `save_format` and our additions, before validation.
///
/// Build a [`Saver`] from it with [`SaveOptions::build`], which creates the folder and checks
/// that it is writable.
///
/// ```
/// use augflow::{SaveFormat, SaveOptions};
///
/// let opts = SaveOptions::new("debug/aug").prefix("aug").format(SaveFormat::Jpeg);
/// assert_eq!(opts.save_prefix, "aug");
/// assert!(opts.scale);
/// assert!(!opts.per_class_subfolders);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SaveOptions {
    /// The folder (Keras' `save_to_dir`); created if missing.
    pub save_to_dir: PathBuf,
    /// The start of every file name (Keras' `save_prefix`, default `""`).
    pub save_prefix: String,
    /// The file format (Keras' `save_format`, default png).
    pub save_format: SaveFormat,
    /// Write each sample under `<save_to_dir>/<class label>/` (default false).
    pub per_class_subfolders: bool,
    /// Min–max stretch each image to `0..=255` before saving, as Keras does (default true).
    pub scale: bool,
    /// fsync each file before renaming it into place (default false: a crash may then lose
    /// the last files, but never leaves a half-written one under its final name).
    pub sync: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            save_to_dir: PathBuf::new(),
            save_prefix: String::new(),
            save_format: SaveFormat::Png,
            per_class_subfolders: false,
            scale: true,
            sync: false,
        }
    }
}

impl SaveOptions {
    /// Options for `dir` with Keras' defaults (prefix `""`, png, scaled).
    ///
    /// ```
    /// use augflow::{SaveFormat, SaveOptions};
    /// assert_eq!(SaveOptions::new("out").save_format, SaveFormat::Png);
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SaveOptions {
            save_to_dir: dir.into(),
            ..SaveOptions::default()
        }
    }

    /// Sets the file name prefix (Keras' `save_prefix`).
    ///
    /// ```
    /// use augflow::SaveOptions;
    /// assert_eq!(SaveOptions::new("out").prefix("aug").save_prefix, "aug");
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.save_prefix = prefix.into();
        self
    }

    /// Sets the file format (Keras' `save_format`).
    ///
    /// ```
    /// use augflow::{SaveFormat, SaveOptions};
    /// assert_eq!(SaveOptions::new("out").format(SaveFormat::Bmp).save_format, SaveFormat::Bmp);
    /// ```
    pub fn format(mut self, format: SaveFormat) -> Self {
        self.save_format = format;
        self
    }

    /// Writes each sample into a sub-folder named after its class label.
    ///
    /// ```
    /// use augflow::SaveOptions;
    /// assert!(SaveOptions::new("out").per_class_subfolders(true).per_class_subfolders);
    /// ```
    pub fn per_class_subfolders(mut self, yes: bool) -> Self {
        self.per_class_subfolders = yes;
        self
    }

    /// Whether to min–max stretch images to `0..=255` before saving (Keras: always).
    ///
    /// ```
    /// use augflow::SaveOptions;
    /// assert!(!SaveOptions::new("out").scale(false).scale);
    /// ```
    pub fn scale(mut self, yes: bool) -> Self {
        self.scale = yes;
        self
    }

    /// Whether to fsync each file before renaming it into place.
    ///
    /// ```
    /// use augflow::SaveOptions;
    /// assert!(SaveOptions::new("out").sync(true).sync);
    /// ```
    pub fn sync(mut self, yes: bool) -> Self {
        self.sync = yes;
        self
    }

    /// Validates the options, creates the folder (and its parents) if missing and checks that
    /// a file can be written there.
    ///
    /// Errors: [`Error::InvalidParameter`] for a `save_prefix` holding a path separator or NUL
    /// or an empty `save_to_dir`; [`Error::Io`] naming the folder when it cannot be created or
    /// written.
    ///
    /// ```
    /// use augflow::SaveOptions;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let saver = SaveOptions::new(dir.path().join("new/sub")).prefix("aug").build()?;
    /// assert!(saver.dir().is_dir());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Saver> {
        if self.save_to_dir.as_os_str().is_empty() {
            return Err(Error::invalid(
                "save_to_dir",
                "\"\"",
                "a folder path (use \".\" for the current folder)",
            ));
        }
        if self.save_prefix.contains(['/', '\\', '\0']) {
            return Err(Error::invalid(
                "save_prefix",
                format!("{:?}", self.save_prefix),
                "a file name prefix without '/', '\\' or NUL",
            ));
        }
        let dir = &self.save_to_dir;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if !dir.is_dir() {
            return Err(Error::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
            ));
        }
        // Probe: fail now, naming the folder, rather than at the first batch.
        let (probe, mut file) =
            TempFile::create(&dir.join("augflow-write-probe")).map_err(|e| match e {
                Error::Io { source, .. } => Error::io(dir, source),
                other => other,
            })?;
        std::io::Write::write_all(&mut file, b"probe").map_err(|e| Error::io(dir, e))?;
        drop(file);
        drop(probe);
        Ok(Saver { opts: self })
    }
}

/// Writes augmented samples to a folder (Keras' `save_to_dir`), one file per sample.
///
/// File names are deterministic and unique per `(epoch, sample index)`:
/// `{save_prefix}_e{epoch:03}_i{index:06}.{ext}` (wider numbers are written in full), e.g.
/// `aug_e002_i000017.png`. Keras uses `{save_prefix}_{index}_{random 0..10⁴}.{ext}`, which
/// differs from run to run and overwrites files when two draws collide (keras#8249).
/// With [`SaveOptions::per_class_subfolders`], a sample with a class label goes to
/// `<dir>/<label>/<name>` (the label sanitized, see [`Saver::path_for`]).
///
/// Each file is written atomically (see [`save_image`](super::save_image)). `save` takes
/// `&self` and the `Saver` holds no mutable state, so many threads may save at once.
///
/// ```
/// use augflow::{DataFormat, SaveFormat, Saver};
/// use ndarray::Array3;
///
/// let dir = tempfile::tempdir()?;
/// let saver = Saver::new(dir.path(), "aug", SaveFormat::Png)?;
/// let x = Array3::<f32>::zeros((4, 4, 3));
/// let path = saver.save(x.view(), DataFormat::ChannelsLast, 2, 17, None)?;
/// assert_eq!(path, dir.path().join("aug_e002_i000017.png"));
/// assert!(path.is_file());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saver {
    opts: SaveOptions,
}

impl Saver {
    /// A saver with Keras' other defaults (scaled, no sub-folders); creates `dir` if missing
    /// and checks it is writable (see [`SaveOptions::build`]).
    ///
    /// ```
    /// use augflow::{SaveFormat, Saver};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let file = dir.path().join("a-file");
    /// std::fs::write(&file, b"")?;
    /// // A folder below a regular file cannot be created.
    /// assert!(Saver::new(file.join("sub"), "", SaveFormat::Png).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        dir: impl Into<PathBuf>,
        prefix: impl Into<String>,
        format: SaveFormat,
    ) -> Result<Saver> {
        SaveOptions::new(dir).prefix(prefix).format(format).build()
    }

    /// The options it was built from.
    ///
    /// ```
    /// use augflow::{SaveFormat, Saver};
    /// let dir = tempfile::tempdir()?;
    /// let saver = Saver::new(dir.path(), "p", SaveFormat::Tif)?;
    /// assert_eq!(saver.options().save_format, SaveFormat::Tif);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn options(&self) -> &SaveOptions {
        &self.opts
    }

    /// The folder files are written to.
    ///
    /// ```
    /// use augflow::{SaveFormat, Saver};
    /// let dir = tempfile::tempdir()?;
    /// assert_eq!(Saver::new(dir.path(), "", SaveFormat::Png)?.dir(), dir.path());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(&self) -> &Path {
        &self.opts.save_to_dir
    }

    /// The file name (without folder) of sample `sample_index` in epoch `epoch`.
    ///
    /// ```
    /// use augflow::{SaveFormat, Saver};
    /// let dir = tempfile::tempdir()?;
    /// let saver = Saver::new(dir.path(), "aug", SaveFormat::Jpg)?;
    /// assert_eq!(saver.file_name(1, 5), "aug_e001_i000005.jpg");
    /// assert_eq!(saver.file_name(1234, 1_234_567), "aug_e1234_i1234567.jpg");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_name(&self, epoch: u64, sample_index: usize) -> String {
        format!(
            "{}_e{epoch:03}_i{sample_index:06}.{}",
            self.opts.save_prefix,
            self.opts.save_format.extension()
        )
    }

    /// The full path [`Saver::save`] writes for these arguments.
    ///
    /// With per-class sub-folders and a `class`, the label becomes a folder name: `/`, `\`,
    /// `:` and control characters are replaced by `_`; a label that is empty or only dots
    /// (`.`, `..`) is an [`Error::InvalidParameter`] naming `class`. Without sub-folders, or
    /// with `class = None`, the file goes straight into [`Saver::dir`].
    ///
    /// ```
    /// use augflow::SaveOptions;
    /// let dir = tempfile::tempdir()?;
    /// let saver = SaveOptions::new(dir.path()).prefix("p").per_class_subfolders(true).build()?;
    /// assert_eq!(saver.path_for(0, 3, Some("cat/dog"))?, dir.path().join("cat_dog/p_e000_i000003.png"));
    /// assert!(saver.path_for(0, 3, Some("..")).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path_for(
        &self,
        epoch: u64,
        sample_index: usize,
        class: Option<&str>,
    ) -> Result<PathBuf> {
        let name = self.file_name(epoch, sample_index);
        Ok(match class {
            Some(label) if self.opts.per_class_subfolders => {
                self.dir().join(class_folder(label)?).join(name)
            }
            _ => self.dir().join(name),
        })
    }

    /// Converts `img` with [`array_to_img`] (scaled unless the options say otherwise) and
    /// writes it atomically to [`Saver::path_for`]`(epoch, sample_index, class)`, creating the
    /// class sub-folder if needed. Returns the path written. `img` is only read.
    ///
    /// Safe to call from many threads at once; saving the same `(epoch, index)` twice replaces
    /// the file with a complete new one.
    ///
    /// ```
    /// use augflow::{DataFormat, SaveOptions};
    /// use ndarray::Array3;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let saver = SaveOptions::new(dir.path()).per_class_subfolders(true).build()?;
    /// let x = Array3::<f64>::zeros((1, 8, 8)); // channels-first grey
    /// let p = saver.save(x.view(), DataFormat::ChannelsFirst, 0, 1, Some("cat"))?;
    /// assert_eq!(p, dir.path().join("cat/_e000_i000001.png"));
    /// assert_eq!(image::open(&p)?.to_luma8().dimensions(), (8, 8));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save<P: Pixel>(
        &self,
        img: ArrayView3<'_, P>,
        data_format: DataFormat,
        epoch: u64,
        sample_index: usize,
        class: Option<&str>,
    ) -> Result<PathBuf> {
        let path = self.path_for(epoch, sample_index, class)?;
        let image = array_to_img(img, data_format, self.opts.scale)?;
        if let Some(parent) = path.parent()
            && parent != self.dir()
        {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        write_image_atomic(&image, &path, self.opts.save_format, self.opts.sync)?;
        Ok(path)
    }
}

/// A class label made safe as one folder name inside the save folder.
fn class_folder(label: &str) -> Result<String> {
    let cleaned: String = label
        .chars()
        .map(|ch| match ch {
            '/' | '\\' | ':' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        return Err(Error::invalid(
            "class",
            format!("{label:?}"),
            "a class label usable as a folder name: not empty and not only dots",
        ));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn saver_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Saver>();
    }

    #[test]
    fn class_labels_cannot_escape_the_folder() {
        assert_eq!(class_folder("cat").unwrap(), "cat");
        assert_eq!(class_folder("../etc").unwrap(), ".._etc");
        assert_eq!(class_folder("a\\b/c").unwrap(), "a_b_c");
        assert_eq!(class_folder("C:x").unwrap(), "C_x");
        assert_eq!(class_folder("a\nb").unwrap(), "a_b");
        assert_eq!(class_folder("v1.2").unwrap(), "v1.2");
        for bad in ["", ".", "..", "..."] {
            let err = class_folder(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidParameter { name: "class", .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn sanitized_paths_stay_directly_below_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let saver = SaveOptions::new(dir.path())
            .per_class_subfolders(true)
            .build()
            .unwrap();
        for label in ["../x", "/abs", "a/../../b", "\\\\server\\share", "x/."] {
            let p = saver.path_for(0, 0, Some(label)).unwrap();
            let rel = p.strip_prefix(dir.path()).unwrap();
            assert_eq!(rel.components().count(), 2, "{label:?} -> {p:?}");
            assert!(
                rel.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{label:?} -> {p:?}"
            );
        }
    }

    #[test]
    fn file_names_are_unique_across_epoch_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let saver = Saver::new(dir.path(), "x", SaveFormat::Png).unwrap();
        let mut seen = HashSet::new();
        for epoch in [0u64, 1, 10, 11, 100, 1000, 12345] {
            for index in [0usize, 1, 10, 11, 100, 101, 999_999, 1_000_000, 10_000_001] {
                assert!(
                    seen.insert(saver.file_name(epoch, index)),
                    "{epoch} {index}"
                );
            }
        }
        assert_eq!(saver.file_name(0, 0), "x_e000_i000000.png");
    }

    #[test]
    fn prefix_with_separator_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["a/b", "..\\x", "nul\0"] {
            let err = Saver::new(dir.path(), bad, SaveFormat::Png).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidParameter {
                        name: "save_prefix",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn empty_dir_is_rejected() {
        let err = Saver::new("", "", SaveFormat::Png).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    name: "save_to_dir",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn construction_leaves_the_folder_empty() {
        let dir = tempfile::tempdir().unwrap();
        Saver::new(dir.path(), "", SaveFormat::Png).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn options_round_trip_through_json_with_defaults() {
        let opts: SaveOptions =
            serde_json::from_str(r#"{"save_to_dir": "out", "save_format": "JPG"}"#).unwrap();
        assert_eq!(opts, SaveOptions::new("out").format(SaveFormat::Jpg));
        let json = serde_json::to_string(&opts).unwrap();
        assert!(json.contains("\"jpg\""), "{json}");
        assert_eq!(serde_json::from_str::<SaveOptions>(&json).unwrap(), opts);
    }
}
