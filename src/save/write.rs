//! Atomic image writes: encode into a hidden temporary file in the target folder, then rename.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::DynamicImage;
use ndarray::ArrayView3;

use super::{SaveFormat, array_to_img};
use crate::transform::{DataFormat, Pixel};
use crate::{Error, Result};

/// Converts one image array with [`array_to_img`] and writes it to `path` atomically.
///
/// The image is encoded as `format` (whatever `path`'s extension) into a temporary file
/// `.<file name>.<pid>.<n>.tmp` in the same folder, which is then renamed onto `path`. Readers
/// see either the previous file or the complete new one, never a half-written image; on any
/// error the temporary file is removed and `path` is left as it was. The folder must exist.
///
/// Conversions for formats that cannot hold the image: RGBA is converted to RGB for JPEG and
/// PPM (dropping alpha, as Keras' `save_img` does for JPEG); 16-bit grey (see
/// [`array_to_img`]) is saturated to 8 bits for JPEG and BMP. `img` is only read.
///
/// Errors name `path`: [`Error::Io`] for the file system, [`Error::Image`] for the encoder,
/// plus the errors of [`array_to_img`].
///
/// ```
/// use augflow::{DataFormat, SaveFormat, save::save_image};
/// use ndarray::Array3;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.png");
/// let x = Array3::<f32>::from_shape_fn((2, 3, 3), |(r, c, ch)| (r + c + ch) as f32);
/// save_image(x.view(), DataFormat::ChannelsLast, &path, SaveFormat::Png, true)?;
/// assert_eq!(image::open(&path)?.to_rgb8().dimensions(), (3, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_image<P: Pixel>(
    img: ArrayView3<'_, P>,
    data_format: DataFormat,
    path: &Path,
    format: SaveFormat,
    scale: bool,
) -> Result<()> {
    let img = array_to_img(img, data_format, scale)?;
    write_image_atomic(&img, path, format, false)
}

/// Writes `bytes` to `path` atomically: into a hidden temporary file `.<file name>.<pid>.<n>.tmp`
/// in the same folder, flushed to disk, then renamed onto `path`.
///
/// A reader (or a run resumed after a crash) sees either the previous file or the complete
/// new one, never a half-written file; on any error the temporary file is removed and `path`
/// is left as it was. The folder must exist. Errors: [`Error::Io`] naming `path`.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("progress.json");
/// augflow::save::write_atomic(&path, b"{\"done\": 1}")?;
/// augflow::save::write_atomic(&path, b"{\"done\": 2}")?;
/// assert_eq!(std::fs::read(&path)?, b"{\"done\": 2}");
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1); // no temporary file left
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let (tmp, mut file) = TempFile::create(path)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))?;
    drop(file);
    tmp.persist(path)
}

/// Makes `img` encodable as `format` with the documented conversions (see [`save_image`]).
fn compatible(img: &DynamicImage, format: SaveFormat) -> Option<DynamicImage> {
    match img {
        DynamicImage::ImageRgba8(_) if !format.has_alpha() => {
            if matches!(format, SaveFormat::Jpg | SaveFormat::Jpeg) {
                log::warn!(
                    "The JPG format does not support RGBA images, converting to RGB (as Keras' save_img)."
                );
            }
            Some(DynamicImage::ImageRgb8(img.to_rgb8()))
        }
        DynamicImage::ImageLuma16(b) if !format.has_grey16() => {
            // `to_luma8` would rescale by 1/257; values here are pixel values, so saturate.
            let data = b.iter().map(|&p| p.min(255) as u8).collect();
            image::ImageBuffer::from_raw(b.width(), b.height(), data).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

/// Writes `img` to `path` through a temporary file and a rename; `sync` adds an fsync of the
/// data before the rename (durability across power loss, at a cost).
pub(crate) fn write_image_atomic(
    img: &DynamicImage,
    path: &Path,
    format: SaveFormat,
    sync: bool,
) -> Result<()> {
    let converted = compatible(img, format);
    let img = converted.as_ref().unwrap_or(img);
    let (tmp, file) = TempFile::create(path)?;
    let mut w = BufWriter::new(file);
    img.write_to(&mut w, format.image_format())
        .map_err(|source| Error::Image {
            path: path.to_path_buf(),
            source,
        })?;
    let file = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    if sync {
        file.sync_all().map_err(|e| Error::io(path, e))?;
    }
    drop(file);
    tmp.persist(path)
}

/// Distinguishes temporary files of one process (several threads may save the same name).
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A hidden temporary file in a given folder, removed on drop unless persisted.
pub(crate) struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    /// Creates `.<stem>.<pid>.<n>.tmp` next to `target` (a new file, never an existing one).
    pub(crate) fn create(target: &Path) -> Result<(TempFile, File)> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let stem = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pid = std::process::id();
        let mut attempts = 0;
        loop {
            let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!(".{stem}.{pid}.{n}.tmp"));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => return Ok((TempFile { path: Some(tmp) }, f)),
                // A leftover of an earlier process with the same pid: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 16 => {
                    attempts += 1;
                }
                Err(e) => return Err(Error::io(target, e)),
            }
        }
    }

    /// Renames the file onto `target` (atomic within one folder).
    pub(crate) fn persist(mut self, target: &Path) -> Result<()> {
        let Some(tmp) = self.path.take() else {
            return Ok(());
        };
        std::fs::rename(&tmp, target).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(target, e)
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn tmp_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn encode_error_leaves_no_file_and_names_the_path() {
        // JPEG cannot encode a width above 65535: the encoder fails after the temp file exists.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.jpg");
        let x = Array3::<u8>::zeros((1, 70_000, 1));
        let err = save_image(
            x.view(),
            DataFormat::ChannelsLast,
            &path,
            SaveFormat::Jpg,
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Image { path: p, .. } if p == &path),
            "{err:?}"
        );
        assert!(err.to_string().contains("wide.jpg"), "{err}");
        assert!(!path.exists());
        assert!(tmp_files(dir.path()).is_empty());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpeg");
        std::fs::write(&path, b"previous").unwrap();
        let x = Array3::<u8>::zeros((1, 70_000, 3));
        assert!(
            save_image(
                x.view(),
                DataFormat::ChannelsLast,
                &path,
                SaveFormat::Jpeg,
                false
            )
            .is_err()
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"previous");
        assert!(tmp_files(dir.path()).is_empty());
    }

    #[test]
    fn missing_folder_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/folder/x.png");
        let x = Array3::<u8>::zeros((2, 2, 3));
        let err = save_image(
            x.view(),
            DataFormat::ChannelsLast,
            &path,
            SaveFormat::Png,
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Io { path: p, .. } if p == &path),
            "{err:?}"
        );
    }

    #[test]
    fn success_replaces_an_existing_file_and_leaves_no_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        std::fs::write(&path, b"old").unwrap();
        let x = Array3::<u8>::from_elem((2, 2, 3), 9);
        save_image(
            x.view(),
            DataFormat::ChannelsLast,
            &path,
            SaveFormat::Png,
            false,
        )
        .unwrap();
        assert!(
            image::open(&path)
                .unwrap()
                .to_rgb8()
                .iter()
                .all(|&p| p == 9)
        );
        assert!(tmp_files(dir.path()).is_empty());
    }

    #[test]
    fn grey16_is_saturated_for_8_bit_formats_and_kept_for_png() {
        let dir = tempfile::tempdir().unwrap();
        let x = ndarray::array![[[100.0_f32], [1000.0]]];
        let bmp = dir.path().join("g.bmp");
        save_image(
            x.view(),
            DataFormat::ChannelsLast,
            &bmp,
            SaveFormat::Bmp,
            false,
        )
        .unwrap();
        assert_eq!(
            image::open(&bmp).unwrap().to_luma8().as_raw(),
            &vec![100u8, 255]
        );
        let png = dir.path().join("g.png");
        save_image(
            x.view(),
            DataFormat::ChannelsLast,
            &png,
            SaveFormat::Png,
            false,
        )
        .unwrap();
        assert_eq!(
            image::open(&png).unwrap().as_luma16().unwrap().as_raw(),
            &vec![100u16, 1000]
        );
    }

    #[test]
    fn temp_names_are_hidden_and_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.png");
        let (a, _fa) = TempFile::create(&target).unwrap();
        let (b, _fb) = TempFile::create(&target).unwrap();
        let (pa, pb) = (a.path.clone().unwrap(), b.path.clone().unwrap());
        assert_ne!(pa, pb);
        for p in [&pa, &pb] {
            let n = p.file_name().unwrap().to_string_lossy();
            assert!(n.starts_with(".x.png.") && n.ends_with(".tmp"), "{n}");
        }
        drop((a, b));
        assert!(!pa.exists() && !pb.exists());
    }
}
